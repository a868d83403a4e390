package push

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
)

// fakeStore is a one-process store: Watch hands out its callback, Claim is
// a map.
type fakeStore struct {
	mu     sync.Mutex
	fn     func(signoff.SessionID, dialog.Posted)
	facts  signoff.Delivery
	claims map[string]bool
}

func (s *fakeStore) LoadSession(context.Context, signoff.SessionID) (signoff.Session, signoff.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return signoff.Session{}, s.facts, nil
}

func (s *fakeStore) Watch(_ context.Context, fn func(signoff.SessionID, dialog.Posted)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fn = fn
	return nil
}

func (s *fakeStore) Claim(_ context.Context, kind, name string, _ []byte, _ time.Duration) (bool, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claims[kind+name] {
		return false, []byte("1"), nil
	}
	s.claims[kind+name] = true
	return true, nil, nil
}

type record struct {
	kind string
	data map[string]string
}

type fakeRecorder struct{ got chan record }

func (r fakeRecorder) Record(_ context.Context, _ signoff.SessionID, kind string, data map[string]string) error {
	r.got <- record{kind, data}
	return nil
}

type fakeSender struct{ got chan string }

func (s fakeSender) Send(_ context.Context, _ signoff.SessionID, _ signoff.Delivery, _ int, m signoff.Message) (string, error) {
	s.got <- m.Text
	return "id-" + m.Text, nil
}

func start(t *testing.T, ch signoff.DeliveryChannel, senders map[signoff.DeliveryChannel]Sender) (*fakeStore, fakeRecorder) {
	t.Helper()
	st := &fakeStore{facts: signoff.Delivery{ID: "D1", Channel: ch}, claims: map[string]bool{}}
	rec := fakeRecorder{got: make(chan record, 16)}
	p := New(st, rec, senders, Config{Retry: time.Second, FirstRetry: time.Millisecond, Workers: 2}, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	<-p.Started()
	return st, rec
}

// TestAnswersNotPushed: lines written in the same turn as the recipient's
// message answer it and stay out; the others go out in order.
func TestAnswersNotPushed(t *testing.T) {
	snd := fakeSender{got: make(chan string, 16)}
	st, rec := start(t, signoff.DeliverySMS, map[signoff.DeliveryChannel]Sender{signoff.DeliverySMS: snd})
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	post := func(seq int, from signoff.Speaker, text string, at time.Time) {
		st.fn("s_1", dialog.Posted{Seq: seq, Message: signoff.Message{From: from, Text: text, At: at}})
	}
	post(0, signoff.FromBot, "greeting", t0)
	post(1, signoff.FromRecipient, "2", t0.Add(time.Minute))
	post(2, signoff.FromBot, "answer", t0.Add(time.Minute))
	post(3, signoff.FromBot, "update", t0.Add(2*time.Minute))
	post(4, signoff.FromStaff, "staff", t0.Add(3*time.Minute))
	post(3, signoff.FromBot, "update", t0.Add(2*time.Minute)) // seen again: claimed already
	for _, want := range []string{"greeting", "update", "staff"} {
		select {
		case got := <-snd.got:
			if got != want {
				t.Errorf("sent %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%q not sent", want)
		}
		if r := <-rec.got; r.kind != "sms_sent" || r.data["message_id"] != "id-"+want {
			t.Errorf("recorded %+v, want sms_sent of %s", r, want)
		}
	}
	select {
	case got := <-snd.got:
		t.Errorf("also sent %q", got)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestChannelDisabled: a delivery on a channel this server lacks is logged
// as failed, once; a web delivery is left alone.
func TestChannelDisabled(t *testing.T) {
	st, rec := start(t, signoff.DeliveryWeChat, nil)
	st.fn("s_1", dialog.Posted{Seq: 0, Message: signoff.Message{From: signoff.FromBot, Text: "greeting"}})
	select {
	case r := <-rec.got:
		if r.kind != "wechat_failed" || r.data["code"] != "channel_disabled" {
			t.Errorf("recorded %+v, want wechat_failed channel_disabled", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing recorded")
	}
	st2, rec2 := start(t, signoff.DeliveryWeb, nil)
	st2.fn("s_2", dialog.Posted{Seq: 0, Message: signoff.Message{From: signoff.FromBot, Text: "greeting"}})
	select {
	case r := <-rec2.got:
		t.Errorf("a web delivery recorded %+v", r)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&SendError{Code: "twilio_21211"}, "twilio_21211"},
		{context.DeadlineExceeded, "timeout"},
		{errors.New("x"), "send_failed"},
	} {
		if got := Code(c.err); got != c.want {
			t.Errorf("Code(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
