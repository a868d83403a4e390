package voice

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/signoff/signoff/speech"
)

func newResampler16to48() (*speech.Resampler, error) {
	return speech.NewResampler(speech.SampleRate, 48000)
}

// opusPackets reads a testdata file of Opus packets, each after its length
// as a big-endian uint16 (see opusgen_test.go).
func opusPackets(t *testing.T, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for len(b) >= 2 {
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			t.Fatalf("%s: truncated packet", name)
		}
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	return out
}

// envelope is the level of each 20 ms frame in dB, from -60 dBFS up.
func envelope(pcm []int16) []float64 {
	var out []float64
	for i := 0; i+speech.FrameSamples <= len(pcm); i += speech.FrameSamples {
		out = append(out, max(speech.DBFS(pcm[i:i+speech.FrameSamples]), -60)) // below: silence, however faint
	}
	return out
}

// bestCorrelation is the highest correlation of a and b over lags of up to
// maxLag frames.
func bestCorrelation(a, b []float64, maxLag int) float64 {
	best := -1.0
	for lag := -maxLag; lag <= maxLag; lag++ {
		var xs, ys []float64
		for i := range a {
			if j := i + lag; j >= 0 && j < len(b) {
				xs, ys = append(xs, a[i]), append(ys, b[j])
			}
		}
		best = math.Max(best, correlation(xs, ys))
	}
	return best
}

func correlation(x, y []float64) float64 {
	n := float64(len(x))
	if n < 2 {
		return 0
	}
	var mx, my float64
	for i := range x {
		mx, my = mx+x[i], my+y[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}

// TestOpusDecoder: the pure-Go decoder (pion/opus) turns what libopus
// makes of espeak-ng's "two", in hybrid, SILK and CELT modes, back into the
// same speech at 16 kHz.
func TestOpusDecoder(t *testing.T) {
	var two []int16
	two = append(two, make([]int16, speech.SampleRate/5)...)
	two = append(two, say(t, "two")...)
	two = append(two, make([]int16, speech.SampleRate)...)
	ref := envelope(two)
	for _, name := range []string{"two-voip.opus", "two-silk.opus", "two-celt.opus"} {
		t.Run(name, func(t *testing.T) {
			var d decoder
			var pcm []int16
			for i, p := range opusPackets(t, name) {
				var err error
				if pcm, err = d.decode(pcm, kindOpus, p); err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
			}
			if got, want := speech.Duration(len(pcm), speech.SampleRate), speech.Duration(len(ref)*speech.FrameSamples, speech.SampleRate); got < want-40*time.Millisecond || got > want+40*time.Millisecond {
				t.Errorf("decoded %v, want about %v", got, want)
			}
			modes := map[string]int{}
			for _, p := range opusPackets(t, name) {
				switch cfg := p[0] >> 3; {
				case cfg < 12:
					modes["silk"]++
				case cfg < 16:
					modes["hybrid"]++
				default:
					modes["celt"]++
				}
			}
			c := bestCorrelation(ref, envelope(pcm), 5)
			t.Logf("packets by mode %v; envelope correlation %.3f", modes, c)
			if !(c >= 0.95) {
				t.Errorf("decoded speech follows the original with correlation %.3f, want ≥ 0.95", c)
			}
		})
	}
}
