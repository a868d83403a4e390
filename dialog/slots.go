package dialog

import (
	"strconv"
	"strings"
	"time"

	"github.com/signoff/signoff"
)

// deliveryWindows are the hours (from, to) a courier can come back, local to
// the recipient.
var deliveryWindows = [][2]int{{9, 12}, {14, 18}, {18, 21}}

// Slots returns up to four delivery windows after now, in the delivery's
// time zone: what is left of today (a window that starts at least an hour
// from now), then the next days.
func Slots(d *signoff.Delivery, now time.Time) [][2]time.Time {
	loc := d.Location()
	local := now.In(loc)
	var out [][2]time.Time
	for day := 0; len(out) < 4 && day < 3; day++ {
		y, m, dd := local.AddDate(0, 0, day).Date()
		for _, w := range deliveryWindows {
			start := time.Date(y, m, dd, w[0], 0, 0, 0, loc)
			if start.Before(local.Add(time.Hour)) {
				continue
			}
			out = append(out, [2]time.Time{start, time.Date(y, m, dd, w[1], 0, 0, 0, loc)})
			if len(out) == 4 {
				break
			}
		}
	}
	return out
}

func (t *turn) offerSlots(head string) {
	t.s.SlotOffer = t.s.SlotOffer[:0:0]
	for _, w := range Slots(t.d, t.now) {
		t.s.SlotOffer = append(t.s.SlotOffer, w[0].Format(time.RFC3339)+"/"+w[1].Format(time.RFC3339))
	}
	t.offerWith(t.cat.Text(head), t.slotOptions())
}

func (t *turn) slotOptions() []signoff.Option {
	opts := make([]signoff.Option, 0, len(t.s.SlotOffer)+2)
	for i, s := range t.s.SlotOffer {
		opts = append(opts, signoff.Option{Key: strconv.Itoa(i + 1), Label: t.slotLabel(s)})
	}
	return append(opts,
		signoff.Option{Key: "0", Label: t.cat.Text("menu.0")},
		signoff.Option{Key: "9", Label: t.cat.Text("menu.9")})
}

// slotLabel tells a "start/end" window: "明天 09:00–12:00".
func (t *turn) slotLabel(s string) string {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return s
	}
	start, err1 := time.Parse(time.RFC3339, a)
	end, err2 := time.Parse(time.RFC3339, b)
	if err1 != nil || err2 != nil {
		return s
	}
	loc := t.d.Location()
	start, end = start.In(loc), end.In(loc)
	return t.cat.Text("slot.range", "day", t.cat.Day(start, t.now), "from", start.Format("15:04"), "to", end.Format("15:04"))
}
