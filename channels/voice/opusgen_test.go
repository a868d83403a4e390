//go:build opusgen

package voice

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/hraban/opus"

	"github.com/signoff/signoff/speech"
)

// TestGenerateOpus writes the Opus test packets in testdata with libopus
// (cgo, libopus-dev), as Chromium would send them: espeak-ng's "two" at
// 48 kHz, 20 ms packets, 200 ms of silence before and 1 s after, in the
// VoIP application at 32 kbit/s (hybrid) and 12 kbit/s (SILK) and in the
// low-delay one (CELT only). Run it after changing the phrases:
//
//	go test -tags opusgen -run TestGenerateOpus ./channels/voice
func TestGenerateOpus(t *testing.T) {
	r, err := newResampler16to48()
	if err != nil {
		t.Fatal(err)
	}
	// Silence around the word, as a microphone sends it: the VAD needs
	// the end of the turn.
	var padded []int16
	padded = append(padded, make([]int16, speech.SampleRate/5)...)
	padded = append(padded, say(t, "two")...)
	padded = append(padded, make([]int16, speech.SampleRate)...)
	pcm := r.Resample(nil, padded)
	for _, m := range []struct {
		file    string
		app     opus.Application
		bitrate int
	}{
		{"two-voip.opus", opus.AppVoIP, 32000},
		{"two-silk.opus", opus.AppVoIP, 12000},
		{"two-celt.opus", opus.AppRestrictedLowdelay, 48000},
	} {
		enc, err := opus.NewEncoder(48000, 1, m.app)
		if err != nil {
			t.Fatal(err)
		}
		if err := enc.SetBitrate(m.bitrate); err != nil {
			t.Fatal(err)
		}
		var out []byte
		buf := make([]byte, 1500)
		frame := make([]int16, 960)
		for i := 0; i < len(pcm); i += 960 {
			clear(frame)
			copy(frame, pcm[i:])
			n, err := enc.Encode(frame, buf)
			if err != nil {
				t.Fatal(err)
			}
			out = binary.BigEndian.AppendUint16(out, uint16(n))
			out = append(out, buf[:n]...)
		}
		if err := os.WriteFile(filepath.Join("testdata", m.file), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
