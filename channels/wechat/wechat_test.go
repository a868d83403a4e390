package wechat

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/prompts"
)

func TestURLCheck(t *testing.T) {
	r := newRig(t, rigOpts{})
	ts, nonce := "1714112400", "1234567890"
	sig := fmt.Sprintf("%x", sha1.Sum([]byte(strings.Join(sorted(testToken, ts, nonce), ""))))
	for _, c := range []struct {
		sig    string
		status int
		body   string
	}{
		{sig, http.StatusOK, "echo-5678"},
		{strings.Repeat("0", 40), http.StatusUnauthorized, `"bad_signature"`},
		{"", http.StatusUnauthorized, `"bad_signature"`},
	} {
		q := url.Values{"signature": {c.sig}, "timestamp": {ts}, "nonce": {nonce}, "echostr": {"echo-5678"}}
		resp, err := http.Get(r.srv.URL + Path + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		_, _ = fmt.Fprint(&b, readAll(resp))
		if resp.StatusCode != c.status || !strings.Contains(b.String(), c.body) {
			t.Errorf("signature %q: %d %s, want %d with %s", c.sig, resp.StatusCode, b.String(), c.status, c.body)
		}
	}
}

func sorted(s ...string) []string { sort.Strings(s); return s }

// reply is a passive text reply as the recipient's phone reads it.
type reply struct {
	ToUserName, FromUserName, MsgType, Content string
	CreateTime                                 int64
}

func parseReply(t *testing.T, body string) reply {
	t.Helper()
	var r reply
	if err := xml.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("reply %q is not XML: %v", body, err)
	}
	return r
}

// TestSignOffByWeChat: the greeting arrives through the customer-service
// API; a text message is answered passively; a repeated MsgId gets the same
// answer and changes nothing.
func TestSignOffByWeChat(t *testing.T) {
	r := newRig(t, rigOpts{})
	n := r.open("D-wx-1", "oUser1", signoff.LocaleZH)
	greet := r.api.next(t)
	cat := prompts.For(signoff.LocaleZH)
	if greet.To != "oUser1" || !strings.Contains(greet.Content, "\n2. "+cat.Text("menu.2")) {
		t.Errorf("greeting %+v, want the menu to oUser1", greet)
	}
	status, body := r.post(textXML("oUser1", "text", "放门口", 1001), nil, testToken)
	if status != http.StatusOK {
		t.Fatalf("text: %d %s", status, body)
	}
	rep := parseReply(t, body)
	if rep.ToUserName != "oUser1" || rep.FromUserName != testGH || rep.MsgType != "text" ||
		!strings.Contains(rep.Content, cat.Text("chosen.leave_at_door")) {
		t.Errorf("passive reply %+v, want the door confirmation to oUser1 from %s", rep, testGH)
	}
	s := r.session(n.SessionID)
	if s.Outcome != signoff.OutcomeLeaveAtDoor || s.Consent == nil || s.Consent.Channel != signoff.ChannelWeChat {
		t.Fatalf("outcome %q consent %+v, want leave_at_door by wechat", s.Outcome, s.Consent)
	}
	lines := s.Lines
	status, again := r.post(textXML("oUser1", "text", "放门口", 1001), nil, testToken)
	if status != http.StatusOK || again != body {
		t.Errorf("repeat: %d %s, want the first answer", status, again)
	}
	if got := r.session(n.SessionID).Lines; got != lines {
		t.Errorf("repeat changed the transcript: %d lines, want %d", got, lines)
	}
	// The answer went back passively: nothing more through the API.
	r.api.quiet(t, 500*time.Millisecond)
	eventually(t, "the greeting's wechat_sent", func() bool { return len(r.log("D-wx-1", "wechat_sent")) == 1 })
}

// TestVoice: a voice message is read through WeChat's own recognition.
func TestVoice(t *testing.T) {
	r := newRig(t, rigOpts{})
	n := r.open("D-wx-2", "oUser2", signoff.LocaleZH)
	r.api.next(t)
	status, body := r.post(textXML("oUser2", "voice", "一。", 2001), nil, testToken)
	if status != http.StatusOK {
		t.Fatalf("voice: %d %s", status, body)
	}
	s := r.session(n.SessionID)
	if s.Outcome != signoff.OutcomeDeliverNow && s.State != signoff.StateConfirming {
		t.Errorf("after a voice \"一\": state %s outcome %q; want deliver_now or its read-back", s.State, s.Outcome)
	}
	if rep := parseReply(t, body); rep.Content == "" {
		t.Error("empty passive reply to a voice message")
	}
	// Recognition failed: asked again, nothing stored.
	lines := s.Lines
	status, body = r.post(textXML("oUser2", "voice", "", 2002), nil, testToken)
	want := prompts.For(signoff.LocaleZH).Text("wechat.voice_unrecognised")
	if status != http.StatusOK || parseReply(t, body).Content != want {
		t.Errorf("unrecognised voice: %d %s, want %q", status, body, want)
	}
	if got := r.session(n.SessionID).Lines; got != lines {
		t.Errorf("an unrecognised voice message changed the transcript")
	}
}

// testCrypt is the test's own implementation of WeChat's message
// encryption, written apart from Cipher.
type testCrypt struct{ key []byte }

func newTestCrypt(t *testing.T) testCrypt {
	k, err := base64.StdEncoding.DecodeString(testAESKey + "=")
	if err != nil {
		t.Fatal(err)
	}
	return testCrypt{key: k}
}

func (c testCrypt) seal(msg, appID string) string {
	plain := []byte("0123456789abcdef")
	n := len(msg)
	plain = append(plain, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	plain = append(plain, msg...)
	plain = append(plain, appID...)
	pad := 32 - len(plain)%32
	for range pad {
		plain = append(plain, byte(pad))
	}
	b, _ := aes.NewCipher(c.key)
	out := make([]byte, len(plain))
	iv := c.key[:16]
	for i := 0; i < len(plain); i += 16 { // CBC by hand
		var x [16]byte
		for j := range 16 {
			x[j] = plain[i+j] ^ iv[j]
		}
		b.Encrypt(out[i:i+16], x[:])
		iv = out[i : i+16]
	}
	return base64.StdEncoding.EncodeToString(out)
}

func (c testCrypt) open(t *testing.T, enc string) (msg, appID string) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := aes.NewCipher(c.key)
	plain := make([]byte, len(raw))
	cipher.NewCBCDecrypter(b, c.key[:16]).CryptBlocks(plain, raw)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > 32 {
		t.Fatalf("reply padding %d, want 1..32", pad)
	}
	plain = plain[:len(plain)-pad]
	n := int(plain[16])<<24 | int(plain[17])<<16 | int(plain[18])<<8 | int(plain[19])
	return string(plain[20 : 20+n]), string(plain[20+n:])
}

// TestEncryptedRoundTrip: an encrypted message is decrypted, answered, and
// the answer comes back encrypted and signed.
func TestEncryptedRoundTrip(t *testing.T) {
	r := newRig(t, rigOpts{})
	n := r.open("D-wx-3", "oUser3", signoff.LocaleEN)
	r.api.next(t)
	c := newTestCrypt(t)
	enc := c.seal(textXML("oUser3", "text", "3", 3001), testAppID)
	ts, nonce := fmt.Sprint(time.Now().Unix()), "n0nce"
	body := fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt></xml>", testGH, enc)
	q := url.Values{"encrypt_type": {"aes"}, "msg_signature": {Sign(testToken, ts, nonce, enc)}, "timestamp": {ts}, "nonce": {nonce},
		"signature": {Sign(testToken, ts, nonce)}}
	resp, err := http.Post(r.srv.URL+Path+"?"+q.Encode(), "text/xml", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out := readAll(resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("encrypted: %d %s", resp.StatusCode, out)
	}
	var env struct {
		Encrypt, MsgSignature, TimeStamp, Nonce string
	}
	if err := xml.Unmarshal([]byte(out), &env); err != nil || env.Encrypt == "" {
		t.Fatalf("reply %s is not an encrypted envelope: %v", out, err)
	}
	want := fmt.Sprintf("%x", sha1.Sum([]byte(strings.Join(sorted(testToken, env.TimeStamp, env.Nonce, env.Encrypt), ""))))
	if env.MsgSignature != want {
		t.Errorf("reply MsgSignature %s, want %s", env.MsgSignature, want)
	}
	msg, app := c.open(t, env.Encrypt)
	if app != testAppID {
		t.Errorf("reply sealed for %q, want %q", app, testAppID)
	}
	rep := parseReply(t, msg)
	if rep.ToUserName != "oUser3" || !strings.Contains(rep.Content, prompts.For(signoff.LocaleEN).Text("chosen.pickup_station", "station", "")[:10]) {
		t.Errorf("decrypted reply %+v, want the pickup station confirmation to oUser3", rep)
	}
	if s := r.session(n.SessionID); s.Outcome != signoff.OutcomePickupStation {
		t.Errorf("outcome %q, want pickup_station", s.Outcome)
	}
	// The server's cipher and the test's agree both ways.
	own, err := NewCipher(testAESKey, testAppID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := own.Decrypt(c.seal("你好", testAppID)); err != nil || string(got) != "你好" {
		t.Errorf("Decrypt of the test's sealing = %q, %v", got, err)
	}
	if _, err := own.Decrypt(c.seal("hi", "wxOTHER")); err == nil {
		t.Error("a message sealed for another AppID decrypted")
	}
}

// TestLateReply: an answer slower than the budget is "success" at once and
// goes through the customer-service API, once.
func TestLateReply(t *testing.T) {
	r := newRig(t, rigOpts{budget: 100 * time.Millisecond, delay: 600 * time.Millisecond})
	n := r.open("D-wx-4", "oUser4", signoff.LocaleZH)
	r.api.next(t)
	status, body := r.post(textXML("oUser4", "text", "4", 4001), nil, testToken)
	if status != http.StatusOK || body != "success" {
		t.Fatalf("late: %d %q, want 200 success", status, body)
	}
	m := r.api.next(t)
	if m.To != "oUser4" || !strings.Contains(m.Content, prompts.For(signoff.LocaleZH).Text("chosen.locker")) {
		t.Errorf("late reply %+v, want the locker confirmation to oUser4", m)
	}
	eventually(t, "the late reply's wechat_sent", func() bool { return len(r.log("D-wx-4", "wechat_sent")) == 2 })
	r.api.quiet(t, 500*time.Millisecond)
	if s := r.session(n.SessionID); s.Outcome != signoff.OutcomeLocker {
		t.Errorf("outcome %q, want locker", s.Outcome)
	}
	// WeChat retries a slow message: the retry changes nothing.
	status, body = r.post(textXML("oUser4", "text", "4", 4001), nil, testToken)
	if status != http.StatusOK || body != "success" {
		t.Errorf("retry: %d %q, want 200 success", status, body)
	}
	r.api.quiet(t, 300*time.Millisecond)
}

// TestRefused: bad signatures, a bad body and an unknown OpenID get clear
// answers and change nothing.
func TestRefused(t *testing.T) {
	r := newRig(t, rigOpts{})
	n := r.open("D-wx-5", "oUser5", signoff.LocaleZH)
	r.api.next(t)
	lines := r.session(n.SessionID).Lines
	for _, c := range []struct {
		name   string
		body   string
		extra  url.Values
		token  string
		status int
		code   string
	}{
		{"bad signature", textXML("oUser5", "text", "2", 5001), nil, "wrong", http.StatusUnauthorized, "bad_signature"},
		{"not XML", "{not xml", nil, testToken, http.StatusBadRequest, "bad_xml"},
		{"no sender", "<xml><MsgType>text</MsgType><Content>2</Content></xml>", nil, testToken, http.StatusBadRequest, "missing_field"},
		{"unknown OpenID", textXML("oStranger", "text", "2", 5002), nil, testToken, http.StatusNotFound, "unknown_sender"},
		{"bad msg_signature", "<xml><Encrypt><![CDATA[abcd]]></Encrypt></xml>", url.Values{"encrypt_type": {"aes"}, "msg_signature": {"00"}},
			testToken, http.StatusUnauthorized, "bad_signature"},
	} {
		status, body := r.post(c.body, c.extra, c.token)
		if status != c.status || !strings.Contains(body, `"`+c.code+`"`) {
			t.Errorf("%s: %d %s, want %d %s", c.name, status, body, c.status, c.code)
		}
	}
	if got := r.session(n.SessionID).Lines; got != lines {
		t.Errorf("refused messages changed the transcript: %d lines, want %d", got, lines)
	}
	// After the refusals the right message still goes through once.
	status, _ := r.post(textXML("oUser5", "text", "2", 5001), nil, testToken)
	if status != http.StatusOK || r.session(n.SessionID).Outcome != signoff.OutcomeLeaveAtDoor {
		t.Errorf("the signed message after refusals: %d, outcome %q", status, r.session(n.SessionID).Outcome)
	}
}

// TestClientTokenRefresh: the access token is fetched once and shared; a
// revoked one is fetched again.
func TestClientTokenRefresh(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := t.Context()
	for range 3 {
		if err := r.client.SendText(ctx, "oUser6", "hello"); err != nil {
			t.Fatal(err)
		}
	}
	other := NewClient(Config{AppID: testAppID, Secret: testSecret, APIBaseURL: r.api.srv.URL}, r.store, nil)
	if err := other.SendText(ctx, "oUser6", "from another node"); err != nil {
		t.Fatal(err)
	}
	if r.api.issued() != 1 {
		t.Errorf("%d tokens fetched for 4 sends on 2 nodes, want 1", r.api.tokens)
	}
	r.api.revoke()
	if err := r.client.SendText(ctx, "oUser6", "after revoke"); err != nil {
		t.Fatal(err)
	}
	if r.api.issued() != 2 {
		t.Errorf("%d tokens fetched after a revoke, want 2", r.api.tokens)
	}
	r.api.mu.Lock()
	r.api.errcodes = []int{45015}
	r.api.mu.Unlock()
	err := r.client.SendText(ctx, "oUser6", "outside the window")
	if err == nil || !strings.Contains(err.Error(), "wechat_out_of_window") {
		t.Errorf("errcode 45015: %v, want wechat_out_of_window", err)
	}
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}
