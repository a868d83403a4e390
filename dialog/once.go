package dialog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/signoff/signoff"
)

// onceAnswer is what ReplyOnce stores under an idempotency key, to answer
// the client's retries of the same input.
type onceAnswer struct {
	Replies []signoff.Message `json:"replies"`
	State   signoff.State     `json:"state"`
	Outcome signoff.Outcome   `json:"outcome"`
	Lines   int               `json:"lines"`
}

// ReplyOnce is Reply made idempotent by a key the client chose (an
// Idempotency-Key header): the first input under key is committed together
// with its answer, atomically, and every later call with the same session
// and key, on any node, gets that answer again with replayed true and
// changes nothing. Keys are kept as long as webhook ids.
func (e *Engine) ReplyOnce(ctx context.Context, id signoff.SessionID, token, key string, in signoff.Input) (turn Turn, replayed bool, err error) {
	sum := sha256.Sum256([]byte(string(id) + "\x00" + key))
	once := "chat:" + hex.EncodeToString(sum[:16])
	defer e.lock(string(id))()
	for attempt := 1; ; attempt++ {
		s, d, cached := e.cache.get(id)
		if !cached {
			if s, d, err = e.store.LoadSession(ctx, id); err != nil {
				return Turn{}, false, err
			}
		}
		if err := authorize(&s, token); err != nil {
			return Turn{}, false, err
		}
		in.At = e.now()
		next, acts := Step(e.cfg, s, d, in)
		c := e.change(s, next, acts)
		c.FactsVersion = d.Version
		committed := *c.Session
		ans := onceAnswer{Replies: committed.Transcript[len(s.Transcript):], State: committed.State, Outcome: committed.Outcome, Lines: committed.Lines}
		if c.Answer, err = json.Marshal(ans); err != nil {
			return Turn{}, false, err
		}
		c.WebhookID = once
		err = e.store.Commit(ctx, c)
		if err == nil {
			e.cache.put(committed, d)
			return Turn{Replies: ans.Replies, Session: committed}, false, nil
		}
		e.cache.drop(id)
		var dup *Duplicate
		if errors.As(err, &dup) {
			var first onceAnswer
			if err := json.Unmarshal(dup.Answer, &first); err != nil {
				return Turn{}, false, fmt.Errorf("idempotency key: stored answer: %w", err)
			}
			s.Transcript, s.State, s.Outcome, s.Lines = first.Replies, first.State, first.Outcome, first.Lines
			return Turn{Replies: first.Replies, Session: s}, true, nil
		}
		if !errors.Is(err, signoff.ErrConflict) || attempt == maxAttempts {
			return Turn{}, false, err
		}
		if cached {
			continue
		}
		if err := backoff(ctx, attempt); err != nil {
			return Turn{}, false, err
		}
	}
}
