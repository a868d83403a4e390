// Package voicemsg takes voice messages posted to a chat session: it decodes
// WAV, Ogg Opus or WebM Opus uploads to 16 kHz PCM, recognises them against
// what the session offers, keeps the upload as evidence and hands the words
// to the dialog like a typed reply. It decides nothing itself and must not
// import the dialog store adapters, go-redis or go-openai.
package voicemsg
