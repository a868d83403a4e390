package speech

import (
	"fmt"
	"math"
	"testing"
	"time"
)

const ms = time.Millisecond

// voiced returns a vowel-like sound: a 140 Hz harmonic series to 3.5 kHz at
// the given level, with 5 ms fades so that its edges are not clicks.
func voiced(d time.Duration, rate int, dbfs float64) []int16 {
	n := Samples(d, rate)
	x := make([]float64, n)
	var sum float64
	for i := range x {
		t := float64(i) / float64(rate)
		for k := 1; 140*k < 3500; k++ {
			x[i] += math.Sin(2*math.Pi*140*float64(k)*t+float64(k)) / float64(k)
		}
		sum += x[i] * x[i]
	}
	g := DBFSToRMS(dbfs) / math.Sqrt(sum/float64(n))
	fade := Samples(5*ms, rate)
	out := make([]int16, n)
	for i := range out {
		w := 1.0
		if j := min(i, n-1-i); j < fade {
			w = 0.5 - 0.5*math.Cos(math.Pi*float64(j)/float64(fade))
		}
		out[i] = clamp16(math.Round(x[i] * g * w))
	}
	return out
}

// click returns a d-long decaying burst: a door, a tap on the microphone.
func click(d time.Duration, rate int) []int16 {
	n := Samples(d, rate)
	out := noise(7, 16000, n)
	for i := range out {
		out[i] = int16(float64(out[i]) * math.Exp(-3*float64(i)/float64(n)))
	}
	return out
}

// vadRun feeds x to a new VAD in 20 ms frames, with played[i] the RMS the bot
// plays during frame i (none if played is nil), and returns the events with
// the time each was reported.
func vadRun(t *testing.T, cfg VADConfig, x []int16, played []float64) (evs []VADEvent, when []time.Duration) {
	t.Helper()
	v, err := NewVAD(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rate := v.Config().SampleRate
	for i, f := range frames(x, rate/50) {
		p := 0.0
		if i < len(played) {
			p = played[i]
		}
		if ev := v.Process(f, p); ev.Kind != VADNone {
			evs = append(evs, ev)
			when = append(when, v.Elapsed())
		}
	}
	return evs, when
}

func formatEvents(evs []VADEvent, when []time.Duration) string {
	s := ""
	for i, ev := range evs {
		s += fmt.Sprintf("%v@%v(reported %v) ", ev.Kind, ev.At, when[i])
	}
	return s
}

func TestVADSynthetic(t *testing.T) {
	const rate = 16000
	bg := func(d time.Duration) []int16 { return noise(3, DBFSToRMS(-65), Samples(d, rate)) }
	at := func(d time.Duration) int { return Samples(d, rate) }
	type want struct {
		kind VADEventKind
		at   time.Duration // within 10 ms
	}
	tests := []struct {
		name string
		cfg  VADConfig
		x    []int16
		want []want
	}{
		{"digital silence", VADConfig{}, silence(at(3 * time.Second)), nil},
		{"faint noise", VADConfig{}, bg(3 * time.Second), nil},
		{"loud steady noise", VADConfig{}, noise(4, DBFSToRMS(-30), at(3*time.Second)), nil},
		{"word", VADConfig{}, mixed(bg(3*time.Second), voiced(400*ms, rate, -25), at(time.Second)),
			[]want{{VADOnset, time.Second}, {VADEnd, 1400 * ms}}},
		{"quiet word", VADConfig{}, mixed(bg(3*time.Second), voiced(400*ms, rate, -45), at(time.Second)),
			[]want{{VADOnset, time.Second}, {VADEnd, 1400 * ms}}},
		{"below MinLevelDBFS", VADConfig{}, mixed(bg(3*time.Second), voiced(400*ms, rate, -53), at(time.Second)), nil},
		{"word in noise, 15 dB SNR", VADConfig{},
			mixed(noise(5, DBFSToRMS(-40), at(3*time.Second)), voiced(400*ms, rate, -25), at(time.Second)),
			[]want{{VADOnset, time.Second}, {VADEnd, 1400 * ms}}},
		{"two words, 300 ms apart: one turn", VADConfig{},
			mixed(mixed(bg(3*time.Second), voiced(300*ms, rate, -25), at(time.Second)), voiced(300*ms, rate, -25), at(1600*ms)),
			[]want{{VADOnset, time.Second}, {VADEnd, 1900 * ms}}},
		{"two words, 700 ms apart: two turns", VADConfig{},
			mixed(mixed(bg(3*time.Second), voiced(300*ms, rate, -25), at(time.Second)), voiced(300*ms, rate, -25), at(2000*ms)),
			[]want{{VADOnset, time.Second}, {VADEnd, 1300 * ms}, {VADOnset, 2000 * ms}, {VADEnd, 2300 * ms}}},
		{"80 ms is speech", VADConfig{}, mixed(bg(2*time.Second), voiced(80*ms, rate, -25), at(time.Second)),
			[]want{{VADOnset, time.Second}, {VADEnd, 1080 * ms}}},
		{"80 ms is not with MinSpeech 100 ms", VADConfig{MinSpeech: 100 * ms},
			mixed(bg(2*time.Second), voiced(80*ms, rate, -25), at(time.Second)), nil},
		{"Hangover 200 ms", VADConfig{Hangover: 200 * ms},
			mixed(mixed(bg(3*time.Second), voiced(300*ms, rate, -25), at(time.Second)), voiced(300*ms, rate, -25), at(1600*ms)),
			[]want{{VADOnset, time.Second}, {VADEnd, 1300 * ms}, {VADOnset, 1600 * ms}, {VADEnd, 1900 * ms}}},
		{"8 kHz", VADConfig{SampleRate: 8000},
			mixed(noise(3, DBFSToRMS(-65), 24000), voiced(400*ms, 8000, -25), 8000),
			[]want{{VADOnset, time.Second}, {VADEnd, 1400 * ms}}},
	}
	// Clicks and bursts, at every offset against the 10 ms blocks.
	for off := time.Duration(0); off < 20*ms; off += 3 * ms {
		tests = append(tests,
			struct {
				name string
				cfg  VADConfig
				x    []int16
				want []want
			}{fmt.Sprintf("30 ms click +%v", off), VADConfig{}, mixed(bg(2*time.Second), click(30*ms, rate), at(time.Second+off)), nil},
			struct {
				name string
				cfg  VADConfig
				x    []int16
				want []want
			}{fmt.Sprintf("40 ms noise burst +%v", off), VADConfig{}, mixed(bg(2*time.Second), noise(8, DBFSToRMS(-10), at(40*ms)), at(time.Second+off)), nil},
			struct {
				name string
				cfg  VADConfig
				x    []int16
				want []want
			}{fmt.Sprintf("40 ms cough +%v", off), VADConfig{}, mixed(bg(2*time.Second), voiced(40*ms, rate, -15), at(time.Second+off)), nil},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, when := vadRun(t, tt.cfg, tt.x, nil)
			ok := len(evs) == len(tt.want)
			for i := 0; ok && i < len(evs); i++ {
				ok = evs[i].Kind == tt.want[i].kind && (evs[i].At-tt.want[i].at).Abs() <= 10*ms
			}
			if !ok {
				t.Fatalf("got %s, want %v", formatEvents(evs, when), tt.want)
			}
			// Reported once MinSpeech (onset) or Hangover (end) has passed.
			v, _ := NewVAD(tt.cfg)
			cfg := v.Config()
			for i, ev := range evs {
				lag := cfg.MinSpeech
				if ev.Kind == VADEnd {
					lag = cfg.Hangover
				}
				if d := when[i] - ev.At; d < lag || d > lag+30*ms {
					t.Errorf("%v at %v reported at %v: got %v later, want %v..%v", ev.Kind, ev.At, when[i], d, lag, lag+30*ms)
				}
			}
		})
	}
}

// TestVADNoiseStep: the room gets 30 dB noisier and stays so. At worst the
// step is taken for speech once, ended when the floor has caught up, and
// never again; speech in the new noise is then found.
func TestVADNoiseStep(t *testing.T) {
	const rate = 16000
	x := cat(noise(1, DBFSToRMS(-65), 2*rate), noise(2, DBFSToRMS(-35), 6*rate))
	x = mixed(x, voiced(400*ms, rate, -20), 6*rate)
	evs, when := vadRun(t, VADConfig{}, x, nil)
	var onsets []time.Duration
	for _, ev := range evs {
		if ev.Kind == VADOnset {
			onsets = append(onsets, ev.At)
		}
	}
	if len(onsets) == 0 || (onsets[len(onsets)-1]-6*time.Second).Abs() > 10*ms || len(onsets) > 2 {
		t.Fatalf("got %s, want at most an onset at 2s and one at 6s", formatEvents(evs, when))
	}
	if evs[len(evs)-1].Kind != VADEnd {
		t.Errorf("got %s, want it to end", formatEvents(evs, when))
	}
}

// TestVADLongFrames: frames of any length give the same events as 20 ms
// frames, the late ones from the following calls.
func TestVADLongFrames(t *testing.T) {
	const rate = 16000
	x := mixed(mixed(noise(3, DBFSToRMS(-65), 4*rate), voiced(300*ms, rate, -25), rate), voiced(300*ms, rate, -25), 2*rate)
	want, _ := vadRun(t, VADConfig{}, x, nil)
	for _, size := range []int{1, 77, 160, 2000, rate} {
		v, _ := NewVAD(VADConfig{})
		var got []VADEvent
		for i := 0; i < len(x); i += size {
			if ev := v.Process(x[i:min(i+size, len(x))], 0); ev.Kind != VADNone {
				got = append(got, ev)
			}
		}
		for ev := v.Process(nil, 0); ev.Kind != VADNone; ev = v.Process(nil, 0) {
			got = append(got, ev)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("frames of %d: got %v, want %v", size, got, want)
		}
	}
}

// trueSpan returns where x has sound: the first and last 5 ms windows
// whose RMS is within 40 dB of the loudest.
func trueSpan(x []int16, rate int) (start, end time.Duration) {
	w := rate / 200
	peak := 0.0
	for i := 0; i+w <= len(x); i += w {
		peak = max(peak, RMS(x[i:i+w]))
	}
	first, last := -1, -1
	for i := 0; i+w <= len(x); i += w {
		if RMS(x[i:i+w]) > peak/100 {
			if first < 0 {
				first = i
			}
			last = i + w
		}
	}
	return Duration(first, rate), Duration(last, rate)
}

// TestVADSpeech: real speech from espeak-ng in a faint noise floor.
func TestVADSpeech(t *testing.T) {
	for _, rate := range []int{16000, 8000} {
		for _, word := range []string{"two", "seven", "yes", "one two three"} {
			t.Run(fmt.Sprintf("%s/%d", word, rate), func(t *testing.T) {
				sp := espeak(t, word, rate)
				start, end := trueSpan(sp, rate)
				start, end = start+time.Second, end+time.Second
				x := mixed(noise(9, DBFSToRMS(-60), 3*rate+len(sp)), sp, rate)
				evs, when := vadRun(t, VADConfig{SampleRate: rate}, x, nil)
				if len(evs) != 2 || evs[0].Kind != VADOnset || evs[1].Kind != VADEnd {
					t.Fatalf("got %s, want an onset and an end (speech %v..%v)", formatEvents(evs, when), start, end)
				}
				if d := evs[0].At - start; d.Abs() > 60*ms {
					t.Errorf("onset at %v: got %v from the speech start %v, want within 60 ms", evs[0].At, d, start)
				}
				if d := when[0] - start; d > 60*ms+60*ms {
					t.Errorf("onset reported at %v: got %v after the speech start, want ≤ MinSpeech + 60 ms", when[0], d)
				}
				if d := when[1] - end; d < 500*ms || d > 600*ms {
					t.Errorf("end reported at %v: got %v after the speech end %v, want the 500 ms hangover (+100 ms)", when[1], d, end)
				}
				t.Logf("speech %v..%v: %s", start, end, formatEvents(evs, when))
			})
		}
	}
}

// TestVADEcho: the bot's own voice coming back at -20 dB while it plays is
// not an onset; the caller's voice over it is.
func TestVADEcho(t *testing.T) {
	const rate = 16000
	bot := espeak(t, "Press one to have it delivered now, two to leave it at your door, or zero for a person.", rate)
	frameN := rate / 50
	played := make([]float64, 0, len(bot)/frameN+1)
	for _, f := range frames(bot, frameN) {
		played = append(played, RMS(f))
	}
	played = append(played, make([]float64, 150)...) // 3 s after it
	bg := noise(11, DBFSToRMS(-60), len(bot)+3*rate)
	caller := espeak(t, "two", rate)
	callerDB := 0.0
	for _, delay := range []time.Duration{0, 60 * ms, 250 * ms, 400 * ms} {
		echo := mixed(bg, scaled(bot, Gain(-20)), Samples(delay, rate))
		t.Run(fmt.Sprintf("echo after %v", delay), func(t *testing.T) {
			if evs, when := vadRun(t, VADConfig{}, echo, played); len(evs) != 0 {
				t.Errorf("got %s, want no events", formatEvents(evs, when))
			}
			// Without the rule, the echo is speech: the rule is what holds.
			if evs, _ := vadRun(t, VADConfig{}, echo, nil); len(evs) == 0 || evs[0].Kind != VADOnset {
				t.Errorf("with nothing playing: got no onset, want one")
			}
		})
		t.Run(fmt.Sprintf("barge-in over echo after %v", delay), func(t *testing.T) {
			t.Logf("bot %.1f dBFS, caller %.1f dBFS", DBFS(bot), DBFS(caller)+callerDB)
			x := mixed(echo, scaled(caller, Gain(callerDB)), 2*rate)
			start, _ := trueSpan(caller, rate)
			evs, when := vadRun(t, VADConfig{}, x, played)
			if len(evs) == 0 || evs[0].Kind != VADOnset || (evs[0].At-2*time.Second-start).Abs() > 60*ms {
				t.Errorf("got %s, want an onset within 60 ms of %v", formatEvents(evs, when), 2*time.Second+start)
			}
		})
	}
}

func TestVADConfigErrors(t *testing.T) {
	for _, cfg := range []VADConfig{
		{SampleRate: 7999}, {SampleRate: 16050}, {SampleRate: 96000}, {MinSpeech: -1}, {Hangover: -ms},
		{ThresholdDB: -3}, {EchoRatio: -0.1}, {EchoMarginDB: -1}, {FloorWindow: -time.Second},
	} {
		if _, err := NewVAD(cfg); err == nil {
			t.Errorf("NewVAD(%+v): got no error", cfg)
		}
	}
}

func TestVADAllocs(t *testing.T) {
	v, _ := NewVAD(VADConfig{})
	x := mixed(noise(3, 30, 2*SampleRate), voiced(400*ms, SampleRate, -25), SampleRate/2)
	fs := frames(x, FrameSamples)
	i := 0
	if n := testing.AllocsPerRun(len(fs)-1, func() { v.Process(fs[i], 100); i++ }); n != 0 {
		t.Errorf("got %v allocations a frame, want 0", n)
	}
}

func BenchmarkVAD(b *testing.B) {
	v, _ := NewVAD(VADConfig{})
	x := mixed(noise(3, 30, 2*SampleRate), voiced(400*ms, SampleRate, -25), SampleRate/2)
	fs := frames(x, FrameSamples)
	i := 0
	benchFrames(b, func() {
		v.Process(fs[i%len(fs)], 0)
		i++
	})
}
