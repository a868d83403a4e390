// Package knowledge holds what Signoff knows of a delivery: the delivery
// facts, merged from order-system events that may arrive late, twice or out
// of order (Merge); and the help centre that questions are answered from.
//
// The help centre is Markdown embedded from corpus/<locale>/, to which an
// operator's directory adds or replaces documents (Answerer.Reload). It is
// indexed in memory with bleve: CJK bigrams for zh-CN, stemmed English for
// en, together with the delivery's facts as passages. The Answerer
// satisfies dialog.Answerer: below a confidence threshold it answers
// nothing; otherwise it quotes the best passage's first sentences, or lets a
// Phraser (knowledge/llm) write the answer from the passages, citing them.
//
// Merge is pure. Of the module the package imports only the root, prompts
// and dialog; no network adapter.
package knowledge
