package knowledge

import (
	"regexp"
	"strings"
	"unicode"
)

// Splitter cuts streamed text into sentences and hands each one on as soon
// as it is known to be finished: at the end of the piece holding its end
// mark, or, within a piece, at the first character after the end mark that
// is not a closing quote, a citation such as "[1]" or a space. So in one
// piece "包裹破损请拍照。[2]" is one sentence, and "¥3.50" or "e.g." never end
// one. Use NewSplitter.
type Splitter struct {
	emit     func(string)
	cur      strings.Builder
	word     strings.Builder // the word before a '.'
	ended    bool            // an end mark was seen; closers may follow
	spaced   bool            // a space followed the end mark
	bracket  int             // runes inside a citation bracket after the end mark
	dotMaybe bool            // the end mark was a '.', not yet known to end
	stream   bool            // hand sentences on at the end of a piece
}

// NewSplitter returns a splitter that hands sentences to emit as streamed
// pieces arrive.
func NewSplitter(emit func(string)) *Splitter { return &Splitter{emit: emit, stream: true} }

// abbreviations never end a sentence with their period.
var abbreviations = map[string]bool{
	"e.g": true, "i.e": true, "etc": true, "no": true, "mr": true, "mrs": true, "ms": true, "dr": true,
	"st": true, "rd": true, "approx": true, "vs": true, "art": true, "a.m": true, "p.m": true, "tel": true,
}

// Write feeds the next piece of text. A sentence whose end mark came in this
// piece is handed on at once, without waiting for the next piece (a period
// only once a space followed it, as it may be a decimal point): a citation
// or closing quote that follows then opens the next sentence instead.
func (s *Splitter) Write(text string) {
	for _, r := range text {
		s.rune(r)
	}
	if s.ended && (!s.dotMaybe || s.spaced) && s.bracket == 0 && s.stream {
		s.flush()
	}
}

func (s *Splitter) rune(r rune) {
	if s.ended {
		switch {
		case s.bracket > 0:
			s.cur.WriteRune(r)
			s.bracket++
			if r == ']' || r == '】' || s.bracket > 12 {
				s.bracket = 0
			}
			return
		case r == '[' || r == '【':
			s.cur.WriteRune(r)
			s.bracket = 1
			return
		case isCloser(r):
			s.cur.WriteRune(r)
			return
		case unicode.IsSpace(r) && r != '\n':
			s.spaced = true
			s.cur.WriteRune(r)
			return
		case s.dotMaybe && !s.spaced && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			// "3.5", "www.example": the period was inside a word.
			s.ended, s.dotMaybe = false, false
		default:
			s.flush()
		}
	}
	if r == '\n' {
		s.flush()
		return
	}
	s.cur.WriteRune(r)
	switch {
	case isEndMark(r):
		s.ended, s.spaced, s.dotMaybe = true, false, false
	case r == '.':
		w := strings.ToLower(strings.TrimRight(s.word.String(), "."))
		if !abbreviations[w] {
			s.ended, s.spaced, s.dotMaybe = true, false, true
		}
	}
	if unicode.IsLetter(r) || unicode.IsDigit(r) || (r == '.' && s.word.Len() > 0) {
		s.word.WriteRune(r)
	} else {
		s.word.Reset()
	}
}

func (s *Splitter) flush() {
	text := strings.TrimSpace(s.cur.String())
	s.cur.Reset()
	s.word.Reset()
	s.ended, s.spaced, s.dotMaybe, s.bracket = false, false, false, 0
	if text != "" {
		s.emit(text)
	}
}

// Close hands on what is left as the last sentence.
func (s *Splitter) Close() { s.flush() }

func isEndMark(r rune) bool {
	switch r {
	case '。', '！', '？', '!', '?', '…':
		return true
	}
	return false
}

func isCloser(r rune) bool {
	switch r {
	case '"', '\'', ')', '”', '’', '）', '」', '』', '》':
		return true
	}
	return false
}

// Sentences splits text into sentences as Splitter does.
func Sentences(text string) []string {
	var out []string
	s := &Splitter{emit: func(x string) { out = append(out, x) }}
	s.Write(text)
	s.Close()
	return out
}

var citation = regexp.MustCompile(`\s*[\[【]\s*(\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)\s*[\]】]`)

// StripCitations removes "[k]" markers from text and returns the cited
// numbers in order of first mention.
func StripCitations(text string) (string, []int) {
	var cited []int
	seen := map[int]bool{}
	out := citation.ReplaceAllStringFunc(text, func(m string) string {
		inner := citation.FindStringSubmatch(m)[1]
		for _, f := range strings.FieldsFunc(inner, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == ' ' }) {
			n := 0
			for _, c := range f {
				n = n*10 + int(c-'0')
			}
			if !seen[n] {
				seen[n] = true
				cited = append(cited, n)
			}
		}
		return ""
	})
	return strings.TrimSpace(out), cited
}
