package dialog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

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
	return e.applyOnce(ctx, id, "chat:"+hex.EncodeToString(sum[:16]), e.replyDecision(ctx, func(s *signoff.Session) error { return authorize(s, token) }, in))
}
