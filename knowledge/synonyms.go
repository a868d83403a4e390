package knowledge

import (
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/signoff/signoff"
)

// Synonyms maps the words people use onto the corpus's own, before
// analysis, for the index and the questions alike: "package" is read as
// "parcel", "拒签" as "拒收".
type Synonyms struct {
	cjk   bool
	words map[string]string // English: a word → its canonical form
	subs  *strings.Replacer // Chinese: substrings, longest first
}

// ParseSynonyms reads synonym groups, one a line: the canonical word, then
// the others, separated by '|'. '#' starts a comment. A word may belong to
// one group only.
func ParseSynonyms(l signoff.Locale, data []byte) (*Synonyms, error) {
	s := &Synonyms{cjk: l != signoff.LocaleEN, words: map[string]string{}}
	var pairs [][2]string
	for i, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var group []string
		for _, w := range strings.Split(line, "|") {
			if w = strings.ToLower(strings.TrimSpace(w)); w != "" {
				group = append(group, w)
			}
		}
		if len(group) < 2 {
			return nil, fmt.Errorf("synonyms line %d: a group needs two words or more", i+1)
		}
		for _, w := range group[1:] {
			if _, dup := s.words[w]; dup || w == group[0] {
				return nil, fmt.Errorf("synonyms line %d: %q is in two groups", i+1, w)
			}
			if !s.cjk && strings.IndexFunc(w, unicode.IsSpace) >= 0 {
				pairs = append(pairs, [2]string{w, group[0]})
			}
			s.words[w] = group[0]
		}
	}
	if s.cjk {
		for w, c := range s.words {
			pairs = append(pairs, [2]string{w, c})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if len(pairs[i][0]) != len(pairs[j][0]) {
			return len(pairs[i][0]) > len(pairs[j][0])
		}
		return pairs[i][0] < pairs[j][0]
	})
	var old []string
	for _, p := range pairs {
		old = append(old, p[0], p[1])
	}
	s.subs = strings.NewReplacer(old...)
	return s, nil
}

// Apply rewrites text with the canonical words.
func (s *Synonyms) Apply(text string) string {
	if s == nil {
		return text
	}
	text = s.subs.Replace(strings.ToLower(text))
	if s.cjk {
		return text
	}
	var b strings.Builder
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := text[start:end]
		if c, ok := s.words[w]; ok {
			w = c
		}
		b.WriteString(w)
		start = -1
	}
	for i, r := range text {
		if unicode.IsLetter(r) || r == '\'' {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		b.WriteRune(r)
	}
	flush(len(text))
	return b.String()
}
