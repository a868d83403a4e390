package knowledge

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
)

// Phraser writes a short answer to a question from numbered passages only,
// marking each sentence with the passage it came from ("[1]"). Package
// knowledge/llm provides one over a language model.
type Phraser interface {
	// Phrase returns the whole answer and hands each finished sentence to
	// sentence as soon as it is written. An answer of "I don't know" (in the
	// locale's words) or without a citation is reported as such by the
	// Answerer, which then falls back on the best passage.
	Phrase(ctx context.Context, req PhraseRequest, sentence func(string)) (string, error)
}

// PhraseRequest is a question and the passages an answer may use; passage
// i is cited as [i+1].
type PhraseRequest struct {
	Locale    signoff.Locale
	Question  string
	Passages  []string
	Sentences int // the most sentences the answer may have
}

// DefaultThreshold is the confidence below which the Answerer says it does
// not know, per locale: Chinese bigrams cover a question more thinly than
// English stems do.
var DefaultThreshold = map[signoff.Locale]float64{signoff.LocaleZH: 0.18, signoff.LocaleEN: 0.3}

// Answerer answers questions from the help centre and the delivery's facts.
// It satisfies dialog.Answerer. Safe for concurrent use.
type Answerer struct {
	indexes   atomic.Pointer[map[signoff.Locale]*Index]
	phraser   Phraser
	threshold map[signoff.Locale]float64
	dir       string
	model     string
}

// Option changes an Answerer's defaults.
type Option func(*Answerer)

// WithPhraser lets a model write the answers; model names it in the log.
func WithPhraser(p Phraser, model string) Option {
	return func(a *Answerer) { a.phraser, a.model = p, model }
}

// WithThreshold sets the confidence below which nothing is answered in
// locale l.
func WithThreshold(l signoff.Locale, t float64) Option {
	return func(a *Answerer) { a.threshold[l] = t }
}

// WithDir adds the documents of dir/<locale>/*.md to the embedded ones,
// replacing those of the same name.
func WithDir(dir string) Option { return func(a *Answerer) { a.dir = dir } }

// Locales are the locales the Answerer indexes.
var Locales = []signoff.Locale{signoff.LocaleZH, signoff.LocaleEN}

// NewAnswerer builds the indexes. A bad operator document is an error that
// names it.
func NewAnswerer(opts ...Option) (*Answerer, error) {
	a := &Answerer{threshold: maps.Clone(DefaultThreshold)}
	for _, o := range opts {
		o(a)
	}
	if err := a.Reload(); err != nil {
		return nil, err
	}
	return a, nil
}

// Reload reads the embedded corpus and the operator's directory again and
// swaps the indexes in. On error the old indexes stay and the error names
// the bad file.
func (a *Answerer) Reload() error {
	next := map[signoff.Locale]*Index{}
	for _, l := range Locales {
		c, err := Embedded(l)
		if err == nil && a.dir != "" {
			c, err = c.AddDir(filepath.Join(a.dir, string(l)))
		}
		if err != nil {
			closeAll(next)
			return err
		}
		ix, err := Build(l, c)
		if err != nil {
			closeAll(next)
			return fmt.Errorf("index %s: %w", l, err)
		}
		next[l] = ix
	}
	if old := a.indexes.Swap(&next); old != nil {
		// A search may still be running on an old index: close it later.
		time.AfterFunc(closeAfter, func() { closeAll(*old) })
	}
	return nil
}

// closeAfter is how long a replaced index stays open for searches that
// began on it.
const closeAfter = 30 * time.Second

func closeAll(m map[signoff.Locale]*Index) {
	for _, ix := range m {
		ix.Close()
	}
}

// Close frees the indexes. The Answerer must not be used after.
func (a *Answerer) Close() error {
	if m := a.indexes.Load(); m != nil {
		closeAll(*m)
	}
	return nil
}

// Index returns the index of locale l.
func (a *Answerer) Index(l signoff.Locale) *Index {
	m := *a.indexes.Load()
	if ix, ok := m[l]; ok {
		return ix
	}
	return m[signoff.ParseLocale(string(l))]
}

// Retrieve returns the passages for q, best first, with the delivery's
// facts filled in; facts unknown for this delivery are left out.
func (a *Answerer) Retrieve(q dialog.Question, k int) ([]Hit, error) {
	hits, err := a.Index(q.Locale).Search(q.Text, k+2)
	if err != nil {
		return nil, err
	}
	out := hits[:0:0]
	for _, h := range hits {
		if h.Fact != "" {
			h.Text = q.Facts[h.Fact]
			if h.Text == "" {
				continue
			}
		}
		out = append(out, h)
	}
	if len(out) > k {
		out = out[:k]
	}
	return out, nil
}

// Answer answers q, or returns an empty Answer when the best passage covers
// less than the threshold of the question. See dialog.Answerer.
func (a *Answerer) Answer(ctx context.Context, q dialog.Question) (dialog.Answer, error) {
	hits, err := a.Retrieve(q, 3)
	if err != nil {
		return dialog.Answer{}, err
	}
	threshold := a.threshold[signoff.ParseLocale(string(q.Locale))]
	if len(hits) == 0 || hits[0].Confidence < threshold {
		ans := dialog.Answer{}
		if len(hits) > 0 {
			ans.Score = hits[0].Confidence
		}
		return ans, nil
	}
	most := 3
	if q.Channel == signoff.ChannelVoice {
		most = dialog.MaxVoiceSentences
	}
	sink := dialog.Sentences(ctx)
	best := hits[0]
	if a.phraser != nil && !dialog.ModelDown(ctx) {
		// Passages that cover little of the question only distract.
		var use []Hit
		for _, h := range hits {
			if h.Confidence >= threshold {
				use = append(use, h)
			}
		}
		if ans, ok := a.phrase(ctx, q, use, most, sink); ok {
			ans.Score = best.Confidence
			return ans, nil
		}
	}
	text := strings.Join(firstN(Sentences(best.Text), most), sepFor(q.Locale))
	for _, s := range firstN(Sentences(best.Text), most) {
		sink(s)
	}
	return dialog.Answer{Text: text, Sources: []string{best.Doc}, Score: best.Confidence}, nil
}

// phrase asks the model; ok is false when the rules must answer instead:
// the model failed before saying anything, or did not know, or cited
// nothing. Sentences already handed on are kept as the answer.
func (a *Answerer) phrase(ctx context.Context, q dialog.Question, hits []Hit, most int, sink func(string)) (dialog.Answer, bool) {
	req := PhraseRequest{Locale: q.Locale, Question: q.Text, Sentences: most}
	for _, h := range hits {
		req.Passages = append(req.Passages, h.Text)
	}
	var said []string
	var cited []int
	unknown := false
	emit := func(s string) {
		if len(said) >= most || unknown {
			return
		}
		text, c := StripCitations(s)
		if text == "" {
			cited = append(cited, c...) // "[1]" after the sentence it cites
			return
		}
		if len(said) == 0 && len(c) == 0 && dontKnow(text) {
			unknown = true
			return
		}
		said = append(said, text)
		cited = append(cited, c...)
		sink(text)
	}
	full, err := a.phraser.Phrase(ctx, req, emit)
	if err == nil && len(said) == 0 && !unknown {
		// A phraser that streamed nothing: split what it returned.
		for _, s := range Sentences(full) {
			emit(s)
		}
	}
	if len(said) == 0 || (err == nil && len(cited) == 0) {
		if len(said) > 0 {
			// Uncited sentences were already spoken: keep them, sourced
			// from the passages they were written from.
			return dialog.Answer{Text: strings.Join(said, sepFor(q.Locale)), Sources: docs(hits, nil), Phrased: true, Model: a.model}, true
		}
		return dialog.Answer{}, false
	}
	return dialog.Answer{Text: strings.Join(said, sepFor(q.Locale)), Sources: docs(hits, cited), Phrased: true, Model: a.model}, true
}

// docs names the documents of the cited passages (1-based), or of all.
func docs(hits []Hit, cited []int) []string {
	var out []string
	add := func(d string) {
		for _, x := range out {
			if x == d {
				return
			}
		}
		out = append(out, d)
	}
	for _, c := range cited {
		if c >= 1 && c <= len(hits) {
			add(hits[c-1].Doc)
		}
	}
	if len(cited) == 0 {
		for _, h := range hits {
			add(h.Doc)
		}
	}
	return out
}

func dontKnow(s string) bool {
	s = strings.ToLower(strings.TrimRight(s, "。.!！ "))
	return s == "我不知道" || s == "i don't know" || s == "i do not know"
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func sepFor(l signoff.Locale) string {
	if l == signoff.LocaleEN {
		return " "
	}
	return ""
}
