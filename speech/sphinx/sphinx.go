package sphinx

import (
	"container/list"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	signoff "github.com/signoff/signoff"
)

// SampleRate is the rate of the PCM Recognize takes: 16 kHz mono int16.
const SampleRate = 16000

// The Debian locations of the US English model (package pocketsphinx-en-us).
const (
	DefaultModelDir = "/usr/share/pocketsphinx/model/en-us/en-us"
	DefaultDict     = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"
)

// DefaultThreshold is the rejection threshold of Options.Threshold, tuned on
// espeak-ng's en-us voice at 140 words a minute over a faint noise floor
// (sphinx_test.go; TestReport measures more voices). The
// menu's answers scored from -19 ("seven") to +17 ("yes") whatever the noise,
// off-list speech and noise -33 ("banana") and below. Synthetic speech fits
// the model worse than a human voice, so real answers should score higher.
// Words that differ from an answer by one sound ("fine" for "nine",
// "eleven" for "one") score like answers and are not reliably rejected.
const DefaultThreshold = -25.0

// MaxUtterance is the longest audio Recognize takes: an answer is a word or
// three, and the decoder holds the whole utterance.
const MaxUtterance = 20 * SampleRate

const installHint = "sudo apt-get install pocketsphinx-en-us libpocketsphinx-dev (or make deps)"

// Options configure a Recognizer. The zero value is the Debian model with
// defaults sized to the machine.
type Options struct {
	ModelDir string // acoustic model directory; DefaultModelDir if empty
	Dict     string // pronunciation dictionary; DefaultDict if empty

	// Decoders bounds the decoders, and so the utterances recognised at
	// once; further calls wait their turn. Each decoder holds its own copy
	// of the model and dictionary (about 28 MB) and is made on first need
	// (about 0.2 s). Default: the number of CPUs, at most 8.
	Decoders int
	// Grammars is how many compiled grammars each decoder keeps; default 32.
	Grammars int
	// Threshold is the lowest Result.Score accepted; DefaultThreshold if 0.
	// Raise it to reject more readily.
	Threshold float64
	// Nice is the niceness (1 to 19) of the threads that decode, so that
	// recognition yields the CPU to the calls' audio; default 10 (Linux
	// only). Negative: decode at the caller's priority.
	Nice int
}

// A Recognizer recognises utterances against small grammars. It is safe for
// concurrent use; Close it to free the decoders.
type Recognizer struct {
	opts  Options
	args  []string
	slots chan struct{} // one token per decoder lent out

	mu     sync.Mutex
	idle   []*decoder
	closed bool

	initMu sync.Mutex // decoders are made one at a time: sphinxbase has global state

	grammarMu sync.Mutex
	grammars  map[string]*compiled // by Grammar fingerprint, bounded
}

// New checks the model and makes the first decoder. A missing model or
// library is an error of kind signoff.ErrUnavailable whose message names the
// Debian packages to install.
func New(opts Options) (*Recognizer, error) {
	return newRecognizer(opts, nil)
}

// newRecognizer is New with extra decoder arguments, for tuning.
func newRecognizer(opts Options, extra []string) (*Recognizer, error) {
	if opts.ModelDir == "" {
		opts.ModelDir = DefaultModelDir
	}
	if opts.Dict == "" {
		opts.Dict = DefaultDict
	}
	if opts.Decoders <= 0 {
		opts.Decoders = min(runtime.NumCPU(), 8)
	}
	if opts.Grammars <= 0 {
		opts.Grammars = 32
	}
	// The search in use is never evicted while another is added.
	opts.Grammars = max(opts.Grammars, 2)
	if opts.Threshold == 0 {
		opts.Threshold = DefaultThreshold
	}
	if opts.Nice == 0 {
		opts.Nice = 10
	}
	for _, f := range []string{filepath.Join(opts.ModelDir, "mdef"), filepath.Join(opts.ModelDir, "means"), opts.Dict} {
		if _, err := os.Stat(f); err != nil {
			return nil, signoff.Wrap(signoff.ErrUnavailable, "asr_model_missing",
				"the PocketSphinx English model is not installed: "+installHint, err)
		}
	}
	r := &Recognizer{
		opts: opts,
		args: []string{
			"-hmm", opts.ModelDir,
			"-dict", opts.Dict,
			// Score every senone in every frame, so that the scores of
			// the answer search and of the rejection search share one
			// normalisation and can be compared.
			"-compallsen", "yes",
		},
		slots:    make(chan struct{}, opts.Decoders),
		grammars: make(map[string]*compiled),
	}
	r.args = append(r.args, extra...)
	d, err := r.newDecoder()
	if err != nil {
		return nil, err
	}
	r.idle = append(r.idle, d)
	return r, nil
}

// Close frees the idle decoders; decoders in use are freed when their
// utterance ends. Recognize fails after Close.
func (r *Recognizer) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for _, d := range r.idle {
		d.close()
	}
	r.idle = nil
	return nil
}

// Recognize decides which phrase of g, if any, was said in pcm (16 kHz mono,
// one utterance, at most MaxUtterance samples).
//
// The audio is decoded twice with the same decoder: against g, and against
// a loop of everyday words (fillerWords, less g's own words and their
// homophones). Result.Score is the first score less the second, per frame of
// speech; below Options.Threshold the answer is Rejected, as it is when g's
// best path holds no word at all (Silence). So "banana" or a cough comes
// back Rejected instead of as the nearest digit.
//
// Errors: signoff.ErrInvalid for a bad grammar or a word missing from the
// dictionary (the message names it), signoff.ErrTooLarge for overlong audio,
// signoff.ErrUnavailable after Close or when a decoder cannot be made, and
// ctx.Err() when ctx ends while waiting for a decoder.
func (r *Recognizer) Recognize(ctx context.Context, pcm []int16, g Grammar) (Result, error) {
	if len(pcm) > MaxUtterance {
		return Result{}, signoff.Errorf(signoff.ErrTooLarge, "utterance_too_long",
			"an utterance is at most %d s of audio", MaxUtterance/SampleRate)
	}
	c, err := r.compile(g)
	if err != nil {
		return Result{}, err
	}
	d, err := r.acquire(ctx)
	if err != nil {
		return Result{}, err
	}
	defer r.release(d)
	s, err := d.searches.get(d, c)
	if err != nil {
		return Result{}, err
	}
	var (
		answer, garbage decoded
		words           []string
	)
	lowPriority(r.opts.Nice, func() {
		if answer, err = d.decode(s.answer, pcm); err != nil {
			return
		}
		if words = hypWords(answer.hyp); len(words) == 0 {
			return
		}
		if err = ctx.Err(); err != nil {
			return
		}
		garbage, err = d.decode(s.garbage, pcm)
	})
	if err != nil {
		return Result{}, err
	}
	if len(words) == 0 {
		return Result{Rejected: true, Silence: true}, nil
	}
	text := strings.Join(words, " ")
	score := (answer.score - garbage.score) / float64(max(1, answer.speechFrames()))
	res := Result{
		Score:      score,
		Confidence: 1 / (1 + math.Exp(-(score-r.opts.Threshold)/8)),
	}
	key, ok := c.keys[text]
	if !ok || score < r.opts.Threshold {
		res.Rejected = true
		return res, nil
	}
	res.Key, res.Text = key, text
	return res, nil
}

// hypWords splits a hypothesis into its words, leaving out silence and
// noise fillers.
func hypWords(hyp string) []string {
	var out []string
	for _, w := range strings.Fields(hyp) {
		if w[0] == '<' || w[0] == '[' || w[0] == '+' || w[0] == '_' || w == "(NULL)" {
			continue
		}
		out = append(out, w)
	}
	return out
}

// compile returns g compiled, from a small cache: a prompt's grammar is the
// same for every call of every session.
func (r *Recognizer) compile(g Grammar) (*compiled, error) {
	var b strings.Builder
	for _, p := range g.Phrases {
		b.WriteString(strconv.Quote(p.Key))
		for _, s := range p.Say {
			b.WriteByte(' ')
			b.WriteString(strconv.Quote(s))
		}
		b.WriteByte('\n')
	}
	fp := b.String()
	r.grammarMu.Lock()
	c, ok := r.grammars[fp]
	r.grammarMu.Unlock()
	if ok {
		return c, nil
	}
	c, err := compile(g)
	if err != nil {
		return nil, err
	}
	r.grammarMu.Lock()
	if len(r.grammars) >= 4*r.opts.Grammars {
		clear(r.grammars) // rare: many distinct grammars; start again
	}
	r.grammars[fp] = c
	r.grammarMu.Unlock()
	return c, nil
}

// acquire lends out a decoder, making one if none is idle and fewer than
// Options.Decoders exist, or waits for one.
func (r *Recognizer) acquire(ctx context.Context) (*decoder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		<-r.slots
		return nil, signoff.Errorf(signoff.ErrUnavailable, "asr_closed", "the speech recogniser is closed")
	}
	if n := len(r.idle); n > 0 {
		d := r.idle[n-1]
		r.idle = r.idle[:n-1]
		r.mu.Unlock()
		return d, nil
	}
	r.mu.Unlock()
	d, err := r.newDecoder()
	if err != nil {
		<-r.slots
		return nil, err
	}
	return d, nil
}

func (r *Recognizer) release(d *decoder) {
	r.mu.Lock()
	if r.closed {
		d.close()
	} else {
		r.idle = append(r.idle, d)
	}
	r.mu.Unlock()
	<-r.slots
}

func (r *Recognizer) newDecoder() (*decoder, error) {
	r.initMu.Lock()
	defer r.initMu.Unlock()
	d, err := newDecoder(r.args)
	if err != nil {
		return nil, signoff.Wrap(signoff.ErrUnavailable, "asr_init",
			"the PocketSphinx decoder did not start; is the model intact? "+installHint, err)
	}
	for w, p := range noiseWords {
		if err := d.addWord(w, p); err != nil {
			d.close()
			return nil, signoff.Wrap(signoff.ErrUnavailable, "asr_init", "the PocketSphinx model lacks its noise phones", err)
		}
	}
	d.searches = newSearchCache(r.opts.Grammars)
	return d, nil
}

// searches are the two searches of one grammar in one decoder.
type searches struct {
	answer, garbage string
}

// searchCache is a decoder's LRU of compiled grammars, by JSGF text.
type searchCache struct {
	max   int
	next  int
	order *list.List // of *searchEntry, most recent first
	byKey map[string]*list.Element
}

type searchEntry struct {
	jsgf string
	s    searches
}

func newSearchCache(max int) *searchCache {
	return &searchCache{max: max, order: list.New(), byKey: make(map[string]*list.Element)}
}

// get returns the searches of c in d, compiling them on first use. A word
// missing from the dictionary is an error of kind signoff.ErrInvalid.
func (sc *searchCache) get(d *decoder, c *compiled) (searches, error) {
	if e, ok := sc.byKey[c.jsgf]; ok {
		sc.order.MoveToFront(e)
		return e.Value.(*searchEntry).s, nil
	}
	var unknown []string
	for _, w := range c.words {
		if len(d.prons(w)) == 0 {
			unknown = append(unknown, w)
		}
	}
	if len(unknown) > 0 {
		return searches{}, signoff.Errorf(signoff.ErrInvalid, "unknown_word",
			"not in the pronunciation dictionary: %s", strings.Join(unknown, ", "))
	}
	sc.next++
	s := searches{answer: fmt.Sprintf("answer%d", sc.next), garbage: fmt.Sprintf("garbage%d", sc.next)}
	if err := d.setJSGF(s.answer, c.jsgf); err != nil {
		return searches{}, signoff.Wrap(signoff.ErrInvalid, "bad_grammar", "the grammar does not compile", err)
	}
	if err := d.setJSGF(s.garbage, c.garbageJSGF(d.prons)); err != nil {
		d.unset(s.answer)
		return searches{}, fmt.Errorf("sphinx: rejection grammar: %w", err)
	}
	sc.byKey[c.jsgf] = sc.order.PushFront(&searchEntry{jsgf: c.jsgf, s: s})
	for sc.order.Len() > sc.max {
		e := sc.order.Back()
		old := e.Value.(*searchEntry)
		sc.order.Remove(e)
		delete(sc.byKey, old.jsgf)
		d.unset(old.s.answer)
		d.unset(old.s.garbage)
	}
	return s, nil
}
