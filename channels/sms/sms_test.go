package sms

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/knowledge"
	"github.com/signoff/signoff/prompts"
)

// TestSignatureDocumented checks Signature against the example Twilio
// publishes for its request validation.
func TestSignatureDocumented(t *testing.T) {
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+14158675309"},
		"Digits":  {"1234"},
		"From":    {"+14158675309"},
		"To":      {"+18005551212"},
	}
	got := Signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params)
	if want := "RSOYDt4T1cUTdK1PDd93/VVr8B8="; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestE164(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"13900001111", "+8613900001111"},
		{"+86 139-0000-1111", "+8613900001111"},
		{"008613900001111", "+8613900001111"},
		{"8613900001111", "+8613900001111"},
		{"+1 (415) 867-5309", "+14158675309"},
		{"call me", ""},
		{"+12", ""},
	} {
		if got := E164(c.in, "86"); got != c.want {
			t.Errorf("E164(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestSignOffBySMS runs a whole sign-off over SMS: the greeting goes out
// through the provider's Messages API, the recipient's texts come in signed
// and are answered in TwiML, and the delivered notice goes out again by SMS.
func TestSignOffBySMS(t *testing.T) {
	r := newRig(t, 1)
	n := r.open("D-sms-1", "139 0000 1111", signoff.LocaleZH, signoff.DeliverySMS)
	if !n.Opened {
		t.Fatal("the opening webhook opened no conversation")
	}
	greet := r.prov.next(t)
	if greet.To != "+8613900001111" || greet.From != testFrom {
		t.Errorf("greeting from %s to %s, want from %s to +8613900001111", greet.From, greet.To, testFrom)
	}
	if !strings.Contains(greet.Body, "1上门签收") || !strings.HasPrefix(greet.Body, "您的快递派送中") {
		t.Errorf("greeting %q is not the SMS greeting with its menu", greet.Body)
	}
	if segs, ucs2 := Segments(greet.Body); segs != 1 || !ucs2 {
		t.Errorf("greeting %q takes %d segments (ucs2 %v), want 1", greet.Body, segs, ucs2)
	}
	if greet.StatusCallback != r.nodes[0].srv.URL+StatusPath {
		t.Errorf("StatusCallback %q, want %q", greet.StatusCallback, r.nodes[0].srv.URL+StatusPath)
	}

	status, body := r.text(0, "+8613900001111", "2", "SM-in-1")
	if status != http.StatusOK {
		t.Fatalf("inbound: status %d, body %s", status, body)
	}
	cat := prompts.For(signoff.LocaleZH)
	if !strings.Contains(body, "<Response><Message>"+cat.Text("chosen.leave_at_door")) {
		t.Errorf("TwiML %s does not carry the confirmation", body)
	}
	_, open, err := r.nodes[0].store.Load(t.Context(), "D-sms-1")
	if err != nil || open == nil {
		t.Fatalf("load: %v, open %v", err, open)
	}
	if open.Outcome != signoff.OutcomeLeaveAtDoor || open.Consent == nil || open.Consent.Channel != signoff.ChannelSMS {
		t.Errorf("outcome %q, consent %+v; want leave_at_door with consent by SMS", open.Outcome, open.Consent)
	}
	// The confirmation went back in the TwiML; it must not go out twice.
	r.prov.quiet(t, 500*time.Millisecond)

	r.notify(0, signoff.OrderEvent{WebhookID: "wh-delivered", Type: signoff.EventDelivered, Timestamp: time.Now(),
		Delivery: signoff.Delivery{ID: "D-sms-1"}, Present: signoff.Fields{}})
	ask := r.prov.next(t)
	if !strings.Contains(ask.Body, "1") || !strings.Contains(ask.Body, "收到了") && !strings.Contains(ask.Body, "回复1") {
		t.Errorf("delivered notice %q does not ask for the receipt", ask.Body)
	}
	status, body = r.text(0, "13900001111", "1", "SM-in-2")
	if status != http.StatusOK || !strings.Contains(body, "<Message>") {
		t.Fatalf("receipt: status %d, body %s", status, body)
	}
	s, _, err := r.nodes[0].store.LoadSession(t.Context(), n.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != signoff.StateSigned {
		t.Errorf("state %s, want signed", s.State)
	}
	eventually(t, "2 sms_sent entries", func() bool { return len(kinds(r.log("D-sms-1"), "sms_sent")) == 2 })
	log := r.log("D-sms-1")
	for _, e := range kinds(log, "reply") {
		if e.Data["channel"] != string(signoff.ChannelSMS) {
			t.Errorf("reply recorded on channel %q, want sms", e.Data["channel"])
		}
	}
	if got := len(r.prov.messages()); got != 2 {
		t.Errorf("the provider got %d messages, want 2 (greeting and delivered notice)", got)
	}
	// Writing after the end: told so, and the conversation is not touched.
	status, body = r.text(0, "+8613900001111", "谢谢", "SM-in-3")
	if status != http.StatusOK || !strings.Contains(body, cat.Text("ended")) {
		t.Errorf("after the end: %d %s, want the ended notice", status, body)
	}
	if s2, _, _ := r.nodes[0].store.LoadSession(t.Context(), n.SessionID); s2.Lines != s.Lines {
		t.Errorf("a text after the end changed the transcript: %d lines, want %d", s2.Lines, s.Lines)
	}
}

// TestInboundRefused: a bad signature, an unknown number and a replayed
// MessageSid get clear answers and change nothing.
func TestInboundRefused(t *testing.T) {
	r := newRig(t, 1)
	n := r.open("D-sms-2", "+8613900002222", signoff.LocaleEN, signoff.DeliverySMS)
	r.prov.next(t)
	eventually(t, "the greeting's sms_sent", func() bool { return len(kinds(r.log("D-sms-2"), "sms_sent")) == 1 })
	lines := func() int {
		s, _, err := r.nodes[0].store.LoadSession(t.Context(), n.SessionID)
		if err != nil {
			t.Fatal(err)
		}
		return s.Lines
	}
	before, logBefore := lines(), len(r.log("D-sms-2"))

	form := url.Values{"From": {"+8613900002222"}, "To": {testFrom}, "Body": {"2"}, "MessageSid": {"SM-bad"}}
	status, body := r.post(0, InboundPath, form, false)
	if status != http.StatusUnauthorized || !strings.Contains(body, `"bad_signature"`) {
		t.Errorf("bad signature: status %d, body %s; want 401 bad_signature", status, body)
	}
	status, body = r.text(0, "+8613999999999", "2", "SM-unknown")
	if status != http.StatusNotFound || !strings.Contains(body, `"unknown_sender"`) {
		t.Errorf("unknown number: status %d, body %s; want 404 unknown_sender", status, body)
	}
	if got := lines(); got != before {
		t.Fatalf("refused texts changed the transcript: %d lines, want %d", got, before)
	}
	if got := len(r.log("D-sms-2")); got != logBefore {
		t.Fatalf("refused texts changed the log: %d entries, want %d", got, logBefore)
	}

	status, first := r.text(0, "+8613900002222", "3", "SM-once")
	if status != http.StatusOK {
		t.Fatalf("first: status %d, body %s", status, first)
	}
	after, logAfter := lines(), len(r.log("D-sms-2"))
	status, again := r.text(0, "+8613900002222", "3", "SM-once")
	if status != http.StatusOK || again != first {
		t.Errorf("replay: status %d, body %s; want 200 and the first answer %s", status, again, first)
	}
	if got := lines(); got != after {
		t.Errorf("replay changed the transcript: %d lines, want %d", got, after)
	}
	if got := len(r.log("D-sms-2")); got != logAfter {
		t.Errorf("replay changed the log: %d entries, want %d", got, logAfter)
	}
	// A web delivery's recipient is not reachable by SMS, even bound.
	r.open("D-web-1", "+8613900003333", signoff.LocaleEN, signoff.DeliveryWeb)
	status, body = r.text(0, "+8613900003333", "1", "SM-web")
	if status != http.StatusNotFound {
		t.Errorf("web delivery by SMS: status %d, body %s; want 404", status, body)
	}
	r.prov.quiet(t, 300*time.Millisecond)
}

// TestStatusCallback records each status of a sent message once.
func TestStatusCallback(t *testing.T) {
	r := newRig(t, 1)
	r.open("D-sms-3", "+8613900004444", signoff.LocaleZH, signoff.DeliverySMS)
	m := r.prov.next(t)
	eventually(t, "the greeting's sms_sent", func() bool { return len(kinds(r.log("D-sms-3"), "sms_sent")) == 1 })
	for range 2 {
		status, body := r.post(0, StatusPath, url.Values{"MessageSid": {m.SID}, "MessageStatus": {"delivered"}, "AccountSid": {testSID}}, true)
		if status != http.StatusNoContent {
			t.Fatalf("status callback: %d %s", status, body)
		}
	}
	status, _ := r.post(0, StatusPath, url.Values{"MessageSid": {m.SID}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30003"}}, true)
	if status != http.StatusNoContent {
		t.Fatalf("status callback: %d", status)
	}
	got := kinds(r.log("D-sms-3"), "sms_status")
	if len(got) != 2 || got[0].Data["status"] != "delivered" || got[1].Data["status"] != "undelivered" || got[1].Data["error_code"] != "30003" {
		t.Errorf("sms_status entries %v, want delivered then undelivered (30003), once each", got)
	}
	status, body := r.post(0, StatusPath, url.Values{"MessageSid": {"SM-nobody"}, "MessageStatus": {"delivered"}}, true)
	if status != http.StatusNotFound || !strings.Contains(body, "unknown_message") {
		t.Errorf("unknown message: %d %s, want 404 unknown_message", status, body)
	}
	status, _ = r.post(0, StatusPath, url.Values{"MessageSid": {m.SID}, "MessageStatus": {"failed"}}, false)
	if status != http.StatusUnauthorized {
		t.Errorf("unsigned status callback: %d, want 401", status)
	}
}

// TestFailedSendRecorded: a refused number is logged once as sms_failed
// with the provider's code; a provider outage is retried until it passes.
func TestFailedSendRecorded(t *testing.T) {
	r := newRig(t, 1)
	r.prov.failNext(http.StatusBadRequest)
	r.open("D-sms-4", "+8613900005555", signoff.LocaleZH, signoff.DeliverySMS)
	eventually(t, "sms_failed", func() bool { return len(kinds(r.log("D-sms-4"), "sms_failed")) == 1 })
	e := kinds(r.log("D-sms-4"), "sms_failed")[0]
	if e.Data["code"] != "twilio_21211" || e.Data["attempts"] != "1" {
		t.Errorf("sms_failed %v, want code twilio_21211 after 1 attempt", e.Data)
	}

	r.prov.failNext(http.StatusServiceUnavailable, http.StatusServiceUnavailable)
	r.open("D-sms-5", "+8613900006666", signoff.LocaleZH, signoff.DeliverySMS)
	r.prov.next(t)
	eventually(t, "sms_sent", func() bool { return len(kinds(r.log("D-sms-5"), "sms_sent")) == 1 })
	if e := kinds(r.log("D-sms-5"), "sms_sent")[0]; e.Data["attempts"] != "3" {
		t.Errorf("sms_sent %v, want 3 attempts", e.Data)
	}
}

// TestLaterLinesOnceAcrossNodes: three nodes watch the same lines; each line
// is sent once.
func TestLaterLinesOnceAcrossNodes(t *testing.T) {
	r := newRig(t, 3)
	const deliveries = 6
	for i := range deliveries {
		id := "D-multi-" + strconv.Itoa(i)
		r.notify(i%3, openEvent(id, "+86139000070"+strconv.Itoa(10+i)))
		eta := time.Now().Add(time.Duration(2+i) * time.Hour)
		r.notify((i+1)%3, signoff.OrderEvent{WebhookID: "wh-eta-" + id, Type: signoff.EventUpdated, Timestamp: time.Now(),
			Delivery: signoff.Delivery{ID: signoff.DeliveryID(id), ETA: eta}, Present: signoff.Fields{knowledge.FieldETA: true}})
	}
	eventually(t, "every greeting and update", func() bool { return len(r.prov.messages()) >= 2*deliveries })
	time.Sleep(500 * time.Millisecond) // room for a line sent twice to show
	msgs := r.prov.messages()
	if len(msgs) != 2*deliveries {
		t.Fatalf("the provider got %d messages, want %d", len(msgs), 2*deliveries)
	}
	per := map[string]int{}
	for _, m := range msgs {
		per[m.To]++
	}
	for to, n := range per {
		if n != 2 {
			t.Errorf("%s got %d messages, want 2", to, n)
		}
	}
	for i := range deliveries {
		id := "D-multi-" + strconv.Itoa(i)
		eventually(t, id+"'s 2 sms_sent entries", func() bool { return len(kinds(r.log(id), "sms_sent")) >= 2 })
		if got := len(kinds(r.log(id), "sms_sent")); got != 2 {
			t.Errorf("%s: %d sms_sent entries, want 2", id, got)
		}
	}
}

func openEvent(id, phone string) signoff.OrderEvent {
	return signoff.OrderEvent{WebhookID: "wh-open-" + id, Type: signoff.EventOutForDelivery, Timestamp: time.Now(),
		Delivery: signoff.Delivery{ID: signoff.DeliveryID(id), Channel: signoff.DeliverySMS,
			Recipient: signoff.Recipient{Phone: signoff.Phone(phone)}},
		Present: signoff.Fields{knowledge.FieldRecipient: true, knowledge.FieldChannel: true}}
}

// TestMenuSegments: the greeting with its whole menu is one SMS segment in
// both languages, with and without an ETA.
func TestMenuSegments(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	for _, loc := range []signoff.Locale{signoff.LocaleZH, signoff.LocaleEN} {
		for _, eta := range []time.Time{{}, now.Add(5 * time.Hour)} {
			cat := prompts.For(loc)
			var opts []signoff.Option
			for _, k := range []string{"1", "2", "3", "4", "5", "6", "0", "9"} {
				opts = append(opts, signoff.Option{Key: k, Label: cat.Text("menu." + k)})
			}
			d := signoff.Delivery{Recipient: signoff.Recipient{Locale: loc}, ETA: eta}
			text := Render(d, 0, signoff.Message{From: signoff.FromBot, Text: "long greeting", Options: opts, At: now})
			segs, ucs2 := Segments(text)
			if segs != 1 || ucs2 != (loc == signoff.LocaleZH) {
				t.Errorf("%s greeting %q: %d segments, ucs2 %v; want 1, ucs2 %v", loc, text, segs, ucs2, loc == signoff.LocaleZH)
			}
			t.Logf("%s: %d characters: %s", loc, len([]rune(text)), text)
		}
	}
}

func TestSegments(t *testing.T) {
	for _, c := range []struct {
		text string
		n    int
		ucs2 bool
	}{
		{strings.Repeat("a", 160), 1, false},
		{strings.Repeat("a", 161), 2, false},
		{strings.Repeat("[", 80), 1, false},
		{strings.Repeat("[", 81), 2, false},
		{strings.Repeat("中", 70), 1, true},
		{strings.Repeat("中", 71), 2, true},
		{strings.Repeat("中", 134), 2, true},
		{strings.Repeat("中", 135), 3, true},
	} {
		if n, u := Segments(c.text); n != c.n || u != c.ucs2 {
			t.Errorf("Segments(%d × %q) = %d, %v; want %d, %v", len([]rune(c.text)), []rune(c.text)[0], n, u, c.n, c.ucs2)
		}
	}
}

// TestStaffLineBySMS: a staff agent's line, committed as the staff console
// commits it (a transcript line published by any writer), reaches the
// recipient's phone.
func TestStaffLineBySMS(t *testing.T) {
	r := newRig(t, 2)
	n := r.open("D-sms-6", "+8613900008888", signoff.LocaleZH, signoff.DeliverySMS)
	r.prov.next(t)
	store := r.nodes[1].store
	s, _, err := store.LoadSession(t.Context(), n.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	line := signoff.Message{From: signoff.FromStaff, Text: "您好，我是客服小李，马上为您处理。", Staff: "li", At: time.Now()}
	next := s
	next.Version, next.Lines, next.State = s.Version+1, s.Lines+1, signoff.StateHandoff
	err = store.Commit(t.Context(), dialog.Change{Delivery: s.DeliveryID, Session: &next,
		Publish: []dialog.Posted{{Seq: s.Lines, Message: line}}})
	if err != nil {
		t.Fatal(err)
	}
	if m := r.prov.next(t); m.Body != line.Text || m.To != "+8613900008888" {
		t.Errorf("staff line arrived as %q to %s, want %q", m.Body, m.To, line.Text)
	}
	r.prov.quiet(t, 300*time.Millisecond)
}
