package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/signoff/signoff/internal/redistest"
)

// staffPassword is every test staff account's password.
const staffPassword = "correct horse battery"

// staffEnv returns SIGNOFF_STAFF with agents ann and bob and supervisor sue.
func staffEnv(t *testing.T) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(staffPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("SIGNOFF_STAFF=ann:agent:%s,bob:agent:%[1]s,sue:supervisor:%[1]s", h)
}

// TestPages drives the recipient page, the staff console and the courier
// page in headless Chromium against the real signoffd and redis-server, and
// checks who may see and do what over HTTP.
func TestPages(t *testing.T) {
	redisAddr := redistest.Start(t)
	bin := buildServer(t)
	srv := startServer(t, bin, "REDIS_URL=redis://"+redisAddr+"/0", staffEnv(t))
	shots := t.TempDir()

	t.Run("RecipientZH", func(t *testing.T) { testRecipientSignOff(t, srv.url, shots, "zh-CN") })
	t.Run("RecipientEN", func(t *testing.T) { testRecipientSignOff(t, srv.url, shots, "en") })
	t.Run("Console", func(t *testing.T) { testConsoleTakeover(t, srv.url, shots) })
	t.Run("Courier", func(t *testing.T) { testCourierPage(t, srv.url, shots) })
	t.Run("Authorization", func(t *testing.T) { testPagesAuthorization(t, srv.url) })
	t.Run("ProofPhoto", func(t *testing.T) { testProofPhoto(t, srv.url) })
}

// openWithCourier opens a delivery carried by courier and returns the
// webhook's answer.
func openWithCourier(t *testing.T, url, delivery, locale, courier string) map[string]any {
	t.Helper()
	body := opening(delivery)
	data := body["data"].(map[string]any)
	data["recipient"].(map[string]any)["locale"] = locale
	data["courier"].(map[string]any)["id"] = courier
	status, open := sendWebhook(t, url, "msg_"+delivery, body)
	if status != http.StatusAccepted {
		t.Fatalf("opening webhook: %d %v", status, open)
	}
	return open
}

func testRecipientSignOff(t *testing.T, url, shots, locale string) {
	b := newBrowser(t, "")
	b.do(t, 10*time.Second, chromedp.EmulateViewport(360, 740))
	delivery := "PG-R-" + locale
	sid, token, link := openDelivery(t, url, delivery, locale)
	b.open(t, link)
	b.waitFor(t, 10*time.Second, `window.signoff && window.signoff.state.ready && document.querySelectorAll('#options .opt').length > 0`)

	if got := eval[string](t, b, `document.documentElement.lang`); got != locale {
		t.Errorf("page lang %q, want %s", got, locale)
	}
	if px := eval[float64](t, b, `parseFloat(getComputedStyle(document.body).fontSize)`); px < 22 {
		t.Errorf("body text %vpx, want 22px", px)
	}
	small := eval[[]string](t, b, `[...document.querySelectorAll('button, input, a[href]')]
		.filter(e => e.offsetParent !== null)
		.map(e => { const r = e.getBoundingClientRect(); return [e.id || e.dataset.key || e.textContent.trim().slice(0, 12), r.width, r.height]; })
		.filter(([, w, h]) => w < 56 || h < 56).map(x => x.join(' '))`)
	if len(small) > 0 {
		t.Errorf("targets under 56px at 360px width: %v", small)
	}
	if w := eval[[]float64](t, b, `[document.documentElement.scrollWidth, innerWidth]`); w[0] > w[1] {
		t.Errorf("the page is %vpx wide at %vpx: it scrolls sideways", w[0], w[1])
	}
	// Status and ETA, the ETA in the recipient's zone (Asia/Shanghai).
	b.waitFor(t, 5*time.Second, `!document.getElementById('eta-row').hidden && !document.getElementById('parcel-row').hidden`)
	s := sessionState(t, url, sid, token)
	d, _ := s["delivery"].(map[string]any)
	if d["time_zone"] != "Asia/Shanghai" || d["status"] != "out_for_delivery" {
		t.Errorf("session delivery view %v, want status out_for_delivery, zone Asia/Shanghai", d)
	}
	eta, _ := time.Parse(time.RFC3339, fmt.Sprint(d["eta"]))
	sh, _ := time.LoadLocation("Asia/Shanghai")
	if got, want := eval[string](t, b, `document.getElementById('eta').textContent`), eta.In(sh).Format("15:04"); !strings.Contains(got, want) {
		t.Errorf("ETA shown %q, want the Shanghai time %s in it", got, want)
	}
	b.checkContrast(t, "recipient "+locale)
	wantOrder := []string{"lang", "1", "2", "3", "4", "5", "6", "0", "9", "text", "send", "call", "keypad-toggle"}
	if got := b.focusOrder(t, len(wantOrder)); !slices.Equal(got, wantOrder) {
		t.Errorf("Tab order: got %v, want %v", got, wantOrder)
	}
	b.screenshot(t, shots, "pages-recipient-"+locale)

	// Tap 3 (pickup station), the courier delivers, tap 1 (I have it).
	b.do(t, 10*time.Second, chromedp.Click(option("3")))
	b.waitFor(t, 10*time.Second, `window.signoff.state.session.outcome === 'pickup_station'`)
	body := map[string]any{"type": "delivery.delivered", "timestamp": time.Now().UTC().Format(time.RFC3339),
		"data": map[string]any{"delivery_id": delivery, "status": "delivered"}}
	if status, m := sendWebhook(t, url, "msg_"+delivery+"_delivered", body); status != http.StatusOK {
		t.Fatalf("delivered webhook: %d %v", status, m)
	}
	b.waitFor(t, 10*time.Second, `window.signoff.state.session.state === 'awaiting_receipt' && document.querySelector('#options .opt[data-key="1"]')`)
	b.do(t, 10*time.Second, chromedp.Click(option("1")))
	b.waitFor(t, 10*time.Second, `window.signoff.state.session.state === 'signed' && document.getElementById('menu').hidden`)
	if s := sessionState(t, url, sid, token); s["state"] != "signed" || s["outcome"] != "pickup_station" {
		t.Fatalf("after tapping: state %v outcome %v, want signed pickup_station", s["state"], s["outcome"])
	}
	b.screenshot(t, shots, "pages-recipient-"+locale+"-signed")
}

// staffClient is a signed-in console session over HTTP.
type staffClient struct {
	url, cookie, csrf string
}

func signIn(t *testing.T, url, name, password string) (int, staffClient) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name, "password": password})
	resp, err := http.Post(url+"/console/api/signin", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var me struct{ CSRF string }
	json.NewDecoder(resp.Body).Decode(&me)
	c := staffClient{url: url, csrf: me.CSRF}
	for _, ck := range resp.Cookies() {
		if ck.Name == "signoff_console" {
			c.cookie = ck.Value
			if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
				t.Errorf("console cookie HttpOnly=%v SameSite=%v, want HttpOnly and Strict", ck.HttpOnly, ck.SameSite)
			}
		}
	}
	return resp.StatusCode, c
}

// call makes a console API request; csrf false leaves the header out.
func (c staffClient) call(t *testing.T, method, path string, body any, csrf bool) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.url+"/console/api"+path, r)
	req.Header.Set("Content-Type", "application/json")
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "signoff_console", Value: c.cookie})
	}
	if csrf {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	return do(t, req)
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func testConsoleTakeover(t *testing.T, url, shots string) {
	agent := newBrowser(t, "")
	agent.do(t, 10*time.Second, chromedp.EmulateViewport(1280, 900))
	agent.open(t, url+"/console")
	agent.waitFor(t, 10*time.Second, `!document.getElementById('signin').hidden`)
	agent.do(t, 10*time.Second,
		chromedp.SendKeys(chromedp.ID("name"), "ann"),
		chromedp.SendKeys(chromedp.ID("password"), staffPassword),
		chromedp.Click(chromedp.ID("signin-btn")))
	agent.waitFor(t, 10*time.Second, `!document.getElementById('app').hidden && window.signoffConsole.live`)

	// A conversation opens after the console: it appears live.
	sid, token, link := openDelivery(t, url, "PG-CON-1", "zh-CN")
	agent.waitFor(t, 10*time.Second, `!!document.querySelector('#all tr[data-session="`+sid+`"]')`)
	recipient := newBrowser(t, "")
	recipient.do(t, 10*time.Second, chromedp.EmulateViewport(360, 740))
	recipient.open(t, link)
	recipient.waitFor(t, 10*time.Second, `window.signoff && window.signoff.state.ready && document.querySelectorAll('#options .opt').length > 0`)

	// The recipient asks for a person: the queue shows it, with the reason.
	recipient.do(t, 10*time.Second, chromedp.Click(option("0")))
	agent.waitFor(t, 10*time.Second, `!!document.querySelector('#queue tr[data-session="`+sid+`"]') &&
		document.querySelector('#queue tr[data-session="`+sid+`"]').textContent.includes('asked for a person')`)
	agent.do(t, 10*time.Second, chromedp.Click(chromedp.CSS(`#all button[data-session="`+sid+`"]`)))
	agent.waitFor(t, 10*time.Second, `!document.getElementById('detail').hidden && document.querySelectorAll('#transcript li').length >= 3`)
	agent.do(t, 10*time.Second, chromedp.Click(chromedp.ID("claim")))
	agent.waitFor(t, 10*time.Second, `!document.getElementById('say-text').disabled`)

	// The recipient sees a person has joined; the menu goes away.
	recipient.waitFor(t, 10*time.Second, `!document.getElementById('staff-banner').hidden && document.getElementById('menu').hidden`)
	agent.do(t, 10*time.Second,
		chromedp.SendKeys(chromedp.ID("say-text"), "您好，我是客服小安，请问有什么可以帮您？"),
		chromedp.Click(chromedp.ID("say-btn")))
	recipient.waitFor(t, 10*time.Second, `[...document.querySelectorAll('#transcript li.staff .text')].some(p => p.textContent.includes('客服小安'))`)
	recipient.checkContrast(t, "recipient with staff")
	recipient.screenshot(t, shots, "pages-recipient-staff")

	// Speed: a recipient message appears on the open console.
	times := evalAwait[[]float64](t, agent, 2*time.Minute, fmt.Sprintf(`(async (sid, token) => {
		const times = [];
		const ol = document.getElementById('transcript');
		for (let i = 0; i < 50; i++) {
			const text = 'probe ' + i;
			const seen = new Promise((resolve) => {
				const has = () => [...ol.querySelectorAll('li.recipient p')].some(p => p.textContent === text);
				const mo = new MutationObserver(() => { if (has()) { mo.disconnect(); resolve(); } });
				mo.observe(ol, {childList: true, subtree: true});
			});
			const t0 = performance.now();
			fetch('/v1/sessions/' + sid + '/messages', {method: 'POST',
				headers: {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'}, body: JSON.stringify({text})});
			await seen;
			times.push(performance.now() - t0);
		}
		return times;
	})(%q, %q)`, sid, token))
	if len(times) != 50 {
		t.Fatalf("measured %d messages, want 50", len(times))
	}
	sort.Float64s(times)
	p50, p95, worst := times[24], times[47], times[49]
	t.Logf("recipient message → open console, 50 messages: p50 %.1f ms, p95 %.1f ms, max %.1f ms", p50, p95, worst)
	fmt.Printf("console latency over 50 messages: p50 %.1f ms, p95 %.1f ms, max %.1f ms\n", p50, p95, worst)
	// The target is p95 ≤ 200 ms; the assertion is looser, since the
	// suite runs with -race on a shared machine.
	if p95 > 200 {
		t.Logf("p95 %.1f ms is over the 200 ms target", p95)
	}
	if p95 > 1000 {
		t.Errorf("p95 %.1f ms: recipient messages reach the console far too slowly", p95)
	}
	agent.checkContrast(t, "console")
	agent.screenshot(t, shots, "pages-console")

	// Hand back: the bot offers the menu again, the banner goes.
	agent.do(t, 10*time.Second, chromedp.Click(chromedp.ID("handback")))
	recipient.waitFor(t, 10*time.Second, `document.getElementById('staff-banner').hidden && !document.getElementById('menu').hidden &&
		document.querySelectorAll('#options .opt').length >= 8`)
	s := sessionState(t, url, sid, token)
	if s["state"] != "awaiting_choice" || s["held"] != false {
		t.Fatalf("after hand-back: state %v held %v", s["state"], s["held"])
	}

	// Staff start a video call: the console links to the video page as a
	// staff viewer, which joins on the console's cookie.
	agent.do(t, 10*time.Second, chromedp.Click(chromedp.ID("video-start")))
	agent.waitFor(t, 10*time.Second, `!document.getElementById('video-watch').hidden`)
	href := eval[string](t, agent, `document.getElementById('video-watch').getAttribute('href')`)
	if href != "/v/PG-CON-1?role=staff" {
		t.Fatalf("watch link %q, want /v/PG-CON-1?role=staff", href)
	}
	if s := sessionState(t, url, sid, token); s["state"] != "video" {
		t.Errorf("after starting a video call: state %v, want video", s["state"])
	}
	agent.open(t, url+href+"&auto=1")
	agent.waitFor(t, 20*time.Second, `window.signoff.state.answerAt > 0 || !!window.signoff.state.error`)
	if e := eval[string](t, agent, `window.signoff.state.error`); e != "" {
		t.Errorf("the staff viewer did not join on the console's cookie: %s", e)
	}
}

func testCourierPage(t *testing.T, url, shots string) {
	open := openWithCourier(t, url, "PG-CO-1", "zh-CN", "C-77")
	openWithCourier(t, url, "PG-CO-2", "en", "C-78") // another courier's
	courierURL, _ := open["courier_url"].(string)
	if courierURL == "" {
		t.Fatalf("the webhook answer has no courier_url: %v", open)
	}
	b := newBrowser(t, "")
	b.do(t, 10*time.Second, chromedp.EmulateViewport(360, 740))
	if status := b.open(t, courierURL); status != http.StatusOK {
		t.Fatalf("courier page: %d", status)
	}
	b.waitFor(t, 10*time.Second, `!!document.querySelector('li[data-delivery="PG-CO-1"]')`)
	if got := eval[[]string](t, b, `[...document.querySelectorAll('li[data-delivery]')].map(li => li.dataset.delivery)`); !slices.Equal(got, []string{"PG-CO-1"}) {
		t.Errorf("courier C-77 sees %v, want only PG-CO-1", got)
	}
	if got := eval[string](t, b, `(f => f.type + ' ' + f.accept + ' ' + f.getAttribute('capture'))(document.querySelector('input[type=file]'))`); got != "file image/* environment" {
		t.Errorf("proof input: %q", got)
	}
	if href := eval[string](t, b, `document.querySelector('a.video').getAttribute('href')`); !strings.HasPrefix(href, "/v/PG-CO-1?role=courier&t=c1.") {
		t.Errorf("video button links to %q", href)
	}
	// The recipient chooses: the page shows it live.
	sid, _ := open["session_id"].(string)
	token, _ := open["recipient_token"].(string)
	chat(t, url, sid, token, "2")
	b.waitFor(t, 10*time.Second, `document.querySelector('li[data-delivery="PG-CO-1"] dd.choice').dataset.outcome === 'leave_at_door'`)
	b.checkContrast(t, "courier page")
	b.screenshot(t, shots, "pages-courier")
}

func testPagesAuthorization(t *testing.T, url string) {
	a := openWithCourier(t, url, "PG-AU-1", "zh-CN", "C-90")
	bOpen := openWithCourier(t, url, "PG-AU-2", "zh-CN", "C-91")
	sidA, _ := a["session_id"].(string)
	tokB, _ := bOpen["recipient_token"].(string)

	// A recipient token opens only its own session.
	req, _ := http.NewRequest("GET", url+"/v1/sessions/"+sidA, nil)
	req.Header.Set("Authorization", "Bearer "+tokB)
	if status, m := do(t, req); status != http.StatusUnauthorized {
		t.Errorf("B's token on A's session: %d %v, want 401", status, m)
	}
	if resp, err := http.Get(url + "/v1/sessions/" + sidA + "/stream?t=" + tokB); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("B's token on A's stream: %v %v, want 401", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}

	// A courier sees only their own deliveries.
	tokC90, _ := a["courier_token"].(string)
	tokC91, _ := bOpen["courier_token"].(string)
	for _, tc := range []struct {
		path, token string
		want        int
	}{
		{"/v1/couriers/C-90/deliveries", tokC90, 200},
		{"/v1/couriers/C-90/deliveries", tokC91, 401},
		{"/v1/couriers/C-91/deliveries", tokC90, 401},
		{"/v1/couriers/C-90/deliveries", "", 401},
		{"/v1/couriers/C-90/stream?t=" + tokC91, "", 401},
	} {
		req, _ := http.NewRequest("GET", url+tc.path, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		status, m := do(t, req)
		if status != tc.want {
			t.Errorf("GET %s: %d %v, want %d", tc.path, status, m, tc.want)
		}
		if status == 200 {
			list, _ := m["deliveries"].([]any)
			if len(list) != 1 || list[0].(map[string]any)["delivery"] != "PG-AU-1" {
				t.Errorf("courier C-90 lists %v, want only PG-AU-1", list)
			}
		}
	}

	// The console refuses without a session.
	anon := staffClient{url: url}
	for _, p := range []struct{ method, path string }{
		{"GET", "/me"}, {"GET", "/conversations"}, {"GET", "/events"}, {"GET", "/conversations/" + sidA},
		{"POST", "/conversations/" + sidA + "/claim"}, {"POST", "/conversations/" + sidA + "/notes"},
	} {
		if status, m := anon.call(t, p.method, p.path, map[string]string{"text": "x"}, false); status != http.StatusUnauthorized {
			t.Errorf("%s %s without a session: %d %v, want 401", p.method, p.path, status, m)
		}
	}
	if status, _ := signIn(t, url, "ann", "wrong"); status != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", status)
	}
	status, ann := signIn(t, url, "ann", staffPassword)
	if status != 200 || ann.cookie == "" || ann.csrf == "" {
		t.Fatalf("ann signs in: %d %+v", status, ann)
	}
	_, bob := signIn(t, url, "bob", staffPassword)
	_, sue := signIn(t, url, "sue", staffPassword)

	// CSRF: a state-changing request without the token is refused, and
	// changes nothing.
	if status, m := ann.call(t, "POST", "/conversations/"+sidA+"/claim", nil, false); status != http.StatusForbidden || errCode(m) != "bad_csrf" {
		t.Errorf("claim without X-CSRF-Token: %d %v, want 403 bad_csrf", status, m)
	}
	bad := ann
	bad.csrf = "forged"
	if status, _ := bad.call(t, "POST", "/conversations/"+sidA+"/claim", nil, true); status != http.StatusForbidden {
		t.Errorf("claim with a forged token: %d, want 403", status)
	}
	if _, c := ann.call(t, "GET", "/conversations/"+sidA, nil, false); c["staff"] != nil {
		t.Fatalf("a refused claim changed the conversation: %v", c)
	}

	// Two agents claim at once: exactly one owns it.
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i, c := range []staffClient{ann, bob} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = c.call(t, "POST", "/conversations/"+sidA+"/claim", nil, true)
		}()
	}
	wg.Wait()
	slices.Sort(codes)
	if !slices.Equal(codes, []int{200, 409}) {
		t.Fatalf("two concurrent claims answered %v, want one 200 and one 409", codes)
	}
	_, c := sue.call(t, "GET", "/conversations/"+sidA, nil, false)
	holder, _ := c["staff"].(string)
	other := bob
	if holder == "bob" {
		other = ann
	}
	// An agent cannot release or hand back another agent's claim; a
	// supervisor can.
	if status, m := other.call(t, "POST", "/conversations/"+sidA+"/release", nil, true); status != http.StatusForbidden {
		t.Errorf("agent releases %s's claim: %d %v, want 403", holder, status, m)
	}
	if status, m := other.call(t, "POST", "/conversations/"+sidA+"/handback", nil, true); status != http.StatusForbidden {
		t.Errorf("agent hands back %s's claim: %d %v, want 403", holder, status, m)
	}
	if status, m := other.call(t, "POST", "/conversations/"+sidA+"/say", map[string]string{"text": "hi"}, true); status != http.StatusConflict {
		t.Errorf("agent writes in %s's conversation: %d %v, want 409", holder, status, m)
	}
	if status, m := sue.call(t, "POST", "/conversations/"+sidA+"/release", nil, true); status != http.StatusOK || m["staff"] != nil {
		t.Errorf("supervisor releases: %d %v, want 200 and no holder", status, m)
	}
	if status, _ := sue.call(t, "POST", "/conversations/"+sidA+"/notes", map[string]string{"text": "called the recipient"}, true); status != http.StatusCreated {
		t.Errorf("note: %d, want 201", status)
	}
	_, c = ann.call(t, "GET", "/conversations/"+sidA, nil, false)
	if notes, _ := c["notes"].([]any); len(notes) != 1 {
		t.Errorf("notes %v, want the one added", c["notes"])
	}
	// Claimed from the queue again: the wait is on /metrics.
	waits := queueWaits(t, url)
	if status, m := other.call(t, "POST", "/conversations/"+sidA+"/claim", nil, true); status != http.StatusOK {
		t.Errorf("claim from the queue: %d %v", status, m)
	}
	if n := queueWaits(t, url); n != waits+1 {
		t.Errorf("signoff_handoff_queue_wait_seconds_count went from %d to %d, want one more", waits, n)
	}

	// Lockout after repeated failures, even with the right password.
	for range 10 {
		signIn(t, url, "bob", "wrong")
	}
	if status, _ := signIn(t, url, "bob", staffPassword); status != http.StatusTooManyRequests {
		t.Errorf("sign-in after 10 failures: %d, want 429", status)
	}
	// Signing out ends the session.
	if status, _ := ann.call(t, "POST", "/signout", nil, true); status != http.StatusOK {
		t.Errorf("sign out: %d", status)
	}
	if status, _ := ann.call(t, "GET", "/me", nil, false); status != http.StatusUnauthorized {
		t.Errorf("after sign-out: %d, want 401", status)
	}
}

// queueWaits reads signoff_handoff_queue_wait_seconds_count off /metrics.
func queueWaits(t *testing.T, url string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^signoff_handoff_queue_wait_seconds_count (\d+)$`).FindStringSubmatch(get(t, url+"/metrics"))
	if m == nil {
		t.Fatal("/metrics lacks signoff_handoff_queue_wait_seconds_count")
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// evalAwait returns the value of a JavaScript expression that yields a
// promise, once it settles.
func evalAwait[T any](t *testing.T, b *browser, limit time.Duration, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, limit)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	return v
}

// testProofPhoto: the courier's photo, uploaded through the proof endpoint
// with the courier token of the opening webhook's answer, shows on the
// recipient page as a picture that really loads (the page authorises the
// <img> with the recipient's token), with a text alternative.
func testProofPhoto(t *testing.T, url string) {
	body := opening("PG-PHOTO-1")
	body["data"].(map[string]any)["recipient"].(map[string]any)["locale"] = "en"
	status, open := sendWebhook(t, url, "msg_PG-PHOTO-1", body)
	if status != http.StatusAccepted {
		t.Fatalf("opening webhook: %d %v, want 202", status, open)
	}
	link, _ := open["recipient_url"].(string)
	courierToken, _ := open["courier_token"].(string)
	if status, ans := uploadProof(t, url, "PG-PHOTO-1", courierToken, testJPEG(t, 7)); status != http.StatusCreated {
		t.Fatalf("proof upload: %d %v, want 201", status, ans)
	}
	b := newBrowser(t, "")
	b.do(t, 10*time.Second, chromedp.EmulateViewport(360, 740))
	b.open(t, link)
	b.waitFor(t, 10*time.Second, `(i => !!i && i.complete && i.naturalWidth > 0)(document.querySelector('#transcript li img.proof'))`)
	if got := eval[string](t, b, `document.querySelector('#transcript li img.proof').alt`); got != "The courier's photo of the delivered parcel" {
		t.Errorf("proof picture's alt: %q", got)
	}
}
