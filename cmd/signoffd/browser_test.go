package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/signoff/signoff/internal/redistest"
)

// TestBrowser drives the recipient page in headless Chromium against the
// real signoffd binary and a real redis-server: a sign-off by buttons with
// live updates, the language switch, a broken link, and a voice call with a
// fake microphone.
func TestBrowser(t *testing.T) {
	redisAddr := redistest.Start(t)
	bin := buildServer(t)
	srv := startServer(t, bin, "REDIS_URL=redis://"+redisAddr+"/0", "SIGNOFF_ICE_LOOPBACK=1")
	requirePage(t, srv.url)
	shots := t.TempDir()

	t.Run("ChatSignOff", func(t *testing.T) { testBrowserChat(t, srv.url, shots) })
	t.Run("LanguageSwitch", func(t *testing.T) { testBrowserLanguage(t, srv.url, shots) })
	t.Run("BadLink", func(t *testing.T) { testBrowserBadLink(t, srv.url, shots) })
	t.Run("Call", func(t *testing.T) { testBrowserCall(t, srv.url, shots) })
}

// requirePage fails at once, saying what to do, when signoffd does not serve
// the recipient page.
func requirePage(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url + "/r/none?t=none")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /r/{id} answers %d %s, not the recipient page: "+
			"wire it in cmd/signoffd/main.go newRouter with chat.RegisterPage(r)", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// The page's controls: the menu's buttons, and the button of one key.
const (
	optionButtons = `#options .opt`
	jsOptionKeys  = `[...document.querySelectorAll('#options .opt')].map(b => b.dataset.key)`
	jsLatest      = `document.getElementById('latest').textContent`
)

func option(key string) chromedp.CSS { return chromedp.CSS(`#options .opt[data-key="` + key + `"]`) }

func testBrowserChat(t *testing.T, url, shots string) {
	b := newBrowser(t, "")
	sid, token, link := openDelivery(t, url, "BR-CHAT-1", "zh-CN")
	if status := b.open(t, link); status != http.StatusOK {
		t.Fatalf("recipient page: got %d, want 200", status)
	}
	b.waitFor(t, 10*time.Second, `window.signoff && window.signoff.state.ready && document.querySelectorAll('`+optionButtons+`').length > 0`)

	// The greeting, and the menu as big numbered buttons.
	if latest := eval[string](t, b, jsLatest); !strings.Contains(latest, "您好") {
		t.Errorf("latest message %q, want the greeting", latest)
	}
	if keys := eval[[]string](t, b, jsOptionKeys); !slices.Equal(keys, []string{"1", "2", "3", "4", "5", "6", "0", "9"}) {
		t.Errorf("menu buttons %v, want 1 2 3 4 5 6 0 9", keys)
	}
	if label := eval[string](t, b, `document.querySelector('#options .opt[data-key="2"]').innerText`); !strings.Contains(label, "放门口") {
		t.Errorf("button 2 reads %q, want 放门口", label)
	}
	if got := eval[string](t, b, `document.getElementById('state').textContent`); got != "等您选择" {
		t.Errorf("state shown: got %q, want 等您选择", got)
	}

	// Large type and large targets for an elderly recipient.
	if px := eval[float64](t, b, `parseFloat(getComputedStyle(document.body).fontSize)`); px < 20 {
		t.Errorf("body font size %vpx, want at least 20px", px)
	}
	type box struct {
		Name   string  `json:"name"`
		Height float64 `json:"height"`
	}
	boxes := eval[[]box](t, b, `[...document.querySelectorAll('button, input')]
		.filter(e => e.offsetParent !== null)
		.map(e => ({name: e.id || e.dataset.key || e.textContent.trim().slice(0, 16), height: e.getBoundingClientRect().height}))`)
	if len(boxes) < 10 {
		t.Errorf("only %d visible controls: %v", len(boxes), boxes)
	}
	for _, bx := range boxes {
		if bx.Height < 56 {
			t.Errorf("control %q is %.0fpx tall, want at least 56px", bx.Name, bx.Height)
		}
	}
	if w := eval[[]float64](t, b, `[document.documentElement.scrollWidth, innerWidth]`); w[0] > w[1] {
		t.Errorf("the page is %vpx wide on a %vpx phone: it scrolls sideways", w[0], w[1])
	}
	// Chinese text is drawn with a CJK font, not as empty boxes: the menu
	// label is as wide as three full-width characters.
	if w := eval[float64](t, b, `(() => { const c = document.createElement('canvas').getContext('2d');
		c.font = getComputedStyle(document.body).font; return c.measureText('放门口').width / c.measureText('M').width; })()`); w < 2.5 {
		t.Errorf("放门口 measures %.2f em-widths; no CJK font?", w)
	}
	b.checkContrast(t, "Chinese page")
	// The focus goes from the language switch through the menu to typing
	// and calling.
	wantOrder := []string{"lang", "1", "2", "3", "4", "5", "6", "0", "9", "text", "send", "call", "keypad-toggle"}
	if got := b.focusOrder(t, len(wantOrder)); !slices.Equal(got, wantOrder) {
		t.Errorf("Tab order: got %v, want %v", got, wantOrder)
	}
	b.screenshot(t, shots, "recipient-zh")

	// Tap 2: the door, with consent recorded.
	b.do(t, 10*time.Second, chromedp.Click(option("2")))
	b.waitFor(t, 10*time.Second, `document.getElementById('latest').textContent.includes('放在您家门口') &&
		window.signoff.state.session.outcome === 'leave_at_door'`)
	if got := eval[string](t, b, `document.getElementById('outcome').textContent`); got != "放门口" {
		t.Errorf("outcome shown: got %q, want 放门口", got)
	}
	if got := eval[string](t, b, `document.querySelector('#options .opt[data-key="2"]').getAttribute('aria-current')`); got != "true" {
		t.Errorf("button 2 aria-current=%q after choosing it, want true", got)
	}
	b.waitFor(t, 5*time.Second, `[...document.querySelectorAll('#transcript li.recipient:not(.pending) .text')].some(p => p.textContent === '2')`)
	s := sessionState(t, url, sid, token)
	if s["outcome"] != "leave_at_door" || s["state"] != "arranged" {
		t.Fatalf("after tapping 2 the API says state=%v outcome=%v, want arranged leave_at_door", s["state"], s["outcome"])
	}
	if lines := transcript(s); len(lines) < 2 || lines[1]["from"] != "recipient" || lines[1]["text"] != "2" || lines[1]["channel"] != "chat" {
		t.Errorf("transcript %v: want the recipient's \"2\" by chat second", lines)
	}
	b.checkContrast(t, "after choosing")
	b.screenshot(t, shots, "recipient-zh-chosen")

	// The courier delivers: the page hears of it over SSE, with no reload.
	body := map[string]any{"type": "delivery.delivered", "timestamp": time.Now().UTC().Format(time.RFC3339),
		"data": map[string]any{"delivery_id": "BR-CHAT-1", "status": "delivered"}}
	if status, m := sendWebhook(t, url, "msg_BR-CHAT-1_delivered", body); status != http.StatusOK {
		t.Fatalf("delivered webhook: %d %v", status, m)
	}
	b.waitFor(t, 10*time.Second, `document.getElementById('latest').textContent.includes('已送达') &&
		window.signoff.state.session.state === 'awaiting_receipt' &&
		document.querySelector('#options .opt[data-key="1"]') &&
		document.querySelector('#options .opt[data-key="1"]').innerText.includes('收到了')`)
	b.do(t, 10*time.Second, chromedp.Click(option("1")))
	b.waitFor(t, 10*time.Second, `window.signoff.state.session.state === 'signed' &&
		document.getElementById('state').textContent === '已签收' && document.getElementById('menu').hidden`)
	s = sessionState(t, url, sid, token)
	if s["state"] != "signed" || s["outcome"] != "leave_at_door" {
		t.Fatalf("after confirming receipt the API says state=%v outcome=%v, want signed leave_at_door", s["state"], s["outcome"])
	}
	// The page shows the whole transcript, in order, the recipient's lines
	// included.
	n := len(transcript(s))
	if seqs := eval[[]int](t, b, `[...document.querySelectorAll('#transcript li')].map(li => Number(li.dataset.seq))`); len(seqs) != n || !slices.IsSorted(seqs) || seqs[0] != 0 || seqs[n-1] != n-1 {
		t.Errorf("transcript lines shown by seq: %v; want 0 to %d", seqs, n-1)
	}
	b.screenshot(t, shots, "recipient-zh-signed")
}

func testBrowserLanguage(t *testing.T, url, shots string) {
	b := newBrowser(t, "")

	// An English recipient gets the English page.
	_, _, linkEN := openDelivery(t, url, "BR-LANG-EN", "en")
	b.open(t, linkEN)
	b.waitFor(t, 10*time.Second, `window.signoff && window.signoff.state.ready`)
	if got := eval[string](t, b, `document.documentElement.lang`); got != "en" {
		t.Errorf("English session: page lang %q, want en", got)
	}
	if got := eval[string](t, b, jsLatest); !strings.HasPrefix(got, "Hello") {
		t.Errorf("English session: latest %q, want the English greeting", got)
	}
	if got := eval[string](t, b, `document.getElementById('menu-title').textContent`); got != "Tap a number" {
		t.Errorf("English session: menu title %q, want Tap a number", got)
	}
	b.checkContrast(t, "English page")
	b.screenshot(t, shots, "recipient-en")

	// A Chinese recipient's page, switched to English.
	eval[bool](t, b, `localStorage.clear(), true`)
	_, _, linkZH := openDelivery(t, url, "BR-LANG-ZH", "zh-CN")
	b.open(t, linkZH)
	b.waitFor(t, 10*time.Second, `window.signoff && window.signoff.state.ready`)
	if got := eval[string](t, b, `document.documentElement.lang + ' ' + document.getElementById('menu-title').textContent`); got != "zh-CN 请点一个数字" {
		t.Errorf("Chinese session: got %q, want zh-CN 请点一个数字", got)
	}
	if got := eval[string](t, b, `document.getElementById('lang').textContent`); got != "English" {
		t.Errorf("language switch reads %q, want English", got)
	}
	b.do(t, 10*time.Second, chromedp.Click(chromedp.ID("lang")))
	b.waitFor(t, 5*time.Second, `document.documentElement.lang === 'en'`)
	want := map[string]string{
		"menu-title":    "Tap a number",
		"send":          "Send",
		"state":         "Waiting for your choice",
		"outcome":       "Not chosen yet",
		"call-state":    "Not in a call",
		"history-title": "Conversation",
		"lang":          "中文",
	}
	checkTexts := func(when string) {
		t.Helper()
		js := `JSON.stringify(Object.fromEntries(` + jsonString(slices.Sorted(maps.Keys(want))) + `.map(id => [id, document.getElementById(id).textContent.trim()])))`
		var got map[string]string
		if err := json.Unmarshal([]byte(eval[string](t, b, js)), &got); err != nil {
			t.Fatal(err)
		}
		for id, w := range want {
			if got[id] != w {
				t.Errorf("%s: #%s reads %q, want %q", when, id, got[id], w)
			}
		}
	}
	checkTexts("after the switch")
	if got := eval[string](t, b, `document.querySelector('#transcript li .who').textContent`); !strings.HasPrefix(got, "Sign-off assistant") {
		t.Errorf("transcript speaker reads %q, want Sign-off assistant", got)
	}
	if got := eval[string](t, b, `document.querySelector('#call span').textContent`); got != "Call" {
		t.Errorf("call button reads %q, want Call", got)
	}
	b.screenshot(t, shots, "recipient-zh-switched-to-en")

	// The choice is remembered on this phone.
	b.do(t, 20*time.Second, chromedp.Reload())
	b.waitFor(t, 10*time.Second, `window.signoff && window.signoff.state.ready`)
	checkTexts("after a reload")

	// And switched back.
	b.do(t, 10*time.Second, chromedp.Click(chromedp.ID("lang")))
	b.waitFor(t, 5*time.Second, `document.documentElement.lang === 'zh-CN' && document.getElementById('send').textContent === '发送'`)

	// Out of a call, the keypad sends its digit as a chat message.
	b.do(t, 10*time.Second, chromedp.Click(chromedp.ID("keypad-toggle")), chromedp.Click(chromedp.CSS(`#keypad button[data-key="9"]`)))
	b.waitFor(t, 10*time.Second, `[...document.querySelectorAll('#transcript li.recipient:not(.pending) .text')].some(p => p.textContent === '9')`)
}

func testBrowserBadLink(t *testing.T, url, shots string) {
	b := newBrowser(t, "")
	sid, _, _ := openDelivery(t, url, "BR-BAD-1", "zh-CN")
	for _, tt := range []struct {
		link   string
		status int64
	}{
		{url + "/r/" + sid + "?t=wrong-token", http.StatusUnauthorized},
		{url + "/r/" + sid, http.StatusUnauthorized},
		{url + "/r/no-such-session?t=whatever", http.StatusNotFound},
	} {
		if status := b.open(t, tt.link); status != tt.status {
			t.Errorf("%s: got %d, want %d", tt.link, status, tt.status)
		}
		text := eval[string](t, b, `document.body.innerText`)
		if !strings.Contains(text, "这个链接无效或已过期") || !strings.Contains(text, "This link is not valid") {
			t.Errorf("%s: page reads %q, want the invalid-link message in both languages", tt.link, text)
		}
		if eval[bool](t, b, `!!document.getElementById('app') || !!document.getElementById('options')`) {
			t.Errorf("%s: the page shows the conversation", tt.link)
		}
	}
	b.screenshot(t, shots, "recipient-bad-link")
}

// callWired reports whether signoffd serves the voice call endpoint.
func callWired(t *testing.T, url, sid, token string) bool {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/v1/sessions/"+sid+"/call", strings.NewReader(""))
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	return !(resp.StatusCode == http.StatusNotFound && strings.Contains(body.String(), `"no_route"`))
}

func testBrowserCall(t *testing.T, url, shots string) {
	sid, token, _ := openDelivery(t, url, "BR-CALL-PROBE", "en")
	if !callWired(t, url, sid, token) {
		t.Skip("waits on channels/voice: signoffd does not serve POST /v1/sessions/{id}/call yet")
	}

	// A call: the browser hears the greeting, and keypad 3 (RFC 4733)
	// chooses the pickup station.
	t.Run("Keypad", func(t *testing.T) {
		b := newBrowser(t, "")
		sid, token, link := openDelivery(t, url, "BR-CALL-KEY", "en")
		startCall(t, b, link)
		b.checkContrast(t, "in a call")
		b.screenshot(t, shots, "recipient-call")
		b.do(t, 10*time.Second, chromedp.Click(chromedp.CSS(`#keypad button[data-key="3"]`)))
		s := waitSession(t, url, sid, token, 10*time.Second, "outcome pickup_station", func(s map[string]any) bool {
			return s["outcome"] == "pickup_station"
		})
		if !slices.ContainsFunc(transcript(s), func(l map[string]any) bool {
			return l["from"] == "recipient" && l["channel"] == "dtmf" && l["text"] == "3"
		}) {
			t.Errorf("transcript %v: want the recipient's 3 by keypad", transcript(s))
		}
		b.waitFor(t, 10*time.Second, `window.signoff.state.session.outcome === 'pickup_station'`)
		hangUp(t, b)
	})

	// A spoken "two", three seconds into the call: recognised, and read back
	// for confirmation.
	t.Run("Speech", func(t *testing.T) {
		b := newBrowser(t, speechWAV(t, "two", 3))
		sid, token, link := openDelivery(t, url, "BR-CALL-SPEECH", "en")
		startCall(t, b, link)
		var heard, reply map[string]any
		s := waitSession(t, url, sid, token, 40*time.Second, "a recipient line heard by voice and a reply to it", func(s map[string]any) bool {
			lines := transcript(s)
			i := slices.IndexFunc(lines, func(l map[string]any) bool { return l["from"] == "recipient" && l["channel"] == "voice" })
			if i < 0 || i == len(lines)-1 {
				return false
			}
			heard, reply = lines[i], lines[i+1]
			return true
		})
		t.Logf("heard %q; the bot said %q", heard["text"], reply["text"])
		if text, _ := reply["text"].(string); reply["from"] != "bot" || !strings.Contains(text, "2") {
			t.Errorf("after the spoken %q the bot said %v; want it to read back 2", heard["text"], reply)
		}
		if s["outcome"] != nil {
			t.Errorf("outcome %v before the recipient confirmed the read-back", s["outcome"])
		}
		hangUp(t, b)
	})
}

// startCall opens link, taps Call, and waits until the browser hears the
// bot.
func startCall(t *testing.T, b *browser, link string) {
	t.Helper()
	b.open(t, link)
	b.waitFor(t, 10*time.Second, `window.signoff && window.signoff.state.ready`)
	b.do(t, 10*time.Second, chromedp.Click(chromedp.ID("call")))
	b.waitFor(t, 20*time.Second, `window.signoff.state.call === 'in_call'`)
	b.waitFor(t, 15*time.Second, `window.signoff.peakRemoteRMS() > 0.02`)
	t.Logf("greeting heard: peak RMS %.3f", eval[float64](t, b, `window.signoff.peakRemoteRMS()`))
	if !eval[bool](t, b, `!document.getElementById('keypad').hidden`) {
		t.Error("the keypad is not shown during a call")
	}
}

func hangUp(t *testing.T, b *browser) {
	t.Helper()
	b.do(t, 10*time.Second, chromedp.Click(chromedp.ID("hangup")))
	b.waitFor(t, 5*time.Second, `window.signoff.state.call === 'ended' && !document.getElementById('call').hidden`)
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
