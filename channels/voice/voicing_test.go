package voice

import (
	"testing"
	"time"
)

// TestVoiced: every word of the grammar spoken by espeak-ng, wide and
// through G.711, is voiced; noise bursts and clicks are not.
func TestVoiced(t *testing.T) {
	for _, w := range []string{"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "zero", "yes", "yeah", "no", "nope", "repeat", "agent", "operator", "number two", "banana"} {
		pcm := say(t, w)
		if !voiced(pcm) {
			t.Errorf("%q is not voiced", w)
		}
		if !voiced(phoneBand(t, pcm)) {
			t.Errorf("%q through G.711 is not voiced", w)
		}
	}
	for _, n := range []struct {
		name string
		pcm  []int16
	}{
		{"white noise", noiseBurst(300*time.Millisecond, -25)},
		{"loud white noise", noiseBurst(800*time.Millisecond, -10)},
		{"click", append(make([]int16, 1600), noiseBurst(20*time.Millisecond, -6)...)},
		{"silence", make([]int16, 8000)},
	} {
		if voiced(n.pcm) || voiced(phoneBand(t, n.pcm)) {
			t.Errorf("%s is voiced", n.name)
		}
	}
}
