package redisstore

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
)

// Key names. See the package comment for the layout.
const (
	timersKey   = "so:timers"
	sidPrefix   = "so:sid:"
	eventPrefix = "so:ev:"
	sep         = "\x00" // between the parts of a timer member

	// webhookKeep is how long a webhook's answer is kept to answer repeats.
	// It does not follow Change.TTL: the order system may retry for days
	// after a conversation ended, and a retry must not be taken as new.
	webhookKeep = 72 * time.Hour

	// sidCacheMax bounds the in-process cache of session → delivery.
	sidCacheMax = 1 << 16
)

func stateKey(d signoff.DeliveryID) string { return "so:{d:" + string(d) + "}" }

func timerMember(d signoff.DeliveryID, s signoff.SessionID) string {
	return string(d) + sep + string(s)
}

// Store is a dialog.Store on Redis. It is safe for concurrent use. Create it
// with New, Open or Embedded; Close it when done.
type Store struct {
	rdb     redis.UniversalClient
	log     *slog.Logger
	cluster bool         // timers live in another slot than a delivery's keys
	owned   func() error // closes what Open or Embedded made, if anything

	sids  sidCache
	heads headCache
	seed  maphash.Seed
	// appends serialises this node's log appends per delivery, so that
	// re-chaining only settles races between nodes.
	appends [64]sync.Mutex
	hub     hub
	hints   hintQueue
}

var _ dialog.Store = (*Store)(nil)

// New returns a Store on client, which may be a single node, a Sentinel
// failover client or a Cluster client. The caller keeps ownership of client:
// Close does not close it. A nil log discards.
func New(client redis.UniversalClient, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	_, cluster := client.(*redis.ClusterClient)
	return &Store{
		rdb:     client,
		log:     log,
		cluster: cluster,
		sids:    sidCache{m: make(map[signoff.SessionID]signoff.DeliveryID)},
		heads:   headCache{m: make(map[signoff.DeliveryID]string)},
		seed:    maphash.MakeSeed(),
	}
}

// Close stops the Subscribe hub, ending every subscription, and closes the
// client if the Store made it (Open, Embedded). The Store must not be used
// afterwards.
func (s *Store) Close() error {
	s.hub.close()
	s.hints.close()
	if s.owned != nil {
		return s.owned()
	}
	return nil
}

// AddHook adds a go-redis hook to the client (metrics, tracing). Call it
// before the Store is used.
func (s *Store) AddHook(h redis.Hook) { s.rdb.AddHook(h) }

// Client returns the Redis client the Store uses, for the few callers that
// need Redis itself (the node's rate limits).
func (s *Store) Client() redis.UniversalClient { return s.rdb }

// Ping reports whether Redis answers, and whether the event subscription
// that live streams hang on is up, for readiness checks. It returns an
// error of kind signoff.ErrUnavailable when either is down.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fail("ping", err)
	}
	if s.hub.broken() {
		return signoff.Errorf(signoff.ErrUnavailable, "events_unavailable", "the event subscription is being restored")
	}
	return nil
}

// SessionDelivery returns the delivery a session belongs to. The answer is
// cached in-process, since it never changes; so it may still be given for a
// session whose keys expired. LoadSession is the authority on whether a
// session exists.
func (s *Store) SessionDelivery(ctx context.Context, id signoff.SessionID) (signoff.DeliveryID, error) {
	if d, ok := s.sids.get(id); ok {
		return d, nil
	}
	if !validID(string(id)) {
		return "", fmt.Errorf("redisstore: session %q: %w", id, signoff.ErrNotFound)
	}
	v, err := s.rdb.Get(ctx, sidPrefix+string(id)).Result()
	if err != nil {
		return "", fail("session "+string(id), err)
	}
	d := signoff.DeliveryID(v)
	s.sids.put(id, d)
	return d, nil
}

// Load returns a delivery's facts and its open session in one round trip.
func (s *Store) Load(ctx context.Context, id signoff.DeliveryID) (signoff.Delivery, *signoff.Session, error) {
	if !validID(string(id)) {
		return signoff.Delivery{}, nil, fmt.Errorf("redisstore: delivery %q: %w", id, signoff.ErrInvalid)
	}
	res, err := loadScript.Run(ctx, s.rdb, []string{stateKey(id)}).StringSlice()
	if err != nil {
		return signoff.Delivery{}, nil, fail("load "+string(id), err)
	}
	if len(res) != 2 {
		return signoff.Delivery{}, nil, fmt.Errorf("redisstore: load %s: unexpected reply %q", id, res)
	}
	var d signoff.Delivery
	if res[0] != "" {
		if err := decode(res[0], &d); err != nil {
			return signoff.Delivery{}, nil, fmt.Errorf("redisstore: load %s: facts: %w", id, err)
		}
	}
	var sess *signoff.Session
	if res[1] != "" {
		sess = new(signoff.Session)
		if err := decode(res[1], sess); err != nil {
			return signoff.Delivery{}, nil, fmt.Errorf("redisstore: load %s: session: %w", id, err)
		}
	}
	return d, sess, nil
}

// LoadSession returns a session and its delivery's facts: one round trip
// once the session's delivery is cached.
func (s *Store) LoadSession(ctx context.Context, id signoff.SessionID) (signoff.Session, signoff.Delivery, error) {
	did, err := s.SessionDelivery(ctx, id)
	if err != nil {
		return signoff.Session{}, signoff.Delivery{}, err
	}
	vals, err := s.rdb.HMGet(ctx, stateKey(did), "facts", "s:"+string(id)).Result()
	if err != nil {
		return signoff.Session{}, signoff.Delivery{}, fail("load session "+string(id), err)
	}
	sj, _ := vals[1].(string)
	if sj == "" {
		return signoff.Session{}, signoff.Delivery{}, fmt.Errorf("redisstore: session %s: %w", id, signoff.ErrNotFound)
	}
	var sess signoff.Session
	if err := decode(sj, &sess); err != nil {
		return signoff.Session{}, signoff.Delivery{}, fmt.Errorf("redisstore: session %s: %w", id, err)
	}
	var d signoff.Delivery
	if fj, _ := vals[0].(string); fj != "" {
		if err := decode(fj, &d); err != nil {
			return signoff.Session{}, signoff.Delivery{}, fmt.Errorf("redisstore: session %s: facts: %w", id, err)
		}
	}
	return sess, d, nil
}

// Transcript returns lines [from, to) of session id's transcript, read from
// the delivery's state hash in one round trip. Lines never stored (or
// expired) are left out.
func (s *Store) Transcript(ctx context.Context, d signoff.DeliveryID, id signoff.SessionID, from, to int) ([]signoff.Message, error) {
	if from < 0 {
		from = 0
	}
	if to <= from {
		return nil, nil
	}
	fields := make([]string, 0, to-from)
	prefix := "t:" + string(id) + ":"
	for i := from; i < to; i++ {
		fields = append(fields, prefix+strconv.Itoa(i))
	}
	vals, err := s.rdb.HMGet(ctx, stateKey(d), fields...).Result()
	if err != nil {
		return nil, fail("transcript "+string(id), err)
	}
	out := make([]signoff.Message, 0, len(vals))
	for _, v := range vals {
		js, _ := v.(string)
		if js == "" {
			continue
		}
		var p dialog.Posted
		if err := decode(js, &p); err != nil {
			return nil, fmt.Errorf("redisstore: transcript %s: %w", id, err)
		}
		out = append(out, p.Message)
	}
	return out, nil
}

// Commit applies c in one Lua script over the delivery's keys: checks first,
// then writes, so it is all or nothing. Besides the kinds of dialog.Store it
// returns signoff.ErrInvalid for a change that names ids inconsistently.
//
// A new session's id is bound to its delivery (so:sid:<id>) before the
// script runs, in a round trip of its own, once per session.
//
// A positive TTL reaches the delivery's state and log at once and its
// session bindings in a second round trip (they live in other slots); a new
// session removes it from the state and log again, since the delivery is
// live once more. Webhook answers keep their own 72 hours whatever the TTL:
// the order system may retry after a conversation ended, and a retry taken
// as new could reopen it.
//
// The session's timer is written by the script itself, exactly, except in a
// Cluster, where the timers set is in another slot: there it is sent in the
// same pipeline as the script, as a hint that only ever moves a timer later
// (ZADD GT), so a commit that loses a version race cannot make a timer fire
// before its session's Deadline; a cancelled timer is left to fire once and
// be dropped by the engine.
func (s *Store) Commit(ctx context.Context, c dialog.Change) error {
	if err := checkChange(&c); err != nil {
		return err
	}
	if c.Session != nil && c.Session.Version == 1 {
		if err := s.bind(ctx, c.Session.ID, c.Delivery); err != nil {
			return err
		}
	}
	args, publish, err := commitArgs(&c)
	if err != nil {
		return err
	}
	log, err := sealLog(c.Delivery, c.Log)
	if err != nil {
		return err
	}
	state := stateKey(c.Delivery)
	keys := make([]string, 3, 4)
	keys[0], keys[1], keys[2] = state, state+":log", state+":wh:"+c.WebhookID

	if len(log) > 0 {
		m := &s.appends[maphash.String(s.seed, string(c.Delivery))%uint64(len(s.appends))]
		m.Lock()
		defer m.Unlock()
	}
	var res []string
	for attempt := 1; ; attempt++ {
		head := s.heads.get(c.Delivery)
		all, next, err := log.args(args, publish, head)
		if err != nil {
			return err
		}
		var cmd *redis.Cmd
		if s.cluster {
			cmd, err = s.commitCluster(ctx, keys, all, &c)
		} else {
			cmd = commitScript.Run(ctx, s.rdb, append(keys, timersKey), all...)
			err = cmd.Err()
		}
		if err != nil {
			return fail("commit "+string(c.Delivery), err)
		}
		res, err = cmd.StringSlice()
		if err != nil || len(res) == 0 {
			return fmt.Errorf("redisstore: commit %s: unexpected reply %v: %v", c.Delivery, cmd.Val(), err)
		}
		if res[0] == "ok" && len(log) > 0 {
			s.heads.put(c.Delivery, next)
		}
		if res[0] != "head" || len(res) != 2 {
			break
		}
		// Another writer appended to the log first: chain on its head.
		s.heads.put(c.Delivery, res[1])
		if attempt == maxRechain {
			return fmt.Errorf("redisstore: commit %s: the log's head kept moving: %w", c.Delivery, signoff.ErrConflict)
		}
	}
	switch res[0] {
	case "ok":
	case "dup":
		if len(res) != 2 {
			return fmt.Errorf("redisstore: commit %s: unexpected reply %q", c.Delivery, res)
		}
		return &dialog.Duplicate{Answer: []byte(res[1])}
	case "conflict":
		reason := "version"
		if len(res) > 1 {
			reason = res[1]
		}
		return fmt.Errorf("redisstore: commit %s: %s: %w", c.Delivery, reason, signoff.ErrConflict)
	default:
		return fmt.Errorf("redisstore: commit %s: unexpected reply %q", c.Delivery, res)
	}
	if c.TTL > 0 && len(res) > 1 {
		s.expireBindings(ctx, res[1:], c.TTL)
	}
	s.afterCommit(ctx, &c)
	return nil
}

// commitCluster runs the commit script and, in the same round trip, the
// timer hint (see Commit).
func (s *Store) commitCluster(ctx context.Context, keys []string, args []any, c *dialog.Change) (*redis.Cmd, error) {
	if c.Timer.IsZero() {
		cmd := commitScript.Run(ctx, s.rdb, keys, args...)
		return cmd, cmd.Err()
	}
	z := redis.ZAddArgs{GT: true, Members: []redis.Z{{Score: float64(ceilMilli(c.Timer)), Member: timerMember(c.Delivery, c.Session.ID)}}}
	run := func(eval func(pipe redis.Pipeliner) *redis.Cmd) (*redis.Cmd, error) {
		pipe := s.rdb.Pipeline()
		cmd := eval(pipe)
		pipe.ZAddArgs(ctx, timersKey, z)
		_, err := pipe.Exec(ctx)
		return cmd, err
	}
	cmd, err := run(func(p redis.Pipeliner) *redis.Cmd { return commitScript.EvalSha(ctx, p, keys, args...) })
	if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
		cmd, err = run(func(p redis.Pipeliner) *redis.Cmd { return commitScript.Eval(ctx, p, keys, args...) })
	}
	if cmd.Err() != nil {
		return cmd, cmd.Err()
	}
	if err != nil {
		// The commit is stored and must not be reported as failed (a
		// retry would conflict with itself); only the timer is missing,
		// until the hint queue writes it again.
		s.log.Warn("redisstore: timer not scheduled yet; queued to be written again", "delivery", c.Delivery, "session", c.Session.ID, "err", err)
		s.hints.add(ctx, s.rdb, s.log, timerMember(c.Delivery, c.Session.ID), z.Members[0].Score)
	}
	return cmd, nil
}

// bind records that session id belongs to delivery d. A binding never
// changes; one to another delivery is a conflict.
func (s *Store) bind(ctx context.Context, id signoff.SessionID, d signoff.DeliveryID) error {
	if got, ok := s.sids.get(id); ok {
		if got != d {
			return fmt.Errorf("redisstore: session %s belongs to delivery %s: %w", id, got, signoff.ErrConflict)
		}
		return nil
	}
	key := sidPrefix + string(id)
	ok, err := s.rdb.SetNX(ctx, key, string(d), 0).Result()
	if err != nil {
		return fail("bind session "+string(id), err)
	}
	if !ok {
		got, err := s.rdb.Get(ctx, key).Result()
		if err != nil {
			return fail("bind session "+string(id), err)
		}
		if signoff.DeliveryID(got) != d {
			return fmt.Errorf("redisstore: session %s belongs to delivery %s: %w", id, got, signoff.ErrConflict)
		}
	}
	s.sids.put(id, d)
	return nil
}

// expireBindings gives the session bindings of an ended delivery the same
// TTL as its keys. They live in other slots, hence outside the script; the
// commit is already stored, so a failure here is logged, not returned: a
// binding that outlives its session only points at nothing.
func (s *Store) expireBindings(ctx context.Context, sids []string, ttl time.Duration) {
	pipe := s.rdb.Pipeline()
	for _, id := range sids {
		pipe.PExpire(ctx, sidPrefix+id, ttl)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		s.log.Warn("redisstore: session bindings keep no TTL", "sessions", len(sids), "err", err)
	}
}

// checkChange refuses a change whose parts disagree about what they are of.
func checkChange(c *dialog.Change) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("redisstore: commit %s: %w: %s", c.Delivery, signoff.ErrInvalid, fmt.Sprintf(format, a...))
	}
	switch {
	case !validID(string(c.Delivery)):
		return bad("bad delivery id")
	case c.Facts != nil && c.Facts.ID != c.Delivery:
		return bad("facts of delivery %q", c.Facts.ID)
	case c.Facts != nil && c.Facts.Version < 1:
		return bad("facts version %d", c.Facts.Version)
	case c.Session == nil && (c.CloseSession || !c.Timer.IsZero() || len(c.Publish) > 0):
		return bad("close, timer or publish without a session")
	case c.Session == nil:
		return nil
	case c.Session.DeliveryID != c.Delivery:
		return bad("session of delivery %q", c.Session.DeliveryID)
	case !validID(string(c.Session.ID)):
		return bad("bad session id")
	case c.Session.Version < 1:
		return bad("session version %d", c.Session.Version)
	}
	return nil
}

// validID reports whether id can be part of a key: not empty, no "}" (which
// would end the hash tag early) and no NUL (the timer member separator).
func validID(id string) bool {
	return id != "" && !strings.ContainsAny(id, "}\x00")
}

// commitArgs encodes c as the ARGV of commitScript: the first 15, and the
// Posted lines that follow the log records (see sealedLog.args).
func commitArgs(c *dialog.Change) (args, publish []any, err error) {
	args = make([]any, 0, 15)
	if c.WebhookID != "" {
		args = append(args, "1", c.Answer, webhookKeep.Milliseconds())
	} else {
		args = append(args, "", "", 0)
	}
	if c.Facts != nil {
		b, err := encode(c.Facts)
		if err != nil {
			return nil, nil, fmt.Errorf("redisstore: commit %s: facts: %w", c.Delivery, err)
		}
		args = append(args, c.Facts.Version, b)
	} else if c.FactsVersion > 0 {
		args = append(args, -c.FactsVersion, "")
	} else {
		args = append(args, 0, "")
	}
	var sid signoff.SessionID
	if c.Session != nil {
		sid = c.Session.ID
		b, err := encode(c.Session)
		if err != nil {
			return nil, nil, fmt.Errorf("redisstore: commit %s: session: %w", c.Delivery, err)
		}
		args = append(args, string(sid), c.Session.Version, b)
	} else {
		args = append(args, "", 0, "")
	}
	closing := "0"
	if c.CloseSession {
		closing = "1"
	}
	var ttl int64
	if c.TTL > 0 {
		ttl = max(c.TTL.Milliseconds(), 1)
	}
	args = append(args, closing, ttl)

	var op string
	var due int64
	switch {
	case !c.Timer.IsZero():
		op, due = "+", ceilMilli(c.Timer)
	case c.Session != nil && c.Session.Deadline.IsZero():
		op = "-"
	}
	var member string
	if c.Session != nil {
		member = timerMember(c.Delivery, sid)
	}
	args = append(args, op, due, member, len(c.Log), eventPrefix+string(sid))

	publish = make([]any, 0, 2*len(c.Publish))
	for _, p := range c.Publish {
		b, err := encode(p)
		if err != nil {
			return nil, nil, fmt.Errorf("redisstore: commit %s: publish: %w", c.Delivery, err)
		}
		publish = append(publish, p.Seq, b)
	}
	return args, publish, nil
}

// ceilMilli returns t in Unix milliseconds, rounded up, so that a timer
// never comes due before the instant it stands for.
func ceilMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).Before(t) {
		ms++
	}
	return ms
}

// fail translates an error of the Redis client: redis.Nil is
// signoff.ErrNotFound; a Redis that cannot be reached, or cannot serve right
// now (loading, failing over, out of memory), is signoff.ErrUnavailable;
// anything else (a bug: a script error, a wrong type) keeps no kind.
func fail(op string, err error) error {
	switch {
	case errors.Is(err, redis.Nil):
		return fmt.Errorf("redisstore: %s: %w", op, signoff.ErrNotFound)
	case unavailable(err):
		return fmt.Errorf("redisstore: %s: %w: %w", op, signoff.ErrUnavailable, err)
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

func unavailable(err error) bool {
	var rerr redis.Error
	if errors.As(err, &rerr) {
		return redis.IsLoadingError(err) || redis.IsReadOnlyError(err) || redis.IsClusterDownError(err) ||
			redis.IsTryAgainError(err) || redis.IsMasterDownError(err) || redis.IsMaxClientsError(err) ||
			redis.IsNoReplicasError(err) || redis.IsOOMError(err) || redis.IsAuthError(err) ||
			redis.HasErrorPrefix(err, "BUSY")
	}
	var nerr net.Error
	return errors.As(err, &nerr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrPoolExhausted) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// sidCache remembers session → delivery bindings, which never change. When
// full it forgets an arbitrary eighth of them.
type sidCache struct {
	mu sync.RWMutex
	m  map[signoff.SessionID]signoff.DeliveryID
}

func (c *sidCache) get(id signoff.SessionID) (signoff.DeliveryID, bool) {
	c.mu.RLock()
	d, ok := c.m[id]
	c.mu.RUnlock()
	return d, ok
}

func (c *sidCache) put(id signoff.SessionID, d signoff.DeliveryID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= sidCacheMax {
		n := sidCacheMax / 8
		for k := range c.m {
			delete(c.m, k)
			if n--; n == 0 {
				break
			}
		}
	}
	c.m[id] = d
}

// parseMilli reads a millisecond count as Redis or Lua wrote it.
func parseMilli(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	return int64(f), err
}
