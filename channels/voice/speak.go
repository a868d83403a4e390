package voice

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/prompts"
	"github.com/signoff/signoff/speech"
)

// splitSentences cuts a bot message into the short sentences it is spoken
// as: after 。！？；：, and after . ! ? ; : that end a word (so "14:30" and
// "3.5" stay whole).
func splitSentences(text string) []string {
	var out []string
	rs := []rune(text)
	start := 0
	cut := func(end int) {
		if s := strings.TrimSpace(string(rs[start:end])); s != "" {
			out = append(out, s)
		}
		start = end
	}
	for i, r := range rs {
		switch r {
		case '。', '！', '？', '；', '：', '\n':
			cut(i + 1)
		case '.', '!', '?', ';', ':':
			if i+1 == len(rs) || unicode.IsSpace(rs[i+1]) {
				cut(i + 1)
			}
		}
	}
	cut(len(rs))
	return out
}

// language is the synthesiser's language for a conversation's locale.
func language(l signoff.Locale) string {
	if l == signoff.LocaleEN {
		return "en"
	}
	return "zh-CN"
}

// optionSentence is how one option of a menu is spoken: "Press 2 for Leave
// at my door." / "按2，放门口。".
func optionSentence(cat *prompts.Catalog, o signoff.Option) string {
	return cat.Text("voice.option", "key", o.Key, "label", o.Label)
}

// ttsCache keeps synthesised sentences: menus repeat in every call, and a
// cached sentence costs nothing to start. The PCM it holds is shared and
// never written to.
type ttsCache struct {
	mu    sync.Mutex
	max   int
	items map[string][]int16
	order []string // insertion order, for eviction
}

func newTTSCache(max int) *ttsCache {
	return &ttsCache{max: max, items: make(map[string][]int16)}
}

func (c *ttsCache) get(key string) ([]int16, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pcm, ok := c.items[key]
	return pcm, ok
}

func (c *ttsCache) put(key string, pcm []int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[key]; ok {
		return
	}
	for len(c.order) >= c.max {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
	c.items[key] = pcm
	c.order = append(c.order, key)
}

// beep is what the bot plays for a sentence when no synthesiser is
// configured: 300 ms of 440 Hz at -12 dBFS, so the caller knows the line
// is live and can use the keypad.
var beep = func() []int16 {
	pcm := make([]int16, speech.Samples(300_000_000, speech.SampleRate))
	a := speech.DBFSToRMS(-12) * math.Sqrt2
	for i := range pcm {
		pcm[i] = int16(a * math.Sin(2*math.Pi*440*float64(i)/speech.SampleRate))
	}
	return pcm
}()

// synthesize returns text spoken in lang, from the cache when it can.
func (h *Handler) synthesize(ctx context.Context, text, lang string, slow bool) ([]int16, error) {
	if h.tts == nil {
		return beep, nil
	}
	key := lang + "|" + strconv.FormatBool(slow) + "|" + text
	if pcm, ok := h.tc.get(key); ok {
		return pcm, nil
	}
	pcm, err := h.tts.Synthesize(ctx, text, lang, slow)
	if err != nil {
		return nil, err
	}
	h.tc.put(key, pcm)
	return pcm, nil
}
