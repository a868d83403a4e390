package voicemsg

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/speech"
)

func rms(pcm []int16) float64 {
	var s float64
	for _, v := range pcm {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(max(len(pcm), 1)))
}

// pcmWAV returns a 16-bit mono WAV file of pcm at rate Hz.
func pcmWAV(rate int, pcm []int16) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(36+2*len(pcm)))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(2 * rate), uint16(2), uint16(16)} {
		binary.Write(&b, le, v)
	}
	b.WriteString("data")
	binary.Write(&b, le, uint32(2*len(pcm)))
	binary.Write(&b, le, pcm)
	return b.Bytes()
}

// TestDecodeOpus decodes 1.5 s of tone in Ogg and in WebM and checks the
// duration, pre-skip dropped, and that it is not silence.
func TestDecodeOpus(t *testing.T) {
	packets := opusPackets(t, tone(48000, 1.5))
	// 75 packets of 960 samples less the pre-skip, at 16 kHz.
	want := (len(packets)*960 - testPreSkip) / 3
	for _, tc := range []struct {
		f    Format
		data []byte
	}{
		{FormatOgg, oggOpus(packets)},
		{FormatWebM, webmOpus(packets)},
	} {
		t.Run(string(tc.f), func(t *testing.T) {
			pcm, err := Decode(tc.data, tc.f, time.Minute)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if d := len(pcm) - want; d < -2 || d > 2 {
				t.Errorf("got %d samples (%v), want %d (%v)", len(pcm), dur(len(pcm)), want, dur(want))
			}
			if r := rms(pcm[len(pcm)/4 : len(pcm)*3/4]); r < 3000 {
				t.Errorf("got RMS %.0f in the middle, want the tone's (about 5600)", r)
			}
		})
	}
}

func dur(n int) time.Duration { return time.Duration(n) * time.Second / speech.SampleRate }

func TestDecodeTooLong(t *testing.T) {
	packets := opusPackets(t, tone(48000, 2.5))
	for _, tc := range []struct {
		f    Format
		data []byte
	}{
		{FormatOgg, oggOpus(packets)},
		{FormatWebM, webmOpus(packets)},
		{FormatWAV, pcmWAV(16000, tone(16000, 2.5))},
		{FormatWAV, pcmWAV(8000, tone(8000, 2.5))},
	} {
		_, err := Decode(tc.data, tc.f, 2*time.Second)
		if got := signoff.ErrorCode(err); got != "audio_too_long" {
			t.Errorf("%s of 2.5 s with a 2 s limit: got %v, want audio_too_long", tc.f, err)
		}
		if _, err := Decode(tc.data, tc.f, 3*time.Second); err != nil {
			t.Errorf("%s of 2.5 s with a 3 s limit: got %v, want no error", tc.f, err)
		}
	}
}

func TestDecodeWAV(t *testing.T) {
	for _, rate := range []int{8000, 16000, 22050, 48000} {
		pcm, err := Decode(pcmWAV(rate, tone(rate, 1)), FormatWAV, time.Minute)
		if err != nil {
			t.Fatalf("%d Hz: %v", rate, err)
		}
		if d := len(pcm) - 16000; d < -2 || d > 2 {
			t.Errorf("%d Hz: got %d samples, want 16000", rate, len(pcm))
		}
	}
}

func TestDecodeBad(t *testing.T) {
	packets := opusPackets(t, tone(48000, 0.2))
	ogg, webm := oggOpus(packets), webmOpus(packets)
	for _, tc := range []struct {
		name string
		f    Format
		data []byte
	}{
		{"empty wav", FormatWAV, nil},
		{"text as wav", FormatWAV, []byte("hello, world")},
		{"wav as ogg", FormatOgg, pcmWAV(16000, tone(16000, 0.1))},
		{"truncated ogg", FormatOgg, ogg[:len(ogg)-10]},
		{"ogg head only", FormatOgg, ogg[:47]},
		{"ogg as webm", FormatWebM, ogg},
		{"truncated webm", FormatWebM, webm[:len(webm)-10]},
		{"webm without blocks", FormatWebM, webm[:60]},
		{"unknown", Format("mp3"), ogg},
	} {
		_, err := Decode(tc.data, tc.f, time.Minute)
		if got := signoff.ErrorCode(err); got != "bad_audio" {
			t.Errorf("%s: got %v, want bad_audio", tc.name, err)
		}
	}
}

// FuzzDecode feeds uploads to every decoder: they must return PCM or a
// bad_audio / audio_too_long error, never panic or hang.
func FuzzDecode(f *testing.F) {
	// Small seeds: the fuzzer minimises every new input, at a cost that
	// grows with its size.
	packets := opusPackets(f, tone(48000, 0.06))
	f.Add(byte(0), pcmWAV(8000, tone(8000, 0.01)))
	f.Add(byte(1), oggOpus(packets))
	f.Add(byte(2), webmOpus(packets))
	formats := []Format{FormatWAV, FormatOgg, FormatWebM}
	f.Fuzz(func(t *testing.T, which byte, data []byte) {
		ft := formats[int(which)%len(formats)]
		pcm, err := Decode(data, ft, time.Second)
		if err != nil {
			if c := signoff.ErrorCode(err); c != "bad_audio" && c != "audio_too_long" {
				t.Fatalf("%s: got error %v, want bad_audio or audio_too_long", ft, err)
			}
			return
		}
		if len(pcm) > speech.SampleRate+64 {
			t.Fatalf("%s: got %d samples with a 1 s limit", ft, len(pcm))
		}
	})
}
