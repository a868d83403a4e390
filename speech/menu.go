package speech

import (
	"github.com/signoff/signoff"
	"github.com/signoff/signoff/prompts"
)

// digitWords are the English words of the digits, as the recogniser's
// dictionary spells them.
var digitWords = [10]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

// Words that answer a read-back or ask for the menu again or for a person.
// Few on purpose: every word added is one more that off-list speech can be
// mistaken for. Measured with PocketSphinx on espeak-ng's voice, wide and
// through G.711: "oh" for zero took "no", "nope" and "I don't know" (a
// hand-off instead of a no); "again" took "banana"; "human" took "seven";
// "correct", "right" and "wrong" added mistakes and no answers.
var (
	yesWords    = []string{"yes", "yeah"}
	noWords     = []string{"no", "nope"}
	repeatWords = []string{"repeat"}
	personWords = []string{"agent", "operator"}
)

// MenuGrammar is what a recogniser may hear while offered is on offer in a
// conversation held in locale: each offered digit ("two", "number two",
// "option two"), "repeat" for 9 and "agent" or "operator" for 0 at any time,
// and yes or no while a choice is being read back (the offer then holds the
// read-back's yes and no). Phrases report the menu key, or "yes" and "no".
// Calls and voice messages use the same grammar.
func MenuGrammar(offered []signoff.Option, locale signoff.Locale) Grammar {
	cat := prompts.For(locale)
	g := Grammar{Lang: string(cat.Locale)}
	idx := map[string]int{}
	add := func(key string, say ...string) {
		i, ok := idx[key]
		if !ok {
			i = len(g.Phrases)
			idx[key] = i
			g.Phrases = append(g.Phrases, Phrase{Key: key})
		}
		g.Phrases[i].Say = append(g.Phrases[i].Say, say...)
	}
	readBack := 0
	for _, o := range offered {
		if len(o.Key) != 1 || o.Key[0] < '0' || o.Key[0] > '9' {
			continue
		}
		if _, dup := idx[o.Key]; dup {
			continue
		}
		w := digitWords[o.Key[0]-'0']
		add(o.Key, w, "number "+w, "option "+w)
		switch o.Label {
		case cat.Text("readback.yes"), cat.Text("readback.no"):
			readBack++
		}
	}
	add("9", repeatWords...)
	add("0", personWords...)
	if readBack == 2 {
		add("yes", yesWords...)
		add("no", noWords...)
	}
	return g
}
