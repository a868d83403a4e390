// Package voice is the recipient's voice call over WebRTC: a WHIP-style
// endpoint (RFC 9725 conventions) that answers an SDP offer, then a call in
// which the bot speaks the conversation's messages and menus and the
// recipient answers by keypad (RFC 4733 events or in-band tones) or by
// voice, and may cut the bot off at any moment.
//
// Each call is owned by one goroutine: pion's callbacks, the HTTP handlers
// and the call's workers (synthesis, recognition, engine replies) post
// typed events to it, and it alone sends audio, on a 20 ms clock schedule
// of sentences synthesised and encoded once and shared between calls. The
// caller's turn ends as soon as what was said is whole (turn.go): speech is
// recognised early in each pause, and a number that may go on holds it.
// Audio processing (G.711, resampling, VAD, DTMF, recordings) is package
// speech; deciding is package dialog, reached through the small interfaces
// declared here; speech engines come in through Synthesizer and Recognizer.
//
// It imports pion and gin, never Redis or a language model: cmd/signoffd
// wires the concrete pieces.
package voice
