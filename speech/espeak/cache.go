package espeak

import (
	"container/list"
	"sync"
)

// cacheKey is what makes two syntheses the same: the text, the espeak-ng
// voice (so "zh-CN" and "zh" share entries) and the pace.
type cacheKey struct {
	text, voice string
	slow        bool
}

// lru is a bounded cache of synthesised audio, least recently used out
// first. It is safe for concurrent use; the slices it holds are never
// modified, and callers get copies (see Synth.Synthesize).
type lru struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *lruEntry, most recently used at the front
	items map[cacheKey]*list.Element
}

type lruEntry struct {
	key cacheKey
	pcm []int16
}

// newLRU returns a cache of at most max entries; max <= 0 caches nothing.
func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), items: make(map[cacheKey]*list.Element)}
}

// get returns the audio stored under k, which the caller must not modify.
func (c *lru) get(k cacheKey) ([]int16, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[k]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*lruEntry).pcm, true
}

// put stores pcm under k, which the caller must not modify afterwards, and
// drops the least recently used entry if the cache is full.
func (c *lru) put(k cacheKey, pcm []int16) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		e.Value.(*lruEntry).pcm = pcm
		c.order.MoveToFront(e)
		return
	}
	c.items[k] = c.order.PushFront(&lruEntry{key: k, pcm: pcm})
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.items, old.Value.(*lruEntry).key)
	}
}

// len returns the number of entries.
func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
