package redisstore

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/evidence"
	"github.com/signoff/signoff/internal/redistest"
)

// TestEvidenceTwoNodes: two Stores on one Redis stand for two nodes
// appending to one delivery's log at once; each re-chains on the other's
// head, and the chain comes out whole with every append in it.
func TestEvidenceTwoNodes(t *testing.T) {
	addr, db := redistest.DB(t)
	node := func() *Store {
		rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db})
		s := New(rdb, testLog(t))
		t.Cleanup(func() { _ = s.Close(); _ = rdb.Close() })
		return s
	}
	a, b := node(), node()
	d := signoff.DeliveryID("D-two-nodes")
	const n = 30
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		for j, s := range []*Store{a, b} {
			wg.Go(func() {
				errs <- s.Commit(ctx(t), dialog.Change{Delivery: d, Log: []dialog.LogEntry{
					{Kind: "recording", At: t0.Add(time.Duration(i) * time.Millisecond), Data: map[string]string{"node": fmt.Sprint(j), "i": fmt.Sprint(i)}},
					{Kind: "note", At: t0, Data: map[string]string{"text": "私人 " + fmt.Sprint(i)}},
				}})
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Commit: %v", err)
		}
	}
	recs, open, err := b.Evidence(ctx(t), d)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4*n {
		t.Fatalf("%d records, want %d", len(recs), 4*n)
	}
	if p := evidence.Check(recs, open); len(p) != 0 {
		t.Fatalf("chain written by two nodes does not verify: %v", p)
	}
	// The two records of one commit stay next to each other.
	for i := 0; i < len(recs); i += 2 {
		if recs[i].Kind != "recording" || recs[i+1].Kind != "note" {
			t.Fatalf("records %d and %d are %s, %s: a commit's records were split", recs[i].Seq, recs[i+1].Seq, recs[i].Kind, recs[i+1].Kind)
		}
	}
}
