package voice

import (
	"math"

	"github.com/signoff/signoff/speech"
)

// Voicing: every answer the recogniser may report has a vowel in it, and
// vowels are voiced: periodic at the speaker's pitch. A cough, a knock,
// rustling or a burst of line noise is not, and PocketSphinx, given only a
// grammar of digits, can take such a noise for "five" or "one". So an
// utterance with too little voiced sound is rejected before recognition.
const (
	minPitch       = 70.0  // Hz, the lowest voice
	maxPitch       = 400.0 // Hz, the highest
	voicedCorr     = 0.6   // normalised autocorrelation of a voiced frame, at least
	minVoicedShare = 0.2   // of the frames with sound in them
	minVoiced      = 3     // frames, 60 ms of vowel at least
	soundDBFS      = -50.0 // a frame quieter than this has no sound in it
)

// voiced reports whether pcm (16 kHz) holds at least minVoiced frames of
// 20 ms that are periodic at a voice's pitch, and they are at least
// minVoicedShare of the frames with sound.
func voiced(pcm []int16) bool {
	n := speech.FrameSamples
	rate := float64(speech.SampleRate)
	minLag, maxLag := int(rate/maxPitch), int(rate/minPitch)
	x := make([]float64, n+maxLag)
	var count, sound int
	for i := 0; i+n+maxLag <= len(pcm); i += n {
		if speech.DBFS(pcm[i:i+n]) < soundDBFS {
			continue
		}
		sound++
		for j := range x {
			x[j] = float64(pcm[i+j])
		}
		if periodicity(x, n, minLag, maxLag) >= voicedCorr {
			count++
		}
	}
	return count >= minVoiced && float64(count) >= minVoicedShare*float64(sound)
}

// periodicity is the highest normalised autocorrelation of x[:n] with
// x[k:k+n] for k from minLag to maxLag.
func periodicity(x []float64, n, minLag, maxLag int) float64 {
	var e0 float64
	for _, v := range x[:n] {
		e0 += v * v
	}
	if e0 == 0 {
		return 0
	}
	best := 0.0
	for k := minLag; k <= maxLag; k++ {
		var c, ek float64
		for j := 0; j < n; j++ {
			c += x[j] * x[j+k]
			ek += x[j+k] * x[j+k]
		}
		if ek > 0 {
			best = math.Max(best, c/math.Sqrt(e0*ek))
		}
	}
	return best
}
