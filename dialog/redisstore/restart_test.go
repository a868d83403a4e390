package redisstore

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/internal/redistest"
)

// TestSubscriptionRestarts: when Redis goes away, every subscription ends
// (its lines would be missed), Subscribe refuses until the subscription is
// confirmed again, and then lines flow to new subscribers.
func TestSubscriptionRestarts(t *testing.T) {
	srv := redistest.NewServer(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, DialTimeout: 300 * time.Millisecond, MaxRetries: 1})
	defer rdb.Close()
	s := New(rdb, nil)
	defer s.Close()
	lines, err := s.Subscribe(ctx(t), "S-restart")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-lines:
		if ok {
			t.Fatal("a line from nowhere")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the subscription did not end when Redis went away")
	}
	var again <-chan dialog.Posted
	deadline := time.Now().Add(15 * time.Second)
	for {
		again, err = s.Subscribe(ctx(t), "S-restart")
		if err == nil {
			break
		}
		if !errors.Is(err, signoff.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("Subscribe after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	d := signoff.DeliveryID("D-restart")
	sess := newSession(d, "S-restart")
	mustCommit(t, s, dialog.Change{Delivery: d, Session: sess, Publish: []dialog.Posted{{Seq: 0, Message: sess.Transcript[0]}}})
	select {
	case p := <-again:
		if p.Seq != 0 {
			t.Errorf("got %+v", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no line after the subscription was restored")
	}
}

// TestTimerHintRetried: a Cluster commit whose timer could not be written
// is stored, and the timer is written once the timers set is back.
func TestTimerHintRetried(t *testing.T) {
	srv := redistest.NewServer(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	s := New(rdb, nil)
	defer s.Close()
	s.hints.add(ctx(t), rdb, s.log, timerMember("D-hint", "S-hint"), 1234)
	s.hints.add(ctx(t), rdb, s.log, timerMember("D-hint", "S-hint"), 1000) // an older hint loses
	deadline := time.Now().Add(10 * time.Second)
	for {
		score, err := rdb.ZScore(ctx(t), timersKey, timerMember("D-hint", "S-hint")).Result()
		if err == nil {
			if score != 1234 {
				t.Errorf("timer due %v, want 1234", score)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("timer never written: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := s.hints.len(); n != 0 {
		t.Errorf("%d hints still queued", n)
	}
}
