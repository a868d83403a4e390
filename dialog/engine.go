package dialog

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"maps"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/signoff/signoff"
)

// Facts merges an order event into what is known of a delivery. Package
// knowledge provides it.
type Facts interface {
	// Merge returns cur with ev applied, never rolling back a fact that a
	// newer event set, and whether anything observable changed.
	Merge(cur signoff.Delivery, ev signoff.OrderEvent) (signoff.Delivery, bool)
}

// Engine runs conversations: it loads a session, lets Step decide, and
// commits the result, retrying when another node changed the session in the
// meantime. It is safe for concurrent use; construct it with New.
type Engine struct {
	store Store
	facts Facts
	cfg   Config
	now   func() time.Time
	log   *slog.Logger
	seed  maphash.Seed
	locks [256]sync.Mutex
	cache *sessionCache
	// ringer is told of video calls asked for (WithVideoRinger).
	ringer VideoRinger

	under    Understander // may be nil
	answerer Answerer     // may be nil
}

// EngineOption changes an Engine's defaults.
type EngineOption func(*Engine)

// WithClock makes the engine read time from now instead of time.Now.
func WithClock(now func() time.Time) EngineOption { return func(e *Engine) { e.now = now } }

// WithSessionCache sets how many sessions the engine keeps in memory between
// turns (default 16,384; 0 turns the cache off). A cached session saves a
// read per turn; the commit's version checks make a stale one harmless.
func WithSessionCache(n int) EngineOption { return func(e *Engine) { e.cache = newSessionCache(n) } }

// New returns an engine over store.
func New(store Store, facts Facts, cfg Config, log *slog.Logger, opts ...EngineOption) *Engine {
	e := &Engine{store: store, facts: facts, cfg: cfg.withDefaults(), now: time.Now, log: log, seed: maphash.MakeSeed(),
		cache: newSessionCache(16 << 10)}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Config returns the engine's configuration with defaults filled in.
func (e *Engine) Config() Config { return e.cfg }

// maxAttempts bounds the optimistic-concurrency retries of one input.
const maxAttempts = 12

// lock serialises this node's writers of one key, so that optimistic
// concurrency only has to settle races between nodes.
func (e *Engine) lock(key string) func() {
	m := &e.locks[maphash.String(e.seed, key)%uint64(len(e.locks))]
	m.Lock()
	return m.Unlock
}

func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(mrand.Int64N(int64(attempt)*int64(time.Millisecond)) + int64(100*time.Microsecond))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// HashToken returns the hex SHA-256 of a bearer token, as stored.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func authorize(s *signoff.Session, token string) error {
	if token == "" || subtle.ConstantTimeCompare([]byte(HashToken(token)), []byte(s.TokenHash)) != 1 {
		return signoff.Errorf(signoff.ErrUnauthorized, "bad_token", "the token does not open this session")
	}
	return nil
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func newCredentials() (signoff.SessionID, string) {
	var b [40]byte
	rand.Read(b[:]) // crypto/rand.Read never fails
	id := "s_" + strings.ToLower(idEncoding.EncodeToString(b[:10]))
	return signoff.SessionID(id), base64.RawURLEncoding.EncodeToString(b[10:])
}

// Session returns the session id if token opens it: signoff.ErrNotFound for
// an unknown session, signoff.ErrUnauthorized for a wrong token.
func (e *Engine) Session(ctx context.Context, id signoff.SessionID, token string) (signoff.Session, signoff.Delivery, error) {
	s, d, err := e.store.LoadSession(ctx, id)
	if err != nil {
		return s, d, err
	}
	if err := authorize(&s, token); err != nil {
		return signoff.Session{}, signoff.Delivery{}, err
	}
	if s.Transcript, err = e.store.Transcript(ctx, s.DeliveryID, id, 0, s.Lines); err != nil {
		return signoff.Session{}, signoff.Delivery{}, err
	}
	return s, d, nil
}

// Turn is the engine's answer to one input.
type Turn struct {
	// Replies are the lines this input added to the transcript: the
	// recipient's own, then what the bot said, in order.
	Replies []signoff.Message
	// Session is the session after the input. Its Transcript holds only
	// Replies; Session.Lines counts the whole transcript.
	Session signoff.Session
}

// Reply gives the recipient's input to session id, authorised by token.
// Errors: signoff.ErrNotFound, signoff.ErrUnauthorized, signoff.ErrConflict
// when other writers kept winning (the caller may retry), and the store's.
func (e *Engine) Reply(ctx context.Context, id signoff.SessionID, token string, in signoff.Input) (Turn, error) {
	return e.reply(ctx, id, func(s *signoff.Session) error { return authorize(s, token) }, in)
}

// ReplyBound gives input to session id from a channel that identified the
// sender itself (an SMS from the bound number, a WeChat message from the
// bound OpenID), so no recipient token is asked for. Only channels that have
// checked the sender may call it. Errors as Reply's, without
// signoff.ErrUnauthorized.
func (e *Engine) ReplyBound(ctx context.Context, id signoff.SessionID, in signoff.Input) (Turn, error) {
	return e.reply(ctx, id, func(*signoff.Session) error { return nil }, in)
}

func (e *Engine) reply(ctx context.Context, id signoff.SessionID, auth func(*signoff.Session) error, in signoff.Input) (Turn, error) {
	t, _, err := e.applyOnce(ctx, id, "", e.replyDecision(ctx, auth, in))
	return t, err
}

// replyDecision is the decision of one recipient input: authorised by auth,
// stepped with the model's and the answerer's help, asked for once per
// input however often the commit is retried.
func (e *Engine) replyDecision(ctx context.Context, auth func(*signoff.Session) error, in signoff.Input) decision {
	var help *Help
	return func(s signoff.Session, d signoff.Delivery, now time.Time) (signoff.Session, []signoff.Action, []LogEntry, error) {
		if err := auth(&s); err != nil {
			return s, nil, nil, err
		}
		in.At = now
		var next signoff.Session
		var acts []signoff.Action
		next, acts, help = e.step(ctx, s, d, in, help)
		return next, acts, helpLog(help, next), nil
	}
}

// decision is one decision on a session: the next session, what to do, and
// log entries beyond those the step implies. An error stops the attempt.
type decision func(s signoff.Session, d signoff.Delivery, now time.Time) (signoff.Session, []signoff.Action, []LogEntry, error)

// apply is the engine's one load → decide → commit loop: it loads session
// id (from the cache when it can), lets decide take the next step, and
// commits it under the session's and the facts' versions, deciding again on
// a conflict with another writer. Errors from decide end the loop as they
// are. A next session that did not change (see changed), with no owner
// change and no extra log entries, is not stored. After a stored step that
// asks for a video call the ringer, if any, is told: once across nodes,
// since only one commit wins.
func (e *Engine) apply(ctx context.Context, id signoff.SessionID, decide decision) (Turn, error) {
	t, _, err := e.applyOnce(ctx, id, "", decide)
	return t, err
}

// applyOnce is apply, made idempotent by once when it is not empty: the
// step's answer is committed with it, and a later call with the same once
// gets that answer back with replayed true, changing nothing.
func (e *Engine) applyOnce(ctx context.Context, id signoff.SessionID, once string, decide decision) (turn Turn, replayed bool, err error) {
	defer e.lock(string(id))()
	for attempt := 1; ; attempt++ {
		s, d, cached := e.cache.get(id)
		if !cached {
			var err error
			if s, d, err = e.store.LoadSession(ctx, id); err != nil {
				return Turn{}, false, err
			}
		}
		next, acts, extra, err := decide(s, d, e.now())
		if err != nil {
			return Turn{}, false, err
		}
		if !changed(&s, &next) && next.Staff == s.Staff && len(extra) == 0 {
			if cached {
				// Nothing to do, says a session that may be stale: only
				// the stored one may say so.
				e.cache.drop(id)
				continue
			}
			return Turn{Session: s}, false, nil
		}
		c := e.change(s, next, acts)
		c.Log = append(c.Log, extra...)
		c.FactsVersion = d.Version
		if once != "" {
			committed := *c.Session
			ans := onceAnswer{Replies: committed.Transcript[len(s.Transcript):], State: committed.State, Outcome: committed.Outcome, Lines: committed.Lines}
			if c.Answer, err = json.Marshal(ans); err != nil {
				return Turn{}, false, err
			}
			c.WebhookID = once
		}
		err = e.store.Commit(ctx, c)
		if err == nil {
			next = *c.Session
			e.cache.put(next, d)
			if e.ringer != nil && slices.ContainsFunc(acts, func(a signoff.Action) bool { return a.Kind == signoff.ActVideo }) {
				e.ringer.Ring(ctx, next, d)
			}
			return Turn{Replies: next.Transcript[len(s.Transcript):], Session: next}, false, nil
		}
		e.cache.drop(id)
		if dup, ok := errors.AsType[*Duplicate](err); ok && once != "" {
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
			continue // another node moved on: reload at once
		}
		if err := backoff(ctx, attempt); err != nil {
			return Turn{}, false, err
		}
	}
}

// changed reports whether b differs from a in anything worth storing.
func changed(a, b *signoff.Session) bool {
	return len(a.Transcript) != len(b.Transcript) || a.State != b.State || a.Outcome != b.Outcome ||
		!a.Deadline.Equal(b.Deadline)
}

// change builds the commit of a session moving from before to after. A new
// session has before.Version 0.
func (e *Engine) change(before, after signoff.Session, acts []signoff.Action) Change {
	after.Version = before.Version + 1
	added := after.Transcript[len(before.Transcript):]
	after.Lines = before.Lines + len(added)
	c := Change{Delivery: after.DeliveryID, Session: &after, Timer: after.Deadline}
	c.Log = sessionLog(before, after, acts)
	for i, m := range added {
		c.Publish = append(c.Publish, Posted{Seq: before.Lines + i, Message: m})
	}
	if after.State.Ended() {
		c.CloseSession = true
		c.TTL = e.cfg.EndedTTL
	}
	return c
}

// sessionLog is the evidence of one step: every new line of the transcript,
// every decision, every change of state.
func sessionLog(before, after signoff.Session, acts []signoff.Action) []LogEntry {
	sid := string(after.ID)
	var log []LogEntry
	if before.Version == 0 {
		log = append(log, LogEntry{Kind: "session_opened", At: after.UpdatedAt, Data: map[string]string{
			"session": sid, "locale": string(after.Locale)}})
	}
	for _, m := range after.Transcript[len(before.Transcript):] {
		switch m.From {
		case signoff.FromRecipient:
			log = append(log, LogEntry{Kind: "reply", At: m.At, Data: map[string]string{
				"session": sid, "channel": string(m.Channel), "text": m.Text, "offered": optionKeys(before.Offered)}})
		default:
			log = append(log, LogEntry{Kind: string(m.From), At: m.At, Data: map[string]string{
				"session": sid, "text": m.Text, "options": optionKeys(m.Options)}})
		}
	}
	for _, a := range acts {
		switch a.Kind {
		case signoff.ActRecord:
			data := map[string]string{"session": sid, "outcome": string(a.Outcome)}
			if c := after.Consent; c != nil {
				data["consent_text"], data["consent_channel"], data["consent_offer"] = c.Text, string(c.Channel), c.Offer
				data["consent_at"] = c.At.Format(time.RFC3339Nano)
			}
			if after.Slot != "" && a.Outcome == signoff.OutcomeReschedule {
				data["slot"] = after.Slot
			}
			log = append(log, LogEntry{Kind: "outcome", At: after.UpdatedAt, Data: data})
		case signoff.ActHandoff:
			log = append(log, LogEntry{Kind: "handoff", At: after.UpdatedAt, Data: map[string]string{"session": sid, "reason": a.Reason}})
		case signoff.ActVideo:
			log = append(log, LogEntry{Kind: "video_requested", At: after.UpdatedAt, Data: map[string]string{"session": sid}})
		}
	}
	if before.State != after.State {
		log = append(log, LogEntry{Kind: "state", At: after.UpdatedAt, Data: map[string]string{
			"session": sid, "from": string(before.State), "to": string(after.State)}})
	}
	return log
}

func optionKeys(opts []signoff.Option) string {
	var b strings.Builder
	for i, o := range opts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(o.Key)
	}
	return b.String()
}

// Notify applies one verified order event: it merges the facts, opens the
// conversation when the event opens one and none is open, and tells an open
// conversation what changed. A webhook id seen before changes nothing and
// returns the first Notice with Duplicate set.
func (e *Engine) Notify(ctx context.Context, ev signoff.OrderEvent) (Notice, error) {
	id := ev.Delivery.ID
	if id == "" {
		return Notice{}, signoff.Errorf(signoff.ErrInvalid, "missing_field", "data.delivery_id is required")
	}
	defer e.lock("d:" + string(id))()
	for attempt := 1; ; attempt++ {
		n, err := e.notify(ctx, ev)
		var dup *Duplicate
		switch {
		case err == nil:
			return n, nil
		case errors.As(err, &dup):
			var first Notice
			if err := json.Unmarshal(dup.Answer, &first); err != nil {
				return Notice{}, fmt.Errorf("webhook %s: stored answer: %w", ev.WebhookID, err)
			}
			first.Duplicate = true
			return first, nil
		case !errors.Is(err, signoff.ErrConflict) || attempt == maxAttempts:
			return Notice{}, err
		}
		if err := backoff(ctx, attempt); err != nil {
			return Notice{}, err
		}
	}
}

func (e *Engine) notify(ctx context.Context, ev signoff.OrderEvent) (Notice, error) {
	now := e.now()
	id := ev.Delivery.ID
	before, open, err := e.store.Load(ctx, id)
	if err != nil {
		return Notice{}, err
	}
	after, factsChanged := e.facts.Merge(before, ev)
	after.ID = id
	c := Change{Delivery: id, WebhookID: ev.WebhookID}
	// Store the facts when anything moved, stamps included: a newer event
	// that repeats a value still outranks an older one arriving later.
	if factsChanged || before.Version == 0 || !after.AsOf.Equal(before.AsOf) ||
		!maps.EqualFunc(after.Stamps, before.Stamps, time.Time.Equal) {
		after.Version = before.Version + 1
		c.Facts = &after
	}
	c.Log = append(c.Log, LogEntry{Kind: "webhook", At: now, Data: map[string]string{
		"webhook_id": ev.WebhookID, "type": string(ev.Type), "event_at": ev.Timestamp.Format(time.RFC3339Nano),
		"facts_changed": strconv.FormatBool(factsChanged)}})
	partiesEvidence(c.Log[len(c.Log)-1].Data, ev)

	var n Notice
	switch {
	case open == nil && ev.Type.Opens() && after.Status != signoff.StatusDelivered && after.Status != signoff.StatusFailed:
		sid, token := newCredentials()
		s, acts := Open(e.cfg, after, sid, HashToken(token), now)
		sc := e.change(signoff.Session{ID: sid, DeliveryID: id}, s, acts)
		c.Session, c.Log, c.Publish, c.Timer = sc.Session, append(c.Log, sc.Log...), sc.Publish, sc.Timer
		n = Notice{Opened: true, SessionID: sid, Token: token, CourierID: after.Courier.ID}
	case open != nil:
		n.SessionID = open.ID
		if factsChanged {
			s, acts := Update(e.cfg, *open, before, after, ev.Type, now)
			if changed(open, &s) {
				sc := e.change(*open, s, acts)
				c.Session, c.Log, c.Publish, c.Timer = sc.Session, append(c.Log, sc.Log...), sc.Publish, sc.Timer
				c.CloseSession, c.TTL = sc.CloseSession, sc.TTL
			}
		}
	}
	if c.Answer, err = json.Marshal(n); err != nil {
		return Notice{}, err
	}
	if open != nil {
		e.cache.drop(open.ID) // its facts change, and maybe the session
	}
	return n, e.store.Commit(ctx, c)
}

// Fire handles one due timer: a re-prompt, a handoff for no reply, or an
// unclaimed handoff. A timer that no longer matches the session's Deadline
// is dropped.
func (e *Engine) Fire(ctx context.Context, t Timer) error {
	defer e.lock(string(t.Session))()
	for attempt := 1; ; attempt++ {
		s, d, err := e.store.LoadSession(ctx, t.Session)
		if errors.Is(err, signoff.ErrNotFound) {
			return e.store.ClearTimer(ctx, t)
		}
		if err != nil {
			return err
		}
		next, acts := Step(e.cfg, s, d, signoff.Input{Kind: signoff.InputTimeout, At: e.now()})
		if !changed(&s, &next) {
			return e.store.ClearTimer(ctx, t)
		}
		c := e.change(s, next, acts)
		c.FactsVersion = d.Version
		e.cache.drop(t.Session)
		err = e.store.Commit(ctx, c)
		if err == nil {
			return e.store.ClearTimer(ctx, t)
		}
		if !errors.Is(err, signoff.ErrConflict) || attempt == maxAttempts {
			return err
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// RunTimers fires due timers until ctx ends, polling every interval. Every
// node runs it; the store hands each due timer to one of them.
func (e *Engine) RunTimers(ctx context.Context, every time.Duration) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		due, err := e.store.DueTimers(ctx, e.now(), 30*time.Second, 64)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Warn("timers: claim failed", "err", err)
			}
			continue
		}
		for _, t := range due {
			if err := e.Fire(ctx, t); err != nil && ctx.Err() == nil {
				e.log.Warn("timers: fire failed", "session", t.Session, "err", err)
			}
		}
	}
}

// MergeFunc adapts a function to Facts.
type MergeFunc func(cur signoff.Delivery, ev signoff.OrderEvent) (signoff.Delivery, bool)

// Merge calls f.
func (f MergeFunc) Merge(cur signoff.Delivery, ev signoff.OrderEvent) (signoff.Delivery, bool) {
	return f(cur, ev)
}

// Record appends one entry to the log of session id's delivery, without
// changing the session: evidence a channel gathered (a call recording, a
// barge-in, a voice message). Errors: signoff.ErrNotFound and the store's.
func (e *Engine) Record(ctx context.Context, id signoff.SessionID, kind string, data map[string]string) error {
	did, err := e.store.SessionDelivery(ctx, id)
	if err != nil {
		return err
	}
	if data == nil {
		data = map[string]string{}
	}
	data["session"] = string(id)
	return e.store.Commit(ctx, Change{Delivery: did, Log: []LogEntry{{Kind: kind, At: e.now(), Data: data}}})
}
