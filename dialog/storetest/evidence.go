package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/evidence"
)

// EvidenceStore is implemented by stores that keep the event log as an
// evidence chain (dialog/evidence). Run checks the chain through it; a store
// without it skips those checks.
type EvidenceStore interface {
	// Evidence returns the records, oldest first, and the openings of
	// their sealed values keyed by seq.
	Evidence(ctx context.Context, id signoff.DeliveryID) ([]evidence.Record, map[int]evidence.Openings, error)
	// Erase deletes the delivery's personal values, keeping the records.
	Erase(ctx context.Context, id signoff.DeliveryID) (int, error)
}

func evidenceOf(t *testing.T, s dialog.Store, d signoff.DeliveryID) ([]evidence.Record, map[int]evidence.Openings) {
	t.Helper()
	es, ok := s.(EvidenceStore)
	if !ok {
		t.Skipf("%T does not implement storetest.EvidenceStore", s)
	}
	recs, open, err := es.Evidence(ctx(t), d)
	if err != nil {
		t.Fatalf("Evidence(%s): %v", d, err)
	}
	return recs, open
}

func wantWhole(t *testing.T, recs []evidence.Record, open map[int]evidence.Openings, n int) {
	t.Helper()
	if len(recs) != n {
		t.Fatalf("chain has %d records, want %d", len(recs), n)
	}
	if p := evidence.Check(recs, open); len(p) != 0 {
		t.Fatalf("chain does not verify: %v", p)
	}
}

// testEvidenceChained: every committed entry is a record chained on the one
// before, personal values sealed and their openings kept beside.
func testEvidenceChained(t *testing.T, s dialog.Store) {
	f, sess := opened(t, s)
	d := f.ID
	commit(t, s, dialog.Change{Delivery: d, Session: next(*sess, "2"), Log: []dialog.LogEntry{
		{Kind: "reply", At: base.Add(time.Minute), Data: map[string]string{"session": string(sess.ID), "channel": "chat", "text": "放门口吧"}},
		{Kind: "outcome", At: base.Add(time.Minute), Data: map[string]string{"outcome": "leave_at_door", "consent_text": "放门口吧"}},
	}})
	recs, open := evidenceOf(t, s, d)
	wantWhole(t, recs, open, len(recs))
	if len(recs) < 2 {
		t.Fatalf("chain has %d records, want at least 2", len(recs))
	}
	last := recs[len(recs)-2:]
	if last[0].Kind != "reply" || last[1].Kind != "outcome" || last[1].Prev != last[0].Hash {
		t.Fatalf("last records = %+v", last)
	}
	for _, r := range recs {
		for k, v := range r.Fields {
			if strings.Contains(v, "放门口吧") {
				t.Errorf("record %d field %s holds the recipient's words in the clear", r.Seq, k)
			}
		}
	}
	if got := open[last[0].Seq]["text"].Value; got != "放门口吧" {
		t.Errorf("opening of the reply's text = %q, want 放门口吧", got)
	}
	if last[1].Sealed["consent_text"] == "" || last[1].Fields["outcome"] != "leave_at_door" {
		t.Errorf("outcome record = %+v", last[1])
	}
}

// testEvidenceConcurrentAppends: log-only commits racing on one delivery
// (as Engine.Record makes) all land, each chained on another's head.
func testEvidenceConcurrentAppends(t *testing.T, s dialog.Store) {
	d := signoff.DeliveryID(newID("D"))
	commit(t, s, dialog.Change{Delivery: d, Facts: facts(d, 1), Log: []dialog.LogEntry{entry("webhook", "n", "0")}})
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- s.Commit(ctx(t), dialog.Change{Delivery: d, Log: []dialog.LogEntry{entry("recording", "i", fmt.Sprint(i))}})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Commit: %v", err)
		}
	}
	recs, open := evidenceOf(t, s, d)
	wantWhole(t, recs, open, n+1)
	seen := map[string]bool{}
	for _, r := range recs[1:] {
		seen[r.Fields["i"]] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct appends in the chain, want %d", len(seen), n)
	}
}

// testEvidenceAllOrNothing: a commit refused for a stale version appends
// no record, and the chain goes on whole after it.
func testEvidenceAllOrNothing(t *testing.T, s dialog.Store) {
	f, sess := opened(t, s)
	d := f.ID
	before, _ := evidenceOf(t, s, d)
	stale := next(*sess, "x")
	stale.Version = 9
	wantConflict(t, s, dialog.Change{Delivery: d, Session: stale, Log: []dialog.LogEntry{entry("reply", "text", "x")}}, "stale session")
	after, open := evidenceOf(t, s, d)
	if len(after) != len(before) {
		t.Fatalf("a refused commit appended %d records", len(after)-len(before))
	}
	commit(t, s, dialog.Change{Delivery: d, Session: next(*sess, "y"), Log: []dialog.LogEntry{entry("reply", "text", "y")}})
	after, open = evidenceOf(t, s, d)
	wantWhole(t, after, open, len(before)+1)
}

// testErase: erasure removes every personal value and keeps a chain that
// verifies.
func testErase(t *testing.T, s dialog.Store) {
	f, sess := opened(t, s)
	d := f.ID
	commit(t, s, dialog.Change{Delivery: d, Session: next(*sess, "13912345678 放门口"), Publish: []dialog.Posted{{Seq: 1, Message: signoff.Message{From: signoff.FromRecipient, Text: "13912345678 放门口"}}},
		Log: []dialog.LogEntry{{Kind: "reply", At: base, Data: map[string]string{"text": "13912345678 放门口", "phone": "13912345678", "channel": "sms"}}}})
	recs, open := evidenceOf(t, s, d)
	if len(open) == 0 {
		t.Fatal("no openings before erasure")
	}
	if _, err := s.(EvidenceStore).Erase(ctx(t), d); err != nil {
		t.Fatalf("Erase: %v", err)
	}
	after, open := evidenceOf(t, s, d)
	if len(open) != 0 {
		t.Errorf("openings after erasure: %v", open)
	}
	wantWhole(t, after, open, len(recs))
	for _, e := range readLog(t, s, d) {
		for k, v := range e.Data {
			if strings.Contains(v, "13912345678") || strings.Contains(v, "放门口") {
				t.Errorf("log after erasure: %s %s = %q", e.Kind, k, v)
			}
		}
	}
	lines, err := s.Transcript(ctx(t), d, sess.ID, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range lines {
		if strings.Contains(m.Text, "13912345678") {
			t.Errorf("transcript after erasure holds %q", m.Text)
		}
	}
}
