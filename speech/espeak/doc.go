// Package espeak speaks Signoff's prompts with the espeak-ng program, the
// embedded speech synthesiser of the voice channel: English with an en-us
// voice, Mandarin from pinyin with tone numbers (go-pinyin) with the
// cmn-latn-pinyin voice, as 16 kHz mono PCM.
//
// It runs the espeak-ng binary (no cgo), resamples its 22050 Hz output with
// its own windowed-sinc filter, and keeps recent audio in a bounded cache:
// menus are said again and again. SplitSentences lets a caller start
// speaking the first sentence while the rest is synthesised.
//
// The package stands alone: it must not import package speech (which adapts
// it) or any channel, only the root.
package espeak
