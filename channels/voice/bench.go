package voice

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/speech"
)

// BenchOptions configure Bench.
type BenchOptions struct {
	// Calls is how many calls are made, one after another; default 20.
	Calls int
	// Open opens a fresh conversation for each call and returns its id and
	// the recipient's token (signoffctl sends an order webhook).
	Open func(ctx context.Context) (signoff.SessionID, string, error)
	// Caller configures the calling side.
	Caller CallerOptions
	// Speech is what the caller says to cut the bot off, 16 kHz; default
	// 600 ms of a voiced buzz.
	Speech []int16
}

// Stats summarises one latency over the calls that measured it.
type Stats struct {
	N                 int
	Median, P95, Max  time.Duration
	samples           []time.Duration
	Failed            int // calls where it could not be measured
	lastFailureReason string
}

func (s *Stats) add(d time.Duration) { s.samples = append(s.samples, d) }

func (s *Stats) fail(reason string) { s.Failed++; s.lastFailureReason = reason }

func (s *Stats) finish() {
	s.N = len(s.samples)
	if s.N == 0 {
		return
	}
	slices.Sort(s.samples)
	at := func(q float64) time.Duration {
		return s.samples[min(s.N-1, int(math.Ceil(q*float64(s.N)))-1)]
	}
	s.Median, s.P95, s.Max = at(0.5), at(0.95), s.samples[s.N-1]
}

// String reads "median 80ms, p95 95ms, max 101ms (20 calls)".
func (s Stats) String() string {
	out := fmt.Sprintf("median %v, p95 %v, max %v (%d calls)", s.Median.Round(time.Millisecond), s.P95.Round(time.Millisecond), s.Max.Round(time.Millisecond), s.N)
	if s.Failed > 0 {
		out += fmt.Sprintf(", %d not measured: %s", s.Failed, s.lastFailureReason)
	}
	return out
}

// BenchResult is what Bench measured, all at the caller.
type BenchResult struct {
	// Greeting is from the offer (before ICE gathering) to the first audio
	// of the greeting.
	Greeting Stats
	// Keypad is from the first RFC 4733 packet of a key (9, repeat, which
	// records nothing) to the first audio of the bot's answer: the first
	// packet with the RTP marker bit, which begins each message.
	Keypad Stats
	// BargeIn is from the caller's speech onset, while the bot speaks, to
	// the bot's audio falling silent.
	BargeIn Stats
}

// Levels at the caller: a 20 ms frame above benchLoud is the bot speaking,
// below benchQuiet silence.
const (
	benchLoud  = 300.0
	benchQuiet = 100.0
)

// Bench makes opts.Calls calls to baseURL, one after another, and measures
// in each: offer → first greeting audio; keypad → first reply audio;
// speech onset → bot silent. A call that fails to connect is an error;
// a latency that cannot be measured in a call is counted in Failed.
func Bench(ctx context.Context, baseURL string, opts BenchOptions) (BenchResult, error) {
	if opts.Calls <= 0 {
		opts.Calls = 20
	}
	if opts.Open == nil {
		return BenchResult{}, signoff.Errorf(signoff.ErrInvalid, "bad_bench", "Bench needs Open")
	}
	if opts.Speech == nil {
		opts.Speech = buzz(600*time.Millisecond, -20)
	}
	var r BenchResult
	for range opts.Calls {
		if err := benchCall(ctx, baseURL, &opts, &r); err != nil {
			return r, err
		}
	}
	r.Greeting.finish()
	r.Keypad.finish()
	r.BargeIn.finish()
	return r, nil
}

func benchCall(ctx context.Context, baseURL string, opts *BenchOptions, r *BenchResult) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	id, token, err := opts.Open(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	c, err := Dial(ctx, baseURL, id, token, opts.Caller)
	if err != nil {
		return err
	}
	defer c.Hangup(context.WithoutCancel(ctx))
	wait := func(d time.Duration, cond func([]HeardFrame) bool) bool {
		deadline := time.Now().Add(d)
		for time.Now().Before(deadline) {
			if cond(c.Heard()) {
				return true
			}
			select {
			case <-ctx.Done():
				return false
			case <-time.After(5 * time.Millisecond):
			}
		}
		return false
	}
	var greeted time.Time
	if wait(3*time.Second, func(fr []HeardFrame) bool {
		greeted = firstAbove(fr, start, benchLoud)
		return !greeted.IsZero()
	}) {
		r.Greeting.add(greeted.Sub(start))
	} else {
		r.Greeting.fail("no greeting within 3 s")
		return nil
	}

	// Keypad 9 (repeat) while the greeting plays.
	wait(2*time.Second, func(fr []HeardFrame) bool { return loudRun(fr, 5) })
	sent, err := c.Press('9')
	if err != nil {
		return err
	}
	var pressed time.Time
	select {
	case pressed = <-sent:
	case <-ctx.Done():
		return ctx.Err()
	}
	var answered time.Time
	if wait(3*time.Second, func(fr []HeardFrame) bool {
		answered = firstStart(fr, pressed)
		return !answered.IsZero()
	}) {
		r.Keypad.add(answered.Sub(pressed))
	} else {
		r.Keypad.fail("no answer to the keypad within 3 s")
	}

	// Speech while the menu plays again.
	wait(2*time.Second, func(fr []HeardFrame) bool { return loudRun(fr, 10) })
	var onset time.Time
	select {
	case onset = <-c.Say(opts.Speech):
	case <-ctx.Done():
		return ctx.Err()
	}
	var silent time.Time
	if wait(2*time.Second, func(fr []HeardFrame) bool {
		silent = quietRun(fr, onset, 10)
		return !silent.IsZero()
	}) && wasLoud(c.Heard(), onset) {
		r.BargeIn.add(silent.Sub(onset))
	} else {
		r.BargeIn.fail("the bot was not speaking, or did not stop")
	}
	return nil
}

func firstAbove(fr []HeardFrame, after time.Time, level float64) time.Time {
	for _, f := range fr {
		if f.At.After(after) && f.RMS > level {
			return f.At
		}
	}
	return time.Time{}
}

// firstStart returns the arrival of the first frame after t that begins a
// message (the RTP marker bit).
func firstStart(fr []HeardFrame, after time.Time) time.Time {
	for _, f := range fr {
		if f.At.After(after) && f.Start {
			return f.At
		}
	}
	return time.Time{}
}

// loudRun reports whether the last n frames were all the bot speaking.
func loudRun(fr []HeardFrame, n int) bool {
	if len(fr) < n {
		return false
	}
	for _, f := range fr[len(fr)-n:] {
		if f.RMS < benchLoud {
			return false
		}
	}
	return true
}

// quietRun returns the first frame after t that begins n quiet ones.
func quietRun(fr []HeardFrame, t time.Time, n int) time.Time {
	run := 0
	for i, f := range fr {
		if !f.At.After(t) {
			continue
		}
		if f.RMS >= benchQuiet {
			run = 0
			continue
		}
		if run++; run == n {
			return fr[i-n+1].At
		}
	}
	return time.Time{}
}

// wasLoud reports whether the bot spoke in the 60 ms before t.
func wasLoud(fr []HeardFrame, t time.Time) bool {
	for _, f := range fr {
		if f.At.After(t.Add(-60*time.Millisecond)) && !f.At.After(t) && f.RMS > benchLoud {
			return true
		}
	}
	return false
}

// buzz is d of a voiced sound at db dBFS: a 120 Hz pulse train's first
// harmonics, which a VAD and a voicing check take for speech.
func buzz(d time.Duration, db float64) []int16 {
	n := speech.Samples(d, speech.SampleRate)
	x := make([]float64, n)
	var sq float64
	for i := range x {
		t := float64(i) / speech.SampleRate
		for h := 1; h <= 12; h++ {
			x[i] += math.Sin(2*math.Pi*120*float64(h)*t) / float64(h)
		}
		sq += x[i] * x[i]
	}
	g := speech.DBFSToRMS(db) / math.Sqrt(sq/float64(n))
	pcm := make([]int16, n)
	for i, v := range x {
		pcm[i] = int16(v * g)
	}
	return pcm
}
