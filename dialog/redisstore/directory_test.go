package redisstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
)

// TestDirectory: an address finds the open session of its newest delivery
// that still matches; key names carry no address.
func TestDirectory(t *testing.T) {
	s, rdb := newStore(t)
	ctx := t.Context()
	dir := s.Directory()
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	open := func(d signoff.DeliveryID, sid signoff.SessionID, ch signoff.DeliveryChannel) {
		t.Helper()
		facts := signoff.Delivery{ID: d, Channel: ch, Version: 1}
		sess := signoff.Session{ID: sid, DeliveryID: d, State: signoff.StateAwaitingChoice, Version: 1}
		if err := s.Commit(ctx, dialog.Change{Delivery: d, Facts: &facts, Session: &sess}); err != nil {
			t.Fatal(err)
		}
	}
	open("D-old", "s_old", signoff.DeliverySMS)
	open("D-new", "s_new", signoff.DeliverySMS)
	open("D-web", "s_web", signoff.DeliveryWeb)
	const phone = "+8613900001111"
	for i, d := range []signoff.DeliveryID{"D-old", "D-new", "D-web"} {
		if err := dir.Bind(ctx, "sms", phone, d, t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := dir.Deliveries(ctx, "sms", phone)
	if err != nil || len(ids) != 3 || ids[0] != "D-web" || ids[2] != "D-old" {
		t.Fatalf("Deliveries = %v, %v; want newest first", ids, err)
	}
	isSMS := func(d signoff.Delivery) bool { return d.Channel == signoff.DeliverySMS }
	sess, facts, err := dir.Open(ctx, "sms", phone, isSMS)
	if err != nil || sess.ID != "s_new" || facts.ID != "D-new" {
		t.Fatalf("Open = %s %s %v, want s_new of D-new", sess.ID, facts.ID, err)
	}
	// Binding again moves a delivery to the front.
	if err := dir.Bind(ctx, "sms", phone, "D-old", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if sess, _, _ := dir.Open(ctx, "sms", phone, isSMS); sess.ID != "s_old" {
		t.Errorf("after binding D-old again: %s, want s_old", sess.ID)
	}
	if _, _, err := dir.Open(ctx, "sms", "+8613999999999", isSMS); !errors.Is(err, signoff.ErrNotFound) {
		t.Errorf("unknown address: %v, want ErrNotFound", err)
	}
	if _, _, err := dir.Open(ctx, "wechat", phone, isSMS); !errors.Is(err, signoff.ErrNotFound) {
		t.Errorf("another channel's namespace: %v, want ErrNotFound", err)
	}
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, "13900001111") {
			t.Errorf("key %q carries the phone number", k)
		}
	}
}

func TestClaim(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	ok, _, err := s.Claim(ctx, "push", "s_1\x000", []byte("first"), time.Minute)
	if err != nil || !ok {
		t.Fatalf("first claim: %v %v", ok, err)
	}
	ok, prev, err := s.Claim(ctx, "push", "s_1\x000", []byte("second"), time.Minute)
	if err != nil || ok || string(prev) != "first" {
		t.Fatalf("second claim: %v %q %v, want false \"first\"", ok, prev, err)
	}
	if err := s.Put(ctx, "push", "s_1\x000", []byte("answer"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(ctx, "push", "s_1\x000"); err != nil || string(v) != "answer" {
		t.Errorf("Get = %q %v, want answer", v, err)
	}
	if err := s.Forget(ctx, "push", "s_1\x000"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "push", "s_1\x000"); !errors.Is(err, signoff.ErrNotFound) {
		t.Errorf("Get after Forget: %v, want ErrNotFound", err)
	}
}

// TestWatch: a watcher sees every session's lines, in order, until its
// context ends.
func TestWatch(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	type seen struct {
		sid signoff.SessionID
		seq int
	}
	got := make(chan seen, 16)
	wctx, stop := contextWithCancel(t)
	if err := s.Watch(wctx, func(sid signoff.SessionID, p dialog.Posted) { got <- seen{sid, p.Seq} }); err != nil {
		t.Fatal(err)
	}
	for _, d := range []signoff.DeliveryID{"D-w1", "D-w2"} {
		sid := signoff.SessionID("s_" + strings.ToLower(string(d[2:])))
		sess := signoff.Session{ID: sid, DeliveryID: d, State: signoff.StateAwaitingChoice, Version: 1, Lines: 2}
		err := s.Commit(ctx, dialog.Change{Delivery: d, Session: &sess, Publish: []dialog.Posted{
			{Seq: 0, Message: signoff.Message{From: signoff.FromBot, Text: "a"}},
			{Seq: 1, Message: signoff.Message{From: signoff.FromBot, Text: "b"}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []seen{{"s_w1", 0}, {"s_w1", 1}, {"s_w2", 0}, {"s_w2", 1}}
	for _, w := range want {
		select {
		case g := <-got:
			if g != w {
				t.Errorf("got %v, want %v", g, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no line for %v", w)
		}
	}
	stop()
	time.Sleep(100 * time.Millisecond) // the watcher's removal runs after ctx ends
	sess := signoff.Session{ID: "s_w3", DeliveryID: "D-w3", State: signoff.StateAwaitingChoice, Version: 1, Lines: 1}
	if err := s.Commit(ctx, dialog.Change{Delivery: "D-w3", Session: &sess, Publish: []dialog.Posted{{Seq: 0}}}); err != nil {
		t.Fatal(err)
	}
	select {
	case g := <-got:
		t.Errorf("a stopped watcher saw %v", g)
	case <-time.After(300 * time.Millisecond):
	}
}

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}
