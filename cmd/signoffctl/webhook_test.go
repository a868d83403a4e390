package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// hookServer is a fake order-webhook endpoint that keeps what it was sent
// and answers with status and answer.
type hookServer struct {
	*httptest.Server
	status int
	answer string

	mu      sync.Mutex
	path    string
	headers http.Header
	body    []byte
}

func newHookServer(t *testing.T, status int, answer string) *hookServer {
	h := &hookServer{status: status, answer: answer}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.path, h.headers, h.body = r.URL.Path, r.Header.Clone(), body
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(h.status)
		io.WriteString(w, h.answer)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) got() (string, http.Header, []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.path, h.headers, h.body
}

func TestWebhookSignsAndSends(t *testing.T) {
	srv := newHookServer(t, http.StatusAccepted,
		`{"session_id":"s1","recipient_token":"tok","recipient_url":"/r/s1?t=tok"}`)
	var out, errOut syncBuffer
	args := []string{"webhook", "-type", "delivery.out_for_delivery",
		"-delivery", "D-1", "-phone", "13800138000", "-name", "李华", "-locale", "zh-CN",
		"-tz", "Asia/Shanghai", "-eta", "2025-11-25T15:00:00+08:00", "-value-cents", "12900",
		"-courier-name", "王师傅", "-courier-phone", "13900139000",
		"-station-name", "菜鸟驿站", "-station-hours", "08:00-21:00",
		"-status", "out_for_delivery", "-location", "朝阳区营业部"}
	err := run(context.Background(), args,
		env(map[string]string{envURL: srv.URL, envSecret: testSecret}), strings.NewReader(""), &out, &errOut)
	if err != nil {
		t.Fatalf("webhook: %v\nstderr: %s", err, errOut.String())
	}
	path, headers, body := srv.got()
	if path != webhookPath {
		t.Errorf("got path %q, want %q", path, webhookPath)
	}
	wh, err := standardwebhooks.NewWebhook(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(body, headers); err != nil {
		t.Fatalf("signature does not verify: %v\nheaders: %v", err, headers)
	}
	if id := headers.Get("webhook-id"); !strings.HasPrefix(id, "msg_") || len(id) < 20 {
		t.Errorf("got webhook-id %q, want a random msg_...", id)
	}
	if sig := headers.Get("webhook-signature"); !strings.HasPrefix(sig, "v1,") {
		t.Errorf("got webhook-signature %q, want v1,...", sig)
	}
	if got := headers.Get("Content-Type"); got != "application/json" {
		t.Errorf("got Content-Type %q, want application/json", got)
	}

	var ev struct {
		Type      string `json:"type"`
		Timestamp string `json:"timestamp"`
		Data      struct {
			DeliveryID string `json:"delivery_id"`
			Recipient  struct {
				Name, Phone, Locale string
				TimeZone            string `json:"time_zone"`
			} `json:"recipient"`
			Courier struct{ Name, Phone string } `json:"courier"`
			ETA     string                       `json:"eta"`
			Status  string                       `json:"status"`
			Value   int64                        `json:"declared_value_cents"`
			Station struct{ Name, Hours string } `json:"pickup_station"`
			LastLoc string                       `json:"last_location"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	if ev.Type != "delivery.out_for_delivery" {
		t.Errorf("got type %q, want delivery.out_for_delivery", ev.Type)
	}
	if ts, err := time.Parse(time.RFC3339, ev.Timestamp); err != nil || time.Since(ts) > time.Minute {
		t.Errorf("got timestamp %q, want now in RFC 3339", ev.Timestamp)
	}
	d := ev.Data
	for _, c := range []struct{ name, got, want string }{
		{"delivery_id", d.DeliveryID, "D-1"},
		{"recipient.name", d.Recipient.Name, "李华"},
		{"recipient.phone", d.Recipient.Phone, "13800138000"},
		{"recipient.locale", d.Recipient.Locale, "zh-CN"},
		{"recipient.time_zone", d.Recipient.TimeZone, "Asia/Shanghai"},
		{"courier.name", d.Courier.Name, "王师傅"},
		{"courier.phone", d.Courier.Phone, "13900139000"},
		{"eta", d.ETA, "2025-11-25T15:00:00+08:00"},
		{"status", d.Status, "out_for_delivery"},
		{"pickup_station.name", d.Station.Name, "菜鸟驿站"},
		{"pickup_station.hours", d.Station.Hours, "08:00-21:00"},
		{"last_location", d.LastLoc, "朝阳区营业部"},
	} {
		if c.got != c.want {
			t.Errorf("data.%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if d.Value != 12900 {
		t.Errorf("data.declared_value_cents: got %d, want 12900", d.Value)
	}
	o := out.String()
	for _, want := range []string{"202 Accepted", `"session_id": "s1"`, "chat -link '" + srv.URL + "/r/s1?t=tok'"} {
		if !strings.Contains(o, want) {
			t.Errorf("output does not contain %q:\n%s", want, o)
		}
	}
}

func TestWebhookLeavesOutEmptyFields(t *testing.T) {
	srv := newHookServer(t, http.StatusOK, `{"status":"accepted"}`)
	var out, errOut syncBuffer
	err := run(context.Background(), []string{"webhook", "-url", srv.URL, "-secret", testSecret, "-id", "msg_fixed",
		"-type", "delivery.updated", "-delivery", "D-2", "-eta", "2025-11-25T16:00:00Z"},
		env(nil), strings.NewReader(""), &out, &errOut)
	if err != nil {
		t.Fatalf("webhook: %v", err)
	}
	_, headers, body := srv.got()
	if got := headers.Get("webhook-id"); got != "msg_fixed" {
		t.Errorf("got webhook-id %q, want msg_fixed", got)
	}
	var ev struct {
		Type string                     `json:"type"`
		Data map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.Data) != 2 || ev.Data["delivery_id"] == nil || ev.Data["eta"] == nil {
		t.Errorf("got data %s, want only delivery_id and eta", body)
	}
	if ev.Type != "delivery.updated" {
		t.Errorf("got type %q, want delivery.updated", ev.Type)
	}
}

func TestWebhookFile(t *testing.T) {
	dir := t.TempDir()
	envelopeFile := filepath.Join(dir, "event.json")
	os.WriteFile(envelopeFile, []byte(`{"type":"delivery.delivered","timestamp":"2025-01-02T03:04:05Z",
		"data":{"delivery_id":"D-3","status":"delivered","extra":{"kept":true}}}`), 0o600)
	dataFile := filepath.Join(dir, "data.json")
	os.WriteFile(dataFile, []byte(`{"delivery_id":"D-4"}`), 0o600)

	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantType string
		wantTS   string // "" means now
		wantData string
	}{
		{"envelope keeps type and timestamp", []string{"-file", envelopeFile}, "",
			"delivery.delivered", "2025-01-02T03:04:05Z", `{"delivery_id":"D-3","status":"delivered","extra":{"kept":true}}`},
		{"-type overrides the file's", []string{"-file", envelopeFile, "-type", "delivery.failed"}, "",
			"delivery.failed", "2025-01-02T03:04:05Z", `{"delivery_id":"D-3","status":"delivered","extra":{"kept":true}}`},
		{"bare data", []string{"-file", dataFile}, "", "delivery.arriving", "", `{"delivery_id":"D-4"}`},
		{"stdin", []string{"-file", "-"}, `{"delivery_id":"D-5"}`, "delivery.arriving", "", `{"delivery_id":"D-5"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newHookServer(t, http.StatusOK, `{"status":"accepted"}`)
			var out, errOut syncBuffer
			args := append([]string{"webhook", "-url", srv.URL, "-secret", testSecret}, tt.args...)
			if err := run(context.Background(), args, env(nil), strings.NewReader(tt.stdin), &out, &errOut); err != nil {
				t.Fatalf("webhook: %v", err)
			}
			_, headers, body := srv.got()
			wh, _ := standardwebhooks.NewWebhook(testSecret)
			if err := wh.Verify(body, headers); err != nil {
				t.Errorf("signature does not verify: %v", err)
			}
			var ev envelope
			if err := json.Unmarshal(body, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Type != tt.wantType {
				t.Errorf("got type %q, want %q", ev.Type, tt.wantType)
			}
			if tt.wantTS != "" && ev.Timestamp != tt.wantTS {
				t.Errorf("got timestamp %q, want %q", ev.Timestamp, tt.wantTS)
			}
			if tt.wantTS == "" {
				if ts, err := time.Parse(time.RFC3339, ev.Timestamp); err != nil || time.Since(ts) > time.Minute {
					t.Errorf("got timestamp %q, want now", ev.Timestamp)
				}
			}
			if string(ev.Data) != tt.wantData {
				t.Errorf("got data %s, want %s", ev.Data, tt.wantData)
			}
		})
	}
}

func TestWebhookRefused(t *testing.T) {
	srv := newHookServer(t, http.StatusUnauthorized,
		`{"error":{"code":"bad_signature","message":"the signature does not match"}}`)
	var out, errOut syncBuffer
	err := run(context.Background(), []string{"webhook", "-url", srv.URL, "-delivery", "D-1", "-phone", "1"},
		env(map[string]string{envSecret: testSecret}), strings.NewReader(""), &out, &errOut)
	var ae *apiError
	if !errors.As(err, &ae) {
		t.Fatalf("got error %v, want an *apiError", err)
	}
	if ae.Status != 401 || ae.Code != "bad_signature" || ae.Message != "the signature does not match" {
		t.Errorf("got %+v, want 401 bad_signature with the server's message", *ae)
	}
	if !strings.Contains(err.Error(), "bad_signature") {
		t.Errorf("error %q does not name the code", err)
	}
	if !strings.Contains(out.String(), "401") {
		t.Errorf("output does not show the status:\n%s", out.String())
	}
}

func TestWebhookBadInput(t *testing.T) {
	srv := newHookServer(t, http.StatusOK, `{}`)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no secret", []string{"-secret", "", "-delivery", "D"}, "no signing secret"},
		{"bad secret", []string{"-secret", "whsec_!!!", "-delivery", "D"}, "bad signing secret"},
		{"nothing to send", nil, "give -delivery"},
		{"file and flags", []string{"-file", "x.json", "-delivery", "D"}, "not both"},
		{"bad eta", []string{"-delivery", "D", "-eta", "tomorrow"}, "-eta"},
		{"bad zone", []string{"-delivery", "D", "-tz", "Mars/Base"}, "-tz"},
		{"bad type", []string{"-delivery", "D", "-type", "delivery.lost"}, "unknown event type"},
		{"bad url", []string{"-delivery", "D", "-url", "localhost:8080"}, "bad server URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"webhook", "-url", srv.URL, "-secret", testSecret}, tt.args...)
			var out, errOut syncBuffer
			err := run(context.Background(), args, env(nil), strings.NewReader(""), &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one containing %q", err, tt.want)
			}
			if _, _, body := srv.got(); body != nil {
				t.Errorf("sent %s, want nothing sent", body)
			}
		})
	}
}

// TestSignVector checks the signer against the test vector of the Standard
// Webhooks specification.
func TestSignVector(t *testing.T) {
	s, err := newSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	if err := s.sign(h, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`)); err != nil {
		t.Fatal(err)
	}
	want := http.Header{
		"Webhook-Id":        {"msg_p5jXN8AQM9LWM0D4loKWxJek"},
		"Webhook-Timestamp": {"1614265330"},
		"Webhook-Signature": {"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
	}
	for k, v := range want {
		if got := h.Get(k); got != v[0] {
			t.Errorf("%s: got %q, want %q", k, got, v[0])
		}
	}
}
