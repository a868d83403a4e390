// Package speech holds the audio primitives of Signoff's voice pipeline: 16 kHz
// mono PCM frames of 20 ms, the G.711 codecs (PCMU, PCMA) and RFC 4733
// telephone events that WebRTC and SIP gateways bring, resampling between the
// 8 kHz and 48 kHz of the wire and the 16 kHz of the pipeline, a voice activity
// detector for turn-taking and barge-in, the end-of-turn decision (an answer
// that is whole ends the turn at once; a number said with a rising voice
// holds it), in-band DTMF detection and generation, and WAV files for
// uploads, engines and call recordings.
//
// Everything here is pure Go and deterministic, and what runs on every frame
// of a live call (decode, resample, VAD, DTMF, recording) does not allocate in
// steady state. Speech recognition and synthesis engines live in sub-packages
// written against these types.
//
// It imports the standard library, the root package and go-audio/wav; never
// HTTP, Redis or pion (deps_test.go checks): channels/voice owns the wire and
// drives this package.
package speech
