// Package storetest is the conformance suite of dialog.Store: every
// implementation runs it, so that they all keep the same contract.
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) dialog.Store { return newEmptyStore(t) })
//	}
//
// It imports only the standard library, the root, dialog and dialog/evidence.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
)

// LogReader is implemented by stores whose event log can be read back. Run
// checks the log through it; a store without it skips those checks.
type LogReader interface {
	Log(ctx context.Context, id signoff.DeliveryID) ([]dialog.LogEntry, error)
}

// Run runs the suite. open is called once per subtest and must return an
// empty store (in particular, with no timers), to be cleaned up by t.
func Run(t *testing.T, open func(t *testing.T) dialog.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s dialog.Store)
	}{
		{"NewDeliveryIsEmpty", testNewDeliveryIsEmpty},
		{"UnknownSession", testUnknownSession},
		{"CreateAndLoad", testCreateAndLoad},
		{"SessionVersions", testSessionVersions},
		{"SecondOpenSessionRefused", testSecondOpenSessionRefused},
		{"CloseSession", testCloseSession},
		{"FactsVersions", testFactsVersions},
		{"WebhookIdempotent", testWebhookIdempotent},
		{"AllOrNothing", testAllOrNothing},
		{"LogInOrder", testLogInOrder},
		{"ConcurrentCommits", testConcurrentCommits},
		{"Transcript", testTranscript},
		{"FactsVersionChecked", testFactsVersionChecked},
		{"TTL", testTTL},
		{"TimerDue", testTimerDue},
		{"TimerOneClaimer", testTimerOneClaimer},
		{"TimerLease", testTimerLease},
		{"TimerClear", testTimerClear},
		{"TimerClearKeepsRescheduled", testTimerClearKeepsRescheduled},
		{"TimerCancel", testTimerCancel},
		{"TimerMax", testTimerMax},
		{"EvidenceChained", testEvidenceChained},
		{"EvidenceConcurrentAppends", testEvidenceConcurrentAppends},
		{"EvidenceAllOrNothing", testEvidenceAllOrNothing},
		{"Erase", testErase},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// base is the suite's clock: timers are claimed at times relative to it,
// never at the wall clock's now.
var base = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func newID(prefix string) string { return prefix + "-" + rand.Text()[:12] }

func facts(d signoff.DeliveryID, version int64) *signoff.Delivery {
	return &signoff.Delivery{
		ID:        d,
		Recipient: signoff.Recipient{Name: "王芳", Phone: "13912345678", Locale: signoff.LocaleZH, TimeZone: "Asia/Shanghai"},
		Courier:   signoff.Courier{ID: "C-7", Name: "李师傅"},
		Address:   "幸福路 8 号",
		ETA:       base.Add(2 * time.Hour),
		Status:    signoff.StatusOutForDelivery,
		AsOf:      base,
		Version:   version,
	}
}

func session(d signoff.DeliveryID, id signoff.SessionID, version int64) *signoff.Session {
	return &signoff.Session{
		ID:         id,
		DeliveryID: d,
		Locale:     signoff.LocaleZH,
		State:      signoff.StateAwaitingChoice,
		Offered:    []signoff.Option{{Key: "1", Label: "现在送上门，本人签收"}, {Key: "2", Label: "放门口"}},
		TokenHash:  "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4",
		Transcript: []signoff.Message{{From: signoff.FromBot, Text: "您好，您的快递正在派送。", At: base}},
		CreatedAt:  base,
		UpdatedAt:  base.Add(time.Duration(version) * time.Second),
		Version:    version,
	}
}

// next returns s one version on, with a line more in its transcript.
func next(s signoff.Session, text string) *signoff.Session {
	s.Transcript = append(append([]signoff.Message(nil), s.Transcript...),
		signoff.Message{From: signoff.FromRecipient, Text: text, Channel: signoff.ChannelChat, At: base.Add(time.Minute)})
	s.Lines++
	s.Version++
	s.UpdatedAt = s.UpdatedAt.Add(time.Second)
	return &s
}

func entry(kind, k, v string) dialog.LogEntry {
	return dialog.LogEntry{Kind: kind, At: base.Add(time.Second), Data: map[string]string{k: v}}
}

func commit(t *testing.T, s dialog.Store, c dialog.Change) {
	t.Helper()
	if err := s.Commit(ctx(t), c); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func wantConflict(t *testing.T, s dialog.Store, c dialog.Change, what string) {
	t.Helper()
	err := s.Commit(ctx(t), c)
	if !errors.Is(err, signoff.ErrConflict) {
		t.Fatalf("%s: Commit = %v, want an error of kind ErrConflict", what, err)
	}
}

// same fails unless got and want encode to the same JSON: what the store
// keeps is what it was given.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func load(t *testing.T, s dialog.Store, d signoff.DeliveryID) (signoff.Delivery, *signoff.Session) {
	t.Helper()
	f, sess, err := s.Load(ctx(t), d)
	if err != nil {
		t.Fatalf("Load(%s): %v", d, err)
	}
	return f, sess
}

func loadSession(t *testing.T, s dialog.Store, id signoff.SessionID) (signoff.Session, signoff.Delivery) {
	t.Helper()
	sess, f, err := s.LoadSession(ctx(t), id)
	if err != nil {
		t.Fatalf("LoadSession(%s): %v", id, err)
	}
	return sess, f
}

// readLog returns the delivery's log, or skips the test if s cannot read it.
func readLog(t *testing.T, s dialog.Store, d signoff.DeliveryID) []dialog.LogEntry {
	t.Helper()
	r, ok := s.(LogReader)
	if !ok {
		t.Skipf("%T does not implement storetest.LogReader", s)
	}
	log, err := r.Log(ctx(t), d)
	if err != nil {
		t.Fatalf("Log(%s): %v", d, err)
	}
	return log
}

func wantLog(t *testing.T, s dialog.Store, d signoff.DeliveryID, want ...dialog.LogEntry) {
	t.Helper()
	got := readLog(t, s, d)
	if len(got) != len(want) {
		t.Fatalf("log has %d entries %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range want {
		if got[i].Kind != want[i].Kind || !got[i].At.Equal(want[i].At) || fmt.Sprint(got[i].Data) != fmt.Sprint(want[i].Data) {
			t.Errorf("log[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// opened stores new facts and a new open session, and returns them.
func opened(t *testing.T, s dialog.Store) (*signoff.Delivery, *signoff.Session) {
	t.Helper()
	d := signoff.DeliveryID(newID("D"))
	f, sess := facts(d, 1), session(d, signoff.SessionID(newID("S")), 1)
	commit(t, s, dialog.Change{Delivery: d, Facts: f, Session: sess})
	return f, sess
}

func testNewDeliveryIsEmpty(t *testing.T, s dialog.Store) {
	f, sess := load(t, s, signoff.DeliveryID(newID("D")))
	if f.Version != 0 || f.ID != "" || sess != nil {
		t.Errorf("Load of a new delivery = %+v, %v; want a zero Delivery and no session", f, sess)
	}
}

func testUnknownSession(t *testing.T, s dialog.Store) {
	id := signoff.SessionID(newID("S"))
	if _, _, err := s.LoadSession(ctx(t), id); !errors.Is(err, signoff.ErrNotFound) {
		t.Errorf("LoadSession(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.SessionDelivery(ctx(t), id); !errors.Is(err, signoff.ErrNotFound) {
		t.Errorf("SessionDelivery(unknown) = %v, want ErrNotFound", err)
	}
}

func testCreateAndLoad(t *testing.T, s dialog.Store) {
	d := signoff.DeliveryID(newID("D"))
	f, sess := facts(d, 1), session(d, signoff.SessionID(newID("S")), 1)
	commit(t, s, dialog.Change{Delivery: d, Facts: f, Session: sess,
		Log: []dialog.LogEntry{entry("webhook", "type", "delivery.out_for_delivery")}})

	gotF, gotS := load(t, s, d)
	same(t, "Load facts", gotF, f)
	if gotS == nil {
		t.Fatal("Load: no open session after creating one")
	}
	same(t, "Load session", gotS, sess)

	byID, withF := loadSession(t, s, sess.ID)
	same(t, "LoadSession session", byID, sess)
	same(t, "LoadSession facts", withF, f)

	got, err := s.SessionDelivery(ctx(t), sess.ID)
	if err != nil || got != d {
		t.Errorf("SessionDelivery = %q, %v; want %q", got, err, d)
	}
}

func testSessionVersions(t *testing.T, s dialog.Store) {
	_, v1 := opened(t, s)
	d := v1.DeliveryID
	wantConflict(t, s, dialog.Change{Delivery: d, Session: v1}, "version 1 again")
	v3 := next(*next(*v1, "a"), "b")
	wantConflict(t, s, dialog.Change{Delivery: d, Session: v3}, "version 3 over 1")
	v2 := next(*v1, "2")
	commit(t, s, dialog.Change{Delivery: d, Session: v2})
	wantConflict(t, s, dialog.Change{Delivery: d, Session: next(*v1, "stale")}, "version 2 again")

	got, _ := loadSession(t, s, v1.ID)
	same(t, "session after conflicts", got, v2)
	commit(t, s, dialog.Change{Delivery: d, Session: v3})
}

func testSecondOpenSessionRefused(t *testing.T, s dialog.Store) {
	_, a := opened(t, s)
	d := a.DeliveryID
	b := session(d, signoff.SessionID(newID("S")), 1)
	wantConflict(t, s, dialog.Change{Delivery: d, Session: b}, "a second open session")
	if _, _, err := s.LoadSession(ctx(t), b.ID); !errors.Is(err, signoff.ErrNotFound) {
		t.Errorf("LoadSession of the refused session = %v, want ErrNotFound", err)
	}
	_, open := load(t, s, d)
	if open == nil || open.ID != a.ID {
		t.Fatalf("open session = %v, want %s", open, a.ID)
	}

	// Once a is closed, b may open.
	a2 := next(*a, "bye")
	a2.State = signoff.StateSigned
	commit(t, s, dialog.Change{Delivery: d, Session: a2, CloseSession: true})
	commit(t, s, dialog.Change{Delivery: d, Session: b})
	_, open = load(t, s, d)
	if open == nil || open.ID != b.ID {
		t.Fatalf("open session after closing %s = %v, want %s", a.ID, open, b.ID)
	}
}

func testCloseSession(t *testing.T, s dialog.Store) {
	_, a := opened(t, s)
	d := a.DeliveryID
	a2 := next(*a, "1")
	a2.State = signoff.StateSigned
	commit(t, s, dialog.Change{Delivery: d, Session: a2, CloseSession: true})
	if _, open := load(t, s, d); open != nil {
		t.Errorf("Load after CloseSession: open session %s, want none", open.ID)
	}
	got, _ := loadSession(t, s, a.ID)
	same(t, "closed session", got, a2)

	// Closing a session that is not the open one leaves the open one.
	b := session(d, signoff.SessionID(newID("S")), 1)
	commit(t, s, dialog.Change{Delivery: d, Session: b})
	commit(t, s, dialog.Change{Delivery: d, Session: next(*a2, "late"), CloseSession: true})
	if _, open := load(t, s, d); open == nil || open.ID != b.ID {
		t.Errorf("open session after closing another = %v, want %s", open, b.ID)
	}
}

func testFactsVersions(t *testing.T, s dialog.Store) {
	d := signoff.DeliveryID(newID("D"))
	wantConflict(t, s, dialog.Change{Delivery: d, Facts: facts(d, 2)}, "version 2 of new facts")
	commit(t, s, dialog.Change{Delivery: d, Facts: facts(d, 1)})
	wantConflict(t, s, dialog.Change{Delivery: d, Facts: facts(d, 1)}, "version 1 again")
	f2 := facts(d, 2)
	f2.Status = signoff.StatusArriving
	commit(t, s, dialog.Change{Delivery: d, Facts: f2})
	got, _ := load(t, s, d)
	same(t, "facts", got, f2)
}

func testWebhookIdempotent(t *testing.T, s dialog.Store) {
	d := signoff.DeliveryID(newID("D"))
	wh := newID("msg")
	f1 := facts(d, 1)
	sess := session(d, signoff.SessionID(newID("S")), 1)
	first := dialog.LogEntry{Kind: "webhook", At: base, Data: map[string]string{"webhook_id": wh}}
	commit(t, s, dialog.Change{Delivery: d, Facts: f1, Session: sess, Log: []dialog.LogEntry{first},
		WebhookID: wh, Answer: []byte(`{"opened":true}`)})

	// The same id again, with other contents: refused with the first answer.
	f2 := facts(d, 2)
	f2.Status = signoff.StatusDelivered
	err := s.Commit(ctx(t), dialog.Change{Delivery: d, Facts: f2, Session: next(*sess, "x"),
		Log: []dialog.LogEntry{entry("webhook", "webhook_id", wh)}, WebhookID: wh, Answer: []byte(`{"opened":false}`)})
	var dup *dialog.Duplicate
	if !errors.As(err, &dup) {
		t.Fatalf("repeated webhook: Commit = %v, want *dialog.Duplicate", err)
	}
	if string(dup.Answer) != `{"opened":true}` {
		t.Errorf("Duplicate.Answer = %s, want the first answer", dup.Answer)
	}
	// The same id is a duplicate even for a change that would conflict.
	if err := s.Commit(ctx(t), dialog.Change{Delivery: d, Facts: facts(d, 9), WebhookID: wh}); !errors.As(err, &dup) {
		t.Errorf("repeated webhook with a stale version: Commit = %v, want *dialog.Duplicate", err)
	}

	gotF, gotS := load(t, s, d)
	same(t, "facts after a duplicate", gotF, f1)
	same(t, "session after a duplicate", gotS, sess)
	wantLog(t, s, d, first)

	// Another id goes through.
	commit(t, s, dialog.Change{Delivery: d, Facts: f2, WebhookID: newID("msg"), Answer: []byte(`{}`)})
}

// testAllOrNothing: a change that fails one check writes nothing at all,
// not even its log entries or its webhook id.
func testAllOrNothing(t *testing.T, s dialog.Store) {
	f, sess := opened(t, s)
	d := f.ID
	wh := newID("msg")
	f2 := facts(d, 2)
	f2.Status = signoff.StatusArriving
	stale := next(*sess, "stale")
	stale.Version = 5
	wantConflict(t, s, dialog.Change{Delivery: d, Facts: f2, Session: stale, WebhookID: wh, Answer: []byte("a"),
		Log: []dialog.LogEntry{entry("webhook", "n", "1")}}, "good facts with a stale session")
	wantConflict(t, s, dialog.Change{Delivery: d, Facts: facts(d, 7), Session: next(*sess, "ok"),
		Log: []dialog.LogEntry{entry("reply", "n", "2")}}, "stale facts with a good session")

	gotF, gotS := load(t, s, d)
	same(t, "facts after conflicts", gotF, f)
	same(t, "session after conflicts", gotS, sess)
	wantLog(t, s, d)
	// The webhook id was not taken: the same id now goes through.
	commit(t, s, dialog.Change{Delivery: d, Facts: f2, WebhookID: wh, Answer: []byte("b")})
}

func testLogInOrder(t *testing.T, s dialog.Store) {
	d := signoff.DeliveryID(newID("D"))
	var want []dialog.LogEntry
	for i := range 5 {
		var batch []dialog.LogEntry
		for j := range i + 1 {
			e := dialog.LogEntry{Kind: fmt.Sprintf("k%d", i), At: base.Add(time.Duration(i*10+j) * time.Millisecond),
				Data: map[string]string{"i": fmt.Sprint(i), "j": fmt.Sprint(j), "text": "放门口 \"quoted\"\n"}}
			batch = append(batch, e)
		}
		commit(t, s, dialog.Change{Delivery: d, Facts: facts(d, int64(i+1)), Log: batch})
		want = append(want, batch...)
	}
	commit(t, s, dialog.Change{Delivery: d, Log: []dialog.LogEntry{{Kind: "empty", At: base}}})
	want = append(want, dialog.LogEntry{Kind: "empty", At: base})
	wantLog(t, s, d, want...)
}

// testConcurrentCommits: of 100 writers of the same version, exactly one
// wins; the others are told to reload.
func testConcurrentCommits(t *testing.T, s dialog.Store) {
	_, sess := opened(t, s)
	const n = 100
	var loaded, start sync.WaitGroup
	loaded.Add(n)
	start.Add(1)
	errs := make([]error, n)
	c := ctx(t)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cur, _, err := s.LoadSession(c, sess.ID)
			loaded.Done()
			if err != nil {
				errs[i] = err
				return
			}
			start.Wait()
			nx := next(cur, fmt.Sprint(i))
			errs[i] = s.Commit(c, dialog.Change{Delivery: cur.DeliveryID, Session: nx,
				Log:     []dialog.LogEntry{entry("reply", "writer", fmt.Sprint(i))},
				Publish: []dialog.Posted{{Seq: cur.Lines, Message: nx.Transcript[len(nx.Transcript)-1]}}})
		})
	}
	loaded.Wait()
	start.Done()
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("writers %d and %d both committed version 2", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, signoff.ErrConflict):
			t.Errorf("writer %d: %v, want nil or ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer committed")
	}
	got, _ := loadSession(t, s, sess.ID)
	lines, err := s.Transcript(c, got.DeliveryID, got.ID, 0, got.Lines+5)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || len(lines) != 1 || lines[0].Text != fmt.Sprint(winner) {
		t.Errorf("stored session: version %d, transcript %+v; want version 2 and one line by writer %d",
			got.Version, lines, winner)
	}
	wantLog(t, s, sess.DeliveryID, entry("reply", "writer", fmt.Sprint(winner)))
}

// testTTL: an ended conversation's keys go after TTL; Load and LoadSession
// find nothing. The store is watched through its own interface, so this
// waits for the TTL to pass, which is kept short.
func testTTL(t *testing.T, s dialog.Store) {
	f, sess := opened(t, s)
	d := f.ID
	ended := next(*sess, "1")
	ended.State = signoff.StateSigned
	const ttl = 300 * time.Millisecond
	commit(t, s, dialog.Change{Delivery: d, Session: ended, CloseSession: true, TTL: ttl,
		Log: []dialog.LogEntry{entry("state", "to", "signed")}})
	if _, _, err := s.LoadSession(ctx(t), sess.ID); err != nil {
		t.Fatalf("LoadSession right after a commit with TTL: %v", err)
	}
	deadline := time.Now().Add(ttl + 5*time.Second)
	for {
		_, _, err := s.LoadSession(ctx(t), sess.ID)
		gone := errors.Is(err, signoff.ErrNotFound)
		if !gone && err != nil {
			t.Fatalf("LoadSession: %v", err)
		}
		if gone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("session still there %v after a commit with TTL %v", time.Since(deadline.Add(-ttl-5*time.Second)), ttl)
		}
		time.Sleep(25 * time.Millisecond)
	}
	gotF, open := load(t, s, d)
	if gotF.Version != 0 || open != nil {
		t.Errorf("Load after TTL = facts version %d, session %v; want nothing", gotF.Version, open)
	}
	if r, ok := s.(LogReader); ok {
		if log, err := r.Log(ctx(t), d); err != nil || len(log) != 0 {
			t.Errorf("Log after TTL = %d entries, %v; want none", len(log), err)
		}
	}
}

// scheduled opens a session with a timer due at due.
func scheduled(t *testing.T, s dialog.Store, due time.Time) *signoff.Session {
	t.Helper()
	d := signoff.DeliveryID(newID("D"))
	sess := session(d, signoff.SessionID(newID("S")), 1)
	sess.Deadline = due
	commit(t, s, dialog.Change{Delivery: d, Facts: facts(d, 1), Session: sess, Timer: due})
	return sess
}

func claim(t *testing.T, s dialog.Store, now time.Time, lease time.Duration, n int) []dialog.Timer {
	t.Helper()
	due, err := s.DueTimers(ctx(t), now, lease, n)
	if err != nil {
		t.Fatalf("DueTimers(%v): %v", now, err)
	}
	return due
}

func wantTimers(t *testing.T, what string, got []dialog.Timer, want ...*signoff.Session) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d timers %v, want %d", what, len(got), got, len(want))
	}
	for i, s := range want {
		if got[i].Session != s.ID || got[i].Delivery != s.DeliveryID || !got[i].Due.Equal(s.Deadline) {
			t.Errorf("%s: timer %d = %+v, want %s of %s due %v", what, i, got[i], s.ID, s.DeliveryID, s.Deadline)
		}
	}
}

func testTimerDue(t *testing.T, s dialog.Store) {
	// Not on a whole millisecond: a timer must not come due early.
	due := base.Add(time.Minute + 400*time.Microsecond)
	sess := scheduled(t, s, due)
	wantTimers(t, "before due", claim(t, s, base, time.Minute, 10))
	wantTimers(t, "a moment before due", claim(t, s, due.Add(-time.Microsecond), time.Minute, 10))
	got := claim(t, s, due.Add(time.Millisecond), time.Minute, 10)
	if len(got) != 1 || got[0].Session != sess.ID || got[0].Delivery != sess.DeliveryID ||
		got[0].Due.Before(due) || got[0].Due.After(due.Add(time.Millisecond)) {
		t.Fatalf("when due: %+v, want %s due %v (to the millisecond, not before)", got, sess.ID, due)
	}
}

// testTimerOneClaimer: each due timer goes to exactly one of many
// concurrent claimers.
func testTimerOneClaimer(t *testing.T, s dialog.Store) {
	const timers, claimers = 20, 10
	want := map[signoff.SessionID]bool{}
	for i := range timers {
		want[scheduled(t, s, base.Add(time.Duration(i)*time.Second)).ID] = true
	}
	var mu sync.Mutex
	got := map[signoff.SessionID]int{}
	c := ctx(t)
	var wg sync.WaitGroup
	for range claimers {
		wg.Go(func() {
			for range 3 {
				due, err := s.DueTimers(c, base.Add(time.Hour), time.Hour, 3)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, tm := range due {
					got[tm.Session]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for id := range want {
		if got[id] != 1 {
			t.Errorf("timer of %s handed out %d times, want once", id, got[id])
		}
	}
	if len(got) != len(want) {
		t.Errorf("claimed %d timers, want %d", len(got), len(want))
	}
}

// testTimerLease: a claim that is neither cleared nor rescheduled is
// handed out again once its lease ends, with its own due time.
func testTimerLease(t *testing.T, s dialog.Store) {
	sess := scheduled(t, s, base)
	now := base.Add(time.Second)
	const lease = 30 * time.Second
	wantTimers(t, "first claim", claim(t, s, now, lease, 10), sess)
	wantTimers(t, "during the lease", claim(t, s, now.Add(lease/2), lease, 10))
	wantTimers(t, "after the lease", claim(t, s, now.Add(lease+time.Millisecond), lease, 10), sess)
}

func testTimerClear(t *testing.T, s dialog.Store) {
	sess := scheduled(t, s, base)
	got := claim(t, s, base, time.Minute, 10)
	wantTimers(t, "claim", got, sess)
	if err := s.ClearTimer(ctx(t), got[0]); err != nil {
		t.Fatalf("ClearTimer: %v", err)
	}
	wantTimers(t, "after ClearTimer", claim(t, s, base.Add(24*time.Hour), time.Minute, 10))
	if err := s.ClearTimer(ctx(t), got[0]); err != nil {
		t.Errorf("ClearTimer of a cleared timer: %v", err)
	}
}

// testTimerClearKeepsRescheduled: the engine fires a timer, its commit sets
// the next one, then it clears the fired one: the next one stays.
func testTimerClearKeepsRescheduled(t *testing.T, s dialog.Store) {
	sess := scheduled(t, s, base)
	got := claim(t, s, base, time.Minute, 10)
	wantTimers(t, "claim", got, sess)

	later := next(*sess, "timeout")
	later.Deadline = base.Add(2 * time.Minute)
	commit(t, s, dialog.Change{Delivery: sess.DeliveryID, Session: later, Timer: later.Deadline})
	if err := s.ClearTimer(ctx(t), got[0]); err != nil {
		t.Fatalf("ClearTimer: %v", err)
	}
	wantTimers(t, "before the new due time", claim(t, s, base.Add(90*time.Second), time.Minute, 10))
	wantTimers(t, "at the new due time", claim(t, s, base.Add(2*time.Minute), time.Minute, 10), later)
}

func testTimerCancel(t *testing.T, s dialog.Store) {
	sess := scheduled(t, s, base.Add(time.Minute))
	done := next(*sess, "1")
	done.Deadline = time.Time{}
	commit(t, s, dialog.Change{Delivery: sess.DeliveryID, Session: done})
	// A store may leave a cancelled timer to fire once (the engine drops a
	// timer its session no longer has); it must not fire it twice.
	due := claim(t, s, base.Add(time.Hour), time.Minute, 10)
	for _, tm := range due {
		if err := s.ClearTimer(ctx(t), tm); err != nil {
			t.Fatal(err)
		}
	}
	wantTimers(t, "cancelled, once cleared", claim(t, s, base.Add(2*time.Hour), time.Minute, 10))
}

func testTimerMax(t *testing.T, s dialog.Store) {
	a := scheduled(t, s, base)
	b := scheduled(t, s, base.Add(time.Second))
	c := scheduled(t, s, base.Add(2*time.Second))
	now := base.Add(time.Minute)
	wantTimers(t, "first two", claim(t, s, now, time.Hour, 2), a, b)
	wantTimers(t, "the third", claim(t, s, now, time.Hour, 2), c)
	wantTimers(t, "none with max 0", claim(t, s, base.Add(48*time.Hour), time.Hour, 0))
}

// testTranscript: lines committed through Publish are stored at their Seq
// apart from the session, read back in ranges; a refused commit stores none.
func testTranscript(t *testing.T, s dialog.Store) {
	d := signoff.DeliveryID(newID("D"))
	sess := session(d, signoff.SessionID(newID("S")), 1)
	sess.Lines = 1
	c := ctx(t)
	if err := s.Commit(c, dialog.Change{Delivery: d, Session: sess, Publish: []dialog.Posted{{Seq: 0, Message: sess.Transcript[0]}}}); err != nil {
		t.Fatal(err)
	}
	cur, _ := loadSession(t, s, sess.ID)
	if len(cur.Transcript) != 0 || cur.Lines != 1 {
		t.Fatalf("LoadSession gave %d transcript lines and Lines %d; want none loaded and Lines 1", len(cur.Transcript), cur.Lines)
	}
	nx := next(cur, "2")
	nx.Transcript = append(nx.Transcript, signoff.Message{From: signoff.FromBot, Text: "好的", At: base})
	nx.Lines = 3
	if err := s.Commit(c, dialog.Change{Delivery: d, Session: nx, Publish: []dialog.Posted{
		{Seq: 1, Message: nx.Transcript[0]}, {Seq: 2, Message: nx.Transcript[1]}}}); err != nil {
		t.Fatal(err)
	}
	// A stale writer's lines are not stored.
	stale := next(cur, "3")
	if err := s.Commit(c, dialog.Change{Delivery: d, Session: stale, Publish: []dialog.Posted{{Seq: 1, Message: stale.Transcript[0]}}}); !errors.Is(err, signoff.ErrConflict) {
		t.Fatalf("stale commit: %v, want ErrConflict", err)
	}
	all, err := s.Transcript(c, d, sess.ID, 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range all {
		texts = append(texts, m.Text)
	}
	if got, want := strings.Join(texts, "|"), "您好，您的快递正在派送。|2|好的"; got != want {
		t.Errorf("transcript %q, want %q", got, want)
	}
	tail, err := s.Transcript(c, d, sess.ID, 2, 10)
	if err != nil || len(tail) != 1 || tail[0].Text != "好的" || tail[0].From != signoff.FromBot {
		t.Errorf("lines [2,10): %+v %v, want the bot line only", tail, err)
	}
	if none, err := s.Transcript(c, d, sess.ID, 3, 3); err != nil || len(none) != 0 {
		t.Errorf("empty range: %+v %v", none, err)
	}
}

// testFactsVersionChecked: a session change taken on facts that changed
// since is refused, and one on current facts goes through.
func testFactsVersionChecked(t *testing.T, s dialog.Store) {
	d := signoff.DeliveryID(newID("D"))
	c := ctx(t)
	sess := session(d, signoff.SessionID(newID("S")), 1)
	if err := s.Commit(c, dialog.Change{Delivery: d, Facts: facts(d, 1), Session: sess}); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(c, dialog.Change{Delivery: d, Facts: facts(d, 2)}); err != nil {
		t.Fatal(err)
	}
	cur, _ := loadSession(t, s, sess.ID)
	if err := s.Commit(c, dialog.Change{Delivery: d, Session: next(cur, "stale"), FactsVersion: 1}); !errors.Is(err, signoff.ErrConflict) {
		t.Fatalf("change on facts version 1 after version 2: %v, want ErrConflict", err)
	}
	if err := s.Commit(c, dialog.Change{Delivery: d, Session: next(cur, "fresh"), FactsVersion: 2}); err != nil {
		t.Fatalf("change on current facts: %v", err)
	}
}
