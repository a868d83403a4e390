package espeak

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// SplitSentences cuts text into sentences, so that a caller can synthesise
// and start playing the first while the rest is still being made. It cuts
// after 。！？； and newlines everywhere, and after . ! ? ; where a space or
// the end of the text follows them, so that "3.5", "9.30" and "example.com"
// stay whole. A sentence keeps its punctuation, including a run of it
// ("Really?!", "真的？！") and closing quotes or brackets ("他说：“好。”");
// whitespace at either end is trimmed and empty sentences are dropped. It
// returns nil for text with nothing but space in it.
func SplitSentences(text string) []string {
	var out []string
	emit := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	start := 0
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == '\n' || r == '\r':
			emit(text[start:i])
			i += n
			start = i
			continue
		case strings.ContainsRune("。！？；.!?;", r):
			// Take the whole run of terminators and closing marks.
			end := i + n
			for end < len(text) {
				r2, n2 := utf8.DecodeRuneInString(text[end:])
				if !strings.ContainsRune("。！？；.!?;", r2) && !closing(r2) {
					break
				}
				end += n2
			}
			if wide(text[i:end]) || end == len(text) || startsWithSpace(text[end:]) {
				emit(text[start:end])
				start = end
			}
			i = end
			continue
		}
		i += n
	}
	emit(text[start:])
	return out
}

// wide reports whether a run of terminators holds a full-width one, which
// ends a sentence with or without a space after it.
func wide(run string) bool {
	return strings.ContainsAny(run, "。！？；")
}

func startsWithSpace(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

// closing reports whether r closes a quotation or bracket, and so belongs to
// the sentence that ends just before it.
func closing(r rune) bool {
	return unicode.Is(unicode.Pe, r) || unicode.Is(unicode.Pf, r) || r == '"' || r == '\''
}
