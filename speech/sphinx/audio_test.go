package sphinx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/go-audio/wav"
)

// The test audio is real speech: espeak-ng's voice, resampled to 16 kHz,
// padded with silence and laid over a faint noise floor, as a VAD would cut
// it from a call.

const (
	noiseFloor = 30.0 // standard deviation of the background, in int16 units (about -60 dBFS)
	padding    = 0.3  // seconds of background before and after the speech
)

var spoken sync.Map // "voice/rate/text" → []int16

// speak returns text spoken by espeak-ng's voice at rate words per minute as
// 16 kHz PCM over the noise floor. Results are cached for the test binary.
func speak(t testing.TB, voice string, rate int, text string) []int16 {
	t.Helper()
	key := fmt.Sprintf("%s/%d/%s", voice, rate, text)
	if v, ok := spoken.Load(key); ok {
		return v.([]int16)
	}
	needEspeak(t)
	f := filepath.Join(t.TempDir(), "say.wav")
	out, err := exec.Command("espeak-ng", "-v", voice, "-s", strconv.Itoa(rate), "-w", f, text).CombinedOutput()
	if err != nil {
		t.Fatalf("espeak-ng -v %s %q: %v\n%s", voice, text, err, out)
	}
	r, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d := wav.NewDecoder(r)
	buf, err := d.FullPCMBuffer()
	if err != nil {
		t.Fatalf("reading espeak-ng's WAV: %v", err)
	}
	if buf.Format.NumChannels != 1 || d.BitDepth != 16 {
		t.Fatalf("espeak-ng's WAV is %d channels of %d bits; want mono 16-bit", buf.Format.NumChannels, d.BitDepth)
	}
	x := make([]float64, len(buf.Data))
	for i, v := range buf.Data {
		x[i] = float64(v)
	}
	y := resample(x, buf.Format.SampleRate, SampleRate)
	var seed uint64 = 1
	for _, c := range key {
		seed = seed*31 + uint64(c)
	}
	pcm := overNoise(y, noiseFloor, seed)
	spoken.Store(key, pcm)
	return pcm
}

// overNoise pads speech with padding seconds on each side and adds white
// noise of standard deviation sd.
func overNoise(speech []float64, sd float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 1))
	pad := int(padding * SampleRate)
	out := make([]int16, len(speech)+2*pad)
	for i := range out {
		v := rng.NormFloat64() * sd
		if j := i - pad; j >= 0 && j < len(speech) {
			v += speech[j]
		}
		out[i] = clip(v)
	}
	return out
}

// noise returns sec seconds of white noise of standard deviation sd.
func noise(sec, sd float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 2))
	out := make([]int16, int(sec*SampleRate))
	for i := range out {
		out[i] = clip(rng.NormFloat64() * sd)
	}
	return out
}

// cough returns something like a cough: a burst of low-passed noise that
// starts hard and dies away over a quarter second, twice, on the noise floor.
func cough(seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 3))
	n := int(0.8 * SampleRate)
	x := make([]float64, n)
	var lp float64
	for i := range x {
		lp += 0.3 * (rng.NormFloat64() - lp)
		t := float64(i%(n/2)) / SampleRate
		x[i] = 30000 * lp * math.Exp(-t/0.08)
	}
	return overNoise(x, noiseFloor, seed)
}

func clip(v float64) int16 {
	return int16(max(-32768, min(32767, math.Round(v))))
}

// resample converts x from rate in to rate out with a Hann-windowed sinc
// whose cutoff sits below the lower Nyquist frequency. Slow and simple: the
// package's tests only.
func resample(x []float64, in, out int) []float64 {
	if in == out {
		return x
	}
	const taps = 16 // zero crossings on each side, at the lower rate
	ratio := float64(out) / float64(in)
	cut := min(1, ratio) * 0.92 // cutoff, as a fraction of the input Nyquist
	width := float64(taps) / min(1, ratio)
	y := make([]float64, int(float64(len(x))*ratio))
	for i := range y {
		t := float64(i) / ratio
		var sum float64
		for j := int(math.Ceil(t - width)); j <= int(math.Floor(t+width)); j++ {
			if j < 0 || j >= len(x) {
				continue
			}
			d := t - float64(j)
			w := 0.5 + 0.5*math.Cos(math.Pi*d/width)
			sum += x[j] * cut * sinc(cut*d) * w
		}
		y[i] = sum
	}
	return y
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// needEspeak fails the test, not skips it, when espeak-ng is missing: the
// recognition tests mean nothing without real speech.
func needEspeak(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Fatal("espeak-ng is not installed; the tests speak with it: run `make deps` (or sudo apt-get install espeak-ng)")
	}
}
