package speech

import (
	"math"
	"slices"
)

// Intonation is the direction of the voice's pitch at the end of a stretch
// of speech. A statement, or an answer that is complete, ends falling; a
// list that goes on ("two, …") ends level or rising.
type Intonation uint8

// The kinds of Intonation.
const (
	IntonationUnknown Intonation = iota // too little voiced sound to tell
	IntonationFalling                   // the pitch ends at its lowest, well below its peak
	IntonationRising                    // the pitch ends above its lowest (a continuation rise)
	IntonationLevel                     // neither
)

// String returns "unknown", "falling", "rising" or "level".
func (i Intonation) String() string {
	switch i {
	case IntonationFalling:
		return "falling"
	case IntonationRising:
		return "rising"
	case IntonationLevel:
		return "level"
	}
	return "unknown"
}

// Pitch tracking limits: the range of voices, the frame and hop of the
// tracker, and what counts as a voiced frame.
const (
	pitchMin       = 70.0  // Hz
	pitchMax       = 400.0 // Hz
	pitchVoiced    = 0.6   // normalised autocorrelation at the period, at least
	pitchSoundDBFS = -45.0 // quieter frames are not tracked
	pitchHopMs     = 10
	pitchFrameMs   = 30
	minPitchFrames = 5 // voiced hops needed to judge
	// fallRatio is how far below its peak the end must be to fall;
	// riseRatio how far above its lowest point to rise.
	fallRatio = 0.92
	riseRatio = 1.08
)

// PitchContour returns the pitch in Hz of each voiced 10 ms hop of pcm
// (sampled at rate), by normalised autocorrelation over 30 ms windows;
// unvoiced and quiet hops are left out. It costs about 5 ms of CPU per
// second of 16 kHz audio: run it off any pacing goroutine.
func PitchContour(pcm []int16, rate int) []float64 {
	n := rate * pitchFrameMs / 1000
	hop := rate * pitchHopMs / 1000
	minLag, maxLag := int(float64(rate)/pitchMax), int(float64(rate)/pitchMin)
	if n <= 0 || hop <= 0 {
		return nil
	}
	x := make([]float64, len(pcm))
	for i, v := range pcm {
		x[i] = float64(v)
	}
	minEnergy := math.Pow(DBFSToRMS(pitchSoundDBFS), 2) * float64(n)
	var out []float64
	for i := 0; i+n+maxLag <= len(x); i += hop {
		w := x[i : i+n]
		var e0 float64
		for _, v := range w {
			e0 += v * v
		}
		if e0 < minEnergy {
			continue
		}
		best, bestLag := 0.0, 0
		for k := minLag; k <= maxLag; k++ {
			s := x[i+k : i+k+n]
			var c, ek float64
			for j, v := range w {
				c += v * s[j]
				ek += s[j] * s[j]
			}
			if ek == 0 {
				continue
			}
			if r := c / math.Sqrt(e0*ek); r > best {
				best, bestLag = r, k
			}
		}
		if best >= pitchVoiced && bestLag > 0 {
			out = append(out, float64(rate)/float64(bestLag))
		}
	}
	return out
}

// EndIntonation judges the intonation at the end of pcm (one stretch of
// speech, sampled at rate) from its pitch contour: Falling when the last
// voiced 30 ms are at the lowest pitch of the stretch and well below its
// peak, Rising when they are well above the lowest, Level otherwise, and
// Unknown with fewer than 50 ms of voiced sound. Octave errors of the
// tracker are smoothed by taking medians of three hops.
func EndIntonation(pcm []int16, rate int) Intonation {
	return judgeContour(PitchContour(pcm, rate))
}

func judgeContour(p []float64) Intonation {
	if len(p) < minPitchFrames {
		return IntonationUnknown
	}
	med := make([]float64, len(p)-2)
	var w [3]float64
	for i := range med {
		copy(w[:], p[i:i+3])
		slices.Sort(w[:])
		med[i] = w[1]
	}
	end := med[len(med)-1]
	lo, peak := slices.Min(med), slices.Max(med)
	switch {
	case end >= lo*riseRatio:
		return IntonationRising
	case end <= lo*1.02 && end <= peak*fallRatio:
		return IntonationFalling
	}
	return IntonationLevel
}
