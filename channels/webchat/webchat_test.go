package webchat

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
)

// fakeConv is a Conversations with one session, token "tok".
type fakeConv struct {
	mu      sync.Mutex
	s       signoff.Session
	replies []string
}

func (f *fakeConv) check(id signoff.SessionID, token string) error {
	if id != f.s.ID {
		return signoff.Errorf(signoff.ErrNotFound, "not_found", "no such session")
	}
	if token != "tok" {
		return signoff.Errorf(signoff.ErrUnauthorized, "bad_token", "bad token")
	}
	return nil
}

func (f *fakeConv) Reply(ctx context.Context, id signoff.SessionID, token string, in signoff.Input) (dialog.Turn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(id, token); err != nil {
		return dialog.Turn{}, err
	}
	f.replies = append(f.replies, in.Text)
	bot := signoff.Message{From: signoff.FromBot, Text: "heard " + in.Text, Options: []signoff.Option{{Key: "1", Label: "one"}}}
	f.s.Transcript = append(f.s.Transcript, signoff.Message{From: signoff.FromRecipient, Text: in.Text}, bot)
	f.s.State, f.s.Outcome = signoff.StateArranged, signoff.OutcomeDeliverNow
	return dialog.Turn{Replies: []signoff.Message{{From: signoff.FromRecipient, Text: in.Text}, bot}, Session: f.s}, nil
}

func (f *fakeConv) Session(ctx context.Context, id signoff.SessionID, token string) (signoff.Session, signoff.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(id, token); err != nil {
		return signoff.Session{}, signoff.Delivery{}, err
	}
	s := f.s
	s.Transcript = append([]signoff.Message(nil), f.s.Transcript...)
	return s, signoff.Delivery{}, nil
}

// fakeFeed hands out one channel the test writes to.
type fakeFeed struct{ ch chan dialog.Posted }

func (f *fakeFeed) Subscribe(ctx context.Context, id signoff.SessionID) (<-chan dialog.Posted, error) {
	return f.ch, nil
}

func newTestServer(t *testing.T) (*httptest.Server, *fakeConv, *fakeFeed) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	conv := &fakeConv{s: signoff.Session{ID: "s_1", DeliveryID: "D1", Locale: signoff.LocaleZH, State: signoff.StateAwaitingChoice,
		Transcript: []signoff.Message{{From: signoff.FromBot, Text: "greeting"}}}}
	feed := &fakeFeed{ch: make(chan dialog.Posted, 8)}
	r := gin.New()
	New(conv, feed, slog.New(slog.NewTextHandler(io.Discard, nil))).Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv, conv, feed
}

func call(t *testing.T, method, url, auth, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v", method, url, err)
	}
	return resp.StatusCode, m
}

func TestMessageErrors(t *testing.T) {
	srv, conv, _ := newTestServer(t)
	url := srv.URL + "/v1/sessions/s_1/messages"
	tests := []struct {
		name, auth, body string
		status           int
		code             string
	}{
		{"no token", "", `{"text":"1"}`, 401, "missing_token"},
		{"not bearer", "Basic abc", `{"text":"1"}`, 401, "bad_token"},
		{"wrong token", "Bearer nope", `{"text":"1"}`, 401, "bad_token"},
		{"bad json", "Bearer tok", `{"text":`, 400, "bad_json"},
		{"not an object", "Bearer tok", `["1"]`, 400, "bad_json"},
		{"missing text", "Bearer tok", `{"txt":"1"}`, 400, "missing_field"},
		{"too long", "Bearer tok", `{"text":"` + strings.Repeat("长", MaxTextRunes+1) + `"}`, 400, "text_too_long"},
		{"body too large", "Bearer tok", `{"text":"` + strings.Repeat("a", MaxBody) + `"}`, 413, "body_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, "POST", url, tt.auth, tt.body)
			errBody, _ := body["error"].(map[string]any)
			if status != tt.status || errBody["code"] != tt.code || errBody["message"] == "" {
				t.Errorf("got %d %v, want %d with code %q and a message", status, body, tt.status, tt.code)
			}
		})
	}
	if status, _ := call(t, "POST", srv.URL+"/v1/sessions/s_other/messages", "Bearer tok", `{"text":"1"}`); status != 404 {
		t.Errorf("unknown session: %d, want 404", status)
	}
	if len(conv.replies) != 0 {
		t.Errorf("refused requests reached the engine: %q", conv.replies)
	}
}

func TestMessageAndSession(t *testing.T) {
	srv, _, _ := newTestServer(t)
	status, body := call(t, "POST", srv.URL+"/v1/sessions/s_1/messages", "Bearer tok", `{"text":"１"}`)
	if status != 200 || body["outcome"] != "deliver_now" || body["state"] != "arranged" {
		t.Fatalf("got %d %v", status, body)
	}
	replies, _ := body["replies"].([]any)
	if len(replies) != 1 || !strings.Contains(mustJSON(replies[0]), `"heard １"`) {
		t.Errorf("replies %v: want only the bot's line", replies)
	}
	status, body = call(t, "GET", srv.URL+"/v1/sessions/s_1", "Bearer tok", "")
	if tr, _ := body["transcript"].([]any); status != 200 || len(tr) != 3 || body["session_id"] != "s_1" {
		t.Errorf("session: %d %v", status, body)
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestStreamResume: a client that reconnects with Last-Event-ID gets the bot
// lines it missed, then live ones, each once, and never the recipient's own.
func TestStreamResume(t *testing.T) {
	srv, conv, feed := newTestServer(t)
	conv.s.Transcript = append(conv.s.Transcript,
		signoff.Message{From: signoff.FromRecipient, Text: "2"},
		signoff.Message{From: signoff.FromBot, Text: "missed"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/sessions/s_1/stream?t=tok", nil)
	req.Header.Set("Last-Event-ID", "0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	next := func() string {
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				return d
			}
		}
		t.Fatalf("stream ended: %v", sc.Err())
		return ""
	}
	if got := next(); !strings.Contains(got, `"missed"`) || !strings.Contains(got, `"seq":2`) {
		t.Fatalf("first event %s, want the missed line with seq 2", got)
	}
	feed.ch <- dialog.Posted{Seq: 2, Message: signoff.Message{From: signoff.FromBot, Text: "missed"}} // a repeat
	feed.ch <- dialog.Posted{Seq: 3, Message: signoff.Message{From: signoff.FromRecipient, Text: "3"}}
	feed.ch <- dialog.Posted{Seq: 4, Message: signoff.Message{From: signoff.FromBot, Text: "live"}}
	if got := next(); !strings.Contains(got, `"live"`) {
		t.Fatalf("next event %s, want the live line (no repeat, no recipient line)", got)
	}
	if status, _ := call(t, "GET", srv.URL+"/v1/sessions/s_1/stream?t=bad", "", ""); status != 401 {
		t.Errorf("stream with a bad token: %d, want 401", status)
	}
}
