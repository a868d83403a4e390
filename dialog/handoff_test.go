package dialog_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/redisstore"
	"github.com/signoff/signoff/internal/redistest"
	"github.com/signoff/signoff/knowledge"
)

func openSession(t *testing.T, e *dialog.Engine, clk *clock, id string) dialog.Notice {
	t.Helper()
	n, err := e.Notify(context.Background(), openingEvent(id, "wh-"+id, clk.Now()))
	if err != nil || !n.Opened {
		t.Fatalf("open %s: %+v %v", id, n, err)
	}
	return n
}

func logKinds(t *testing.T, s *redisstore.Store, d signoff.DeliveryID) map[string]int {
	t.Helper()
	log, err := s.Log(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range log {
		kinds[e.Kind]++
	}
	return kinds
}

// TestHandoffWithStaff: an agent takes a conversation over, the bot falls
// silent and its timer stops, another agent cannot write, the holder
// writes, and handing back offers the menu again; every action is logged.
func TestHandoffWithStaff(t *testing.T) {
	ctx := context.Background()
	e, store, clk := newEngine(t, dialog.Config{})
	n := openSession(t, e, clk, "HO-1")

	turn, err := e.Claim(ctx, n.SessionID, "ann")
	if err != nil {
		t.Fatal(err)
	}
	s := turn.Session
	if s.State != signoff.StateHandoff || s.Staff != "ann" || !s.Deadline.IsZero() || s.HandoffReason != dialog.ReasonStaff {
		t.Fatalf("after claim: state %s staff %q deadline %v reason %q; want handoff, ann, none, staff", s.State, s.Staff, s.Deadline, s.HandoffReason)
	}
	if len(turn.Replies) != 1 || turn.Replies[0].From != signoff.FromStaff || turn.Replies[0].Staff != "ann" {
		t.Fatalf("claim said %+v, want one staff line telling the recipient a person joined", turn.Replies)
	}
	if _, err := e.Claim(ctx, n.SessionID, "bob"); signoff.ErrorCode(err) != "claimed" || !errors.Is(err, signoff.ErrConflict) {
		t.Fatalf("second claim: got %v, want a conflict with code claimed", err)
	}

	// The recipient writes: the bot says nothing.
	turn, err = e.Reply(ctx, n.SessionID, n.Token, signoff.Input{Kind: signoff.InputText, Text: "1", Channel: signoff.ChannelChat})
	if err != nil {
		t.Fatal(err)
	}
	if len(turn.Replies) != 1 || turn.Replies[0].From != signoff.FromRecipient || turn.Session.Outcome != signoff.OutcomeNone {
		t.Fatalf("while held, a reply got %+v (outcome %q); want only the recipient's line and no outcome", turn.Replies, turn.Session.Outcome)
	}
	if due, err := store.DueTimers(ctx, clk.Now().Add(24*time.Hour), time.Minute, 10); err != nil || len(due) != 0 {
		t.Fatalf("timers while held: %v %v, want none", due, err)
	}

	if _, err := e.Say(ctx, n.SessionID, "bob", "hello"); signoff.ErrorCode(err) != dialog.ErrNotClaimer {
		t.Fatalf("bob says: got %v, want %s", err, dialog.ErrNotClaimer)
	}
	if _, err := e.Say(ctx, n.SessionID, "ann", "   "); !errors.Is(err, signoff.ErrInvalid) {
		t.Fatalf("empty text: got %v, want invalid", err)
	}
	turn, err = e.Say(ctx, n.SessionID, "ann", "您好，我是客服小安")
	if err != nil {
		t.Fatal(err)
	}
	if m := turn.Replies[0]; m.From != signoff.FromStaff || m.Text != "您好，我是客服小安" || m.Staff != "ann" {
		t.Fatalf("staff line %+v", m)
	}
	if err := e.Note(ctx, n.SessionID, "ann", "recipient is hard of hearing"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.HandBack(ctx, n.SessionID, "bob", false); signoff.ErrorCode(err) != dialog.ErrNotClaimer {
		t.Fatalf("agent bob hands back ann's conversation: got %v, want %s", err, dialog.ErrNotClaimer)
	}
	turn, err = e.HandBack(ctx, n.SessionID, "ann", false)
	if err != nil {
		t.Fatal(err)
	}
	s = turn.Session
	if s.State != signoff.StateAwaitingChoice || s.Staff != "" || s.Deadline.IsZero() {
		t.Fatalf("after hand-back: state %s staff %q deadline %v", s.State, s.Staff, s.Deadline)
	}
	if last := turn.Replies[len(turn.Replies)-1]; last.From != signoff.FromBot || len(last.Options) < 8 {
		t.Fatalf("hand-back said %+v, want the bot with the menu", last)
	}
	// The bot is back: 2 is the door.
	turn, err = e.Reply(ctx, n.SessionID, n.Token, signoff.Input{Kind: signoff.InputText, Text: "2", Channel: signoff.ChannelChat})
	if err != nil || turn.Session.Outcome != signoff.OutcomeLeaveAtDoor {
		t.Fatalf("after hand-back, 2: %v %v", turn.Session.Outcome, err)
	}
	kinds := logKinds(t, store, "HO-1")
	for _, k := range []string{dialog.LogClaim, dialog.LogNote, dialog.LogHandBack, "staff"} {
		if kinds[k] == 0 {
			t.Errorf("the log has no %q entry: %v", k, kinds)
		}
	}
}

// TestReleasedHandoffTimesOut: a released conversation waits in the queue;
// when nobody claims it in time the recipient is told and offered the menu.
func TestReleasedHandoffTimesOut(t *testing.T) {
	ctx := context.Background()
	e, store, clk := newEngine(t, dialog.Config{HandoffTimeout: time.Minute})
	n := openSession(t, e, clk, "HO-2")
	if _, err := e.Claim(ctx, n.SessionID, "ann"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Release(ctx, n.SessionID, "bob", false); signoff.ErrorCode(err) != dialog.ErrNotClaimer {
		t.Fatalf("agent releases another's claim: got %v", err)
	}
	turn, err := e.Release(ctx, n.SessionID, "sue", true) // a supervisor
	if err != nil {
		t.Fatal(err)
	}
	if s := turn.Session; s.State != signoff.StateHandoff || s.Staff != "" || !s.Deadline.Equal(clk.Now().Add(time.Minute)) {
		t.Fatalf("after release: %s %q %v", s.State, s.Staff, s.Deadline)
	}
	clk.Add(time.Minute + time.Second)
	due, err := store.DueTimers(ctx, clk.Now(), time.Minute, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due timers: %v %v, want the handoff's", due, err)
	}
	if err := e.Fire(ctx, due[0]); err != nil {
		t.Fatal(err)
	}
	s, _, err := e.Session(ctx, n.SessionID, n.Token)
	if err != nil {
		t.Fatal(err)
	}
	last := s.Transcript[len(s.Transcript)-1]
	if s.State != signoff.StateAwaitingChoice || len(last.Options) == 0 {
		t.Fatalf("after the handoff timeout: state %s, last line %+v; want the menu again", s.State, last)
	}
	if logKinds(t, store, "HO-2")[dialog.LogRelease] != 1 {
		t.Error("no staff_release in the log")
	}
}

// TestClaimConcurrent: agents on two nodes (two engines, two Redis
// clients) claim the same conversation at once; exactly one owns it, each
// round.
func TestClaimConcurrent(t *testing.T) {
	addr, db := redistest.DB(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clk := &clock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	var engines []*dialog.Engine
	for range 2 {
		rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db})
		t.Cleanup(func() { rdb.Close() })
		engines = append(engines, dialog.New(redisstore.New(rdb, log), dialog.MergeFunc(knowledge.Merge), dialog.Config{}, log, dialog.WithClock(clk.Now)))
	}
	ctx := context.Background()
	for round := range 10 {
		n := openSession(t, engines[0], clk, fmt.Sprintf("HO-C-%d", round))
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, lost := []string{}, 0
		start := make(chan struct{})
		for i := range 6 {
			agent := fmt.Sprintf("agent%d", i)
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := engines[i%2].Claim(ctx, n.SessionID, agent)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won = append(won, agent)
				case signoff.ErrorCode(err) == "claimed":
					lost++
				default:
					t.Errorf("round %d, %s: %v", round, agent, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(won) != 1 || lost != 5 {
			t.Fatalf("round %d: %d claims won (%v), %d lost; want exactly one owner", round, len(won), won, lost)
		}
		s, _, err := engines[1].Inspect(ctx, n.SessionID)
		if err != nil || s.Staff != won[0] {
			t.Fatalf("round %d: stored holder %q (%v), want %s", round, s.Staff, err, won[0])
		}
	}
}

// TestSummariesAcrossNodes: a console on one node sees the summaries of
// conversations changed on another, and a courier's deliveries are
// indexed.
func TestSummariesAcrossNodes(t *testing.T) {
	addr, db := redistest.DB(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clk := &clock{now: time.Now()}
	var stores []*redisstore.Store
	for range 2 {
		rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db})
		t.Cleanup(func() { rdb.Close() })
		stores = append(stores, redisstore.New(rdb, log))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watch, err := stores[1].WatchSummaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e := dialog.New(stores[0], dialog.MergeFunc(knowledge.Merge), dialog.Config{}, log, dialog.WithClock(clk.Now))
	ev := openingEvent("HO-S-1", "wh-s-1", clk.Now())
	ev.Delivery.Courier = signoff.Courier{ID: "C-9"}
	ev.Present["courier"] = true
	n, err := e.Notify(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Reply(ctx, n.SessionID, n.Token, signoff.Input{Kind: signoff.InputText, Text: "0", Channel: signoff.ChannelSMS}); err != nil {
		t.Fatal(err)
	}
	var got []dialog.Summary
	timeout := time.After(10 * time.Second)
	for len(got) < 2 {
		select {
		case s := <-watch:
			got = append(got, s)
		case <-timeout:
			t.Fatalf("after 10s the other node saw %d summaries: %+v", len(got), got)
		}
	}
	last := got[1]
	if last.Session != n.SessionID || last.State != signoff.StateHandoff || last.HandoffReason != dialog.ReasonAsked || last.Channel != signoff.ChannelSMS {
		t.Fatalf("summary %+v; want handoff, reason asked, channel sms", last)
	}
	sums, err := stores[1].Summaries(ctx)
	if err != nil || len(sums) != 1 || sums[0].Channel != signoff.ChannelSMS || sums[0].State != signoff.StateHandoff {
		t.Fatalf("Summaries: %+v %v", sums, err)
	}
	ids, err := stores[1].CourierDeliveries(ctx, "C-9")
	if err != nil || len(ids) != 1 || ids[0] != "HO-S-1" {
		t.Fatalf("courier C-9 deliveries: %v %v", ids, err)
	}
	if ids, _ := stores[1].CourierDeliveries(ctx, "C-8"); len(ids) != 0 {
		t.Fatalf("courier C-8 sees %v", ids)
	}
}
