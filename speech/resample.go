package speech

import (
	"fmt"
	"math"
	"time"

	"github.com/signoff/signoff"
)

// Filter design of every Resampler: a Kaiser-windowed sinc whose -6 dB point
// sits at the lower Nyquist frequency, passing 85% of it within 0.01 dB and
// stopping from 115% on by resamplerStopDB. What lies between 100% and 115%
// folds back only into the upper 15%, above the passband, so nothing aliases
// into it: 48 kHz to 16 kHz passes 0-6.8 kHz and removes 9.2 kHz and up.
const (
	resamplerPass   = 0.425 // passband edge, as a fraction of the lower rate
	resamplerStop   = 0.575 // stopband edge, as a fraction of the lower rate
	resamplerStopDB = 60.0
	maxResamplerLen = 1 << 17 // coefficients in all phases (1 MiB)
)

// Resampler converts a stream of 16-bit PCM from one rate to another by a
// rational factor (8 kHz↔16 kHz, 48 kHz↔16 kHz, 24 kHz→16 kHz, ...) with a
// polyphase low-pass FIR. It keeps the filter history between calls, so a
// stream cut into frames of any size comes out sample for sample as if it
// were resampled at once, without clicks at frame edges; the price is a fixed
// delay (Delay: 1 to 2 ms).
//
// A Resampler is for one stream and one goroutine; the zero value is not
// usable, see NewResampler.
type Resampler struct {
	from, to int
	up, down int       // to/from = up/down in lowest terms
	taps     int       // coefficients per phase, a multiple of 4
	coef     []float64 // phase p is coef[p*taps:(p+1)*taps], time-reversed
	buf      []float64 // taps-1 samples of history, then the current input
	pos      int       // upsampled index of the next output, from buf[taps-1]
}

// NewResampler returns a Resampler from rate from to rate to, both in Hz. The
// ratio must reduce to at most 1/1024 or 1024/1 in lowest terms with a filter
// of at most 2^17 coefficients (every rate pair from 8 to 48 kHz in common
// use does); otherwise it returns an error of kind signoff.ErrInvalid.
func NewResampler(from, to int) (*Resampler, error) {
	if from < 1000 || to < 1000 || from > 384000 || to > 384000 {
		return nil, signoff.Errorf(signoff.ErrInvalid, "bad_sample_rate", "sample rates %d→%d Hz: want 1 to 384 kHz", from, to)
	}
	g := gcd(from, to)
	r := &Resampler{from: from, to: to, up: to / g, down: from / g}
	if r.up > 1024 || r.down > 1024 {
		return nil, signoff.Errorf(signoff.ErrInvalid, "bad_sample_rate", "sample rates %d→%d Hz: ratio %d/%d is too fine", from, to, r.up, r.down)
	}
	if from == to {
		return r, nil
	}
	fs := float64(from) * float64(r.up) // rate of the upsampled stream
	low := float64(min(from, to))
	width := (resamplerStop - resamplerPass) * low / fs
	n := int(math.Ceil((resamplerStopDB-7.95)/(14.36*width))) + 1
	r.taps = (n + r.up - 1) / r.up
	r.taps = (r.taps + 3) &^ 3
	if r.taps*r.up > maxResamplerLen {
		return nil, signoff.Errorf(signoff.ErrInvalid, "bad_sample_rate", "sample rates %d→%d Hz: filter too long", from, to)
	}
	h := lowpass(r.taps*r.up, 0.5*low/fs, kaiserBeta(resamplerStopDB))
	// Unity gain at DC for each output: the upsampler's zeros cost a
	// factor up, which the filter gives back.
	var sum float64
	for _, v := range h {
		sum += v
	}
	r.coef = make([]float64, len(h))
	for p := 0; p < r.up; p++ {
		for j := 0; j < r.taps; j++ {
			r.coef[p*r.taps+j] = h[p+(r.taps-1-j)*r.up] * float64(r.up) / sum
		}
	}
	r.buf = make([]float64, r.taps-1, r.taps-1+from/50) // room for a 20 ms frame
	return r, nil
}

// From returns the input rate in Hz.
func (r *Resampler) From() int { return r.from }

// To returns the output rate in Hz.
func (r *Resampler) To() int { return r.to }

// Delay returns the filter's group delay: a sample that goes in comes out
// this much later on the output time line.
func (r *Resampler) Delay() time.Duration {
	if r.up == r.down {
		return 0
	}
	return time.Duration(float64(r.taps*r.up-1) / 2 / (float64(r.from) * float64(r.up)) * float64(time.Second))
}

// Reset forgets the stream, as if r were new.
func (r *Resampler) Reset() {
	r.buf = r.buf[:max(r.taps-1, 0)]
	clear(r.buf)
	r.pos = 0
}

// Resample appends to dst the output for the next len(src) input samples and
// returns the extended slice. Each call produces len(src)·to/from samples,
// give or take one when that is not whole; 20 ms frames between 8, 16, 24 and
// 48 kHz always come out whole. Once dst has capacity and r has seen a frame
// of the size, it does not allocate.
func (r *Resampler) Resample(dst, src []int16) []int16 {
	if r.up == r.down {
		return append(dst, src...)
	}
	hist := r.taps - 1
	buf := r.buf[:hist]
	for _, s := range src {
		buf = append(buf, float64(s))
	}
	n := len(src)
	limit := n * r.up
	for ; r.pos < limit; r.pos += r.down {
		i, p := r.pos/r.up, r.pos%r.up
		dst = append(dst, round16(dot(r.coef[p*r.taps:(p+1)*r.taps], buf[i:i+r.taps])))
	}
	r.pos -= limit
	copy(buf, buf[n:])
	r.buf = buf[:hist]
	return dst
}

// dot is the inner product of c and x[:len(c)]; len(c) is a multiple of 4.
func dot(c, x []float64) float64 {
	x = x[:len(c)]
	var s0, s1, s2, s3 float64
	for i := 0; i+4 <= len(c); i += 4 {
		cc, xx := c[i:i+4:i+4], x[i:i+4:i+4]
		s0 += cc[0] * xx[0]
		s1 += cc[1] * xx[1]
		s2 += cc[2] * xx[2]
		s3 += cc[3] * xx[3]
	}
	return (s0 + s1) + (s2 + s3)
}

// round16 rounds half away from zero and saturates.
func round16(v float64) int16 {
	if v >= 0 {
		v += 0.5
	} else {
		v -= 0.5
	}
	return clamp16(math.Trunc(v))
}

// lowpass returns an n-tap Kaiser-windowed sinc with cutoff fc (cycles per
// sample, where the response is -6 dB).
func lowpass(n int, fc, beta float64) []float64 {
	h := make([]float64, n)
	mid := float64(n-1) / 2
	i0b := besselI0(beta)
	for i := range h {
		t := float64(i) - mid
		x := 2 * fc
		if t != 0 {
			x = math.Sin(2*math.Pi*fc*t) / (math.Pi * t)
		}
		r := 2*float64(i)/float64(n-1) - 1
		h[i] = x * besselI0(beta*math.Sqrt(max(0, 1-r*r))) / i0b
	}
	return h
}

// kaiserBeta is Kaiser's β for a stopband attenuation of a dB.
func kaiserBeta(a float64) float64 {
	switch {
	case a > 50:
		return 0.1102 * (a - 8.7)
	case a >= 21:
		return 0.5842*math.Pow(a-21, 0.4) + 0.07886*(a-21)
	}
	return 0
}

// besselI0 is the modified Bessel function of the first kind, order 0, by its
// power series (converges fast for the β of a window).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 200; k++ {
		f := x / (2 * float64(k))
		term *= f * f
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// String describes r for logs: "16000→48000 Hz, 3 phases × 28 taps".
func (r *Resampler) String() string {
	switch {
	case r.up == r.down:
		return fmt.Sprintf("%d→%d Hz, a copy", r.from, r.to)
	case r.up == 1:
		return fmt.Sprintf("%d→%d Hz, %d taps", r.from, r.to, r.taps)
	}
	return fmt.Sprintf("%d→%d Hz, %d phases × %d taps", r.from, r.to, r.up, r.taps)
}
