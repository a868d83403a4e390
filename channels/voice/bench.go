package voice

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
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
	// Reply, when set, is a spoken answer (an English digit, 16 kHz) said
	// in each call after the barge-in, while the bot is silent or cutting
	// it off; BenchResult.Reply is measured from its last speech sample
	// sent to the first frame of the bot's answer.
	Reply []int16
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
	// Reply is from the last speech frame of BenchOptions.Reply sent to
	// the first frame of the bot's answer (RTP marker bit): the server's
	// end-of-turn silence (VAD), recognition, the engine and TTS.
	Reply Stats
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
	r.Reply.finish()
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
	if opts.Reply != nil {
		return benchReply(ctx, c, opts.Reply, wait, &r.Reply)
	}
	return nil
}

// benchReply says reply once the bot has either been quiet for 1.5 s or
// is speaking again (the answer to the barge-in, which reply cuts off),
// and measures from its last speech frame sent to the first frame of the
// bot's answer.
func benchReply(ctx context.Context, c *Caller, reply []int16, wait func(time.Duration, func([]HeardFrame) bool) bool, s *Stats) error {
	wait(6*time.Second, func(fr []HeardFrame) bool {
		return loudRun(fr, 10) || quietFor(fr, 75)
	})
	r, err := speech.NewResampler(speech.SampleRate, 8000)
	if err != nil {
		return err
	}
	first, last := speechSpan(r.Resample(nil, reply))
	if first < 0 {
		s.fail("the reply is silent")
		return nil
	}
	var onset time.Time
	select {
	case t, ok := <-c.Say(reply):
		if !ok {
			s.fail("the reply was not sent")
			return nil
		}
		onset = t
	case <-ctx.Done():
		return ctx.Err()
	}
	end := onset.Add(time.Duration(last-first) * speech.FrameDuration)
	var answered time.Time
	if wait(time.Until(end)+6*time.Second, func(fr []HeardFrame) bool {
		answered = firstStart(fr, end)
		return !answered.IsZero()
	}) {
		s.add(answered.Sub(end))
	} else {
		s.fail("no answer to the spoken reply within 6 s")
	}
	return nil
}

// speechSpan returns the first and last 20 ms frames of pcm (8 kHz, sent
// from a frame boundary) louder than -45 dBFS, the level at which Say
// reports an onset; -1, -1 when there is none.
func speechSpan(pcm []int16) (first, last int) {
	first, last = -1, -1
	for i := 0; i*160 < len(pcm); i++ {
		if speech.DBFS(pcm[i*160:min(len(pcm), (i+1)*160)]) > -45 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}

// quietFor reports whether the last n frames heard were all below
// benchLoud.
func quietFor(fr []HeardFrame, n int) bool {
	if len(fr) < n {
		return false
	}
	for _, f := range fr[len(fr)-n:] {
		if f.RMS >= benchLoud {
			return false
		}
	}
	return true
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

// CapacityOptions configure Capacity.
type CapacityOptions struct {
	// Calls is how many calls are held open at once.
	Calls int
	// Hold is how long each call is held once connected; default 15 s.
	Hold time.Duration
	// Every is the interval between a caller's inputs, which alternate
	// keypad 9 (the menu again: DTMF and TTS) and Speech (VAD, recognition
	// and a re-ask); default 3 s, each caller starting at a random offset.
	Every time.Duration
	// Open, Caller and Speech are as in BenchOptions.
	Open   func(ctx context.Context) (signoff.SessionID, string, error)
	Caller CallerOptions
	Speech []int16
}

// CapacityResult is what Capacity counted at the callers.
type CapacityResult struct {
	Calls     int // attempted
	Connected int // media flowed
	// Frames is the bot frames heard while it spoke, Late those more than
	// LateAfter behind their 20 ms schedule, Worst the most behind.
	Frames, Late int
	Worst        time.Duration
	// Gaps counts the frames that came more than LateAfter after the one
	// before plus 20 ms, WorstGap the most (Lateness).
	Gaps     int
	WorstGap time.Duration
	// Err is one of the errors of the calls that did not connect.
	Err error
}

// LateAfter is how far behind its schedule a frame is late.
const LateAfter = 40 * time.Millisecond

// Capacity holds opts.Calls calls to baseURL open at once, each for
// opts.Hold with keypad presses and speech bursts, and counts the bot's
// frames that reach the callers late. The callers run in this process, so
// their own scheduling counts against the server.
func Capacity(ctx context.Context, baseURL string, opts CapacityOptions) CapacityResult {
	if opts.Hold <= 0 {
		opts.Hold = 15 * time.Second
	}
	if opts.Every <= 0 {
		opts.Every = 3 * time.Second
	}
	if opts.Speech == nil {
		opts.Speech = buzz(600*time.Millisecond, -20)
	}
	res := CapacityResult{Calls: opts.Calls}
	if opts.Open == nil {
		res.Err = signoff.Errorf(signoff.ErrInvalid, "bad_bench", "Capacity needs Open")
		return res
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for i := range opts.Calls {
		wg.Go(func() {
			l, err := capacityCall(ctx, baseURL, &opts, time.Duration(i)*opts.Every/time.Duration(opts.Calls))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Err = err
				return
			}
			res.Connected++
			res.Frames += l.Frames
			res.Late += l.Late
			res.Worst = max(res.Worst, l.Worst)
			res.Gaps += l.Gaps
			res.WorstGap = max(res.WorstGap, l.WorstGap)
		})
	}
	wg.Wait()
	return res
}

func capacityCall(ctx context.Context, baseURL string, opts *CapacityOptions, offset time.Duration) (Lateness, error) {
	ctx, cancel := context.WithTimeout(ctx, opts.Hold+60*time.Second)
	defer cancel()
	id, token, err := opts.Open(ctx)
	if err != nil {
		return Lateness{}, err
	}
	c, err := Dial(ctx, baseURL, id, token, opts.Caller)
	if err != nil {
		return Lateness{}, err
	}
	defer c.Hangup(context.WithoutCancel(ctx))
	select {
	case <-c.Connected():
	case <-time.After(20 * time.Second):
		return Lateness{}, fmt.Errorf("voice: call not connected within 20 s")
	case <-ctx.Done():
		return Lateness{}, ctx.Err()
	}
	end := time.Now().Add(opts.Hold)
	next := time.Now().Add(opts.Every/2 + offset)
	for n := 0; ; n++ {
		d := time.Until(next)
		if !next.Before(end) {
			d = time.Until(end)
		}
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return Lateness{}, ctx.Err()
		}
		if !next.Before(end) {
			break
		}
		if n%2 == 0 {
			if _, err := c.Press('9'); err != nil {
				return Lateness{}, err
			}
		} else {
			c.Say(opts.Speech)
		}
		next = next.Add(opts.Every)
	}
	fr := c.Heard()
	return CountLate(fr, LateAfter), nil
}

// Lateness counts the bot's frames, heard while it spoke, that came late.
type Lateness struct {
	Frames int
	// Late and Worst are against the schedule (see CountLate), which a
	// frame the sender skipped or the network lost pushes back for every
	// frame after it.
	Late  int
	Worst time.Duration
	// Gaps counts the frames that came more than after behind the one
	// before's arrival plus 20 ms, WorstGap the most: each stall counts
	// once.
	Gaps     int
	WorstGap time.Duration
}

// CountLate counts the frames above benchQuiet (the bot speaking) that
// arrived more than after behind their schedule. The bot sends a frame
// every 20 ms, speaking or not; each frame is due 20 ms after the one
// before was due, or at its arrival if it came earlier than that (so the
// schedule follows the sender's clock and a burst after a stall catches up
// with it).
func CountLate(fr []HeardFrame, after time.Duration) Lateness {
	var (
		l   Lateness
		due time.Time
	)
	for i, f := range fr {
		if i == 0 || f.At.Before(due) {
			due = f.At
		}
		if f.RMS >= benchQuiet {
			l.Frames++
			late := f.At.Sub(due)
			l.Worst = max(l.Worst, late)
			if late > after {
				l.Late++
			}
			if i > 0 {
				gap := f.At.Sub(fr[i-1].At) - speech.FrameDuration
				l.WorstGap = max(l.WorstGap, gap)
				if gap > after {
					l.Gaps++
				}
			}
		}
		due = due.Add(speech.FrameDuration)
	}
	return l
}
