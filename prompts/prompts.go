package prompts

import (
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/signoff/signoff"
)

//go:embed zh-CN.json en.json
var files embed.FS

// Catalog is the sentences of one locale. A Catalog is immutable and safe for
// concurrent use.
type Catalog struct {
	Locale  signoff.Locale
	Version string
	texts   map[string]string
}

var catalogs = map[signoff.Locale]*Catalog{}

func init() {
	for _, l := range []signoff.Locale{signoff.LocaleZH, signoff.LocaleEN} {
		c, err := load(l)
		if err != nil {
			panic(err) // the files are embedded: a bad one is a build defect
		}
		catalogs[l] = c
	}
}

func load(l signoff.Locale) (*Catalog, error) {
	b, err := files.ReadFile(string(l) + ".json")
	if err != nil {
		return nil, err
	}
	var f struct {
		Version string            `json:"version"`
		Locale  string            `json:"locale"`
		Texts   map[string]string `json:"texts"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("prompts %s: %w", l, err)
	}
	if signoff.Locale(f.Locale) != l || f.Version == "" {
		return nil, fmt.Errorf("prompts %s: locale %q version %q", l, f.Locale, f.Version)
	}
	return &Catalog{Locale: l, Version: f.Version, texts: f.Texts}, nil
}

// For returns the catalog of locale l; any locale that is not English gets
// Chinese.
func For(l signoff.Locale) *Catalog {
	if c, ok := catalogs[l]; ok {
		return c
	}
	return catalogs[signoff.ParseLocale(string(l))]
}

// Text returns the sentence named key with each {name} replaced: kv lists
// name, value pairs. A missing key returns "[key]" so a gap shows in tests
// rather than silence in production; TestKeys keeps both catalogs complete.
func (c *Catalog) Text(key string, kv ...string) string {
	s, ok := c.texts[key]
	if !ok {
		return "[" + key + "]"
	}
	if len(kv) == 0 || !strings.Contains(s, "{") {
		return s
	}
	pairs := make([]string, 0, len(kv))
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, "{"+kv[i]+"}", kv[i+1])
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// Has reports whether the catalog names key.
func (c *Catalog) Has(key string) bool { _, ok := c.texts[key]; return ok }

// Keys returns the catalog's keys, sorted.
func (c *Catalog) Keys() []string {
	keys := make([]string, 0, len(c.texts))
	for k := range c.texts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Day names the calendar day of t relative to now, both read in t's
// location: "今天", "明天", "11月26日"; "today", "tomorrow", "Nov 26".
func (c *Catalog) Day(t, now time.Time) string {
	now = now.In(t.Location())
	ty, tm, td := t.Date()
	ny, nm, nd := now.Date()
	today := time.Date(ny, nm, nd, 0, 0, 0, 0, t.Location())
	day := time.Date(ty, tm, td, 0, 0, 0, 0, t.Location())
	switch int(math.Round(day.Sub(today).Hours() / 24)) {
	case 0:
		return c.Text("day.today")
	case 1:
		return c.Text("day.tomorrow")
	}
	return c.Text("day.date", "month", fmt.Sprint(int(tm)), "day", fmt.Sprint(td), "monthname", tm.String()[:3])
}

// When tells a moment the way people say it: "今天 14:30", "today 14:30".
func (c *Catalog) When(t, now time.Time) string {
	return c.Day(t, now) + " " + t.Format("15:04")
}
