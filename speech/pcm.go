package speech

import (
	"math"
	"time"
)

// The pipeline's audio format: signed 16-bit mono PCM at SampleRate, cut into
// frames of FrameDuration (FrameSamples samples). Codecs and resamplers at the
// edges convert the wire's 8 kHz and 48 kHz to and from it.
const (
	SampleRate    = 16000
	FrameDuration = 20 * time.Millisecond
	FrameSamples  = 320
)

// MinDBFS is the level DBFS reports for digital silence: below anything a
// 16-bit frame can carry, and finite so that it can be logged and compared.
const MinDBFS = -120.0

// fullScale is the magnitude of the most negative 16-bit sample, the reference
// for dBFS.
const fullScale = 32768.0

// RMS returns the root mean square of frame in sample units (0 for an empty
// frame, at most 32768).
func RMS(frame []int16) float64 {
	if len(frame) == 0 {
		return 0
	}
	return math.Sqrt(float64(sumSquares(frame)) / float64(len(frame)))
}

// sumSquares is exact: 2^30 per sample leaves room for 2^33 samples.
func sumSquares(frame []int16) int64 {
	var s0, s1 int64
	i := 0
	for ; i+1 < len(frame); i += 2 {
		a, b := int64(frame[i]), int64(frame[i+1])
		s0 += a * a
		s1 += b * b
	}
	if i < len(frame) {
		a := int64(frame[i])
		s0 += a * a
	}
	return s0 + s1
}

// DBFS returns the level of frame in decibels relative to full scale: a
// full-scale square wave is 0 dBFS and a full-scale sine -3 dBFS. Silence and
// an empty frame give MinDBFS.
func DBFS(frame []int16) float64 { return RMSToDBFS(RMS(frame)) }

// RMSToDBFS converts an RMS in sample units (as from RMS) to dBFS, with
// MinDBFS as floor.
func RMSToDBFS(rms float64) float64 {
	if rms <= 0 {
		return MinDBFS
	}
	return max(20*math.Log10(rms/fullScale), MinDBFS)
}

// DBFSToRMS is the inverse of RMSToDBFS: the RMS in sample units of a signal
// at db dBFS.
func DBFSToRMS(db float64) float64 { return fullScale * math.Pow(10, db/20) }

// Gain converts decibels to a linear amplitude factor for Scale: -6 dB gives
// about 0.5.
func Gain(db float64) float64 { return math.Pow(10, db/20) }

// Scale multiplies every sample of frame by gain in place, rounding to the
// nearest integer and saturating at the 16-bit limits.
func Scale(frame []int16, gain float64) {
	for i, s := range frame {
		frame[i] = clamp16(math.Round(float64(s) * gain))
	}
}

// Mix adds src to dst sample by sample in place, saturating at the 16-bit
// limits; it mixes the first min(len(dst), len(src)) samples and returns that
// count.
func Mix(dst, src []int16) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i := range dst {
		v := int32(dst[i]) + int32(src[i])
		dst[i] = int16(min(max(v, math.MinInt16), math.MaxInt16))
	}
	return n
}

// Samples returns the number of samples that d spans at rate, rounded down.
func Samples(d time.Duration, rate int) int {
	return int(int64(d) * int64(rate) / int64(time.Second))
}

// Duration returns how long n samples last at rate.
func Duration(n, rate int) time.Duration { return duration64(int64(n), rate) }

// duration64 is Duration for the sample counts of long streams: whole
// seconds first, so it does not overflow for as long as time.Duration lasts.
func duration64(n int64, rate int) time.Duration {
	if rate <= 0 {
		return 0
	}
	sec := n / int64(rate)
	rem := n % int64(rate)
	return time.Duration(sec)*time.Second + time.Duration(rem*int64(time.Second)/int64(rate))
}

// clamp16 saturates a rounded value to the int16 range.
func clamp16(v float64) int16 {
	if v >= math.MaxInt16 {
		return math.MaxInt16
	}
	if v <= math.MinInt16 {
		return math.MinInt16
	}
	return int16(v)
}
