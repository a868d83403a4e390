package speech

import (
	"math"
	"testing"
	"time"
)

func TestFrameConstants(t *testing.T) {
	if got := Samples(FrameDuration, SampleRate); got != FrameSamples {
		t.Errorf("Samples(FrameDuration, SampleRate): got %d, want FrameSamples = %d", got, FrameSamples)
	}
	if got := Duration(FrameSamples, SampleRate); got != FrameDuration {
		t.Errorf("Duration(FrameSamples, SampleRate): got %v, want %v", got, FrameDuration)
	}
}

func TestLevels(t *testing.T) {
	square := make([]int16, 320)
	for i := range square {
		square[i] = -32768
	}
	tests := []struct {
		name string
		x    []int16
		rms  float64
		dbfs float64
	}{
		{"empty", nil, 0, MinDBFS},
		{"digital silence", silence(320), 0, MinDBFS},
		{"full-scale square", square, 32768, 0},
		{"full-scale sine", sine(1000, 32767, 16000, 16000), 32767 / math.Sqrt2, -3.01},
		{"-20 dBFS sine", sine(1000, DBFSToRMS(-20)*math.Sqrt2, 16000, 16000), DBFSToRMS(-20), -20},
		{"one LSB", []int16{1, -1, 1, -1}, 1, -90.31},
		{"odd length", []int16{3, 4, 0}, math.Sqrt(25.0 / 3), -81.11},
	}
	for _, tt := range tests {
		if got := RMS(tt.x); math.Abs(got-tt.rms) > 0.01*tt.rms+0.01 {
			t.Errorf("RMS(%s): got %g, want %g", tt.name, got, tt.rms)
		}
		if got := DBFS(tt.x); math.Abs(got-tt.dbfs) > 0.01 {
			t.Errorf("DBFS(%s): got %.2f, want %.2f", tt.name, got, tt.dbfs)
		}
	}
	if got := RMSToDBFS(DBFSToRMS(-37)); math.Abs(got+37) > 1e-9 {
		t.Errorf("RMSToDBFS(DBFSToRMS(-37)): got %g", got)
	}
}

func TestScaleMix(t *testing.T) {
	x := []int16{100, -100, 20000, -20000, 3, -32768}
	Scale(x, 2)
	if want := []int16{200, -200, 32767, -32768, 6, -32768}; !equal(x, want) {
		t.Errorf("Scale(2): got %v, want %v", x, want)
	}
	y := []int16{1000, -1000, 3}
	Scale(y, 0.5) // halves round away from zero
	if want := []int16{500, -500, 2}; !equal(y, want) {
		t.Errorf("Scale(0.5): got %v, want %v", y, want)
	}
	a := []int16{1, 30000, -30000, 5}
	if n := Mix(a, []int16{2, 10000, -10000}); n != 3 {
		t.Errorf("Mix: got %d mixed, want 3", n)
	}
	if want := []int16{3, 32767, -32768, 5}; !equal(a, want) {
		t.Errorf("Mix: got %v, want %v", a, want)
	}
}

func TestSamplesDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		rate int
		n    int
	}{
		{20 * time.Millisecond, 8000, 160},
		{20 * time.Millisecond, 48000, 960},
		{time.Second, 22050, 22050},
		{12750 * time.Microsecond, 8000, 102},
	}
	for _, tt := range tests {
		if got := Samples(tt.d, tt.rate); got != tt.n {
			t.Errorf("Samples(%v, %d): got %d, want %d", tt.d, tt.rate, got, tt.n)
		}
	}
	if got := Duration(160, 8000); got != 20*time.Millisecond {
		t.Errorf("Duration(160, 8000): got %v", got)
	}
	if got := duration64(48000*86400*3, 48000); got != 72*time.Hour {
		t.Errorf("three days at 48 kHz: got %v, want 72h", got)
	}
	if got := Duration(5, 0); got != 0 {
		t.Errorf("Duration at rate 0: got %v, want 0", got)
	}
}

func equal(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func BenchmarkRMS(b *testing.B) {
	x := noise(1, 3000, FrameSamples)
	benchFrames(b, func() { RMS(x) })
}
