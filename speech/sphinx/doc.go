// Package sphinx recognises short spoken answers — a digit, yes or no, "agent",
// "repeat" — with the PocketSphinx library (cgo) and its US English model, the
// embedded speech recogniser of Signoff's voice channel.
//
// Every call is constrained to a Grammar: exactly the phrases the current
// prompt accepts. Speech that fits none of them (other words, a cough, noise,
// silence) comes back Rejected, never mapped to the nearest digit; a wrong
// sign-off is worse than one more question. See Recognizer.Recognize for how.
//
// Audio is 16 kHz mono signed 16-bit PCM, one utterance per call, as the
// voice activity detector cut it. The package stands alone: it must not
// import package speech (which adapts it) or any channel, only the root.
package sphinx
