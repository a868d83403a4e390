package sphinx

import (
	"maps"
	"slices"
	"strings"

	signoff "github.com/signoff/signoff"
)

// A Grammar is exactly what the current prompt accepts: one Phrase per
// answer. Anything else is rejected.
type Grammar struct {
	Phrases []Phrase
}

// A Phrase is one accepted answer: Key is what Recognize reports (a menu
// digit such as "2", or "yes"), Say the ways of saying it ("two", "number
// two", "option two"). Words are lower-case English words of the
// pronunciation dictionary; case and extra spaces do not matter.
type Phrase struct {
	Key string
	Say []string
}

// A Result is the outcome of one utterance. Exactly one of these holds:
// Rejected is false and Key is the answer heard; or Rejected is true and Key
// is empty.
type Result struct {
	Key  string // the Key of the phrase heard; empty when Rejected
	Text string // the words heard, as written in the phrase; empty when Rejected

	// Score is how much better, per frame of speech (10 ms), the phrase
	// fits the audio than the best run of everyday words does, in the
	// decoder's log-likelihood units. Above Options.Threshold the phrase is
	// accepted. Zero when nothing was heard.
	Score float64
	// Confidence maps Score onto 0..1, 0.5 at the threshold. It orders
	// results; it is not a calibrated probability.
	Confidence float64

	Rejected bool // nothing in the grammar was said
	Silence  bool // Rejected because nothing but silence or noise was heard
}

// compiled is a Grammar ready for the decoder: its JSGF text, which is also
// its identity in the caches, and the map from the words heard to keys.
type compiled struct {
	jsgf  string
	keys  map[string]string // normalised phrase → key
	words []string          // distinct words of the phrases
}

// compile checks g and builds its JSGF. Errors are signoff.ErrInvalid.
func compile(g Grammar) (*compiled, error) {
	if len(g.Phrases) == 0 {
		return nil, signoff.Errorf(signoff.ErrInvalid, "empty_grammar", "the grammar has no phrases")
	}
	c := &compiled{keys: make(map[string]string)}
	var alts []string
	seen := make(map[string]bool)
	for _, p := range g.Phrases {
		if p.Key == "" {
			return nil, signoff.Errorf(signoff.ErrInvalid, "bad_grammar", "a phrase has no key")
		}
		if len(p.Say) == 0 {
			return nil, signoff.Errorf(signoff.ErrInvalid, "bad_grammar", "phrase %q has nothing to say", p.Key)
		}
		for _, s := range p.Say {
			fs := strings.Fields(strings.ToLower(s))
			if len(fs) == 0 {
				return nil, signoff.Errorf(signoff.ErrInvalid, "bad_grammar", "phrase %q has an empty way of saying it", p.Key)
			}
			for _, w := range fs {
				if !isWord(w) {
					return nil, signoff.Errorf(signoff.ErrInvalid, "bad_word", "phrase %q: %q is not a word (letters and apostrophes only)", p.Key, w)
				}
				if !seen[w] {
					seen[w] = true
					c.words = append(c.words, w)
				}
			}
			n := strings.Join(fs, " ")
			switch k, ok := c.keys[n]; {
			case ok && k != p.Key:
				return nil, signoff.Errorf(signoff.ErrInvalid, "ambiguous_grammar", "%q is said for both %q and %q", n, k, p.Key)
			case ok:
				continue
			}
			c.keys[n] = p.Key
			alts = append(alts, n)
		}
	}
	// Sorted, so that the same grammar in another order shares a search.
	slices.Sort(alts)
	// Noise before and after the phrase is heard as noise, as it is by the
	// rejection loop, so that the two differ only over the speech.
	c.jsgf = "#JSGF V1.0;\ngrammar answer;\n<phrase> = " + strings.Join(alts, " | ") +
		";\npublic <answer> = [" + noiseWord + "] <phrase> [" + noiseWord + "];\n"
	return c, nil
}

func isWord(w string) bool {
	for _, r := range w {
		if (r < 'a' || r > 'z') && r != '\'' {
			return false
		}
	}
	return w != "" && w[0] != '\''
}

// garbageJSGF is the rejection grammar for c: one or more of the noise
// words and fillerWords, leaving out the grammar's own words and any word the decoder
// pronounces exactly like one of them ("to" for "two", "know" for "no").
// pron gives the pronunciations of a word, none when it is not in the
// dictionary.
func (c *compiled) garbageJSGF(pron func(string) []string) string {
	own := make(map[string]bool)
	sounds := make(map[string]bool)
	for _, w := range c.words {
		own[w] = true
		for _, p := range pron(w) {
			sounds[p] = true
		}
	}
	alts := slices.Sorted(maps.Keys(noiseWords))
	for _, w := range fillerWords {
		if own[w] {
			continue
		}
		ps := pron(w)
		if len(ps) == 0 || slices.ContainsFunc(ps, func(p string) bool { return sounds[p] }) {
			continue
		}
		alts = append(alts, w)
	}
	// <w> <w>*, not <w>+: sphinxbase compiles a repetition that opens a
	// rule into a link back to the enclosing rule's start, which in a
	// grammar of alternatives lets the loop run into them ("then eight").
	return "#JSGF V1.0;\ngrammar garbage;\n<w> = " + strings.Join(alts, " | ") +
		";\npublic <garbage> = <w> <w>*;\n"
}
