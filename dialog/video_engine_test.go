package dialog_test

import (
	"context"
	"errors"
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

// ringCount is a VideoRinger that counts.
type ringCount struct {
	mu sync.Mutex
	n  int
}

func (r *ringCount) Ring(context.Context, signoff.Session, signoff.Delivery) {
	r.mu.Lock()
	r.n++
	r.mu.Unlock()
}

// TestEngineVideo: two engines (two nodes) on one Redis race to start the
// same delivery's call; it rings once. The ring timer then offers the
// menu again, and events of a call that is not running change nothing.
func TestEngineVideo(t *testing.T) {
	addr, db := redistest.DB(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	t.Cleanup(func() { rdb.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := redisstore.New(rdb, log)
	clk := &clock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	ring := &ringCount{}
	cfg := dialog.Config{VideoRingTimeout: 3 * time.Second}
	a := dialog.New(store, dialog.MergeFunc(knowledge.Merge), cfg, log, dialog.WithClock(clk.Now), dialog.WithVideoRinger(ring))
	b := dialog.New(store, dialog.MergeFunc(knowledge.Merge), cfg, log, dialog.WithClock(clk.Now), dialog.WithVideoRinger(ring))
	ctx := context.Background()
	n, err := a.Notify(ctx, openingEvent("DV", "wh-v", clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, e := range []*dialog.Engine{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.Video(ctx, "DV", dialog.VideoStart, "staff:ana"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ring.n != 1 {
		t.Fatalf("rang %d times, want once", ring.n)
	}
	if _, err := a.Video(ctx, "DV", "bogus", ""); !errors.Is(err, signoff.ErrInvalid) {
		t.Errorf("bogus event: %v, want ErrInvalid", err)
	}
	if _, err := a.Video(ctx, "D-none", dialog.VideoStart, ""); !errors.Is(err, signoff.ErrNotFound) {
		t.Errorf("unknown delivery: %v, want ErrNotFound", err)
	}
	clk.Add(3 * time.Second)
	due, err := store.DueTimers(ctx, clk.Now(), time.Minute, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due timers %v %v", due, err)
	}
	if err := b.Fire(ctx, due[0]); err != nil {
		t.Fatal(err)
	}
	s, _, err := b.Session(ctx, n.SessionID, n.Token)
	if err != nil || s.State != signoff.StateAwaitingChoice {
		t.Fatalf("after the ring time: %s %v, want awaiting_choice", s.State, err)
	}
	// The end of a call that never ran changes nothing.
	after, err := a.Video(ctx, "DV", dialog.VideoEnded, "room")
	if err != nil || after.Version != s.Version {
		t.Errorf("ended without a call: version %d → %d, %v", s.Version, after.Version, err)
	}
}
