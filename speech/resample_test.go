package speech

import (
	"fmt"
	"math"
	"testing"
)

func TestResamplerTones(t *testing.T) {
	const amp = 10000.0
	tests := []struct {
		from, to int
		freq     float64
		minDB    float64 // output amplitude relative to input, at least
		maxDB    float64 // and at most
	}{
		// Passband: a 1 kHz tone keeps its amplitude within 1 dB.
		{8000, 16000, 1000, -1, 1},
		{16000, 8000, 1000, -1, 1},
		{48000, 16000, 1000, -1, 1},
		{16000, 48000, 1000, -1, 1},
		{24000, 16000, 1000, -1, 1},
		{22050, 16000, 1000, -1, 1},
		{48000, 8000, 1000, -1, 1},
		{16000, 8000, 3000, -1, 1},      // the top of the telephone band
		{48000, 16000, 6000, -1, 1},     // sibilants survive the way into the pipeline
		{48000, 16000, 7000, -3, 1},     // 7 kHz is below 8 kHz: in band, at the filter's edge
		{16000, 48000, 6000, -1, 1},     // and the way out
		{8000, 16000, 3400, -1, 1},      // the top of the PCMU band
		{48000, 16000, 9500, -140, -30}, // would alias to 6.5 kHz
		{48000, 16000, 10000, -140, -30},
		{48000, 16000, 12000, -140, -30},
		{48000, 16000, 20000, -140, -30},
		{48000, 8000, 7000, -140, -30}, // would alias to 1 kHz
		{16000, 8000, 5000, -140, -30}, // would alias to 3 kHz
		{16000, 8000, 7000, -140, -30},
		{24000, 16000, 10000, -140, -30},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d-%d/%gHz", tt.from, tt.to, tt.freq), func(t *testing.T) {
			in := sine(tt.freq, amp, tt.from/2, tt.from) // 500 ms
			out := resampleAll(t, in, tt.from, tt.to)
			// Measure away from the edges, at the frequency it has, or
			// would fold to, on the output side.
			f := tt.freq
			if f > float64(tt.to)/2 {
				f = math.Abs(f - float64(tt.to)*math.Round(f/float64(tt.to)))
			}
			mid := out[len(out)/8 : len(out)*7/8]
			got := max(20*math.Log10(toneAmp(mid, f, tt.to)/amp), -140) // all rounded away: -Inf
			if got < tt.minDB || got > tt.maxDB {
				t.Errorf("%g Hz at %d→%d Hz: got %.2f dB, want %g..%g dB", tt.freq, tt.from, tt.to, got, tt.minDB, tt.maxDB)
			}
			t.Logf("%g Hz → %g Hz: %.2f dB", tt.freq, f, got)
		})
	}
}

// TestResamplerStreaming: 20 ms frames in equal one call, sample for sample.
func TestResamplerStreaming(t *testing.T) {
	for _, rates := range [][2]int{{8000, 16000}, {16000, 8000}, {48000, 16000}, {16000, 48000}, {24000, 16000}, {22050, 16000}, {16000, 16000}} {
		from, to := rates[0], rates[1]
		t.Run(fmt.Sprintf("%d-%d", from, to), func(t *testing.T) {
			in := cat(sine(440, 8000, from/4, from), noise(1, 3000, from/4), sine(2500, 12000, from/4, from))
			one, err := NewResampler(from, to)
			if err != nil {
				t.Fatal(err)
			}
			want := one.Resample(nil, in)
			for _, size := range []int{from / 50, 1, 7, from / 100, from/50 + 13} {
				r, _ := NewResampler(from, to)
				var got []int16
				for i := 0; i < len(in); i += size {
					got = r.Resample(got, in[i:min(i+size, len(in))])
				}
				if len(got) != len(want) {
					t.Fatalf("chunks of %d: got %d samples, want %d", size, len(got), len(want))
				}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("chunks of %d: sample %d: got %d, want %d", size, i, got[i], want[i])
					}
				}
			}
			// Whole 20 ms frames give whole 20 ms frames.
			r, _ := NewResampler(from, to)
			if n := len(r.Resample(nil, make([]int16, from/50))); from%50 == 0 && to%50 == 0 && n != to/50 {
				t.Errorf("a 20 ms frame: got %d samples, want %d", n, to/50)
			}
		})
	}
}

// TestResamplerNoClicks: a steady tone cut into frames has no step at the
// frame edges (the largest sample-to-sample change stays that of the tone).
func TestResamplerNoClicks(t *testing.T) {
	r, _ := NewResampler(8000, 16000)
	in := sine(1000, 16000, 8000, 8000)
	var out []int16
	for _, f := range frames(in, 160) {
		out = r.Resample(out, f)
	}
	maxStep := 0.0
	for i := 1000; i < len(out); i++ {
		maxStep = max(maxStep, math.Abs(float64(out[i])-float64(out[i-1])))
	}
	// 1 kHz at 16 kHz: at most 2π·1000/16000·16000 ≈ 6283 per sample.
	if maxStep > 6400 {
		t.Errorf("largest step: got %.0f, want ≤ 6400", maxStep)
	}
}

func TestResamplerErrors(t *testing.T) {
	for _, rates := range [][2]int{{0, 16000}, {16000, -1}, {8000, 1000000}, {16001, 16000}, {44100, 48001}} {
		if _, err := NewResampler(rates[0], rates[1]); err == nil {
			t.Errorf("NewResampler(%d, %d): got no error", rates[0], rates[1])
		}
	}
}

func TestResamplerAllocs(t *testing.T) {
	for _, rates := range [][2]int{{8000, 16000}, {48000, 16000}, {16000, 48000}, {16000, 8000}} {
		r, _ := NewResampler(rates[0], rates[1])
		in := sine(440, 8000, rates[0]/50, rates[0])
		out := make([]int16, 0, rates[1]/50)
		out = r.Resample(out[:0], in)
		if n := testing.AllocsPerRun(100, func() { out = r.Resample(out[:0], in) }); n != 0 {
			t.Errorf("%d→%d: got %v allocations a frame, want 0", rates[0], rates[1], n)
		}
	}
}

func BenchmarkResampler(b *testing.B) {
	for _, rates := range [][2]int{{8000, 16000}, {16000, 8000}, {48000, 16000}, {16000, 48000}} {
		b.Run(fmt.Sprintf("%d-%d", rates[0], rates[1]), func(b *testing.B) {
			r, _ := NewResampler(rates[0], rates[1])
			in := noise(1, 3000, rates[0]/50)
			out := make([]int16, 0, rates[1]/50+1)
			benchFrames(b, func() { out = r.Resample(out[:0], in) })
		})
	}
}
