package webchat

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
)

// pageConv is a Conversations with one session, "s1", whose token is "good".
type pageConv struct {
	locale signoff.Locale
	err    error // returned by every call when set
}

func (p pageConv) Session(_ context.Context, id signoff.SessionID, token string) (signoff.Session, signoff.Delivery, error) {
	switch {
	case p.err != nil:
		return signoff.Session{}, signoff.Delivery{}, p.err
	case id != "s1":
		return signoff.Session{}, signoff.Delivery{}, signoff.Errorf(signoff.ErrNotFound, "not_found", "no such session")
	case token != "good":
		return signoff.Session{}, signoff.Delivery{}, signoff.Errorf(signoff.ErrUnauthorized, "bad_token", "wrong token")
	}
	return signoff.Session{ID: id, Locale: p.locale, State: signoff.StateAwaitingChoice}, signoff.Delivery{}, nil
}

func (p pageConv) Reply(context.Context, signoff.SessionID, string, signoff.Input) (dialog.Turn, error) {
	return dialog.Turn{}, errors.New("not used")
}

type noFeed struct{}

func (noFeed) Subscribe(context.Context, signoff.SessionID) (<-chan dialog.Posted, error) {
	return nil, errors.New("not used")
}

func pageRouter(conv Conversations) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	h := New(conv, noFeed{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.Register(r)
	h.RegisterPage(r)
	return r
}

func get(t *testing.T, h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestPage(t *testing.T) {
	unavailable := signoff.Wrap(signoff.ErrUnavailable, "redis_unavailable", "down", errors.New("dial tcp: refused"))
	tests := []struct {
		name       string
		conv       pageConv
		target     string
		acceptLang string
		status     int
		lang       string
		want       []string // in the body
		wantNot    []string
	}{
		{"chinese session", pageConv{locale: signoff.LocaleZH}, "/r/s1?t=good", "en-GB", 200, "zh-CN",
			[]string{`<main id="app"`, `data-error=""`, `src="/r/assets/app.js?v=` + assetVersion}, []string{"链接无效"}},
		{"english session", pageConv{locale: signoff.LocaleEN}, "/r/s1?t=good", "", 200, "en",
			[]string{`<main id="app"`}, nil},
		{"wrong token", pageConv{}, "/r/s1?t=bad", "", 401, "zh-CN",
			[]string{"这个链接无效或已过期", "This link is not valid", `data-error="link"`}, []string{`<main id="app"`}},
		{"no token", pageConv{}, "/r/s1", "en-US,en;q=0.9", 401, "en",
			[]string{"This link is not valid"}, []string{`<main id="app"`}},
		{"unknown session", pageConv{}, "/r/nope?t=good", "", 404, "zh-CN",
			[]string{"这个链接无效或已过期"}, []string{`<main id="app"`}},
		{"store down", pageConv{err: unavailable}, "/r/s1?t=good", "", 503, "zh-CN",
			[]string{"服务暂时忙", `data-error="unavailable"`}, []string{`<main id="app"`, "refused"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := get(t, pageRouter(tt.conv), tt.target, "Accept-Language", tt.acceptLang)
			body := w.Body.String()
			if w.Code != tt.status {
				t.Fatalf("status: got %d, want %d\n%s", w.Code, tt.status, body)
			}
			if got := w.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("Content-Type: got %q, want text/html; charset=utf-8", got)
			}
			if !strings.Contains(body, `<html lang="`+tt.lang+`">`) {
				t.Errorf("page language: want %s in %.200s", tt.lang, body)
			}
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %q", s)
				}
			}
			if zh, en := strings.Index(body, "这个链接无效"), strings.Index(body, "This link is not valid"); zh >= 0 && en >= 0 && (en < zh) != (tt.lang == "en") {
				t.Errorf("the invalid-link message in %s does not come first", tt.lang)
			}
			for _, s := range tt.wantNot {
				if strings.Contains(body, s) {
					t.Errorf("body has %q", s)
				}
			}
			for k, v := range map[string]string{
				"Cache-Control":   "no-store",
				"Referrer-Policy": "no-referrer",
				"X-Frame-Options": "DENY",
			} {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s: got %q, want %q", k, got, v)
				}
			}
			if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("Content-Security-Policy %q: want script-src 'self' and nothing inline", csp)
			}
		})
	}
}

func TestPageAssets(t *testing.T) {
	h := pageRouter(pageConv{})
	for _, tt := range []struct {
		file, ctype, contains string
	}{
		{"app.js", "text/javascript; charset=utf-8", "insertDTMF"},
		{"app.css", "text/css; charset=utf-8", "--primary"},
	} {
		w := get(t, h, "/r/assets/"+tt.file+"?v="+assetVersion)
		if w.Code != 200 {
			t.Fatalf("%s: got %d, want 200", tt.file, w.Code)
		}
		if got := w.Header().Get("Content-Type"); got != tt.ctype {
			t.Errorf("%s Content-Type: got %q, want %q", tt.file, got, tt.ctype)
		}
		if got := w.Header().Get("Cache-Control"); !strings.Contains(got, "immutable") {
			t.Errorf("%s at the current version: Cache-Control %q, want immutable", tt.file, got)
		}
		if !strings.Contains(w.Body.String(), tt.contains) {
			t.Errorf("%s lacks %q", tt.file, tt.contains)
		}
		etag := w.Header().Get("ETag")
		if etag == "" {
			t.Fatalf("%s has no ETag", tt.file)
		}
		if w := get(t, h, "/r/assets/"+tt.file, "If-None-Match", etag); w.Code != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: got %d, want 304", tt.file, w.Code)
		} else if got := w.Header().Get("Cache-Control"); got != "no-cache" {
			t.Errorf("%s without a version: Cache-Control %q, want no-cache", tt.file, got)
		}
	}
	if w := get(t, h, "/r/assets/index.html"); w.Code != 404 {
		t.Errorf("/r/assets/index.html: got %d, want 404", w.Code)
	}
	if w := get(t, h, "/r/assets/..%2fpage.go"); w.Code != 404 {
		t.Errorf("/r/assets/..%%2fpage.go: got %d, want 404", w.Code)
	}
}

// TestPageStrings keeps the page's two languages in step: every UI string
// exists, non-empty, in both.
func TestPageStrings(t *testing.T) {
	js := string(assets["app.js"].body)
	m := regexp.MustCompile(`(?s)/\*ui-strings\*/(.*?)/\*end-ui-strings\*/`).FindStringSubmatch(js)
	if m == nil {
		t.Fatal("app.js has no /*ui-strings*/ ... /*end-ui-strings*/ block")
	}
	var ui map[string]map[string]string
	if err := json.Unmarshal([]byte(m[1]), &ui); err != nil {
		t.Fatalf("the UI strings are not strict JSON: %v", err)
	}
	zh, en := ui["zh-CN"], ui["en"]
	if len(zh) == 0 || len(en) == 0 || len(ui) != 2 {
		t.Fatalf("UI strings: got languages %v, want zh-CN and en", slices.Sorted(maps.Keys(ui)))
	}
	for k, v := range zh {
		if en[k] == "" {
			t.Errorf("%q: missing or empty in en", k)
		}
		if v == "" {
			t.Errorf("%q: empty in zh-CN", k)
		}
	}
	for k := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("%q: missing in zh-CN", k)
		}
	}
	// Every state and outcome has words in both languages.
	for _, k := range []string{"awaiting_choice", "confirming", "arranged", "awaiting_receipt", "signed", "handoff", "video", "expired", "failed"} {
		if zh["state."+k] == "" {
			t.Errorf("no words for state %s", k)
		}
	}
	for _, k := range []string{"deliver_now", "leave_at_door", "pickup_station", "locker", "reschedule", "video", "handoff"} {
		if zh["outcome."+k] == "" {
			t.Errorf("no words for outcome %s", k)
		}
	}
	// Every key the HTML names is defined.
	html, err := staticFS.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`data-i18n(?:-label)?="([^"]+)"`).FindAllStringSubmatch(string(html), -1) {
		if zh[m[1]] == "" {
			t.Errorf("index.html names UI string %q, which app.js lacks", m[1])
		}
	}
}
