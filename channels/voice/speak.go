package voice

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
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

// unsaid returns text without the sentences of said it begins with, in
// order, and the sentences of said it did not hold (for the next line).
// Text that does not begin with them is returned whole: better said twice
// than not at all.
func unsaid(text string, said []string) (string, []string) {
	for len(said) > 0 {
		t := strings.TrimSpace(text)
		s := strings.TrimSpace(said[0])
		if !strings.HasPrefix(t, s) {
			break
		}
		text, said = t[len(s):], said[1:]
	}
	return text, said
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

// clip is a sentence ready to play: cut into 20 ms frames (the last one
// padded with silence), each with its RMS (the VAD's echo reference) and its
// PCMU payload, made once and shared, never written to, by every call that
// says the sentence. Its Opus packets are made on first need, with an
// encoder of their own: the pacing goroutine only sends.
type clip struct {
	frames [][]int16
	rms    []float64
	pcmu   [][]byte

	opusOnce sync.Once
	opus     [][]byte
}

// newClip cuts pcm (16 kHz) into frames and encodes them as PCMU.
func newClip(pcm []int16) (*clip, error) {
	n := (len(pcm) + speech.FrameSamples - 1) / speech.FrameSamples
	padded := make([]int16, n*speech.FrameSamples)
	copy(padded, pcm)
	r, err := speech.NewResampler(speech.SampleRate, 8000)
	if err != nil {
		return nil, err
	}
	// The whole sentence at once, then a little silence to flush the
	// filter, so that each 8 kHz frame lines up with its 16 kHz one.
	d := speech.Samples(r.Delay(), 8000)
	narrow := r.Resample(nil, append(padded, make([]int16, speech.Samples(r.Delay(), speech.SampleRate)+speech.FrameSamples)...))
	narrow = narrow[min(d, len(narrow)):]
	ulaw := speech.AppendMulaw(nil, narrow[:min(len(narrow), n*speech.FrameSamples/2)])
	c := &clip{frames: make([][]int16, n), rms: make([]float64, n), pcmu: make([][]byte, n)}
	for i := range n {
		f := padded[i*speech.FrameSamples : (i+1)*speech.FrameSamples : (i+1)*speech.FrameSamples]
		c.frames[i] = f
		c.rms[i] = speech.RMS(f)
		lo, hi := min(len(ulaw), i*speech.FrameSamples/2), min(len(ulaw), (i+1)*speech.FrameSamples/2)
		c.pcmu[i] = ulaw[lo:hi:hi]
	}
	return c, nil
}

// opusPackets returns the clip's frames as Opus packets, encoding them the
// first time. A frame that fails to encode is an empty packet, not sent.
func (c *clip) opusPackets() [][]byte {
	c.opusOnce.Do(func() {
		c.opus = make([][]byte, len(c.frames))
		enc, err := newOpusEncoder()
		if err != nil {
			return
		}
		buf := make([]byte, maxOpusPacket)
		for i, f := range c.frames {
			if n, err := enc.Encode(f, buf); err == nil {
				c.opus[i] = append([]byte(nil), buf[:n]...)
			}
		}
	})
	return c.opus
}

// silentFrame is a frame of silence, in each codec.
var (
	silentPCMU     = speech.AppendMulaw(nil, make([]int16, speech.FrameSamples/2))
	silentOpusOnce sync.Once
	silentOpus     []byte
)

func opusSilence() []byte {
	silentOpusOnce.Do(func() {
		if enc, err := newOpusEncoder(); err == nil {
			buf := make([]byte, maxOpusPacket)
			if n, err := enc.Encode(make([]int16, speech.FrameSamples), buf); err == nil {
				silentOpus = buf[:n]
			}
		}
	})
	return silentOpus
}

// ttsCache keeps synthesised sentences: menus repeat in every call, and a
// cached sentence costs nothing to start. A sentence being synthesised is
// made once: calls that ask for it meanwhile wait for it (fifty calls that
// start at once share one greeting).
type ttsCache struct {
	mu       sync.Mutex
	max      int
	items    map[string]*clip
	order    []string // insertion order, for eviction
	inflight map[string]*synthesis
}

// synthesis is a sentence being made; done is closed when c or err is set.
type synthesis struct {
	done chan struct{}
	c    *clip
	err  error
}

func newTTSCache(max int) *ttsCache {
	return &ttsCache{max: max, items: make(map[string]*clip), inflight: make(map[string]*synthesis)}
}

// get returns the clip of key, making it with synth once however many ask
// at the same time. A failed make is not kept: the next asker tries again.
// Waiting ends with ctx.
func (c *ttsCache) get(ctx context.Context, key string, synth func() (*clip, error)) (*clip, error) {
	c.mu.Lock()
	if cl, ok := c.items[key]; ok {
		c.mu.Unlock()
		return cl, nil
	}
	if s, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		select {
		case <-s.done:
			return s.c, s.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	s := &synthesis{done: make(chan struct{})}
	c.inflight[key] = s
	c.mu.Unlock()

	s.c, s.err = synth()
	c.mu.Lock()
	delete(c.inflight, key)
	if s.err == nil {
		for len(c.order) >= c.max {
			delete(c.items, c.order[0])
			c.order = c.order[1:]
		}
		c.items[key] = s.c
		c.order = append(c.order, key)
	}
	c.mu.Unlock()
	close(s.done)
	return s.c, s.err
}

// beep is what the bot plays for a sentence when no synthesiser is
// configured: 300 ms of 440 Hz at -12 dBFS, so the caller knows the line
// is live and can use the keypad.
var beep = func() *clip {
	pcm := make([]int16, speech.Samples(300_000_000, speech.SampleRate))
	a := speech.DBFSToRMS(-12) * math.Sqrt2
	for i := range pcm {
		pcm[i] = int16(a * math.Sin(2*math.Pi*440*float64(i)/speech.SampleRate))
	}
	c, err := newClip(pcm)
	if err != nil {
		panic(err) // fixed rates
	}
	return c
}()

// synthesize returns text spoken in lang, ready to play, from the cache
// when it can. The synthesis is not cancelled with ctx, as other calls may
// be waiting for the same sentence; only the wait is.
func (h *Handler) synthesize(ctx context.Context, text, lang string, slow bool) (*clip, error) {
	if h.tts == nil {
		return beep, nil
	}
	key := lang + "|" + strconv.FormatBool(slow) + "|" + text
	return h.tc.get(ctx, key, func() (*clip, error) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), synthTimeout)
		defer cancel()
		pcm, err := h.tts.Synthesize(sctx, text, lang, slow)
		if err != nil {
			return nil, err
		}
		return newClip(pcm)
	})
}

// synthTimeout bounds one sentence's synthesis.
const synthTimeout = 10 * time.Second
