package dialog_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/redisstore"
	"github.com/signoff/signoff/internal/redistest"
	"github.com/signoff/signoff/knowledge"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// clock is a test clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newEngine returns an engine on a fresh database of a real redis-server.
func newEngine(t *testing.T, cfg dialog.Config) (*dialog.Engine, *redisstore.Store, *clock) {
	t.Helper()
	addr, db := redistest.DB(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	t.Cleanup(func() { rdb.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := redisstore.New(rdb, log)
	clk := &clock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	return dialog.New(store, dialog.MergeFunc(knowledge.Merge), cfg, log, dialog.WithClock(clk.Now)), store, clk
}

func openingEvent(id, webhook string, at time.Time) signoff.OrderEvent {
	return signoff.OrderEvent{
		WebhookID: webhook, Type: signoff.EventOutForDelivery, Timestamp: at,
		Delivery: signoff.Delivery{
			ID:        signoff.DeliveryID(id),
			Recipient: signoff.Recipient{Phone: "13912345678", Locale: signoff.LocaleZH, TimeZone: "Asia/Shanghai"},
			Status:    signoff.StatusOutForDelivery,
			ETA:       at.Add(2 * time.Hour),
		},
		Present: signoff.Fields{"recipient": true, "status": true, "eta": true},
	}
}

func reply(t *testing.T, e *dialog.Engine, n dialog.Notice, text string) dialog.Turn {
	t.Helper()
	turn, err := e.Reply(context.Background(), n.SessionID, n.Token, signoff.Input{Kind: signoff.InputText, Text: text, Channel: signoff.ChannelChat})
	if err != nil {
		t.Fatalf("Reply(%q): %v", text, err)
	}
	return turn
}

func TestNotifyOpensOnceAndIsIdempotent(t *testing.T) {
	e, store, clk := newEngine(t, dialog.Config{})
	ctx := context.Background()
	n, err := e.Notify(ctx, openingEvent("D1", "wh-1", clk.Now()))
	if err != nil || !n.Opened || n.SessionID == "" || n.Token == "" {
		t.Fatalf("Notify = %+v, %v; want an opened session", n, err)
	}
	again, err := e.Notify(ctx, openingEvent("D1", "wh-1", clk.Now()))
	if err != nil || !again.Duplicate || again.SessionID != n.SessionID || again.Token != n.Token {
		t.Fatalf("replayed webhook = %+v, %v; want the first answer marked duplicate", again, err)
	}
	// A different webhook that would open: the open session is kept.
	other, err := e.Notify(ctx, openingEvent("D1", "wh-2", clk.Now().Add(time.Minute)))
	if err != nil || other.Opened || other.SessionID != n.SessionID {
		t.Fatalf("second opening event = %+v, %v; want the same session, not opened", other, err)
	}
	log, err := store.Log(ctx, "D1")
	if err != nil {
		t.Fatal(err)
	}
	webhooks := 0
	for _, l := range log {
		if l.Kind == "webhook" {
			webhooks++
		}
	}
	if webhooks != 2 {
		t.Errorf("log has %d webhook entries, want 2 (the replay adds none)", webhooks)
	}
}

func TestReplyAuthorisation(t *testing.T) {
	e, _, clk := newEngine(t, dialog.Config{})
	ctx := context.Background()
	n, err := e.Notify(ctx, openingEvent("D2", "wh-1", clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.Notify(ctx, openingEvent("D3", "wh-2", clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	in := signoff.Input{Kind: signoff.InputText, Text: "1", Channel: signoff.ChannelChat}
	if _, err := e.Reply(ctx, n.SessionID, m.Token, in); !errors.Is(err, signoff.ErrUnauthorized) {
		t.Errorf("another session's token: %v, want ErrUnauthorized", err)
	}
	if _, err := e.Reply(ctx, n.SessionID, "", in); !errors.Is(err, signoff.ErrUnauthorized) {
		t.Errorf("no token: %v, want ErrUnauthorized", err)
	}
	if _, err := e.Reply(ctx, "s_nosuchsession", n.Token, in); !errors.Is(err, signoff.ErrNotFound) {
		t.Errorf("unknown session: %v, want ErrNotFound", err)
	}
	s, _, err := e.Session(ctx, n.SessionID, n.Token)
	if err != nil || len(s.Transcript) != 1 {
		t.Errorf("the failed replies changed the session: %v, %d lines", err, len(s.Transcript))
	}
}

// TestConcurrentRepliesOneOutcome: 100 replies to one session at once, on
// two engines (two nodes) sharing one Redis, leave one consistent session:
// every accepted reply is in the transcript once, and the outcome is that of
// the last choice in transcript order.
func TestConcurrentRepliesOneOutcome(t *testing.T) {
	addr, db := redistest.DB(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var engines []*dialog.Engine
	var store *redisstore.Store
	for range 2 {
		rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db, PoolSize: 64})
		t.Cleanup(func() { rdb.Close() })
		store = redisstore.New(rdb, log)
		engines = append(engines, dialog.New(store, dialog.MergeFunc(knowledge.Merge), dialog.Config{}, log))
	}
	ctx := context.Background()
	n, err := engines[0].Notify(ctx, openingEvent("D4", "wh-1", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"1", "2", "3", "4"}
	var ok, conflicts atomic.Int64
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := engines[i%2].Reply(ctx, n.SessionID, n.Token, signoff.Input{Kind: signoff.InputText, Text: keys[i%4], Channel: signoff.ChannelChat})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, signoff.ErrConflict):
				conflicts.Add(1)
			default:
				t.Errorf("Reply: %v", err)
			}
		}()
	}
	wg.Wait()
	s, _, err := engines[0].Session(ctx, n.SessionID, n.Token)
	if err != nil {
		t.Fatal(err)
	}
	var replies int
	var last string
	for _, m := range s.Transcript {
		if m.From == signoff.FromRecipient {
			replies++
			last = m.Text
		}
	}
	if int64(replies) != ok.Load() {
		t.Errorf("transcript has %d replies, %d were accepted (%d conflicts)", replies, ok.Load(), conflicts.Load())
	}
	want := map[string]signoff.Outcome{"1": signoff.OutcomeDeliverNow, "2": signoff.OutcomeLeaveAtDoor, "3": signoff.OutcomePickupStation, "4": signoff.OutcomeLocker}[last]
	if s.Outcome != want || s.Consent == nil || s.Consent.Text != last {
		t.Errorf("outcome %s consent %+v, want %s from the last reply %q", s.Outcome, s.Consent, want, last)
	}
	entries, err := store.Log(ctx, "D4")
	if err != nil {
		t.Fatal(err)
	}
	outcomes := 0
	for _, l := range entries {
		if l.Kind == "outcome" {
			outcomes++
		}
	}
	if int64(outcomes) != ok.Load() {
		t.Errorf("log has %d outcome records for %d accepted choices", outcomes, ok.Load())
	}
	if ok.Load() < 50 {
		t.Errorf("only %d of 100 replies were accepted; the retry loop gives up too easily", ok.Load())
	}
}

// TestTimersFireOnceAcrossNodes: two nodes poll the same timers; each
// timeout is handled once, in order: two re-prompts, then a person.
func TestTimersFireOnceAcrossNodes(t *testing.T) {
	addr, db := redistest.DB(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clk := &clock{now: time.Now()}
	cfg := dialog.Config{ReplyTimeout: time.Minute, HandoffTimeout: 2 * time.Minute}
	var engines []*dialog.Engine
	for range 2 {
		rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db})
		t.Cleanup(func() { rdb.Close() })
		engines = append(engines, dialog.New(redisstore.New(rdb, log), dialog.MergeFunc(knowledge.Merge), cfg, log, dialog.WithClock(clk.Now)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n, err := engines[0].Notify(ctx, openingEvent("D5", "wh-1", clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, e := range engines {
		wg.Add(1)
		go func() { defer wg.Done(); e.RunTimers(ctx, 5*time.Millisecond) }()
	}
	defer func() { cancel(); wg.Wait() }()
	waitFor := func(lines int, state signoff.State) signoff.Session {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			s, _, err := engines[1].Session(ctx, n.SessionID, n.Token)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Transcript) >= lines && s.State == state {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 5s: %d lines in %s, want %d in %s", len(s.Transcript), s.State, lines, state)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	clk.Add(61 * time.Second)
	waitFor(2, signoff.StateAwaitingChoice)
	clk.Add(61 * time.Second)
	waitFor(3, signoff.StateAwaitingChoice)
	clk.Add(61 * time.Second)
	s := waitFor(4, signoff.StateHandoff)
	if s.HandoffReason != dialog.ReasonNoReply {
		t.Errorf("handoff reason %q, want %q", s.HandoffReason, dialog.ReasonNoReply)
	}
	time.Sleep(50 * time.Millisecond) // let any duplicate firing show
	s = waitFor(4, signoff.StateHandoff)
	if len(s.Transcript) != 4 {
		t.Errorf("transcript has %d lines, want 4: a timer fired twice", len(s.Transcript))
	}
	clk.Add(121 * time.Second)
	s = waitFor(5, signoff.StateAwaitingChoice)
	if !s.Deadline.IsZero() {
		t.Errorf("after the unclaimed handoff a timer is still set for %v", s.Deadline)
	}
}

// TestOutOfOrderEvents: an old update arriving late changes no fact and
// tells the recipient nothing.
func TestOutOfOrderEvents(t *testing.T) {
	e, store, clk := newEngine(t, dialog.Config{})
	ctx := context.Background()
	t0 := clk.Now()
	n, err := e.Notify(ctx, openingEvent("D6", "wh-1", t0))
	if err != nil {
		t.Fatal(err)
	}
	newer := signoff.OrderEvent{WebhookID: "wh-3", Type: signoff.EventUpdated, Timestamp: t0.Add(20 * time.Minute),
		Delivery: signoff.Delivery{ID: "D6", ETA: t0.Add(3 * time.Hour), LastLocation: "B"},
		Present:  signoff.Fields{"eta": true, "last_location": true}}
	older := signoff.OrderEvent{WebhookID: "wh-2", Type: signoff.EventUpdated, Timestamp: t0.Add(10 * time.Minute),
		Delivery: signoff.Delivery{ID: "D6", ETA: t0.Add(90 * time.Minute), LastLocation: "A"},
		Present:  signoff.Fields{"eta": true, "last_location": true}}
	if _, err := e.Notify(ctx, newer); err != nil {
		t.Fatal(err)
	}
	s1, d1, _ := e.Session(ctx, n.SessionID, n.Token)
	if _, err := e.Notify(ctx, older); err != nil {
		t.Fatal(err)
	}
	s2, d2, _ := e.Session(ctx, n.SessionID, n.Token)
	if !d2.ETA.Equal(t0.Add(3*time.Hour)) || d2.LastLocation != "B" {
		t.Errorf("late event rolled facts back: eta %v location %q", d2.ETA, d2.LastLocation)
	}
	if len(s2.Transcript) != len(s1.Transcript) {
		t.Errorf("late event said %q", s2.Transcript[len(s2.Transcript)-1].Text)
	}
	if d1.Version == 0 {
		t.Error("facts were not stored")
	}
	_ = store
}

func TestEndedSessionExpires(t *testing.T) {
	e, _, clk := newEngine(t, dialog.Config{EndedTTL: 300 * time.Millisecond})
	ctx := context.Background()
	n, err := e.Notify(ctx, openingEvent("D7", "wh-1", clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	reply(t, e, n, "1")
	delivered := signoff.OrderEvent{WebhookID: "wh-2", Type: signoff.EventDelivered, Timestamp: clk.Now().Add(time.Hour),
		Delivery: signoff.Delivery{ID: "D7", Status: signoff.StatusDelivered}, Present: signoff.Fields{"status": true}}
	if _, err := e.Notify(ctx, delivered); err != nil {
		t.Fatal(err)
	}
	s, _, err := e.Session(ctx, n.SessionID, n.Token)
	if err != nil || s.State != signoff.StateSigned {
		t.Fatalf("after delivery: %v %v, want signed", s.State, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, _, err := e.Session(ctx, n.SessionID, n.Token)
		if errors.Is(err, signoff.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ended session still there after its TTL: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRecordAppendsEvidence(t *testing.T) {
	e, store, clk := newEngine(t, dialog.Config{})
	ctx := context.Background()
	n, err := e.Notify(ctx, openingEvent("D8", "wh-1", clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Record(ctx, n.SessionID, "call_recording", map[string]string{"sha256": "ab12"}); err != nil {
		t.Fatal(err)
	}
	entries, err := store.Log(ctx, "D8")
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1]
	if last.Kind != "call_recording" || last.Data["sha256"] != "ab12" || last.Data["session"] != string(n.SessionID) {
		t.Errorf("last log entry %+v, want the recording", last)
	}
	if err := e.Record(ctx, "s_unknown", "x", nil); !errors.Is(err, signoff.ErrNotFound) {
		t.Errorf("Record on an unknown session: %v, want ErrNotFound", err)
	}
}

// TestCachedSessionAcrossNodes: a node's cached session is overtaken by
// another node's turn and by a facts change; its next turn still decides on
// the current session and facts.
func TestCachedSessionAcrossNodes(t *testing.T) {
	addr, db := redistest.DB(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clk := &clock{now: time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)}
	var nodes []*dialog.Engine
	for range 2 {
		rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db})
		t.Cleanup(func() { rdb.Close() })
		nodes = append(nodes, dialog.New(redisstore.New(rdb, log), dialog.MergeFunc(knowledge.Merge), dialog.Config{}, log, dialog.WithClock(clk.Now)))
	}
	a, b := nodes[0], nodes[1]
	ctx := context.Background()
	n, err := a.Notify(ctx, openingEvent("D9", "wh-1", clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	reply(t, a, n, "2") // a caches the session
	reply(t, b, n, "3") // b moves it on
	turn := reply(t, a, n, "1")
	if turn.Session.Outcome != signoff.OutcomeDeliverNow || turn.Session.Lines != 7 {
		t.Errorf("after a stale cache: outcome %s, %d lines; want deliver_now and 7 lines", turn.Session.Outcome, turn.Session.Lines)
	}
	// b changes the ETA (a facts-only change: less than ETAChange, so the
	// session is untouched); a's cached facts are stale.
	upd := signoff.OrderEvent{WebhookID: "wh-2", Type: signoff.EventUpdated, Timestamp: clk.Now().Add(time.Minute),
		Delivery: signoff.Delivery{ID: "D9", ETA: time.Date(2026, 11, 25, 4, 5, 0, 0, time.UTC)}, Present: signoff.Fields{"eta": true}}
	if _, err := b.Notify(ctx, upd); err != nil {
		t.Fatal(err)
	}
	turn = reply(t, a, n, "什么时候到")
	if got := turn.Replies[1].Text; got != "预计今天 12:05送达。" {
		t.Errorf("answer on stale cached facts: %q, want the new ETA 12:05", got)
	}
}
