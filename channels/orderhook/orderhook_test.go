package orderhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/dialog"
)

var (
	oldKey    = []byte("old key, 32 bytes long, for test")
	newKey    = []byte("new key, 32 bytes long, for test")
	oldSecret = "whsec_" + base64.StdEncoding.EncodeToString(oldKey)
	newSecret = "whsec_" + base64.StdEncoding.EncodeToString(newKey)
	clock     = time.Date(2025, 3, 1, 1, 0, 0, 0, time.UTC)
)

// notifier is a fake Notifier: it records every event and answers like the
// engine does, the same Notice again (Duplicate) for a webhook id seen before.
type notifier struct {
	mu     sync.Mutex
	calls  []signoff.OrderEvent
	answer dialog.Notice
	err    error
	seen   map[string]dialog.Notice
}

func (n *notifier) Notify(ctx context.Context, ev signoff.OrderEvent) (dialog.Notice, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, ev)
	if n.err != nil {
		return dialog.Notice{}, n.err
	}
	if first, ok := n.seen[ev.WebhookID]; ok {
		first.Duplicate = true
		return first, nil
	}
	if n.seen == nil {
		n.seen = map[string]dialog.Notice{}
	}
	n.seen[ev.WebhookID] = n.answer
	return n.answer, nil
}

func (n *notifier) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.calls)
}

// server is a handler tree with an orderhook Handler, its fake Notifier and
// its log.
type server struct {
	http.Handler
	n   *notifier
	log *bytes.Buffer
}

func newServer(t *testing.T, cfg Config) *server {
	t.Helper()
	gin.SetMode(gin.TestMode)
	if cfg.Secrets == nil {
		cfg.Secrets = []string{newSecret}
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return clock }
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "https://signoff.example.com/"
	}
	s := &server{n: &notifier{answer: dialog.Notice{Opened: true, SessionID: "ses_1", Token: "tok+/="}}, log: new(bytes.Buffer)}
	h, err := New(cfg, s.n, slog.New(slog.NewJSONHandler(s.log, nil)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	r := gin.New()
	h.Register(r)
	s.Handler = r
	return s
}

// signed returns the three Standard Webhooks headers for body, signed with
// secret.
func signed(t *testing.T, secret, id string, ts time.Time, body []byte) http.Header {
	t.Helper()
	sig, err := Sign(secret, id, ts, body)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return h
}

func (s *server) post(t *testing.T, hdr http.Header, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

// decodeBody decodes the answer's JSON body as a map, to check its exact
// shape.
func decodeBody(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("answer body %q: %v", w.Body, err)
	}
	return m
}

func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if w.Code != status {
		t.Errorf("status: got %d, want %d (body %s)", w.Code, status, w.Body)
	}
	var b struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil {
		t.Fatalf("answer body %q: %v", w.Body, err)
	}
	if b.Error.Code != code || b.Error.Message == "" {
		t.Errorf("error: got %+v, want code %q with a message", b.Error, code)
	}
}

var opening = []byte(`{"type":"delivery.out_for_delivery","timestamp":"2025-03-01T09:00:00+08:00",
 "data":{"delivery_id":"D-1001","recipient":{"name":"Wang Fang","phone":"13900001234"},"address":"9 Happiness Road","eta":"2025-03-01T10:30:00+08:00"}}`)

func TestAccepted(t *testing.T) {
	s := newServer(t, Config{})
	w := s.post(t, signed(t, newSecret, "msg_1", clock, opening), opening)
	if w.Code != http.StatusAccepted {
		t.Fatalf("status: got %d, want 202 (body %s)", w.Code, w.Body)
	}
	got := decodeBody(t, w)
	want := map[string]any{
		"session_id":      "ses_1",
		"recipient_token": "tok+/=",
		"recipient_url":   "https://signoff.example.com/r/ses_1?t=tok%2B%2F%3D",
	}
	if jsonOf(t, got) != jsonOf(t, want) {
		t.Errorf("answer: got %s, want %s", jsonOf(t, got), jsonOf(t, want))
	}
	if w.Header().Get(HeaderDuplicate) != "" {
		t.Errorf("%s: got %q on a first delivery, want none", HeaderDuplicate, w.Header().Get(HeaderDuplicate))
	}
	if len(s.n.calls) != 1 {
		t.Fatalf("Notify calls: got %d, want 1", len(s.n.calls))
	}
	wantEv, err := Decode(opening)
	if err != nil {
		t.Fatal(err)
	}
	wantEv.WebhookID = "msg_1"
	if g, w := jsonOf(t, s.n.calls[0]), jsonOf(t, wantEv); g != w {
		t.Errorf("notified:\n got %s\nwant %s", g, w)
	}

	// The log names the webhook, its type and delivery, and no personal data.
	log := s.log.String()
	for _, want := range []string{`"webhook_id":"msg_1"`, `"type":"delivery.out_for_delivery"`, `"delivery_id":"D-1001"`, `"session_id":"ses_1"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log %s: want %s", log, want)
		}
	}
	for _, private := range []string{"13900001234", "Wang Fang", "Happiness", "tok+/="} {
		if strings.Contains(log, private) {
			t.Errorf("log %s: contains %q", log, private)
		}
	}
}

func TestNotOpened(t *testing.T) {
	update := body("delivery.updated", `{"delivery_id":"D-1001","eta":"2025-03-01T11:00:00+08:00"}`)
	for _, tt := range []struct {
		name   string
		notice dialog.Notice
		want   string
	}{
		{"with a session", dialog.Notice{SessionID: "ses_1"}, `{"session_id":"ses_1","status":"accepted"}`},
		{"without a session", dialog.Notice{}, `{"status":"accepted"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, Config{})
			s.n.answer = tt.notice
			w := s.post(t, signed(t, newSecret, "msg_2", clock, update), update)
			if w.Code != http.StatusOK {
				t.Errorf("status: got %d, want 200", w.Code)
			}
			if got := strings.TrimSpace(w.Body.String()); got != tt.want {
				t.Errorf("answer: got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDuplicate(t *testing.T) {
	for _, notice := range []dialog.Notice{
		{Opened: true, SessionID: "ses_1", Token: "tok"},
		{SessionID: "ses_1"},
	} {
		s := newServer(t, Config{})
		s.n.answer = notice
		hdr := signed(t, newSecret, "msg_3", clock, opening)
		first := s.post(t, hdr, opening)
		again := s.post(t, hdr, opening)
		if again.Code != first.Code || again.Body.String() != first.Body.String() {
			t.Errorf("replay: got %d %s, want %d %s", again.Code, again.Body, first.Code, first.Body)
		}
		if got := again.Header().Get(HeaderDuplicate); got != "true" {
			t.Errorf("replay %s: got %q, want true", HeaderDuplicate, got)
		}
		if got := first.Header().Get(HeaderDuplicate); got != "" {
			t.Errorf("first %s: got %q, want none", HeaderDuplicate, got)
		}
	}
}

func TestSignatures(t *testing.T) {
	good, err := Sign(newSecret, "msg_4", clock, opening)
	if err != nil {
		t.Fatal(err)
	}
	other, err := Sign(oldSecret, "msg_4", clock, opening)
	if err != nil {
		t.Fatal(err)
	}
	otherBody, err := Sign(newSecret, "msg_4", clock, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	otherID, err := Sign(newSecret, "msg_5", clock, opening)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, sig string
		ok        bool
	}{
		{"right", good, true},
		{"one of several is right", other + " " + good, true},
		{"right after an unknown version", "v2," + strings.TrimPrefix(good, "v1,") + "x " + good, true},
		{"another secret", other, false},
		{"another body", otherBody, false},
		{"another id", otherID, false},
		{"several, none right", other + " " + otherBody, false},
		{"wrong version", "v2," + strings.TrimPrefix(good, "v1,"), false},
		{"no version", strings.TrimPrefix(good, "v1,"), false},
		{"garbage", "v1,not-base64!", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, Config{})
			hdr := signed(t, newSecret, "msg_4", clock, opening)
			hdr.Set(HeaderSignature, tt.sig)
			w := s.post(t, hdr, opening)
			if tt.ok {
				if w.Code != http.StatusAccepted || s.n.count() != 1 {
					t.Errorf("got %d with %d calls, want 202 with 1 call (body %s)", w.Code, s.n.count(), w.Body)
				}
				return
			}
			wantError(t, w, http.StatusUnauthorized, "bad_signature")
			if s.n.count() != 0 {
				t.Errorf("Notify calls: got %d, want 0", s.n.count())
			}
		})
	}
}

func TestRotation(t *testing.T) {
	for _, tt := range []struct {
		name       string
		configured []string
		signWith   string
		status     int
	}{
		{"old key, both configured", []string{newSecret, oldSecret}, oldSecret, http.StatusAccepted},
		{"new key, both configured", []string{oldSecret, newSecret}, newSecret, http.StatusAccepted},
		{"old key, only the new configured", []string{newSecret}, oldSecret, http.StatusUnauthorized},
		{"new key, only the old configured", []string{oldSecret}, newSecret, http.StatusUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, Config{Secrets: tt.configured})
			w := s.post(t, signed(t, tt.signWith, "msg_6", clock, opening), opening)
			if w.Code != tt.status {
				t.Errorf("status: got %d, want %d (body %s)", w.Code, tt.status, w.Body)
			}
			if want := map[bool]int{true: 1, false: 0}[tt.status == http.StatusAccepted]; s.n.count() != want {
				t.Errorf("Notify calls: got %d, want %d", s.n.count(), want)
			}
		})
	}
}

func TestTimestamps(t *testing.T) {
	for _, tt := range []struct {
		name   string
		skew   time.Duration
		status int
	}{
		{"now", 0, http.StatusAccepted},
		{"5 minutes old", -5 * time.Minute, http.StatusAccepted},
		{"5 minutes ahead", 5 * time.Minute, http.StatusAccepted},
		{"5 minutes 1 second old", -5*time.Minute - time.Second, http.StatusBadRequest},
		{"5 minutes 1 second ahead", 5*time.Minute + time.Second, http.StatusBadRequest},
		{"a day old", -24 * time.Hour, http.StatusBadRequest},
		{"an hour ahead", time.Hour, http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, Config{})
			w := s.post(t, signed(t, newSecret, "msg_7", clock.Add(tt.skew), opening), opening)
			if tt.status == http.StatusAccepted {
				if w.Code != tt.status {
					t.Errorf("status: got %d, want %d (body %s)", w.Code, tt.status, w.Body)
				}
				return
			}
			wantError(t, w, tt.status, "stale_timestamp")
			if s.n.count() != 0 {
				t.Errorf("Notify calls: got %d, want 0", s.n.count())
			}
		})
	}
}

// TestRefused checks every refusal before Notify: its status and code, and
// that the Notifier was not called, so nothing was stored.
func TestRefused(t *testing.T) {
	big := append(append([]byte(`{"type":"delivery.updated","timestamp":"2025-03-01T09:00:00Z","data":{"delivery_id":"D1","address":"`),
		bytes.Repeat([]byte("x"), 2048)...), `"}}`...)
	tests := []struct {
		name   string
		body   []byte
		edit   func(h http.Header, r *http.Request)
		status int
		code   string
	}{
		{name: "body too large", body: big, status: 413, code: "body_too_large"},
		{name: "body too large, length unknown", body: big, status: 413, code: "body_too_large",
			edit: func(h http.Header, r *http.Request) { r.ContentLength = -1 }},
		{name: "no webhook-id", status: 400, code: "missing_header",
			edit: func(h http.Header, r *http.Request) { h.Del(HeaderID) }},
		{name: "no webhook-timestamp", status: 400, code: "missing_header",
			edit: func(h http.Header, r *http.Request) { h.Del(HeaderTimestamp) }},
		{name: "no webhook-signature", status: 400, code: "missing_header",
			edit: func(h http.Header, r *http.Request) { h.Del(HeaderSignature) }},
		{name: "webhook-id too long", status: 400, code: "bad_header",
			edit: func(h http.Header, r *http.Request) { h.Set(HeaderID, strings.Repeat("i", 257)) }},
		{name: "timestamp not a number", status: 400, code: "bad_timestamp",
			edit: func(h http.Header, r *http.Request) { h.Set(HeaderTimestamp, "yesterday") }},
		{name: "timestamp in milliseconds form", status: 400, code: "bad_timestamp",
			edit: func(h http.Header, r *http.Request) { h.Set(HeaderTimestamp, h.Get(HeaderTimestamp)+".000") }},
		{name: "timestamp with a sign", status: 400, code: "bad_timestamp",
			edit: func(h http.Header, r *http.Request) { h.Set(HeaderTimestamp, "+"+h.Get(HeaderTimestamp)) }},
		{name: "malformed JSON", body: []byte(`{"type":`), status: 400, code: "bad_json"},
		{name: "unknown type", body: body("delivery.lost", `{"delivery_id":"D1"}`), status: 400, code: "unknown_type"},
		{name: "no delivery id", body: body("delivery.updated", `{}`), status: 400, code: "missing_field"},
		{name: "opening without recipient", body: body("delivery.arriving", `{"delivery_id":"D1"}`), status: 400, code: "missing_field"},
		{name: "opening without phone", body: body("delivery.arriving", `{"delivery_id":"D1","recipient":{"name":"Wang"}}`), status: 400, code: "missing_field"},
		{name: "bad eta", body: body("delivery.updated", `{"delivery_id":"D1","eta":"soon"}`), status: 400, code: "bad_field"},
		{name: "bad time zone", body: body("delivery.updated", `{"delivery_id":"D1","recipient":{"time_zone":"Beijing"}}`), status: 400, code: "bad_field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, Config{MaxBody: 1024})
			b := tt.body
			if b == nil {
				b = opening
			}
			hdr := signed(t, newSecret, "msg_8", clock, b)
			req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(b))
			req.Header = hdr
			if tt.edit != nil {
				tt.edit(hdr, req)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			wantError(t, w, tt.status, tt.code)
			if s.n.count() != 0 {
				t.Errorf("Notify calls: got %d, want 0", s.n.count())
			}
		})
	}
}

func TestDefaultMaxBody(t *testing.T) {
	s := newServer(t, Config{})
	b := bytes.Repeat([]byte(" "), DefaultMaxBody+1)
	wantError(t, s.post(t, signed(t, newSecret, "msg_9", clock, b), b), 413, "body_too_large")
	// Exactly the limit is read, checked and decoded.
	b = append(bytes.Repeat([]byte(" "), DefaultMaxBody-len(opening)), opening...)
	if w := s.post(t, signed(t, newSecret, "msg_9", clock, b), b); w.Code != http.StatusAccepted {
		t.Errorf("body of exactly %d bytes: got %d, want 202 (body %s)", DefaultMaxBody, w.Code, w.Body)
	}
}

func TestNotifyErrors(t *testing.T) {
	for _, tt := range []struct {
		err    error
		status int
		code   string
	}{
		{signoff.Errorf(signoff.ErrUnavailable, "unavailable", "the store cannot be reached"), 503, "unavailable"},
		{signoff.Errorf(signoff.ErrConflict, "conflict", "try again"), 409, "conflict"},
		{fmt.Errorf("boom"), 500, "internal"},
	} {
		t.Run(tt.code, func(t *testing.T) {
			s := newServer(t, Config{})
			s.n.err = tt.err
			wantError(t, s.post(t, signed(t, newSecret, "msg_10", clock, opening), opening), tt.status, tt.code)
		})
	}
}

// TestSignWireFormat checks Sign against the Standard Webhooks formula,
// computed here without the library.
func TestSignWireFormat(t *testing.T) {
	ts := time.Unix(1740790800, 0)
	got, err := Sign(newSecret, "msg_11", ts, opening)
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, newKey)
	fmt.Fprintf(mac, "msg_11.1740790800.%s", opening)
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); got != want {
		t.Errorf("Sign: got %s, want %s", got, want)
	}
}

func TestNew(t *testing.T) {
	n := &notifier{}
	log := slog.New(slog.DiscardHandler)
	for _, tt := range []struct {
		name string
		cfg  Config
	}{
		{"no secrets", Config{}},
		{"secret not base64", Config{Secrets: []string{newSecret, "whsec_not base64!"}}},
		{"empty key", Config{Secrets: []string{"whsec_"}}},
		{"relative public URL", Config{Secrets: []string{newSecret}, PublicURL: "signoff.example.com"}},
		{"public URL with a query", Config{Secrets: []string{newSecret}, PublicURL: "https://x.example/?a=1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, n, log)
			if err == nil {
				t.Fatal("New: got no error")
			}
			if strings.Contains(err.Error(), "not base64!") {
				t.Errorf("error %q repeats the secret", err)
			}
		})
	}
	if _, err := New(Config{Secrets: []string{newSecret}}, n, log); err != nil {
		t.Errorf("New with one secret: %v", err)
	}
	if s := fmt.Sprint(Config{Secrets: []string{newSecret}}); strings.Contains(s, newSecret[6:]) {
		t.Errorf("Config prints its secret: %s", s)
	}
}

// TestCourierToken: an opening event whose delivery names a courier answers
// with that courier's token and page; the token verifies as that courier.
func TestCourierToken(t *testing.T) {
	tokens, err := channels.NewCourierTokens([]byte("test courier secret, 16+ bytes"))
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, Config{Couriers: &tokens})
	s.n.answer.CourierID = "courier 7"
	w := s.post(t, signed(t, newSecret, "msg_c", clock, opening), opening)
	if w.Code != http.StatusAccepted {
		t.Fatalf("status: got %d, want 202 (body %s)", w.Code, w.Body)
	}
	var got Opened
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if id, err := tokens.Verify(got.CourierToken); err != nil || id != "courier 7" {
		t.Errorf("courier_token %q verifies as %q, %v; want courier 7", got.CourierToken, id, err)
	}
	want := "https://signoff.example.com/c/courier%207?t=" + url.QueryEscape(got.CourierToken)
	if got.CourierURL != want {
		t.Errorf("courier_url: got %q, want %q", got.CourierURL, want)
	}
	if strings.Contains(s.log.String(), got.CourierToken) {
		t.Errorf("the log carries the courier token")
	}
}
