package dialog

import (
	"container/list"
	"sync"

	"github.com/signoff/signoff"
)

// sessionCache keeps the last state this node committed of the sessions it
// served, with their facts, so that a turn can skip loading them. It is only
// ever a guess: the commit checks the session's and the facts' versions, and
// a guess that another node overtook is a conflict, dropped and reloaded.
type sessionCache struct {
	mu  sync.Mutex
	max int
	ll  *list.List // front: most recently used
	m   map[signoff.SessionID]*list.Element
}

type cachedSession struct {
	s signoff.Session // without Transcript
	d signoff.Delivery
}

func newSessionCache(max int) *sessionCache {
	return &sessionCache{max: max, ll: list.New(), m: make(map[signoff.SessionID]*list.Element)}
}

func (c *sessionCache) get(id signoff.SessionID) (signoff.Session, signoff.Delivery, bool) {
	if c.max <= 0 {
		return signoff.Session{}, signoff.Delivery{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[id]
	if !ok {
		return signoff.Session{}, signoff.Delivery{}, false
	}
	c.ll.MoveToFront(el)
	v := el.Value.(*cachedSession)
	return v.s, v.d, true
}

func (c *sessionCache) put(s signoff.Session, d signoff.Delivery) {
	if c.max <= 0 {
		return
	}
	s.Transcript = nil
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[s.ID]; ok {
		el.Value = &cachedSession{s: s, d: d}
		c.ll.MoveToFront(el)
		return
	}
	c.m[s.ID] = c.ll.PushFront(&cachedSession{s: s, d: d})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.m, last.Value.(*cachedSession).s.ID)
	}
}

func (c *sessionCache) drop(id signoff.SessionID) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[id]; ok {
		c.ll.Remove(el)
		delete(c.m, id)
	}
}
