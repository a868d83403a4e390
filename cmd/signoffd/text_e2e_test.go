package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/signoff/signoff/internal/redistest"
)

// Written apart from the channels' own code: the wire formats as the
// providers speak them.

const (
	e2eSMSSID   = "AC00000000000000000000000000000e2e"
	e2eSMSToken = "e2e-sms-auth-token"
	e2eWXToken  = "e2ewechattoken"
	e2eWXApp    = "wxe2e0000000000000"
	e2eWXSecret = "e2e-wechat-secret"
	e2eWXAES    = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
)

// twilioSignature is X-Twilio-Signature: base64 HMAC-SHA1 of the URL and
// the sorted parameters, keyed by the auth token.
func twilioSignature(u string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	m := hmac.New(sha1.New, []byte(e2eSMSToken))
	m.Write([]byte(u))
	for _, k := range keys {
		m.Write([]byte(k + form.Get(k)))
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// textProviders is a Twilio-compatible Messages API and a WeChat API on one
// test server; what they receive arrives on sms and wechat.
type textProviders struct {
	srv    *httptest.Server
	sms    chan url.Values
	wechat chan map[string]any
}

func newTextProviders(t *testing.T) *textProviders {
	p := &textProviders{sms: make(chan url.Values, 16), wechat: make(chan map[string]any, 16)}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/2010-04-01/Accounts/"+e2eSMSSID+"/Messages.json":
			if u, pw, _ := r.BasicAuth(); u != e2eSMSSID || pw != e2eSMSToken {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"code":20003,"message":"Authenticate","status":401}`)
				return
			}
			r.ParseForm()
			p.sms <- r.PostForm
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"sid":"SM%d","status":"queued"}`, time.Now().UnixNano())
		case r.URL.Path == "/cgi-bin/token":
			fmt.Fprint(w, `{"access_token":"E2E_TOKEN","expires_in":7200}`)
		case r.URL.Path == "/cgi-bin/message/custom/send" && r.URL.Query().Get("access_token") == "E2E_TOKEN":
			var m map[string]any
			json.NewDecoder(r.Body).Decode(&m)
			p.wechat <- m
			fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func textEnv(p *textProviders) []string {
	return []string{
		"SIGNOFF_SMS_BASE_URL=" + p.srv.URL, "SIGNOFF_SMS_ACCOUNT_SID=" + e2eSMSSID, "SIGNOFF_SMS_AUTH_TOKEN=" + e2eSMSToken,
		"SIGNOFF_SMS_FROM=+15005550006",
		"SIGNOFF_WECHAT_TOKEN=" + e2eWXToken, "SIGNOFF_WECHAT_APPID=" + e2eWXApp, "SIGNOFF_WECHAT_SECRET=" + e2eWXSecret,
		"SIGNOFF_WECHAT_AES_KEY=" + e2eWXAES, "SIGNOFF_WECHAT_API_BASE_URL=" + p.srv.URL,
	}
}

func postRaw(t *testing.T, u, contentType, body string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func textIn(t *testing.T, base, from, body, sid string) (int, string) {
	t.Helper()
	form := url.Values{"From": {from}, "To": {"+15005550006"}, "Body": {body}, "MessageSid": {sid}, "AccountSid": {e2eSMSSID}}
	u := base + "/v1/channels/sms/inbound"
	return postRaw(t, u, "application/x-www-form-urlencoded", form.Encode(), map[string]string{"X-Twilio-Signature": twilioSignature(u, form)})
}

func wechatIn(t *testing.T, base, openID, content string, msgID int) (int, string) {
	t.Helper()
	ts, nonce := fmt.Sprint(time.Now().Unix()), "e2enonce"
	parts := []string{e2eWXToken, ts, nonce}
	sort.Strings(parts)
	sig := fmt.Sprintf("%x", sha1.Sum([]byte(strings.Join(parts, ""))))
	body := fmt.Sprintf("<xml><ToUserName><![CDATA[gh_e2e]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>"+
		"<CreateTime>%s</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%d</MsgId></xml>",
		openID, ts, content, msgID)
	q := url.Values{"signature": {sig}, "timestamp": {ts}, "nonce": {nonce}, "openid": {openID}}
	return postRaw(t, base+"/v1/channels/wechat?"+q.Encode(), "text/xml", body, nil)
}

func textOpening(delivery, channel string) map[string]any {
	ev := opening(delivery)
	data := ev["data"].(map[string]any)
	data["channel"] = channel
	rec := data["recipient"].(map[string]any)
	rec["wechat_openid"] = "oE2EUser"
	return ev
}

// TestTextChannelsEndToEnd runs the real binary with real Redis and both
// test providers: a sign-off by SMS and one by WeChat.
func TestTextChannelsEndToEnd(t *testing.T) {
	redisAddr := redistest.Start(t)
	prov := newTextProviders(t)
	bin := buildServer(t)
	srv := startServer(t, bin, append(textEnv(prov), "REDIS_URL=redis://"+redisAddr+"/0")...)

	next := func(what string) url.Values {
		t.Helper()
		select {
		case m := <-prov.sms:
			return m
		case <-time.After(20 * time.Second):
			t.Fatalf("no SMS for %s", what)
		}
		return nil
	}

	// SMS.
	if status, m := sendWebhook(t, srv.url, "msg_text_1", textOpening("TXT-1", "sms")); status != http.StatusAccepted {
		t.Fatalf("opening webhook: %d %v", status, m)
	}
	greet := next("the greeting")
	if greet.Get("To") != "+8613912345678" || !strings.Contains(greet.Get("Body"), "2放门口") {
		t.Fatalf("greeting %v, want the SMS menu to +8613912345678", greet)
	}
	status, twiml := textIn(t, srv.url, "+8613912345678", "2", "SM-e2e-1")
	if status != http.StatusOK || !strings.Contains(twiml, "<Response><Message>") || !strings.Contains(twiml, "门口") {
		t.Fatalf("inbound: %d %s", status, twiml)
	}
	if again, body := textIn(t, srv.url, "+8613912345678", "2", "SM-e2e-1"); again != http.StatusOK || body != twiml {
		t.Errorf("replayed MessageSid: %d %s, want the first answer", again, body)
	}
	body := map[string]any{"type": "delivery.delivered", "timestamp": time.Now().UTC().Format(time.RFC3339),
		"data": map[string]any{"delivery_id": "TXT-1", "status": "delivered"}}
	if status, m := sendWebhook(t, srv.url, "msg_text_2", body); status != http.StatusOK {
		t.Fatalf("delivered webhook: %d %v", status, m)
	}
	if ask := next("the delivered question"); !strings.Contains(ask.Get("Body"), "收到了") {
		t.Errorf("delivered question %v", ask)
	}
	if status, twiml := textIn(t, srv.url, "13912345678", "1", "SM-e2e-2"); status != http.StatusOK || !strings.Contains(twiml, "确认收货") {
		t.Errorf("receipt by SMS: %d %s", status, twiml)
	}
	if status, m := textIn(t, srv.url, "+8613900000000", "1", "SM-e2e-3"); status != http.StatusNotFound || !strings.Contains(m, "unknown_sender") {
		t.Errorf("unknown number: %d %s", status, m)
	}

	// WeChat.
	if status, m := sendWebhook(t, srv.url, "msg_text_3", textOpening("TXT-2", "wechat")); status != http.StatusAccepted {
		t.Fatalf("opening webhook: %d %v", status, m)
	}
	select {
	case m := <-prov.wechat:
		if m["touser"] != "oE2EUser" {
			t.Errorf("greeting to %v, want oE2EUser", m["touser"])
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no WeChat greeting")
	}
	status, reply := wechatIn(t, srv.url, "oE2EUser", "3", 9001)
	if status != http.StatusOK || !strings.Contains(reply, "<ToUserName><![CDATA[oE2EUser]]></ToUserName>") || !strings.Contains(reply, "驿站") {
		t.Fatalf("wechat message: %d %s", status, reply)
	}
	select {
	case m := <-prov.sms:
		t.Errorf("an extra SMS went out: %v", m)
	case m := <-prov.wechat:
		t.Errorf("an extra WeChat message went out: %v", m)
	case <-time.After(500 * time.Millisecond):
	}
	logs := srv.logs.String()
	for _, secret := range []string{"13912345678", e2eSMSToken, e2eWXSecret, e2eWXAES, "E2E_TOKEN", "oE2EUser"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the server log carries %q", secret)
		}
	}
}

// TestTextChannelsOff: unconfigured channels answer channel_disabled; a
// half-configured one stops the server at start.
func TestTextChannelsOff(t *testing.T) {
	bin := buildServer(t)
	srv := startServer(t, bin, "REDIS_URL=")
	status, body := postRaw(t, srv.url+"/v1/channels/sms/inbound", "application/x-www-form-urlencoded", "From=1", nil)
	if status != http.StatusNotFound || !strings.Contains(body, "channel_disabled") || !strings.Contains(body, "SIGNOFF_SMS_BASE_URL") {
		t.Errorf("SMS off: %d %s, want 404 channel_disabled naming SIGNOFF_SMS_BASE_URL", status, body)
	}
	resp, err := http.Get(srv.url + "/v1/channels/wechat?echostr=x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(b), "SIGNOFF_WECHAT_TOKEN") {
		t.Errorf("WeChat off: %d %s, want 404 channel_disabled naming SIGNOFF_WECHAT_TOKEN", resp.StatusCode, b)
	}

	for _, c := range []struct{ env, want string }{
		{"SIGNOFF_SMS_BASE_URL=http://127.0.0.1:1", "SIGNOFF_SMS_ACCOUNT_SID"},
		{"SIGNOFF_WECHAT_APPID=wx1", "SIGNOFF_WECHAT_TOKEN"},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		cmd := exec.CommandContext(ctx, bin)
		cmd.Env = append(os.Environ(), "SIGNOFF_ADDR="+freeAddr(t), "REDIS_URL=", c.env)
		out, err := cmd.CombinedOutput()
		cancel()
		if err == nil || !strings.Contains(string(out), "half configured") || !strings.Contains(string(out), c.want) {
			t.Errorf("%s: exit %v, output %s; want a refusal naming %s", c.env, err, out, c.want)
		}
	}
}
