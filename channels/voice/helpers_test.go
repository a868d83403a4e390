package voice

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/speech"
)

// Levels at the caller, in 16-bit sample units (RMS of a 20 ms frame).
const (
	loud  = 300.0 // -40 dBFS: the bot is speaking
	quiet = 100.0 // -50 dBFS: the bot is silent
)

func testLog(t testing.TB) *slog.Logger {
	t.Helper()
	if testing.Verbose() && os.Getenv("VOICE_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// entry is one piece of evidence a fake was given.
type entry struct {
	kind string
	data map[string]string
}

// fakeConv is a hand-written Conversations and Feed: one session whose bot
// answers every reply with a fixed line.
type fakeConv struct {
	mu      sync.Mutex
	s       signoff.Session
	token   string
	inputs  []signoff.Input
	records []entry
	subs    []chan dialog.Posted
	answer  func(in signoff.Input) signoff.Message
}

func newFakeConv() *fakeConv {
	opts := []signoff.Option{{Key: "1", Label: "Deliver now"}, {Key: "2", Label: "Leave at my door"}, {Key: "3", Label: "Pickup station"}, {Key: "0", Label: "Talk to a person"}}
	return &fakeConv{
		token: "tok-123",
		s: signoff.Session{
			ID: "s_test", Locale: signoff.LocaleEN, State: signoff.StateAwaitingChoice, Offered: opts,
			Transcript: []signoff.Message{{From: signoff.FromBot, Text: "Hello! Your parcel is on its way. Choose:", Options: opts}},
		},
		answer: func(in signoff.Input) signoff.Message {
			return signoff.Message{From: signoff.FromBot, Text: "OK, you pressed " + in.Text + "."}
		},
	}
}

func (f *fakeConv) Session(_ context.Context, id signoff.SessionID, token string) (signoff.Session, signoff.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id != f.s.ID {
		return signoff.Session{}, signoff.Delivery{}, signoff.Errorf(signoff.ErrNotFound, "not_found", "no such session")
	}
	if token != f.token {
		return signoff.Session{}, signoff.Delivery{}, signoff.Errorf(signoff.ErrUnauthorized, "bad_token", "no")
	}
	s := f.s
	s.Transcript = append([]signoff.Message(nil), f.s.Transcript...)
	s.Lines = len(s.Transcript)
	return s, signoff.Delivery{}, nil
}

func (f *fakeConv) Reply(ctx context.Context, id signoff.SessionID, token string, in signoff.Input) (dialog.Turn, error) {
	if _, _, err := f.Session(ctx, id, token); err != nil {
		return dialog.Turn{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inputs = append(f.inputs, in)
	first := len(f.s.Transcript)
	f.s.Transcript = append(f.s.Transcript, signoff.Message{From: signoff.FromRecipient, Text: in.Text, Channel: in.Channel}, f.answer(in))
	for i := first; i < len(f.s.Transcript); i++ {
		f.publishLocked(dialog.Posted{Seq: i, Message: f.s.Transcript[i]})
	}
	// Like the engine: the turn's session carries only the new lines.
	s := f.s
	s.Transcript = append([]signoff.Message(nil), f.s.Transcript[first:]...)
	s.Lines = len(f.s.Transcript)
	return dialog.Turn{Replies: s.Transcript, Session: s}, nil
}

func (f *fakeConv) Record(_ context.Context, _ signoff.SessionID, kind string, data map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records = append(f.records, entry{kind, data})
	return nil
}

func (f *fakeConv) Subscribe(ctx context.Context, _ signoff.SessionID) (<-chan dialog.Posted, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan dialog.Posted, 16)
	f.subs = append(f.subs, ch)
	context.AfterFunc(ctx, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, c := range f.subs {
			if c == ch {
				f.subs = append(f.subs[:i], f.subs[i+1:]...)
				close(ch)
			}
		}
	})
	return ch, nil
}

// post adds a line as another channel would, and publishes it.
func (f *fakeConv) post(m signoff.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.s.Transcript = append(f.s.Transcript, m)
	f.publishLocked(dialog.Posted{Seq: len(f.s.Transcript) - 1, Message: m})
}

func (f *fakeConv) publishLocked(p dialog.Posted) {
	for _, ch := range f.subs {
		select {
		case ch <- p:
		default:
		}
	}
}

func (f *fakeConv) Inputs() []signoff.Input {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]signoff.Input(nil), f.inputs...)
}

func (f *fakeConv) Records(kind string) []entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []entry
	for _, e := range f.records {
		if e.kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// answerDBFS is the level toneTTS speaks answers at ("OK, ..."): softer
// than the menu (-14 dBFS), so a caller can tell them apart.
const answerDBFS = -26

var answerRMS = speech.DBFSToRMS(answerDBFS)

// toneTTS is a hand-written Synthesizer: every sentence is a steady tone
// of 60 ms a character (300 ms to 2 s) at -14 dBFS, so that the bot is
// never silent mid-sentence and a cut-off is plain to see.
type toneTTS struct {
	mu    sync.Mutex
	texts []string
}

func (s *toneTTS) Synthesize(ctx context.Context, text, lang string, slow bool) ([]int16, error) {
	s.mu.Lock()
	s.texts = append(s.texts, text)
	s.mu.Unlock()
	d := min(max(time.Duration(len(text))*60*time.Millisecond, 300*time.Millisecond), 2*time.Second)
	if strings.HasPrefix(text, "OK") {
		return tone(d, 600, answerDBFS), nil
	}
	return tone(d, 400, -14), nil
}

func (s *toneTTS) Texts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.texts...)
}

// tone returns d of a sine of f Hz at RMS level db dBFS, 16 kHz.
func tone(d time.Duration, f, db float64) []int16 {
	pcm := make([]int16, speech.Samples(d, speech.SampleRate))
	a := speech.DBFSToRMS(db) * math.Sqrt2
	for i := range pcm {
		pcm[i] = int16(a * math.Sin(2*math.Pi*f*float64(i)/speech.SampleRate))
	}
	return pcm
}

// scriptASR is a hand-written Recognizer that answers from a script, in
// order, and rejects when the script runs out.
type scriptASR struct {
	mu      sync.Mutex
	answers []speech.Result
	heard   [][]int16
}

func (r *scriptASR) Recognize(_ context.Context, pcm []int16, g speech.Grammar) (speech.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.heard = append(r.heard, pcm)
	if len(r.answers) == 0 {
		return speech.Result{Rejected: true}, nil
	}
	a := r.answers[0]
	r.answers = r.answers[1:]
	return a, nil
}

// server runs a Handler in an httptest server with a gin router.
func server(t *testing.T, cfg Config, conv Conversations, feed Feed, tts Synthesizer, asr Recognizer) (*Handler, string) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	r := gin.New()
	cfg.Loopback = true
	h, err := New(cfg, conv, feed, tts, asr, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	h.Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		srv.Close()
	})
	return h, srv.URL
}

// dial calls session id and waits until media flows.
func dial(t *testing.T, base string, id signoff.SessionID, token string, opts CallerOptions) (*Caller, time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts.Loopback = true
	c, err := Dial(ctx, base, id, token, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	select {
	case <-c.Connected():
	case <-ctx.Done():
		t.Fatal("the call did not connect within 10 s")
	}
	return c, time.Now()
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// firstLoud returns the arrival of the first loud frame after from.
func firstLoud(frames []HeardFrame, from time.Time) (time.Time, bool) {
	for _, f := range frames {
		if f.At.After(from) && f.RMS > loud {
			return f.At, true
		}
	}
	return time.Time{}, false
}

// silenceFrom returns the arrival of the first frame after from that
// begins n quiet frames in a row.
func silenceFrom(frames []HeardFrame, from time.Time, n int) (time.Time, bool) {
	run := 0
	for i, f := range frames {
		if !f.At.After(from) {
			continue
		}
		if f.RMS < quiet {
			run++
			if run == n {
				return frames[i-n+1].At, true
			}
		} else {
			run = 0
		}
	}
	return time.Time{}, false
}

// loudBefore reports whether the bot was speaking in the d before t.
func loudBefore(frames []HeardFrame, t time.Time, d time.Duration) bool {
	for _, f := range frames {
		if f.At.After(t.Add(-d)) && !f.At.After(t) && f.RMS > loud {
			return true
		}
	}
	return false
}

// loudFor waits until the caller has heard the bot for d without a break
// and returns when.
func loudFor(t *testing.T, c *Caller, d time.Duration, within time.Duration) time.Time {
	t.Helper()
	var at time.Time
	waitFor(t, within, "the bot never spoke for "+d.String()+" on end", func() bool {
		fr := c.Heard()
		n := int(d / speech.FrameDuration)
		if len(fr) < n {
			return false
		}
		for _, f := range fr[len(fr)-n:] {
			if f.RMS < loud {
				return false
			}
		}
		at = fr[len(fr)-1].At
		return true
	})
	return at
}

// phoneBand returns pcm (16 kHz) as it arrives through PCMU: down to
// 8 kHz, μ-law and back.
func phoneBand(t *testing.T, pcm []int16) []int16 {
	t.Helper()
	down, err := speech.NewResampler(speech.SampleRate, 8000)
	if err != nil {
		t.Fatal(err)
	}
	up, err := speech.NewResampler(8000, speech.SampleRate)
	if err != nil {
		t.Fatal(err)
	}
	p8 := down.Resample(nil, pcm)
	return up.Resample(nil, speech.AppendMulawPCM(nil, speech.AppendMulaw(nil, p8)))
}
