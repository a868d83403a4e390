package knowledge

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/signoff/signoff"
)

//go:embed corpus
var corpusFS embed.FS

// Document is one help-centre page: a title and sections, each of which
// opens with a sentence that answers on its own.
type Document struct {
	ID        string // the file name without .md: "damaged-parcel"
	Title     string
	Questions []string // from <!-- q: ... --> lines before the first section
	Sections  []Section
}

// Section is one passage of a document.
type Section struct {
	Heading   string
	Text      string   // the prose, lines joined
	Questions []string // ways people ask for this section
}

// MaxDocumentBytes bounds one document file.
const MaxDocumentBytes = 256 << 10

var docName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ParseDocument reads a document in the corpus's Markdown: a "# Title" line,
// optional "<!-- q: a | b -->" lines, then "## Heading" sections of prose,
// each with optional q lines of its own. A document without a heading or
// with an empty section is an error naming the line.
func ParseDocument(id string, data []byte) (Document, error) {
	d := Document{ID: id}
	if !docName.MatchString(id) {
		return d, fmt.Errorf("document name %q: use lower-case letters, digits, '-', '_' and '.'", id)
	}
	if len(data) > MaxDocumentBytes {
		return d, fmt.Errorf("%s: %d bytes, more than %d", id, len(data), MaxDocumentBytes)
	}
	if !utf8.Valid(data) {
		return d, fmt.Errorf("%s: not UTF-8", id)
	}
	var cur *Section
	var prose []string
	flush := func(line int) error {
		if cur == nil {
			return nil
		}
		cur.Text = strings.Join(prose, " ")
		prose = nil
		if cur.Text == "" {
			return fmt.Errorf("%s:%d: section %q has no text", id, line, cur.Heading)
		}
		return nil
	}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i, raw := range lines {
		n := i + 1
		line := strings.TrimSpace(raw)
		switch {
		case line == "":
		case strings.HasPrefix(line, "<!--"):
			body, ok := strings.CutSuffix(strings.TrimPrefix(line, "<!--"), "-->")
			if !ok {
				return d, fmt.Errorf("%s:%d: a comment must close on its line", id, n)
			}
			q, ok := strings.CutPrefix(strings.TrimSpace(body), "q:")
			if !ok {
				continue // another comment
			}
			qs := splitQuestions(q)
			if cur != nil {
				cur.Questions = append(cur.Questions, qs...)
			} else {
				d.Questions = append(d.Questions, qs...)
			}
		case strings.HasPrefix(line, "## "):
			if d.Title == "" {
				return d, fmt.Errorf("%s:%d: a section before the \"# \" title", id, n)
			}
			if err := flush(n); err != nil {
				return d, err
			}
			d.Sections = append(d.Sections, Section{Heading: strings.TrimSpace(line[3:])})
			cur = &d.Sections[len(d.Sections)-1]
		case strings.HasPrefix(line, "# "):
			if d.Title != "" {
				return d, fmt.Errorf("%s:%d: a second \"# \" title", id, n)
			}
			d.Title = strings.TrimSpace(line[2:])
		case strings.HasPrefix(line, "#"):
			return d, fmt.Errorf("%s:%d: only \"# \" and \"## \" headings are read", id, n)
		default:
			if cur == nil {
				if d.Title == "" {
					return d, fmt.Errorf("%s:%d: text before the \"# \" title", id, n)
				}
				return d, fmt.Errorf("%s:%d: text outside a \"## \" section", id, n)
			}
			prose = append(prose, strings.TrimLeft(line, "-* "))
		}
	}
	if d.Title == "" {
		return d, fmt.Errorf("%s: no \"# \" title", id)
	}
	if err := flush(len(lines)); err != nil {
		return d, err
	}
	if len(d.Sections) == 0 {
		return d, fmt.Errorf("%s: no \"## \" section", id)
	}
	return d, nil
}

func splitQuestions(s string) []string {
	var out []string
	for _, q := range strings.Split(s, "|") {
		if q = strings.TrimSpace(q); q != "" {
			out = append(out, q)
		}
	}
	return out
}

// Corpus is the documents of one locale, by ID.
type Corpus map[string]Document

// Embedded returns the help centre built into the binary for locale l.
func Embedded(l signoff.Locale) (Corpus, error) {
	sub, err := fs.Sub(corpusFS, "corpus/"+string(l))
	if err != nil {
		return nil, err
	}
	return readCorpus(sub, Corpus{})
}

// AddDir adds the documents of dir (its *.md files) to c, replacing those of
// the same name. A missing dir adds nothing; a bad file is an error that
// names it, and c is then unchanged.
func (c Corpus) AddDir(dir string) (Corpus, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	next := make(Corpus, len(c))
	for k, v := range c {
		next[k] = v
	}
	out, err := readCorpus(os.DirFS(dir), next)
	if err != nil {
		return c, fmt.Errorf("%s: %w", dir, err)
	}
	return out, nil
}

func readCorpus(fsys fs.FS, c Corpus) (Corpus, error) {
	names, err := fs.Glob(fsys, "*.md")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		d, err := ParseDocument(strings.TrimSuffix(filepath.Base(name), ".md"), b)
		if err != nil {
			return nil, err
		}
		c[d.ID] = d
	}
	return c, nil
}
