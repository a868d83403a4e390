package sphinx

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// speak returns text spoken by espeak-ng's voice at rate words per minute as
// 16 kHz PCM over the noise floor.
func speak(t testing.TB, voice string, rate int, text string) []int16 {
	t.Helper()
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
		t.Fatalf("espeak-ng's WAV is %d channels, %d bits; want mono 16-bit", buf.Format.NumChannels, d.BitDepth)
	}
	x := make([]float64, len(buf.Data))
	for i, v := range buf.Data {
		x[i] = float64(v)
	}
	y := resample(x, buf.Format.SampleRate, SampleRate)
	seed := uint64(len(text))
	for _, c := range text {
		seed = seed*31 + uint64(c)
	}
	return overNoise(y, noiseFloor, seed)
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
	return overNoise(make([]float64, int(sec*SampleRate)), sd, seed)
}

func clip(v float64) int16 {
	return int16(max(-32768, min(32767, math.Round(v))))
}

// resample converts x from rate in to rate out with a windowed-sinc
// interpolator whose cutoff sits below the lower Nyquist frequency.
func resample(x []float64, in, out int) []float64 {
	if in == out {
		return x
	}
	const half = 16 // taps on each side, at the lower rate
	ratio := float64(out) / float64(in)
	cut := min(1, ratio) * 0.92 // cutoff as a fraction of the input Nyquist
	n := int(float64(len(x)) * ratio)
	y := make([]float64, n)
	width := float64(half) / min(1, ratio)
	for i := range y {
		t := float64(i) / ratio
		c := int(math.Floor(t))
		var sum float64
		for j := c - int(width); j <= c+int(width)+1; j++ {
			if j < 0 || j >= len(x) {
				continue
			}
			d := t - float64(j)
			if math.Abs(d) > width {
				continue
			}
			w := 0.5 + 0.5*math.Cos(math.Pi*d/width) // Hann
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
// recognition tests are meaningless without real speech.
func needEspeak(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Fatal("espeak-ng is not installed: run `make deps` or `sudo apt-get install espeak-ng`")
	}
}
