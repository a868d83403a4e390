package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
)

// listenerBuffer is how many lines a listener may fall behind before lines
// are dropped for it.
const listenerBuffer = 64

var errClosed = errors.New("redisstore: store closed")

// Subscribe returns the lines posted to session id by a Commit on any node,
// from the moment it returns until ctx ends, when the channel is closed. A
// listener that falls behind loses lines rather than holding up the others;
// the gap shows in Posted.Seq, and the transcript has them all. Lines may
// also be lost while the connection to Redis is re-established.
//
// All subscriptions of a Store share one pattern subscription (so:ev:*) on
// one connection, made by the first call. It returns an error of kind
// signoff.ErrUnavailable when that subscription cannot be made, or is being
// made again after its connection broke: a break ends every channel
// Subscribe returned (lines published meanwhile would be missed), so that
// readers resubscribe and catch up from the transcript.
func (s *Store) Subscribe(ctx context.Context, id signoff.SessionID) (<-chan dialog.Posted, error) {
	if err := s.hub.start(ctx, s.rdb, s.log); err != nil {
		return nil, err
	}
	l := &listener{ch: make(chan dialog.Posted, listenerBuffer)}
	if err := s.hub.add(id, l); err != nil {
		return nil, err
	}
	context.AfterFunc(ctx, func() { s.hub.remove(id, l) })
	return l.ch, nil
}

type listener struct {
	ch      chan dialog.Posted
	dropped int // guarded by hub.mu
}

// hub fans the one pattern subscription out to the listeners of this Store.
type hub struct {
	startMu sync.Mutex // serialises start and close
	ps      *redis.PubSub
	done    chan struct{} // closed when the reading goroutine exits

	mu       sync.Mutex
	closed   bool
	up       bool // the subscription is confirmed; false from a break until Redis confirms again
	made     bool // the subscription was made once
	subs     map[signoff.SessionID]map[*listener]struct{}
	watchers map[*watcher]struct{} // see Store.Watch
}

// start makes the pattern subscription if there is none, and returns once
// Redis has confirmed it, so that nothing published after Subscribe returns
// is missed.
func (h *hub) start(ctx context.Context, rdb redis.UniversalClient, log *slog.Logger) error {
	h.startMu.Lock()
	defer h.startMu.Unlock()
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return errClosed
	}
	if h.ps != nil {
		return nil
	}
	ps := rdb.PSubscribe(ctx, eventPrefix+"*")
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return fail("subscribe", err)
	}
	h.ps, h.done = ps, make(chan struct{})
	h.mu.Lock()
	h.up, h.made = true, true
	h.mu.Unlock()
	go func() {
		defer close(h.done)
		h.receive(context.WithoutCancel(ctx), ps, log)
	}()
	return nil
}

// receiveTimeout is how long the subscription may stay silent before it is
// pinged, so that a connection that died without a word is noticed.
const receiveTimeout = 15 * time.Second

// receive reads the subscription until the hub closes. When the connection
// breaks, go-redis dials again and subscribes again; every listener is
// ended at the break (lines published until the new subscription is
// confirmed would be lost to it), so that SSE clients reconnect and catch
// up from the transcript, and Subscribe refuses until Redis confirms.
func (h *hub) receive(ctx context.Context, ps *redis.PubSub, log *slog.Logger) {
	broken, pause := false, 50*time.Millisecond
	for {
		msg, err := ps.ReceiveTimeout(ctx, receiveTimeout)
		if err != nil {
			if h.isClosed() {
				return
			}
			var nerr net.Error
			if errors.As(err, &nerr) && nerr.Timeout() && !broken {
				if err = ps.Ping(ctx); err == nil {
					continue
				}
			}
			if !broken {
				broken = true
				n := h.restart()
				log.Warn("redisstore: event subscription lost; streams ended so that clients catch up", "streams", n, "err", err)
			}
			time.Sleep(pause)
			pause = min(2*pause, time.Second)
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if broken {
				broken, pause = false, 50*time.Millisecond
				h.mu.Lock()
				h.up = true
				h.mu.Unlock()
				log.Info("redisstore: event subscription restored")
			}
		case *redis.Message:
			h.dispatch(m, log)
		}
	}
}

// broken reports whether the subscription was made and is now down,
// waiting for Redis to confirm it again.
func (h *hub) broken() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.made && !h.up && !h.closed
}

// restart marks the subscription down and ends every listener; it returns
// how many were ended.
func (h *hub) restart() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.up = false
	n := 0
	for id, set := range h.subs {
		for l := range set {
			close(l.ch)
			n++
		}
		delete(h.subs, id)
	}
	return n
}

func (h *hub) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

func (h *hub) add(id signoff.SessionID, l *listener) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return errClosed
	}
	if !h.up {
		return fmt.Errorf("redisstore: event subscription is being restored: %w", signoff.ErrUnavailable)
	}
	if h.subs == nil {
		h.subs = make(map[signoff.SessionID]map[*listener]struct{})
	}
	set := h.subs[id]
	if set == nil {
		set = make(map[*listener]struct{})
		h.subs[id] = set
	}
	set[l] = struct{}{}
	return nil
}

// remove ends a listener, if it has not been ended already.
func (h *hub) remove(id signoff.SessionID, l *listener) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.subs[id]
	if _, ok := set[l]; !ok {
		return
	}
	delete(set, l)
	if len(set) == 0 {
		delete(h.subs, id)
	}
	close(l.ch)
}

// dispatch hands one message to its session's listeners without ever
// waiting for one.
func (h *hub) dispatch(m *redis.Message, log *slog.Logger) {
	id := signoff.SessionID(strings.TrimPrefix(m.Channel, eventPrefix))
	h.mu.Lock()
	n := len(h.subs[id]) + len(h.watchers)
	h.mu.Unlock()
	if n == 0 {
		return
	}
	var p dialog.Posted
	if err := decode(m.Payload, &p); err != nil {
		log.Warn("redisstore: undecodable event", "channel", m.Channel, "err", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.watchers {
		w.fn(id, p)
	}
	for l := range h.subs[id] {
		select {
		case l.ch <- p:
		default:
			l.dropped++
			if l.dropped == 1 || l.dropped%100 == 0 {
				log.Debug("redisstore: slow listener, line dropped", "session", id, "seq", p.Seq, "dropped", l.dropped)
			}
		}
	}
}

// close ends the subscription and every listener.
func (h *hub) close() {
	h.startMu.Lock()
	defer h.startMu.Unlock()
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	if h.ps != nil {
		_ = h.ps.Close()
		<-h.done
		h.ps = nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, set := range h.subs {
		for l := range set {
			close(l.ch)
		}
		delete(h.subs, id)
	}
}
