package sms

import (
	"strings"
	"unicode/utf8"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/prompts"
)

// Render returns line seq of a conversation about d as one text message. The
// greeting (the bot's first line) is the short SMS greeting (sms.greet); the
// options of the main menu take their short SMS labels (sms.option.*), so
// that a Chinese greeting with its menu fits one 70-character segment and an
// English one a 160-character GSM segment. Other lines keep their text.
func Render(d signoff.Delivery, seq int, m signoff.Message) string {
	cat := prompts.For(signoff.ParseLocale(string(d.Recipient.Locale)))
	text := m.Text
	if seq == 0 && m.From == signoff.FromBot {
		eta := ""
		if !d.ETA.IsZero() {
			eta = cat.Text("sms.greet.eta", "eta", cat.When(d.ETA.In(d.Location()), m.At))
		}
		text = cat.Text("sms.greet", "eta", eta)
	}
	if len(m.Options) == 0 {
		return text
	}
	var b strings.Builder
	b.WriteString(text)
	for i, o := range m.Options {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteString(cat.Text("sms.option.sep"))
		}
		label := o.Label
		if cat.Has("sms.option."+o.Key) && label == cat.Text("menu."+o.Key) {
			label = cat.Text("sms.option." + o.Key)
		}
		b.WriteString(o.Key)
		if signoff.ParseLocale(string(d.Recipient.Locale)) == signoff.LocaleEN {
			b.WriteByte(' ')
		}
		b.WriteString(label)
	}
	return b.String()
}

// Segments returns how many SMS segments text takes and whether it must be
// sent as UCS-2: 160 GSM-7 characters (70 UCS-2) in one segment, 153 (67)
// each when split.
func Segments(text string) (n int, ucs2 bool) {
	units := 0
	for _, r := range text {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			units++
		case strings.ContainsRune(gsmExtended, r):
			units += 2
		default:
			ucs2 = true
		}
	}
	if ucs2 {
		units = 0
		for _, r := range text {
			units += utf8.RuneLen(r) / 4 // a rune beyond the BMP is a surrogate pair
			units++
		}
	}
	one, each := 160, 153
	if ucs2 {
		one, each = 70, 67
	}
	switch {
	case units == 0:
		return 0, ucs2
	case units <= one:
		return 1, ucs2
	}
	return (units + each - 1) / each, ucs2
}

// The GSM 03.38 default alphabet and its extension table.
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtended = "^{}\\[~]|€\f"
)
