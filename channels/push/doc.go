// Package push sends a conversation's lines to the recipient on the
// delivery's own text channel (SMS, WeChat): the greeting, re-prompts, order
// updates and a staff agent's words, that is every bot or staff line that
// does not answer a message of the recipient's (those go back in that
// message's own answer: TwiML, WeChat's passive reply).
//
// It listens to every transcript line through the store's pub/sub, the same
// that feeds the SSE streams, so lines written on any node (the engine, the
// staff console) are seen on every node; a claim in Redis per (session, line)
// makes one node send each line. Sends retry with exponential backoff, and
// the delivery's event log gets <channel>_sent or <channel>_failed.
//
// It must not import the Redis adapter or any provider's package: they
// satisfy the interfaces declared here.
package push
