package espeak

import (
	"math"
	"sync"
)

// A resampler converts PCM between two rates by polyphase windowed-sinc
// interpolation: for each output sample it takes a Kaiser-windowed sinc,
// cut off below the lower of the two Nyquist frequencies, at the fractional
// position of that sample between the input samples. The filters of the
// out/gcd phases are computed once per pair of rates.
type resampler struct {
	up, down int         // out = in * up / down, in lowest terms
	half     int         // taps on each side of the output position
	phases   [][]float32 // [phase][2*half] coefficients
}

const (
	resampleHalf = 24  // taps per side at the input rate: ~70 dB stop band
	kaiserBeta   = 7.0 // window shape; with resampleHalf, a transition of ~600 Hz at 22.05 kHz
	passFraction = 0.9 // cutoff as a fraction of the lower Nyquist frequency
)

var resamplers sync.Map // [2]int{in, out} → *resampler

func resamplerFor(in, out int) *resampler {
	k := [2]int{in, out}
	if r, ok := resamplers.Load(k); ok {
		return r.(*resampler)
	}
	r, _ := resamplers.LoadOrStore(k, newResampler(in, out))
	return r.(*resampler)
}

func newResampler(in, out int) *resampler {
	g := gcd(in, out)
	r := &resampler{up: out / g, down: in / g, half: resampleHalf}
	// The cutoff, in cycles per input sample: below the output's Nyquist
	// frequency when downsampling, the input's when upsampling.
	cut := passFraction * min(1, float64(out)/float64(in))
	i0b := besselI0(kaiserBeta)
	r.phases = make([][]float32, r.up)
	for p := range r.phases {
		frac := float64(p) / float64(r.up) // output position after input sample i
		c := make([]float32, 2*r.half)
		var sum float64
		w := make([]float64, 2*r.half)
		for j := range c {
			d := float64(j-r.half+1) - frac // distance of input sample i+j-half+1
			x := d / float64(r.half)
			if x <= -1 || x >= 1 {
				continue
			}
			w[j] = cut * sinc(cut*d) * besselI0(kaiserBeta*math.Sqrt(1-x*x)) / i0b
			sum += w[j]
		}
		for j := range c {
			c[j] = float32(w[j] / sum) // unity gain at DC in every phase
		}
		r.phases[p] = c
	}
	return r
}

// run resamples x.
func (r *resampler) run(x []int16) []int16 {
	if r.up == r.down {
		return append([]int16(nil), x...)
	}
	n := len(x) * r.up / r.down
	y := make([]int16, n)
	for k := range y {
		pos := k * r.down
		i, p := pos/r.up, pos%r.up
		c := r.phases[p]
		base := i - r.half + 1
		var acc float32
		if base >= 0 && base+len(c) <= len(x) {
			for j, v := range x[base : base+len(c)] {
				acc += float32(v) * c[j]
			}
		} else {
			for j := range c {
				if m := base + j; m >= 0 && m < len(x) {
					acc += float32(x[m]) * c[j]
				}
			}
		}
		y[k] = clip16(acc)
	}
	return y
}

func clip16(v float32) int16 {
	switch {
	case v >= 32767:
		return 32767
	case v <= -32768:
		return -32768
	}
	return int16(math.Round(float64(v)))
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the modified Bessel function of the first kind, order zero,
// by its power series (converges fast for the window's arguments).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < 1e-12*sum {
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
