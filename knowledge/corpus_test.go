package knowledge

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
)

// TestEmbeddedCorpus: both locales hold the same documents, at least 12,
// every section opens with a whole sentence and lists ways people ask.
func TestEmbeddedCorpus(t *testing.T) {
	var ids [2][]string
	for i, l := range Locales {
		c, err := Embedded(l)
		if err != nil {
			t.Fatal(err)
		}
		if len(c) < 12 {
			t.Errorf("%s: %d documents, want at least 12", l, len(c))
		}
		for id, d := range c {
			ids[i] = append(ids[i], id)
			if len(d.Questions) < 3 {
				t.Errorf("%s/%s: %d document-wide q: lines, want 3 or more", l, id, len(d.Questions))
			}
			for _, s := range d.Sections {
				first := Sentences(s.Text)
				if len(first) == 0 || len([]rune(first[0])) < 12 {
					t.Errorf("%s/%s %q: no opening sentence that answers alone: %q", l, id, s.Heading, first)
				}
				if len(s.Questions) == 0 {
					t.Errorf("%s/%s %q: no q: line", l, id, s.Heading)
				}
			}
		}
		slices.Sort(ids[i])
	}
	if !slices.Equal(ids[0], ids[1]) {
		t.Errorf("the locales hold different documents:\n%v\n%v", ids[0], ids[1])
	}
}

func TestParseDocument(t *testing.T) {
	d, err := ParseDocument("x", []byte("# Title\n<!-- q: a | b -->\n<!-- a note -->\n\n## One\nFirst line.\n- second line.\n<!-- q: c -->\n## Two\r\nText.\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Title != "Title" || !slices.Equal(d.Questions, []string{"a", "b"}) || len(d.Sections) != 2 ||
		d.Sections[0].Text != "First line. second line." || !slices.Equal(d.Sections[0].Questions, []string{"c"}) ||
		d.Sections[1].Text != "Text." {
		t.Errorf("parsed %+v", d)
	}
	for name, bad := range map[string]string{
		"no title":       "## One\nText.\n",
		"no section":     "# T\n",
		"empty section":  "# T\n## One\n## Two\nText.\n",
		"text outside":   "# T\nText.\n## One\nText.\n",
		"two titles":     "# T\n# U\n## One\nText.\n",
		"deep heading":   "# T\n### One\nText.\n",
		"open comment":   "# T\n<!-- q: a\n## One\nText.\n",
		"not utf-8":      "# T\n## One\n\xff\n",
		"text before":    "Text.\n# T\n## One\nText.\n",
		"too big":        "# T\n## One\n" + strings.Repeat("x", MaxDocumentBytes) + "\n",
		"section before": "## One\nText.\n# T\n",
	} {
		if _, err := ParseDocument("x", []byte(bad)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := ParseDocument("../etc", []byte("# T\n## One\nText.\n")); err == nil {
		t.Error("a bad document name is accepted")
	}
}

// TestOperatorDir: a directory adds and replaces documents; a bad file is
// named and the old index kept.
func TestOperatorDir(t *testing.T) {
	dir := t.TempDir()
	en := filepath.Join(dir, "en")
	if err := os.MkdirAll(en, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(en, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("pets.md", "# Pets\n<!-- q: can the courier bring my parrot -->\n## Live animals\nWe never carry live animals such as parrots or hamsters.\n<!-- q: shipping a hamster -->\n")
	write("station-hours.md", "# Station hours\n## Hours\nThe Harbour Street station is open from 07:00 to 23:00.\n<!-- q: what time does the station close -->\n")
	a := testAnswerer(t, WithDir(dir))
	ask := func(q string) dialog.Answer {
		t.Helper()
		ans, err := a.Answer(t.Context(), dialog.Question{Locale: signoff.LocaleEN, Text: q})
		if err != nil {
			t.Fatal(err)
		}
		return ans
	}
	if ans := ask("do you carry live animals like my hamster"); !slices.Equal(ans.Sources, []string{"pets"}) || !strings.Contains(ans.Text, "live animals") {
		t.Errorf("added document: %+v", ans)
	}
	if ans := ask("when does the station close"); !strings.Contains(ans.Text, "23:00") {
		t.Errorf("replaced document: %+v", ans)
	}
	write("broken.md", "no title here\n")
	err := a.Reload()
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("Reload with a bad file: %v, want an error naming broken", err)
	}
	if ans := ask("do you carry live animals like my hamster"); !slices.Equal(ans.Sources, []string{"pets"}) {
		t.Errorf("after a failed reload the old index is gone: %+v", ans)
	}
	if _, err := NewAnswerer(WithDir(dir)); err == nil {
		t.Error("NewAnswerer accepts a bad file")
	}
}

func TestParseSynonyms(t *testing.T) {
	s, err := ParseSynonyms(signoff.LocaleEN, []byte("# c\nparcel | package | delivery box\n\ncourier|driver\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Apply("My Package in the delivery box, driver!"); got != "my parcel in the parcel, courier!" {
		t.Errorf("Apply = %q", got)
	}
	z, err := ParseSynonyms(signoff.LocaleZH, []byte("拒收 | 拒签\n快递员|快递小哥|小哥\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := z.Apply("快递小哥说我拒签了"); got != "快递员说我拒收了" {
		t.Errorf("Apply = %q", got)
	}
	for _, bad := range []string{"alone\n", "a | b\nc | b\n", "a | a\n"} {
		if _, err := ParseSynonyms(signoff.LocaleEN, []byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
