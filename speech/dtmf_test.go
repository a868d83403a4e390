package speech

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

const allKeys = "123A456B789C*0#D"

// dtmfRun feeds x to a new detector in 20 ms frames and returns the events.
func dtmfRun(t testing.TB, x []int16, rate int) []DTMFEvent {
	t.Helper()
	d, err := NewDTMFDetector(rate)
	if err != nil {
		t.Fatal(err)
	}
	var evs []DTMFEvent
	for _, f := range frames(x, rate/50) {
		if ev := d.Process(f); ev.Key != 0 {
			evs = append(evs, ev)
		}
	}
	return evs
}

func keysOf(evs []DTMFEvent) string {
	var b strings.Builder
	for _, ev := range evs {
		b.WriteByte(ev.Key)
	}
	return b.String()
}

// tone2 returns a dual tone with the given frequencies and amplitudes.
func tone2(f1, a1, f2, a2 float64, d time.Duration, rate int) []int16 {
	n := Samples(d, rate)
	out := make([]int16, n)
	for i := range out {
		t := float64(i) / float64(rate)
		out[i] = clamp16(math.Round(a1*math.Sin(2*math.Pi*f1*t) + a2*math.Sin(2*math.Pi*f2*t)))
	}
	return out
}

func TestDTMFKeys(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		for _, snr := range []float64{math.Inf(1), 20} {
			t.Run(fmt.Sprintf("%d Hz, SNR %v dB", rate, snr), func(t *testing.T) {
				for _, key := range []byte(allKeys) {
					tone := GenerateDTMF(key, 80*ms, rate)
					x := cat(silence(Samples(100*ms+3*ms, rate)), tone, silence(Samples(200*ms, rate)))
					if !math.IsInf(snr, 1) {
						x = mixed(x, noise(uint64(key), RMS(tone)*Gain(-snr), len(x)), 0)
					}
					evs := dtmfRun(t, x, rate)
					if len(evs) != 1 || evs[0].Key != key {
						t.Errorf("key %c: got %q, want %q", key, keysOf(evs), key)
						continue
					}
					if d := evs[0].At - 103*ms; d.Abs() > 13*ms {
						t.Errorf("key %c at %v: got %v from the tone's start, want within a block", key, evs[0].At, d)
					}
				}
			})
		}
	}
}

// TestDTMFDialling: a number dialled quickly (50 ms on, 50 ms off) comes out
// key for key, once each, also through the μ-law codec of a phone line.
func TestDTMFDialling(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		var x []int16
		for _, key := range []byte(allKeys + "1100") {
			x = cat(x, GenerateDTMF(key, 50*ms, rate), silence(Samples(50*ms, rate)))
		}
		if got := keysOf(dtmfRun(t, x, rate)); got != allKeys+"1100" {
			t.Errorf("%d Hz: got %q, want %q", rate, got, allKeys+"1100")
		}
		if rate == 8000 {
			x = AppendMulawPCM(nil, AppendMulaw(nil, x))
			if got := keysOf(dtmfRun(t, x, rate)); got != allKeys+"1100" {
				t.Errorf("through μ-law: got %q, want %q", got, allKeys+"1100")
			}
		}
	}
}

func TestDTMFDurations(t *testing.T) {
	tests := []struct {
		name string
		dur  time.Duration
		want string
	}{
		{"40 ms, the shortest a receiver must take", 40 * ms, "5"},
		{"a 1 s press is one key", time.Second, "5"},
		{"20 ms is too short", 20 * ms, ""},
		{"15 ms is too short", 15 * ms, ""},
	}
	for _, rate := range []int{8000, 16000} {
		for _, tt := range tests {
			// At every offset against the blocks.
			for off := time.Duration(0); off < 13*ms; off += time.Millisecond {
				x := cat(silence(Samples(100*ms+off, rate)), GenerateDTMF('5', tt.dur, rate), silence(Samples(200*ms, rate)))
				x = mixed(x, noise(1, 30, len(x)), 0)
				if got := keysOf(dtmfRun(t, x, rate)); got != tt.want {
					t.Errorf("%s at %d Hz, +%v: got %q, want %q", tt.name, rate, off, got, tt.want)
				}
			}
		}
	}
}

// TestDTMFTolerance: frequency error and twist that real phones have pass;
// gross ones do not.
func TestDTMFTolerance(t *testing.T) {
	const amp = 0.3 * fullScale
	tests := []struct {
		name         string
		rowF, colF   float64
		rowDB, colDB float64
		want         string
	}{
		{"exact", 770, 1336, 0, 0, "5"},
		{"+1.5%", 770 * 1.015, 1336 * 1.015, 0, 0, "5"},
		{"-1.5%", 770 * 0.985, 1336 * 0.985, 0, 0, "5"},
		{"normal twist 6 dB", 770, 1336, -6, 0, "5"},
		{"reverse twist 3 dB", 770, 1336, 0, -3, "5"},
		{"normal twist 12 dB", 770, 1336, -12, 0, ""},
		{"reverse twist 8 dB", 770, 1336, 0, -8, ""},
		{"quiet, -35 dBFS each", 770, 1336, -21.5, -21.5, "5"},
		{"too quiet, -45 dBFS each", 770, 1336, -31.5, -31.5, ""},
		{"one tone", 770, 1336, 0, -80, ""},
		{"between two rows", 810, 1336, 0, 0, ""},
	}
	for _, rate := range []int{8000, 16000} {
		for _, tt := range tests {
			x := cat(silence(rate/10), tone2(tt.rowF, amp*Gain(tt.rowDB), tt.colF, amp*Gain(tt.colDB), 100*ms, rate), silence(rate/5))
			if got := keysOf(dtmfRun(t, x, rate)); got != tt.want {
				t.Errorf("%s at %d Hz: got %q, want %q", tt.name, rate, got, tt.want)
			}
		}
	}
}

// TestDTMFSpeech: real speech, the digits most of all, is not a key press.
func TestDTMFSpeech(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		for _, text := range []string{
			"one two three four",
			"zero one two three four five six seven eight nine",
			"Press one to have it delivered now, two to leave it at your door, or zero for a person.",
		} {
			sp := espeak(t, text, rate)
			for _, x := range [][]int16{sp, mixed(sp, noise(2, DBFSToRMS(-45), len(sp)), 0), scaled(sp, Gain(-20))} {
				if evs := dtmfRun(t, x, rate); len(evs) != 0 {
					t.Errorf("%q at %d Hz: got keys %q, want none", text, rate, keysOf(evs))
				}
			}
		}
	}
}

func TestDTMFLongFrames(t *testing.T) {
	x := cat(GenerateDTMF('1', 60*ms, 8000), silence(400), GenerateDTMF('2', 60*ms, 8000), silence(400), GenerateDTMF('3', 60*ms, 8000))
	d, _ := NewDTMFDetector(8000)
	var got []byte
	for ev := d.Process(x); ev.Key != 0; ev = d.Process(nil) {
		got = append(got, ev.Key)
	}
	if string(got) != "123" {
		t.Errorf("one long frame: got %q, want %q", got, "123")
	}
}

func TestGenerateDTMF(t *testing.T) {
	if x := GenerateDTMF('#', 100*ms, 8000); len(x) != 800 || DBFS(x) < -12 || DBFS(x) > -9 {
		t.Errorf("GenerateDTMF('#', 100ms, 8000): got %d samples at %.1f dBFS, want 800 at -10.5", len(x), DBFS(x))
	}
	if x := GenerateDTMF('b', 20*ms, 16000); len(x) != 320 {
		t.Errorf("GenerateDTMF('b', 20ms, 16000): got %d samples, want 320", len(x))
	}
	for _, bad := range []byte{'E', 'x', 0, ' ', '+'} {
		if x := GenerateDTMF(bad, 100*ms, 8000); x != nil {
			t.Errorf("GenerateDTMF(%q): got %d samples, want nil", bad, len(x))
		}
	}
	if _, err := NewDTMFDetector(4000); err == nil {
		t.Errorf("NewDTMFDetector(4000): got no error")
	}
}

func TestDTMFAllocs(t *testing.T) {
	d, _ := NewDTMFDetector(SampleRate)
	fs := frames(cat(GenerateDTMF('7', 200*ms, SampleRate), noise(1, 300, SampleRate)), FrameSamples)
	i := 0
	if n := testing.AllocsPerRun(len(fs)-1, func() { d.Process(fs[i]); i++ }); n != 0 {
		t.Errorf("got %v allocations a frame, want 0", n)
	}
}

func BenchmarkDTMF(b *testing.B) {
	for _, rate := range []int{8000, 16000} {
		b.Run(fmt.Sprint(rate), func(b *testing.B) {
			d, _ := NewDTMFDetector(rate)
			fs := frames(cat(GenerateDTMF('7', 200*ms, rate), noise(1, 300, rate)), rate/50)
			i := 0
			benchFrames(b, func() {
				d.Process(fs[i%len(fs)])
				i++
			})
		})
	}
}
