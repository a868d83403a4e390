package speech

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// sine returns n samples of a sine of frequency f (Hz) at rate with peak amp
// (sample units).
func sine(f float64, amp float64, n, rate int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*f*float64(i)/float64(rate))))
	}
	return out
}

// toneAmp returns the amplitude of the component at f (Hz) in x by
// projection on sine and cosine (x should span many periods).
func toneAmp(x []int16, f float64, rate int) float64 {
	var s, c float64
	for i, v := range x {
		ph := 2 * math.Pi * f * float64(i) / float64(rate)
		s += float64(v) * math.Sin(ph)
		c += float64(v) * math.Cos(ph)
	}
	return 2 * math.Hypot(s, c) / float64(len(x))
}

// noise returns n samples of white Gaussian noise of RMS rms from a seeded
// generator, so tests are repeatable.
func noise(seed uint64, rms float64, n int) []int16 {
	r := rand.New(rand.NewPCG(seed, 0x5ee))
	out := make([]int16, n)
	for i := range out {
		out[i] = clamp16(math.Round(r.NormFloat64() * rms))
	}
	return out
}

// silence returns n zero samples.
func silence(n int) []int16 { return make([]int16, n) }

// cat concatenates signals.
func cat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// mixed returns a copy of a with b mixed in from sample offset at.
func mixed(a, b []int16, at int) []int16 {
	out := append([]int16(nil), a...)
	if at < len(out) {
		Mix(out[at:], b)
	}
	return out
}

// scaled returns a copy of x scaled by gain.
func scaled(x []int16, gain float64) []int16 {
	out := append([]int16(nil), x...)
	Scale(out, gain)
	return out
}

// resampleAll resamples x from one rate to another in one call.
func resampleAll(t testing.TB, x []int16, from, to int) []int16 {
	t.Helper()
	if from == to {
		return append([]int16(nil), x...)
	}
	r, err := NewResampler(from, to)
	if err != nil {
		t.Fatal(err)
	}
	// Flush the filter's delay with silence, then drop it from the front.
	d := Samples(r.Delay(), to)
	out := r.Resample(nil, append(append([]int16(nil), x...), make([]int16, Samples(r.Delay(), from)+8)...))
	out = out[d:]
	return out[:min(len(out), len(x)*to/from)]
}

// espeak synthesises text with espeak-ng and returns it at rate. It fails the
// test when espeak-ng is not installed: these tests are about real speech.
func espeak(t testing.TB, text string, rate int) []int16 {
	t.Helper()
	bin, err := exec.LookPath("espeak-ng")
	if err != nil {
		t.Fatal("espeak-ng not found: run make deps (apt-get install espeak-ng)")
	}
	path := filepath.Join(t.TempDir(), "speech.wav")
	if out, err := exec.Command(bin, "-w", path, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng %q: %v\n%s", text, err, out)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, from, err := ReadWAV(f)
	if err != nil {
		t.Fatalf("ReadWAV(espeak-ng output): %v", err)
	}
	return resampleAll(t, pcm, from, rate)
}

// frames cuts x into frames of n samples, the last one padded with silence.
func frames(x []int16, n int) [][]int16 {
	var out [][]int16
	for i := 0; i < len(x); i += n {
		f := make([]int16, n)
		copy(f, x[i:])
		out = append(out, f)
	}
	return out
}
