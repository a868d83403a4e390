package knowledge

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/analysis/tokenmap"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/prompts"
)

// Passage is one retrievable piece of text: a section of a document, or
// one of the delivery's facts (Fact set, Text filled in per question).
type Passage struct {
	ID      string // "damaged-parcel#1", "facts#eta"
	Doc     string // the document's ID, or "delivery" for a fact
	Title   string // the document's title and the section's heading
	Text    string
	Fact    dialog.Topic
	Asks    []string // ways people ask for it
	Ordinal int      // the section's place in its document
}

// Hit is a passage found for a question.
type Hit struct {
	Passage
	Score      float64 // the engine's relevance score
	Confidence float64 // how much of the question the passage covers, 0..1
}

// FactsDoc is the Doc of the delivery's own facts.
const FactsDoc = "delivery"

// Index is the searchable corpus of one locale. It is immutable once built
// and safe for concurrent use.
type Index struct {
	locale   signoff.Locale
	idx      bleve.Index
	analyzer analysis.Analyzer
	passages map[string]*Passage
	terms    map[string]map[string]bool // passage ID → its analysed terms
	docs     int
	syn      *Synonyms
	df       map[string]int // term → how many passages hold it
}

// zhStop are bigrams of question words and fillers: common to every
// question, they say nothing of its subject.
var zhStop = []string{
	"怎么", "么办", "什么", "么时", "可以", "我的", "一下", "请问", "是不", "不是", "如果", "的话", "吗", "呢", "了", "的",
	"我们", "你们", "这个", "那个", "有没", "没有", "能不", "不能", "要怎", "该怎", "怎样", "为什", "么样", "哪里", "应该",
	"给我", "帮我", "多少", "就好", "好的", "一个", "现在",
}

const (
	fieldTitle = "title"
	fieldBody  = "body"
	fieldAsks  = "asks"
)

func newMapping(l signoff.Locale) (*mapping.IndexMappingImpl, string, error) {
	m := bleve.NewIndexMapping()
	name := en.AnalyzerName
	if l != signoff.LocaleEN {
		name = "zh"
		tokens := make([]any, len(zhStop))
		for i, t := range zhStop {
			tokens[i] = t
		}
		if err := m.AddCustomTokenMap("zh_stop_words", map[string]any{"type": tokenmap.Name, "tokens": tokens}); err != nil {
			return nil, "", err
		}
		if err := m.AddCustomTokenFilter("zh_stop", map[string]any{"type": stop.Name, "stop_token_map": "zh_stop_words"}); err != nil {
			return nil, "", err
		}
		if err := m.AddCustomAnalyzer(name, map[string]any{"type": custom.Name, "tokenizer": unicode.Name,
			"token_filters": []any{cjk.WidthName, lowercase.Name, cjk.BigramName, "zh_stop"}}); err != nil {
			return nil, "", err
		}
	}
	m.DefaultAnalyzer = name
	m.StoreDynamic = false
	m.IndexDynamic = true
	m.DocValuesDynamic = false
	return m, name, nil
}

// factPassages are the delivery's facts as passages: their text is the
// fact told for the delivery at hand, so only how people ask is indexed.
func factPassages(l signoff.Locale) []Passage {
	cat := prompts.For(l)
	var out []Passage
	for _, tp := range []dialog.Topic{dialog.TopicStatus, dialog.TopicWhen, dialog.TopicWhere, dialog.TopicStation,
		dialog.TopicWho, dialog.TopicPhone, dialog.TopicSignature} {
		asks := splitQuestions(cat.Text("facts.q." + string(tp)))
		out = append(out, Passage{ID: "facts#" + string(tp), Doc: FactsDoc, Fact: tp, Asks: asks})
	}
	return out
}

// Build indexes the corpus c of locale l, with the delivery's facts.
func Build(l signoff.Locale, c Corpus) (ix *Index, err error) {
	m, name, err := newMapping(l)
	if err != nil {
		return nil, err
	}
	// Scorch with no path keeps its segments in memory and searches them
	// several times faster than the default in-memory store.
	idx, err := bleve.NewUsing("", m, scorch.Name, scorch.Name, map[string]any{"unsafe_batch": true})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			idx.Close()
		}
	}()
	ix = &Index{locale: l, idx: idx, analyzer: m.AnalyzerNamed(name), passages: map[string]*Passage{},
		terms: map[string]map[string]bool{}, docs: len(c)}
	if ix.analyzer == nil {
		return nil, fmt.Errorf("analyzer %s missing", name)
	}
	if raw, err := corpusFS.ReadFile("corpus/" + string(l) + "/synonyms.txt"); err == nil {
		if ix.syn, err = ParseSynonyms(l, raw); err != nil {
			return nil, err
		}
	}
	ids := make([]string, 0, len(c))
	for id := range c {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var all []Passage
	for _, id := range ids {
		d := c[id]
		for i, s := range d.Sections {
			p := Passage{ID: d.ID + "#" + strconv.Itoa(i+1), Doc: d.ID, Title: d.Title + " — " + s.Heading, Text: s.Text,
				Asks: s.Questions, Ordinal: i}
			if i == 0 {
				p.Asks = append(append([]string(nil), d.Questions...), s.Questions...)
			}
			all = append(all, p)
		}
	}
	all = append(all, factPassages(l)...)
	b := idx.NewBatch()
	for i := range all {
		p := &all[i]
		ix.passages[p.ID] = p
		asks, title, body := ix.syn.Apply(strings.Join(p.Asks, " . ")), ix.syn.Apply(p.Title), ix.syn.Apply(p.Text)
		if p.Fact != "" {
			body = asks // a fact has no text of its own until asked
		}
		if err := b.Index(p.ID, map[string]any{fieldTitle: title, fieldBody: body, fieldAsks: asks}); err != nil {
			return nil, err
		}
		ix.terms[p.ID] = ix.termSet(title + " . " + body + " . " + asks)
	}
	if err := idx.Batch(b); err != nil {
		return nil, err
	}
	ix.df = map[string]int{}
	for _, set := range ix.terms {
		for t := range set {
			ix.df[t]++
		}
	}
	return ix, nil
}

// Close frees the index.
func (ix *Index) Close() error { return ix.idx.Close() }

// Documents returns how many documents the index holds, facts aside.
func (ix *Index) Documents() int { return ix.docs }

func (ix *Index) termSet(text string) map[string]bool {
	set := map[string]bool{}
	for _, tok := range ix.analyzer.Analyze([]byte(text)) {
		set[string(tok.Term)] = true
	}
	return set
}

// Search returns up to k passages for question, best first.
func (ix *Index) Search(question string, k int) ([]Hit, error) {
	q := ix.syn.Apply(strings.TrimSpace(question))
	if q == "" || k <= 0 {
		return nil, nil
	}
	asks := bleve.NewMatchQuery(q)
	asks.SetField(fieldAsks)
	asks.SetBoost(2)
	title := bleve.NewMatchQuery(q)
	title.SetField(fieldTitle)
	title.SetBoost(1.2)
	body := bleve.NewMatchQuery(q)
	body.SetField(fieldBody)
	// Rank a few more than asked for: the engine's score is blended with
	// how much of the question each passage covers.
	req := bleve.NewSearchRequestOptions(bleve.NewDisjunctionQuery([]query.Query{asks, title, body}...), k+8, 0, false)
	res, err := ix.idx.Search(req)
	if err != nil {
		return nil, err
	}
	qterms := ix.termSet(q)
	hits := make([]Hit, 0, len(res.Hits))
	for _, h := range res.Hits {
		p, ok := ix.passages[h.ID]
		if !ok {
			continue
		}
		hits = append(hits, Hit{Passage: *p, Score: h.Score, Confidence: ix.coverage(qterms, ix.terms[h.ID])})
	}
	if len(hits) > 0 {
		top := hits[0].Score
		rank := func(h Hit) float64 {
			r := Blend*h.Score/top + (1-Blend)*h.Confidence
			if h.Fact != "" {
				r *= FactBoost
			}
			return r
		}
		sort.SliceStable(hits, func(i, j int) bool { return rank(hits[i]) > rank(hits[j]) })
	}
	if len(hits) > k {
		hits = hits[:k]
	}
	return hits, nil
}

// Blend is the weight of the engine's relevance score in the ranking; the
// rest is the passage's coverage of the question.
var Blend = 0.3

// FactBoost favours the delivery's own facts over the help centre when both
// fit a question: "when will it arrive" asks about this parcel.
var FactBoost = 1.1

// coverage is the share of the question's terms the passage holds, each
// weighed by how rare it is in the corpus: a word the corpus never uses
// weighs most, so a question about something else scores low.
func (ix *Index) coverage(q, p map[string]bool) float64 {
	var have, all float64
	n := float64(len(ix.terms))
	for t := range q {
		w := math.Log((n + 1) / (float64(ix.df[t]) + 0.5))
		all += w
		if p[t] {
			have += w
		}
	}
	if all == 0 {
		return 0
	}
	return have / all
}
