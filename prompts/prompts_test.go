package prompts

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/signoff/signoff"
)

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// TestKeys keeps the locales in step: the same keys, the same placeholders.
func TestKeys(t *testing.T) {
	zh, en := For(signoff.LocaleZH), For(signoff.LocaleEN)
	if !slices.Equal(zh.Keys(), en.Keys()) {
		for _, k := range zh.Keys() {
			if !en.Has(k) {
				t.Errorf("en lacks %q", k)
			}
		}
		for _, k := range en.Keys() {
			if !zh.Has(k) {
				t.Errorf("zh-CN lacks %q", k)
			}
		}
	}
	for _, k := range zh.Keys() {
		pz := placeholder.FindAllString(zh.texts[k], -1)
		pe := placeholder.FindAllString(en.texts[k], -1)
		slices.Sort(pz)
		slices.Sort(pe)
		if k == "day.date" {
			continue // the languages name months differently
		}
		if !slices.Equal(pz, pe) {
			t.Errorf("%q: zh-CN placeholders %v, en %v", k, pz, pe)
		}
	}
}

func TestText(t *testing.T) {
	c := For(signoff.LocaleZH)
	if got, want := c.Text("answer.when", "eta", "今天 14:30"), "预计今天 14:30送达。"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := c.Text("no.such.key"), "[no.such.key]"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if For("fr") != For(signoff.LocaleZH) || For("en-GB") != For(signoff.LocaleEN) {
		t.Error("For does not fall back by language")
	}
}

func TestWhen(t *testing.T) {
	sh := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 25, 23, 30, 0, 0, time.UTC) // 07:30 on the 26th in Shanghai
	tests := []struct {
		l    signoff.Locale
		t    time.Time
		want string
	}{
		{signoff.LocaleZH, time.Date(2026, 11, 26, 14, 30, 0, 0, sh), "今天 14:30"},
		{signoff.LocaleZH, time.Date(2026, 11, 27, 9, 0, 0, 0, sh), "明天 09:00"},
		{signoff.LocaleZH, time.Date(2026, 12, 3, 9, 0, 0, 0, sh), "12月3日 09:00"},
		{signoff.LocaleEN, time.Date(2026, 11, 26, 14, 30, 0, 0, sh), "today 14:30"},
		{signoff.LocaleEN, time.Date(2026, 11, 27, 9, 0, 0, 0, sh), "tomorrow 09:00"},
		{signoff.LocaleEN, time.Date(2026, 12, 3, 9, 0, 0, 0, sh), "Dec 3 09:00"},
	}
	for _, tt := range tests {
		if got := For(tt.l).When(tt.t, now); got != tt.want {
			t.Errorf("When(%v) in %s = %q, want %q", tt.t, tt.l, got, tt.want)
		}
	}
}
