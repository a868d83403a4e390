package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// browser is a headless Chromium with a fake microphone, driven over the
// DevTools protocol, for one test. Its console goes to the test log when the
// test fails, and an uncaught exception or a Content Security Policy
// violation on the page fails the test.
type browser struct {
	ctx context.Context

	mu      sync.Mutex
	console []string
	faults  []string
}

// newBrowser starts Chromium with exactly the flags the browser tests use;
// fakeAudio is the WAV file the fake microphone plays (in a loop), or ""
// for a second of silence. Chromium is killed when the test ends.
func newBrowser(t *testing.T, fakeAudio string) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatal("chromium not found: run make deps (apt-get install chromium)")
	}
	if fakeAudio == "" {
		fakeAudio = silentWAV(t, time.Second)
	}
	var out logBuffer
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-audio-capture", fakeAudio),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(&out),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &browser{ctx: ctx}
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // kills Chromium and waits for it
		if t.Failed() {
			b.mu.Lock()
			t.Logf("page console:\n%s", strings.Join(b.console, "\n"))
			b.mu.Unlock()
			if s := out.String(); s != "" {
				t.Logf("chromium output (last 4 KiB):\n%s", tail(s, 4096))
			}
		}
	})
	// The first action starts the browser; it may take a while on a busy
	// machine, but not forever.
	start, cancelStart := context.WithTimeout(ctx, 30*time.Second)
	defer cancelStart()
	stop := context.AfterFunc(start, func() {
		if errors.Is(start.Err(), context.DeadlineExceeded) {
			cancel()
		}
	})
	defer stop()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatalf("starting chromium: %v\n%s", err, tail(out.String(), 4096))
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			line := m.String()
			b.mu.Lock()
			b.console = append(b.console, line)
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				b.faults = append(b.faults, line)
			}
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, f := range b.faults {
			t.Errorf("the page faulted: %s", f)
		}
	})
	return b
}

// do runs actions with a time limit.
func (b *browser) do(t *testing.T, limit time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, limit)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// open navigates to url and returns the HTTP status of the document.
func (b *browser) open(t *testing.T, url string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	return resp.Status
}

// eval returns the value of a JavaScript expression on the page.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript expression until it is truthy, and fails the
// test with what the page shows if it is not within limit.
func (b *browser) waitFor(t *testing.T, limit time.Duration, expr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, limit+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(limit)))
	if err != nil {
		state := eval[string](t, b, `JSON.stringify(window.signoff && window.signoff.state)`)
		text := eval[string](t, b, `document.body.innerText.slice(0, 2000)`)
		t.Fatalf("waiting %v for %s: %v\nwindow.signoff.state: %s\npage text:\n%s", limit, expr, err, state, text)
	}
}

// jsContrastProblems lists visible text whose contrast with its background
// is below WCAG 2 AA: 4.5:1, or 3:1 for large text (24px, or 18.66px bold).
// Disabled controls are exempt.
const jsContrastProblems = `(() => {
	const parse = (c) => {
		const m = /rgba?\(([^)]+)\)/.exec(c);
		if (!m) return null;
		const p = m[1].split(',').map(Number);
		return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
	};
	const lum = ({r, g, b}) => {
		const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
		return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
	};
	const background = (el) => {
		for (let e = el; e; e = e.parentElement) {
			const c = parse(getComputedStyle(e).backgroundColor);
			if (c && c.a > 0.5) return c;
		}
		return {r: 255, g: 255, b: 255};
	};
	const bad = [];
	for (const el of document.querySelectorAll('body *')) {
		if (el.offsetParent === null || el.closest(':disabled')) continue;
		if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
		const cs = getComputedStyle(el);
		const a = lum(parse(cs.color)), b = lum(background(el));
		const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
		const size = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight, 10) >= 700;
		const large = size >= 24 || (bold && size >= 18.66);
		if (ratio < (large ? 3 : 4.5)) {
			bad.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' + el.textContent.trim().slice(0, 24) + '" ' + ratio.toFixed(2) + ':1');
		}
	}
	return bad;
})()`

// checkContrast fails the test for text on the page below WCAG AA contrast.
func (b *browser) checkContrast(t *testing.T, when string) {
	t.Helper()
	for _, p := range eval[[]string](t, b, jsContrastProblems) {
		t.Errorf("%s: contrast below AA: %s", when, p)
	}
}

// focusOrder presses Tab n times from the top of the page and returns what
// each press focused: the element's id, or its data-key.
func (b *browser) focusOrder(t *testing.T, n int) []string {
	t.Helper()
	eval[bool](t, b, `document.activeElement && document.activeElement.blur(), window.scrollTo(0, 0), true`)
	var got []string
	for range n {
		b.do(t, 5*time.Second, chromedp.KeyEvent("\t"))
		got = append(got, eval[string](t, b, `(e => e.id || (e.dataset && e.dataset.key) || e.tagName)(document.activeElement)`))
	}
	return got
}

// screenshot saves a PNG of the whole page into dir, checks that it is a
// real picture, and returns its path. With SIGNOFF_SCREENSHOTS set to a
// directory, a copy is kept there after the test.
func (b *browser) screenshot(t *testing.T, dir, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path)
	if keep := os.Getenv("SIGNOFF_SCREENSHOTS"); keep != "" {
		if err := os.MkdirAll(keep, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(keep, name+".png"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshot: %s", path)
	return path
}

// checkPNG fails the test unless path is a PNG of a phone-sized page with
// something drawn on it: many colours, and a good share of pixels that are
// not the background.
func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
	bounds := img.Bounds()
	if bounds.Dx() < 300 || bounds.Dy() < 400 {
		t.Fatalf("%s is %dx%d; want at least 300x400", path, bounds.Dx(), bounds.Dy())
	}
	colours := map[[3]uint32]int{}
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 2 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, b >> 8}]++
		}
	}
	most, total := 0, 0
	for _, n := range colours {
		total += n
		most = max(most, n)
	}
	if len(colours) < 16 || float64(most) > 0.97*float64(total) {
		t.Fatalf("%s looks blank: %d colours, the commonest covers %d of %d pixels", path, len(colours), most, total)
	}
}

// silentWAV writes d of 16-bit mono 48 kHz silence and returns its path.
func silentWAV(t *testing.T, d time.Duration) string {
	t.Helper()
	const rate = 48000
	n := int(d.Seconds() * rate)
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + 2*n))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1))        // PCM
	le(uint16(1))        // mono
	le(uint32(rate))     // sample rate
	le(uint32(2 * rate)) // byte rate
	le(uint16(2))        // block align
	le(uint16(16))       // bits per sample
	b.WriteString("data")
	le(uint32(2 * n))
	b.Write(make([]byte, 2*n))
	path := filepath.Join(t.TempDir(), "silence.wav")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// speechWAV has espeak-ng say text slowly in American English and sox make
// of it what Chromium's fake microphone plays: 16-bit mono 48 kHz, after
// lead seconds of silence and followed by two more.
func speechWAV(t *testing.T, text string, lead float64) string {
	t.Helper()
	for _, tool := range []string{"espeak-ng", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: run make deps (apt-get install espeak-ng sox)", tool)
		}
	}
	dir := t.TempDir()
	raw, out := filepath.Join(dir, "raw.wav"), filepath.Join(dir, "speech.wav")
	if b, err := exec.Command("espeak-ng", "-v", "en-us", "-s", "130", "-w", raw, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, b)
	}
	if b, err := exec.Command("sox", raw, "-r", "48000", "-c", "1", "-b", "16", "-e", "signed-integer", out,
		"pad", fmt.Sprint(lead), "2").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, b)
	}
	return out
}

// openDelivery sends the opening webhook of a new delivery whose recipient
// speaks locale and returns the session, its token and the recipient link.
func openDelivery(t *testing.T, url, delivery, locale string) (sid, token, link string) {
	t.Helper()
	body := opening(delivery)
	body["data"].(map[string]any)["recipient"].(map[string]any)["locale"] = locale
	status, open := sendWebhook(t, url, "msg_"+delivery, body)
	if status != http.StatusAccepted {
		t.Fatalf("opening webhook: %d %v, want 202", status, open)
	}
	sid, _ = open["session_id"].(string)
	token, _ = open["recipient_token"].(string)
	link, _ = open["recipient_url"].(string)
	if sid == "" || token == "" || !strings.HasPrefix(link, url+"/r/"+sid+"?t=") {
		t.Fatalf("webhook answer %v lacks session_id, recipient_token or recipient_url", open)
	}
	return sid, token, link
}

// sessionState reads a session through the chat API.
func sessionState(t *testing.T, url, sid, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/v1/sessions/"+sid, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	status, m := do(t, req)
	if status != http.StatusOK {
		t.Fatalf("GET session: %d %v", status, m)
	}
	return m
}

// waitSession polls the session until ok accepts it.
func waitSession(t *testing.T, url, sid, token string, limit time.Duration, what string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		s := sessionState(t, url, sid, token)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v the session has not %s: %v", limit, what, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// transcript returns a session's transcript lines.
func transcript(s map[string]any) []map[string]any {
	var lines []map[string]any
	tr, _ := s["transcript"].([]any)
	for _, l := range tr {
		if m, ok := l.(map[string]any); ok {
			lines = append(lines, m)
		}
	}
	return lines
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
