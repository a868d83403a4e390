package dialog

import (
	"testing"
	"time"

	"github.com/signoff/signoff"
)

func videoSay(t *testing.T, s signoff.Session, d signoff.Delivery, at time.Duration, text string) (signoff.Session, []signoff.Action) {
	t.Helper()
	return Step(Config{}, s, d, signoff.Input{Kind: signoff.InputText, Text: text, Channel: signoff.ChannelChat, At: t0.Add(at)})
}

func hasAct(acts []signoff.Action, k signoff.ActionKind) bool {
	for _, a := range acts {
		if a.Kind == k {
			return true
		}
	}
	return false
}

func keys(opts []signoff.Option) string {
	var b []byte
	for _, o := range opts {
		b = append(b, o.Key...)
	}
	return string(b)
}

// TestVideoEscalation walks the video states: 6 rings the courier, the
// answer offers 1 确认收货 / 2 有问题, and 1 after the call is the consent of
// outcome video.
func TestVideoEscalation(t *testing.T) {
	d := testDelivery(signoff.LocaleZH)
	s, _ := Open(Config{}, d, "s_v", HashToken("tok"), t0)
	s, acts := videoSay(t, s, d, time.Minute, "6")
	if s.State != signoff.StateVideo || !hasAct(acts, signoff.ActVideo) || s.Outcome != signoff.OutcomeNone {
		t.Fatalf("after 6: %s %q %v, want video, no outcome, ActVideo", s.State, s.Outcome, acts)
	}
	if want := t0.Add(time.Minute + time.Minute); !s.Deadline.Equal(want) {
		t.Errorf("ring deadline %v, want %v (60 s default)", s.Deadline, want)
	}
	// While it rings, a 1 is not a verdict.
	s, acts = videoSay(t, s, d, 70*time.Second, "1")
	if s.State != signoff.StateVideo || hasAct(acts, signoff.ActRecord) {
		t.Fatalf("1 while ringing: %s %v", s.State, acts)
	}
	// A second start while ringing changes nothing.
	if s2, _ := VideoStep(Config{}, s, d, VideoStart, t0.Add(75*time.Second)); len(s2.Transcript) != len(s.Transcript) {
		t.Error("a second start while ringing said something")
	}
	s, _ = VideoStep(Config{}, s, d, VideoAnswered, t0.Add(80*time.Second))
	if !s.Deadline.IsZero() || keys(s.Offered) != "1209" {
		t.Fatalf("answered: deadline %v offered %q, want no timer and 1 2 0 9", s.Deadline, keys(s.Offered))
	}
	s, _ = VideoStep(Config{}, s, d, VideoEnded, t0.Add(5*time.Minute))
	if s.State != signoff.StateVideo || s.Deadline.IsZero() {
		t.Fatalf("ended: %s deadline %v, want video with a reply timer", s.State, s.Deadline)
	}
	s, acts = videoSay(t, s, d, 6*time.Minute, "1 确认收货")
	if s.State != signoff.StateSigned || s.Outcome != signoff.OutcomeVideo || s.Consent == nil || s.Consent.Text != "1 确认收货" ||
		!hasAct(acts, signoff.ActRecord) {
		t.Fatalf("verdict: %s %q %+v %v", s.State, s.Outcome, s.Consent, acts)
	}
}

// TestVideoProblem: 2 after the call hands the recipient to a person.
func TestVideoProblem(t *testing.T) {
	d := testDelivery(signoff.LocaleEN)
	s, _ := Open(Config{}, d, "s_v", HashToken("tok"), t0)
	s, _ = videoSay(t, s, d, time.Minute, "video call")
	s, _ = VideoStep(Config{}, s, d, VideoAnswered, t0.Add(2*time.Minute))
	s, acts := videoSay(t, s, d, 3*time.Minute, "2")
	if s.State != signoff.StateHandoff || s.HandoffReason != ReasonVideo || !hasAct(acts, signoff.ActHandoff) {
		t.Fatalf("2: %s %s %v, want handoff %s", s.State, s.HandoffReason, acts, ReasonVideo)
	}
}

// TestVideoNoAnswerStep: the ring timer tells the recipient and offers the
// menu again.
func TestVideoNoAnswerStep(t *testing.T) {
	d := testDelivery(signoff.LocaleZH)
	cfg := Config{VideoRingTimeout: 3 * time.Second}
	s, _ := Open(cfg, d, "s_v", HashToken("tok"), t0)
	s, _ = Step(cfg, s, d, signoff.Input{Kind: signoff.InputText, Text: "视频", Channel: signoff.ChannelChat, At: t0})
	if !s.Deadline.Equal(t0.Add(3 * time.Second)) {
		t.Fatalf("deadline %v, want +3s", s.Deadline)
	}
	s, _ = Step(cfg, s, d, signoff.Input{Kind: signoff.InputTimeout, At: t0.Add(3 * time.Second)})
	if s.State != signoff.StateAwaitingChoice || keys(s.Offered) != keys(Menu(cfg, s.Locale, &d)) {
		t.Fatalf("after the ring: %s offered %q, want the menu", s.State, keys(s.Offered))
	}
	if s.Transcript[len(s.Transcript)-1].Text == "" || s.Deadline.IsZero() {
		t.Error("the recipient was not told, or no reply timer runs")
	}
}

// TestVideoRequired: a high-value parcel that needs a signature offers
// 6 视频验货 on the receipt question, and 6 rings the courier.
func TestVideoRequired(t *testing.T) {
	d := testDelivery(signoff.LocaleZH)
	d.DeclaredValueCents, d.RequiresSignature = 900_00, true
	s, _ := Open(Config{}, d, "s_v", HashToken("tok"), t0)
	before := d
	d.Status = signoff.StatusDelivered
	s, _ = Update(Config{}, s, before, d, signoff.EventDelivered, t0.Add(time.Minute))
	if keys(s.Offered) != "12609" {
		t.Fatalf("receipt offers %q, want 1 2 6 0 9", keys(s.Offered))
	}
	s, acts := videoSay(t, s, d, 2*time.Minute, "6")
	if s.State != signoff.StateVideo || !hasAct(acts, signoff.ActVideo) {
		t.Fatalf("6 on the receipt: %s %v", s.State, acts)
	}
	plain := testDelivery(signoff.LocaleZH)
	plain.Status = signoff.StatusDelivered
	if VideoRequired(Config{}, plain) {
		t.Error("an ordinary parcel requires video")
	}
}
