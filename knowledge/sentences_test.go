package knowledge

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestSentences(t *testing.T) {
	for in, want := range map[string][]string{
		"It costs ¥3.50 a day. Reply 0 for a person.":   {"It costs ¥3.50 a day.", "Reply 0 for a person."},
		"Bring ID, e.g. your ID card. Then sign.":       {"Bring ID, e.g. your ID card.", "Then sign."},
		"请拍照。[2]回复0转人工！还有问题吗？":                          {"请拍照。[2]", "回复0转人工！", "还有问题吗？"},
		"He said “OK.” Then left.":                      {"He said “OK.”", "Then left."},
		"Open 08:00-21:00 [1]. See www.example.com now": {"Open 08:00-21:00 [1].", "See www.example.com now"},
		"Line one\nLine two.":                           {"Line one", "Line two."},
		"See art. 28 of the rules.":                     {"See art. 28 of the rules."},
		"":                                              nil,
		"Done. [1, 2] Next?":                            {"Done. [1, 2]", "Next?"},
	} {
		if got := Sentences(in); !slices.Equal(got, want) {
			t.Errorf("Sentences(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStripCitations(t *testing.T) {
	text, cited := StripCitations("Report it within 48 hours [2]. Reply 0 [1,2]。【3】")
	if text != "Report it within 48 hours. Reply 0。" || !slices.Equal(cited, []int{2, 1, 3}) {
		t.Errorf("StripCitations = %q %v", text, cited)
	}
}

func noSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// FuzzSentences: split whole or streamed in any pieces, no sentence is
// empty and together they hold every non-space character, in order.
func FuzzSentences(f *testing.F) {
	for _, s := range []string{"It costs ¥3.50. Next!", "请拍照。[2]回复0", "a.b. c", "“OK.” [1] x", "\n\n. . ."} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, text string, step uint8) {
		whole := Sentences(text)
		var streamed []string
		sp := NewSplitter(func(s string) { streamed = append(streamed, s) })
		n := int(step%7) + 1
		r := []rune(text)
		for i := 0; i < len(r); i += n {
			sp.Write(string(r[i:min(i+n, len(r))]))
		}
		sp.Close()
		want := noSpace(string([]rune(text))) // one U+FFFD per bad byte, as ranging gives
		for _, got := range [][]string{whole, streamed} {
			for _, s := range got {
				if strings.TrimSpace(s) == "" {
					t.Fatalf("an empty sentence in %q", got)
				}
			}
			if noSpace(strings.Join(got, "")) != want {
				t.Fatalf("sentences %q lose text of %q", got, text)
			}
		}
		StripCitations(text)
	})
}

// FuzzParseDocument: any input parses or fails cleanly, and a parsed
// document has a title and sections with text.
func FuzzParseDocument(f *testing.F) {
	f.Add([]byte("# T\n<!-- q: a | b -->\n## S\nText. More.\n<!-- q: c -->\n"))
	f.Add([]byte("## S\n# T\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDocument("doc", data)
		if err != nil {
			return
		}
		if d.Title == "" || len(d.Sections) == 0 {
			t.Fatalf("parsed %+v without a title or sections", d)
		}
		for _, s := range d.Sections {
			if s.Text == "" {
				t.Fatalf("an empty section in %+v", d)
			}
		}
	})
}

// FuzzParseSynonyms: any input parses or fails cleanly, and Apply never
// panics.
func FuzzParseSynonyms(f *testing.F) {
	f.Add([]byte("parcel | package\ncourier|driver # c\n"), "my package")
	f.Add([]byte("拒收|拒签\n"), "我拒签")
	f.Fuzz(func(t *testing.T, data []byte, text string) {
		for _, l := range Locales {
			s, err := ParseSynonyms(l, data)
			if err != nil {
				continue
			}
			s.Apply(text)
		}
	})
}
