package redisstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/evidence"
)

// maxRechain bounds how often one commit chains its records again on a head
// another writer moved.
const maxRechain = 32

// sealedLog is a change's log entries as evidence records, sealed but not
// yet chained: the salts are drawn once, the chain is made per attempt.
type sealedLog []sealedEntry

type sealedEntry struct {
	rec  evidence.Record
	open []byte // JSON of its openings, nil for none
}

// sealLog turns log entries into records, sealing their personal values.
func sealLog(d signoff.DeliveryID, log []dialog.LogEntry) (sealedLog, error) {
	out := make(sealedLog, 0, len(log))
	for _, e := range log {
		r, o, err := evidence.New(e.Kind, e.At, e.Data, rand.Reader)
		if err != nil {
			return nil, err
		}
		var b []byte
		if len(o) > 0 {
			if b, err = encode(o); err != nil {
				return nil, fmt.Errorf("redisstore: commit %s: openings: %w", d, err)
			}
		}
		out = append(out, sealedEntry{rec: r, open: b})
	}
	return out, nil
}

// args chains the records on head ("<seq>:<hash>", "" for an empty log)
// and returns the whole ARGV of commitScript, with the head after them.
func (l sealedLog) args(first, publish []any, head string) ([]any, string, error) {
	seq, hash, err := parseHead(head)
	if err != nil {
		return nil, "", err
	}
	all := make([]any, 0, len(first)+2+3*len(l)+len(publish))
	all = append(all, first...)
	recs := make([]any, 0, 3*len(l))
	for _, e := range l {
		r, err := evidence.Chain(seq, hash, e.rec)
		if err != nil {
			return nil, "", err
		}
		b, err := encode(r)
		if err != nil {
			return nil, "", fmt.Errorf("redisstore: record: %w", err)
		}
		seq, hash = r.Seq, r.Hash
		recs = append(recs, r.Seq, b, e.open)
	}
	next := head
	if len(l) > 0 {
		next = strconv.Itoa(seq) + ":" + hash
	}
	all = append(all, head, next)
	all = append(all, recs...)
	return append(all, publish...), next, nil
}

func parseHead(head string) (int, string, error) {
	if head == "" {
		return 0, "", nil
	}
	s, h, ok := strings.Cut(head, ":")
	n, err := strconv.Atoi(s)
	if !ok || err != nil || n < 1 {
		return 0, "", fmt.Errorf("redisstore: bad log head %q", head)
	}
	return n, h, nil
}

// headCache remembers the last head this node saw of each delivery's log,
// to chain on it without a read; a stale one costs one more round trip.
type headCache struct {
	mu sync.Mutex
	m  map[signoff.DeliveryID]string
}

func (c *headCache) get(d signoff.DeliveryID) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[d]
}

func (c *headCache) put(d signoff.DeliveryID, head string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= sidCacheMax {
		clear(c.m)
	}
	c.m[d] = head
}

// Evidence returns a delivery's evidence log, oldest first, with the
// openings of its sealed values keyed by seq (absent once erased): an empty
// log for a delivery never stored.
func (s *Store) Evidence(ctx context.Context, id signoff.DeliveryID) ([]evidence.Record, map[int]evidence.Openings, error) {
	if !validID(string(id)) {
		return nil, nil, fmt.Errorf("redisstore: evidence %q: %w", id, signoff.ErrInvalid)
	}
	state := stateKey(id)
	res, err := evidenceScript.Run(ctx, s.rdb, []string{state, state + ":log"}).StringSlice()
	if err != nil {
		return nil, nil, fail("evidence "+string(id), err)
	}
	if len(res)%3 != 0 {
		return nil, nil, fmt.Errorf("redisstore: evidence %s: unexpected reply of %d values", id, len(res))
	}
	recs := make([]evidence.Record, 0, len(res)/3)
	open := make(map[int]evidence.Openings)
	for i := 0; i < len(res); i += 3 {
		var r evidence.Record
		if err := decode(res[i+1], &r); err != nil {
			return nil, nil, fmt.Errorf("redisstore: evidence %s: record %s: %w", id, res[i], err)
		}
		recs = append(recs, r)
		if res[i+2] != "" {
			var o evidence.Openings
			if err := decode(res[i+2], &o); err != nil {
				return nil, nil, fmt.Errorf("redisstore: evidence %s: openings of %s: %w", id, res[i], err)
			}
			open[r.Seq] = o
		}
	}
	return recs, open, nil
}

// Log returns a delivery's event log, oldest first, as the entries that
// were committed (sealed values filled in while they are kept; erased ones
// are absent); an empty log for a delivery never stored.
func (s *Store) Log(ctx context.Context, id signoff.DeliveryID) ([]dialog.LogEntry, error) {
	recs, open, err := s.Evidence(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]dialog.LogEntry, 0, len(recs))
	for _, r := range recs {
		at, err := time.Parse(time.RFC3339Nano, r.At)
		if err != nil {
			return nil, fmt.Errorf("redisstore: log %s: record %d: %w", id, r.Seq, err)
		}
		out = append(out, dialog.LogEntry{Kind: r.Kind, At: at, Data: evidence.Values(r, open[r.Seq])})
	}
	return out, nil
}

// Erase deletes a delivery's personal values: the openings of its evidence
// records and its transcript lines. The records, which hold only salted
// hashes of those values, stay, so the chain still verifies. It returns how
// many values went.
func (s *Store) Erase(ctx context.Context, id signoff.DeliveryID) (int, error) {
	if !validID(string(id)) {
		return 0, fmt.Errorf("redisstore: erase %q: %w", id, signoff.ErrInvalid)
	}
	n, err := eraseScript.Run(ctx, s.rdb, []string{stateKey(id)}).Int()
	if err != nil {
		return 0, fail("erase "+string(id), err)
	}
	return n, nil
}
