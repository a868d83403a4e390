package dialog

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signoff/signoff"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var shanghai = time.FixedZone("CST", 8*3600)

// t0 is when every scripted conversation opens: 10:00 in Shanghai.
var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, shanghai)

func testDelivery(locale signoff.Locale) signoff.Delivery {
	return signoff.Delivery{
		ID:        "D-1001",
		Recipient: signoff.Recipient{Name: "王芳", Phone: "13912345678", Locale: locale, TimeZone: "Asia/Shanghai"},
		Courier:   signoff.Courier{ID: "C-7", Name: "李师傅", Phone: "13800001111"},
		Address:   "幸福路 8 号 3 单元 502",
		ETA:       t0.Add(90 * time.Minute),
		Status:    signoff.StatusOutForDelivery,
		PickupStation: &signoff.Station{
			Name: "幸福路菜鸟驿站", Address: "幸福路 10 号", Hours: "08:00–21:00",
		},
		LastLocation: "幸福路营业部",
		AsOf:         t0.Add(-10 * time.Minute),
		Version:      1,
	}
}

// step is one scripted thing that happens to a conversation.
type step struct {
	after time.Duration // since t0
	text  string        // a recipient's reply, when not empty
	ch    signoff.Channel
	tick  bool                                  // the session's timer fires
	event signoff.EventType                     // an order event, when not empty
	facts func(d *signoff.Delivery)             // what the event changes
	check func(t *testing.T, s signoff.Session) // an assertion after the step
}

func say(after time.Duration, text string) step { return step{after: after, text: text} }
func tick(after time.Duration) step             { return step{after: after, tick: true} }
func event(after time.Duration, ev signoff.EventType, f func(d *signoff.Delivery)) step {
	return step{after: after, event: ev, facts: f}
}

func wantState(st signoff.State, o signoff.Outcome) func(*testing.T, signoff.Session) {
	return func(t *testing.T, s signoff.Session) {
		t.Helper()
		if s.State != st || s.Outcome != o {
			t.Errorf("state %s outcome %q, want %s %q", s.State, s.Outcome, st, o)
		}
	}
}

// play runs a script through Open, Step and Update and renders the
// transcript with the state after every step.
func play(t *testing.T, cfg Config, d signoff.Delivery, script []step) (string, signoff.Session) {
	t.Helper()
	s, _ := Open(cfg, d, "s_test", HashToken("tok"), t0)
	var b strings.Builder
	seen := 0
	render := func(s signoff.Session) {
		for _, m := range s.Transcript[seen:] {
			who := string(m.From)
			if m.Channel != "" {
				who += "(" + string(m.Channel) + ")"
			}
			fmt.Fprintf(&b, "[%s] %s: %s\n", m.At.In(shanghai).Format("15:04:05"), who, m.Text)
			if len(m.Options) > 0 {
				var opts []string
				for _, o := range m.Options {
					opts = append(opts, o.Key+" "+o.Label)
				}
				fmt.Fprintf(&b, "           options: %s\n", strings.Join(opts, " | "))
			}
		}
		seen = len(s.Transcript)
		fmt.Fprintf(&b, "           -- state=%s outcome=%s", s.State, s.Outcome)
		if s.Slot != "" {
			fmt.Fprintf(&b, " slot=%s", s.Slot)
		}
		if !s.Deadline.IsZero() {
			fmt.Fprintf(&b, " timer=%s", s.Deadline.In(shanghai).Format("15:04:05"))
		}
		if s.Consent != nil {
			fmt.Fprintf(&b, " consent=%q/%s", s.Consent.Text, s.Consent.Channel)
		}
		b.WriteString("\n")
	}
	render(s)
	for _, st := range script {
		now := t0.Add(st.after)
		var acts []signoff.Action
		switch {
		case st.tick:
			if s.Deadline.IsZero() {
				t.Fatalf("script ticks at +%v but no timer is pending", st.after)
			}
			s, acts = Step(cfg, s, d, signoff.Input{Kind: signoff.InputTimeout, At: now})
		case st.event != "":
			before := d
			if st.facts != nil {
				st.facts(&d)
			}
			s, acts = Update(cfg, s, before, d, st.event, now)
			fmt.Fprintf(&b, "[%s] (order event %s)\n", now.Format("15:04:05"), st.event)
		default:
			ch := st.ch
			if ch == "" {
				ch = signoff.ChannelChat
			}
			s, acts = Step(cfg, s, d, signoff.Input{Kind: signoff.InputText, Text: st.text, Channel: ch, At: now})
		}
		render(s)
		for _, a := range acts {
			if a.Kind != signoff.ActSay {
				fmt.Fprintf(&b, "           action: %s %s%s\n", a.Kind, a.Outcome, a.Reason)
			}
		}
		if st.check != nil {
			st.check(t, s)
		}
	}
	return b.String(), s
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./dialog -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("transcript differs from %s (go test ./dialog -run %s -update rewrites it):\n--- got\n%s\n--- want\n%s", path, t.Name(), got, want)
	}
}

func TestConversations(t *testing.T) {
	minute := time.Minute
	delivered := func(d *signoff.Delivery) { d.Status = signoff.StatusDelivered; d.AsOf = d.AsOf.Add(3 * time.Hour) }
	tests := []struct {
		name   string
		locale signoff.Locale
		value  int64
		script []step
		final  func(*testing.T, signoff.Session)
	}{
		{
			name: "zh_door_with_questions", locale: signoff.LocaleZH,
			script: []step{
				say(1*minute, "快递到哪了？"),
				say(2*minute, "两"),
				{after: 2 * minute, text: "谢谢", check: wantState(signoff.StateArranged, signoff.OutcomeLeaveAtDoor)},
				event(50*minute, signoff.EventUpdated, func(d *signoff.Delivery) { d.ETA = d.ETA.Add(40 * time.Minute) }),
				say(51*minute, "什么时候到"),
				event(130*minute, signoff.EventDelivered, delivered),
				{after: 135 * minute, text: "收到了", check: wantState(signoff.StateSigned, signoff.OutcomeLeaveAtDoor)},
				say(136*minute, "1"),
			},
			final: wantState(signoff.StateSigned, signoff.OutcomeLeaveAtDoor),
		},
		{
			name: "en_correction_and_locker", locale: signoff.LocaleEN,
			script: []step{
				say(1*minute, "where is my parcel"),
				say(2*minute, "leave it at the door"),
				say(3*minute, "no wait, the locker"),
				say(4*minute, "who is delivering"),
				say(5*minute, "what's the courier's phone number"),
				event(60*minute, signoff.EventDelivered, delivered),
				say(61*minute, "yes"),
			},
			final: wantState(signoff.StateSigned, signoff.OutcomeLocker),
		},
		{
			name: "zh_high_value", locale: signoff.LocaleZH, value: 880_000,
			script: []step{
				say(1*minute, "2"),
				say(2*minute, "放快递柜"),
				say(3*minute, "那放驿站吧"),
				say(4*minute, "驿站几点关门？"),
			},
			final: wantState(signoff.StateArranged, signoff.OutcomePickupStation),
		},
		{
			name: "en_high_value", locale: signoff.LocaleEN, value: 880_000,
			script: []step{
				say(1*minute, "two"),
				say(2*minute, "deliver now"),
				event(30*minute, signoff.EventArriving, func(d *signoff.Delivery) { d.Status = signoff.StatusArriving }),
				event(40*minute, signoff.EventDelivered, delivered),
				say(41*minute, "thanks"),
			},
			final: wantState(signoff.StateSigned, signoff.OutcomeDeliverNow),
		},
		{
			name: "zh_handoff_unclaimed", locale: signoff.LocaleZH,
			script: []step{
				say(1*minute, "转人工"),
				say(2*minute, "有人吗"),
				tick(6 * minute),
				say(7*minute, "１"),
			},
			final: wantState(signoff.StateArranged, signoff.OutcomeDeliverNow),
		},
		{
			name: "en_reschedule", locale: signoff.LocaleEN,
			script: []step{
				say(1*minute, "5"),
				say(2*minute, "when will it arrive?"),
				say(3*minute, "7"),
				say(4*minute, "the second one"),
				say(10*minute, "press 5"),
				say(11*minute, "no"),
			},
			final: wantState(signoff.StateArranged, signoff.OutcomeReschedule),
		},
		{
			name: "zh_reschedule_change_mind", locale: signoff.LocaleZH,
			script: []step{
				say(1*minute, "改约时间"),
				say(2*minute, "9"),
				say(3*minute, "算了，放驿站"),
			},
			final: wantState(signoff.StateArranged, signoff.OutcomePickupStation),
		},
		{
			name: "zh_timeouts", locale: signoff.LocaleZH,
			script: []step{
				tick(3 * minute),
				tick(6 * minute),
				tick(9 * minute),
				tick(14 * minute),
			},
			final: wantState(signoff.StateAwaitingChoice, signoff.OutcomeNone),
		},
		{
			name: "en_unclear_ambiguous_negated", locale: signoff.LocaleEN,
			script: []step{
				say(1*minute, "hmm"),
				say(2*minute, "2 or 3"),
				say(3*minute, "don't leave it at the door"),
				say(4*minute, "🤔"),
				say(5*minute, "3"),
			},
			final: wantState(signoff.StateArranged, signoff.OutcomePickupStation),
		},
		{
			name: "zh_negation_and_repeat", locale: signoff.LocaleZH,
			script: []step{
				say(1*minute, "不要放门口"),
				say(2*minute, "重听"),
				say(3*minute, "2号还是3号"),
				say(4*minute, "不对，放门口"),
				{after: 5 * minute, text: "第三个", ch: signoff.ChannelDTMF},
			},
			final: wantState(signoff.StateArranged, signoff.OutcomePickupStation),
		},
		{
			name: "en_voice_read_back", locale: signoff.LocaleEN,
			script: []step{
				{after: 1 * minute, text: "banana", ch: signoff.ChannelVoice},
				{after: 2 * minute, text: "two", ch: signoff.ChannelVoice, check: wantState(signoff.StateConfirming, signoff.OutcomeNone)},
				{after: 2 * minute, text: "no", ch: signoff.ChannelVoice, check: wantState(signoff.StateAwaitingChoice, signoff.OutcomeNone)},
				{after: 3 * minute, text: "three", ch: signoff.ChannelVoice},
				{after: 3 * minute, text: "yes", ch: signoff.ChannelVoice, check: wantState(signoff.StateArranged, signoff.OutcomePickupStation)},
				{after: 4 * minute, text: "4", ch: signoff.ChannelDTMF, check: wantState(signoff.StateArranged, signoff.OutcomeLocker)},
				{after: 5 * minute, text: "one", ch: signoff.ChannelVoice},
				{after: 5 * minute, text: "1", ch: signoff.ChannelDTMF},
			},
			final: wantState(signoff.StateArranged, signoff.OutcomeDeliverNow),
		},
		{
			name: "zh_voice_read_back", locale: signoff.LocaleZH,
			script: []step{
				{after: 1 * minute, text: "放门口", ch: signoff.ChannelVoice},
				{after: 2 * minute, text: "不对", ch: signoff.ChannelVoice},
				{after: 3 * minute, text: "放驿站", ch: signoff.ChannelVoice},
				{after: 3 * minute, text: "对", ch: signoff.ChannelVoice},
			},
			final: wantState(signoff.StateArranged, signoff.OutcomePickupStation),
		},
		{
			name: "zh_failed", locale: signoff.LocaleZH,
			script: []step{
				say(1*minute, "1"),
				event(30*minute, signoff.EventFailed, func(d *signoff.Delivery) {
					d.Status, d.FailureReason = signoff.StatusFailed, "地址无法进入"
				}),
				say(31*minute, "怎么回事"),
			},
			final: wantState(signoff.StateFailed, signoff.OutcomeDeliverNow),
		},
		{
			name: "en_missing_parcel", locale: signoff.LocaleEN,
			script: []step{
				say(1*minute, "video call"),
				event(20*minute, signoff.EventDelivered, delivered),
				say(21*minute, "2"),
				{after: 22 * minute, text: "hello?", check: wantState(signoff.StateHandoff, signoff.OutcomeHandoff)},
				tick(27 * minute),
			},
			final: wantState(signoff.StateAwaitingReceipt, signoff.OutcomeNone),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testDelivery(tt.locale)
			d.DeclaredValueCents = tt.value
			got, s := play(t, Config{}, d, tt.script)
			tt.final(t, s)
			golden(t, tt.name, got)
		})
	}
}

// TestNoGuessOnAmbiguity: a reply that fits two options never records one.
func TestNoGuessOnAmbiguity(t *testing.T) {
	for _, text := range []string{"2 3", "门口或者驿站", "2或3", "1 or 2"} {
		d := testDelivery(signoff.LocaleZH)
		s, _ := Open(Config{}, d, "s", "", t0)
		s, acts := Step(Config{}, s, d, signoff.Input{Kind: signoff.InputText, Text: text, Channel: signoff.ChannelChat, At: t0})
		if s.Outcome != signoff.OutcomeNone {
			t.Errorf("%q recorded %s, want no outcome", text, s.Outcome)
		}
		for _, a := range acts {
			if a.Kind == signoff.ActRecord {
				t.Errorf("%q: an outcome was recorded", text)
			}
		}
	}
}

// TestConsentEvidence: outcomes that leave the courier's hands carry the
// recipient's exact words and channel.
func TestConsentEvidence(t *testing.T) {
	d := testDelivery(signoff.LocaleZH)
	s, _ := Open(Config{}, d, "s", "", t0)
	at := t0.Add(time.Minute)
	s, _ = Step(Config{}, s, d, signoff.Input{Kind: signoff.InputText, Text: "按２", Channel: signoff.ChannelDTMF, At: at})
	want := signoff.Consent{Text: "按２", Channel: signoff.ChannelDTMF, Offer: "2", At: at}
	if s.Consent == nil || *s.Consent != want {
		t.Fatalf("consent %+v, want %+v", s.Consent, want)
	}
}

// TestStaleTimer: a timer that fires after the session moved on does nothing.
func TestStaleTimer(t *testing.T) {
	d := testDelivery(signoff.LocaleZH)
	s, _ := Open(Config{}, d, "s", "", t0)
	s2, acts := Step(Config{}, s, d, signoff.Input{Kind: signoff.InputTimeout, At: t0.Add(time.Minute)})
	if len(acts) != 0 || len(s2.Transcript) != len(s.Transcript) {
		t.Errorf("early timer acted: %v", acts)
	}
	s3, _ := Step(Config{}, s, d, signoff.Input{Kind: signoff.InputText, Text: "1", Channel: signoff.ChannelChat, At: t0.Add(time.Minute)})
	if !s3.Deadline.IsZero() {
		t.Fatalf("arranged session still has a timer at %v", s3.Deadline)
	}
	s4, acts := Step(Config{}, s3, d, signoff.Input{Kind: signoff.InputTimeout, At: t0.Add(time.Hour)})
	if len(acts) != 0 || len(s4.Transcript) != len(s3.Transcript) {
		t.Errorf("timer fired on an arranged session: %v", acts)
	}
}

// TestStepDoesNotAlias: Step must not write into the caller's transcript.
func TestStepDoesNotAlias(t *testing.T) {
	d := testDelivery(signoff.LocaleZH)
	s, _ := Open(Config{}, d, "s", "", t0)
	s.Transcript = append(make([]signoff.Message, 0, 64), s.Transcript...)
	n := len(s.Transcript)
	a, _ := Step(Config{}, s, d, signoff.Input{Kind: signoff.InputText, Text: "1", Channel: signoff.ChannelChat, At: t0})
	b, _ := Step(Config{}, s, d, signoff.Input{Kind: signoff.InputText, Text: "3", Channel: signoff.ChannelChat, At: t0})
	if len(s.Transcript) != n || a.Transcript[n].Text != "1" || b.Transcript[n].Text != "3" {
		t.Errorf("transcripts alias: %q %q", a.Transcript[n].Text, b.Transcript[n].Text)
	}
}

func TestSlots(t *testing.T) {
	d := testDelivery(signoff.LocaleZH)
	tests := []struct {
		now   time.Time
		first string
	}{
		{time.Date(2026, 11, 25, 7, 0, 0, 0, shanghai), "2026-11-25T09:00:00+08:00"},
		{time.Date(2026, 11, 25, 8, 30, 0, 0, shanghai), "2026-11-25T14:00:00+08:00"},
		{time.Date(2026, 11, 25, 17, 30, 0, 0, shanghai), "2026-11-26T09:00:00+08:00"},
		{time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC), "2026-11-26T09:00:00+08:00"},
	}
	for _, tt := range tests {
		got := Slots(&d, tt.now)
		if len(got) != 4 {
			t.Errorf("Slots(%v) gave %d windows, want 4", tt.now, len(got))
			continue
		}
		if f := got[0][0].Format(time.RFC3339); f != tt.first {
			t.Errorf("Slots(%v)[0] = %s, want %s", tt.now, f, tt.first)
		}
	}
}
