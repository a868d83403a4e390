package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
)

// Key names of the text channels (not in a delivery's slot: they are found
// by an address or a name, not by a delivery):
//
//	so:dir:<hash>   sorted set, the deliveries bound to one address (a phone
//	                number, a WeChat OpenID), scored by when they were bound
//	so:once:<hash>  string, a claim or a stored value of Claim and Put
//
// <hash> is the hex SHA-256 of the kind and the address or name, so that no
// phone number or OpenID appears in a key name.
const (
	dirPrefix  = "so:dir:"
	oncePrefix = "so:once:"

	// dirKeep is how long a binding is kept after it was last made, and
	// dirMax how many deliveries one address keeps.
	dirKeep = 30 * 24 * time.Hour
	dirMax  = 32
)

func hashedKey(prefix, kind, name string) string {
	h := sha256.Sum256([]byte(kind + "\x00" + name))
	return prefix + hex.EncodeToString(h[:16])
}

// Directory finds the delivery a recipient writes about on a text channel:
// it binds an address (an E.164 phone number, a WeChat OpenID) to that
// address's deliveries, newest first. Make it with Store.Directory.
type Directory struct{ s *Store }

// Directory returns the store's directory of recipients' addresses.
func (s *Store) Directory() *Directory { return &Directory{s: s} }

// Bind records that delivery id is reached at addr on channel kind ("sms",
// "wechat") as of at. Binding again moves the delivery to the front.
func (d *Directory) Bind(ctx context.Context, kind, addr string, id signoff.DeliveryID, at time.Time) error {
	if addr == "" || !validID(string(id)) {
		return fmt.Errorf("redisstore: bind: %w", signoff.ErrInvalid)
	}
	key := hashedKey(dirPrefix, kind, addr)
	_, err := d.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, key, redis.Z{Score: float64(at.UnixMilli()), Member: string(id)})
		p.ZRemRangeByRank(ctx, key, 0, -dirMax-1)
		p.PExpire(ctx, key, dirKeep)
		return nil
	})
	if err != nil {
		return fail("bind "+kind, err)
	}
	return nil
}

// Deliveries returns the deliveries bound to addr on channel kind, newest
// first; none is not an error.
func (d *Directory) Deliveries(ctx context.Context, kind, addr string) ([]signoff.DeliveryID, error) {
	ids, err := d.s.rdb.ZRevRange(ctx, hashedKey(dirPrefix, kind, addr), 0, dirMax-1).Result()
	if err != nil {
		return nil, fail("directory "+kind, err)
	}
	out := make([]signoff.DeliveryID, len(ids))
	for i, id := range ids {
		out[i] = signoff.DeliveryID(id)
	}
	return out, nil
}

// Open returns the open session of the newest delivery bound to addr on
// channel kind whose facts still satisfy match (the delivery still goes by
// that channel and that address), with those facts. No such session is an
// error of kind signoff.ErrNotFound: code conversation_ended, with the
// newest matching delivery's facts, when the address has deliveries but
// none is open, else code unknown_sender.
func (d *Directory) Open(ctx context.Context, kind, addr string, match func(signoff.Delivery) bool) (signoff.Session, signoff.Delivery, error) {
	ids, err := d.Deliveries(ctx, kind, addr)
	if err != nil {
		return signoff.Session{}, signoff.Delivery{}, err
	}
	var ended *signoff.Delivery
	for _, id := range ids {
		facts, open, err := d.s.Load(ctx, id)
		if err != nil {
			return signoff.Session{}, signoff.Delivery{}, err
		}
		if facts.Version == 0 || !match(facts) {
			continue
		}
		if open != nil {
			return *open, facts, nil
		}
		if ended == nil {
			ended = &facts
		}
	}
	if ended != nil {
		return signoff.Session{}, *ended, signoff.Errorf(signoff.ErrNotFound, "conversation_ended", "this sender's conversation has ended")
	}
	return signoff.Session{}, signoff.Delivery{}, signoff.Errorf(signoff.ErrNotFound, "unknown_sender", "no open conversation for this sender")
}

// Claim stores value under name (in the namespace kind) unless something is
// stored there already, for ttl. It returns true when this call stored it;
// otherwise false and what is stored. Nodes use it to do a thing once
// (send a line, process an inbound message).
func (s *Store) Claim(ctx context.Context, kind, name string, value []byte, ttl time.Duration) (bool, []byte, error) {
	key := hashedKey(oncePrefix, kind, name)
	ok, err := s.rdb.SetNX(ctx, key, value, ttl).Result()
	if err != nil {
		return false, nil, fail("claim "+kind, err)
	}
	if ok {
		return true, nil, nil
	}
	v, err := s.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return s.Claim(ctx, kind, name, value, ttl) // it expired in between
	}
	if err != nil {
		return false, nil, fail("claim "+kind, err)
	}
	return false, v, nil
}

// Put stores value under name in the namespace kind for ttl, replacing what
// was there.
func (s *Store) Put(ctx context.Context, kind, name string, value []byte, ttl time.Duration) error {
	if err := s.rdb.Set(ctx, hashedKey(oncePrefix, kind, name), value, ttl).Err(); err != nil {
		return fail("put "+kind, err)
	}
	return nil
}

// Get returns what is stored under name in the namespace kind, or an error
// of kind signoff.ErrNotFound.
func (s *Store) Get(ctx context.Context, kind, name string) ([]byte, error) {
	v, err := s.rdb.Get(ctx, hashedKey(oncePrefix, kind, name)).Bytes()
	if err != nil {
		return nil, fail("get "+kind, err)
	}
	return v, nil
}

// Forget removes what is stored under name in the namespace kind.
func (s *Store) Forget(ctx context.Context, kind, name string) error {
	if err := s.rdb.Del(ctx, hashedKey(oncePrefix, kind, name)).Err(); err != nil {
		return fail("forget "+kind, err)
	}
	return nil
}

// watcher is one Watch callback.
type watcher struct {
	fn func(signoff.SessionID, dialog.Posted)
}

// Watch calls fn with every line posted to any session by a Commit on any
// node, in the order each session's lines were published, from the moment
// it returns until ctx ends. fn runs on the subscription's one reading
// goroutine: it must not block. It shares the pattern subscription of
// Subscribe, and, like it, misses lines published while the connection to
// Redis is re-established.
func (s *Store) Watch(ctx context.Context, fn func(signoff.SessionID, dialog.Posted)) error {
	if err := s.hub.start(ctx, s.rdb, s.log); err != nil {
		return err
	}
	w := &watcher{fn: fn}
	h := &s.hub
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return errClosed
	}
	if h.watchers == nil {
		h.watchers = make(map[*watcher]struct{})
	}
	h.watchers[w] = struct{}{}
	h.mu.Unlock()
	context.AfterFunc(ctx, func() {
		h.mu.Lock()
		delete(h.watchers, w)
		h.mu.Unlock()
	})
	return nil
}
