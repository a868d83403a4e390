package webchat

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
)

// onceConv adds ReplyOnce to fakeConv: the answer of the first input under
// a key is given again for that key.
type onceConv struct {
	*fakeConv
	answers map[string]dialog.Turn
}

func (o *onceConv) ReplyOnce(ctx context.Context, id signoff.SessionID, token, key string, in signoff.Input) (dialog.Turn, bool, error) {
	if t, ok := o.answers[key]; ok {
		return t, true, nil
	}
	t, err := o.Reply(ctx, id, token, in)
	if err == nil {
		o.answers[key] = t
	}
	return t, false, err
}

func post(t *testing.T, url, key, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer tok")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestIdempotencyKey: a repeated key is answered again and marked; a bad
// key is a 400 that changes nothing; without ReplyOnce the header is refused.
func TestIdempotencyKey(t *testing.T) {
	gin.SetMode(gin.TestMode)
	conv := &fakeConv{s: signoff.Session{ID: "s_1", State: signoff.StateAwaitingChoice}}
	r := gin.New()
	New(&onceConv{fakeConv: conv, answers: map[string]dialog.Turn{}}, &fakeFeed{}, slog.New(slog.DiscardHandler)).Register(r)
	srv := httptest.NewServer(r)
	defer srv.Close()
	url := srv.URL + "/v1/sessions/s_1/messages"
	if resp := post(t, url, "k1", `{"text":"2"}`); resp.StatusCode != 200 || resp.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d replayed %q", resp.StatusCode, resp.Header.Get("Idempotent-Replayed"))
	}
	if resp := post(t, url, "k1", `{"text":"2"}`); resp.StatusCode != 200 || resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d replayed %q", resp.StatusCode, resp.Header.Get("Idempotent-Replayed"))
	}
	for _, bad := range []string{strings.Repeat("k", MaxKey+1), "tab\there"} {
		if resp := post(t, url, bad, `{"text":"2"}`); resp.StatusCode != 400 {
			t.Errorf("key %.20q: %d, want 400", bad, resp.StatusCode)
		}
	}
	if len(conv.replies) != 1 {
		t.Errorf("%d replies reached the conversation; want 1", len(conv.replies))
	}

	plain, _, _ := newTestServer(t)
	if resp := post(t, plain.URL+"/v1/sessions/s_1/messages", "k1", `{"text":"2"}`); resp.StatusCode != 400 {
		t.Errorf("key without ReplyOnce: %d, want 400", resp.StatusCode)
	}
}

// TestDrainEndsStreams: Drain ends open streams with a shutdown event and a
// complete response.
func TestDrainEndsStreams(t *testing.T) {
	gin.SetMode(gin.TestMode)
	conv := &fakeConv{s: signoff.Session{ID: "s_1", Transcript: []signoff.Message{{From: signoff.FromBot, Text: "greeting"}}}}
	h := New(conv, &fakeFeed{ch: make(chan dialog.Posted)}, slog.New(slog.DiscardHandler))
	r := gin.New()
	h.Register(r)
	srv := httptest.NewServer(r)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v1/sessions/s_1/stream?t=tok")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		if sc.Err() != nil {
			lines <- "error: " + sc.Err().Error()
		}
		close(lines)
	}()
	for l := range lines {
		if l == ": connected" {
			break
		}
	}
	h.Drain()
	var got []string
	timeout := time.After(5 * time.Second)
	for done := false; !done; {
		select {
		case l, ok := <-lines:
			if !ok {
				done = true
				break
			}
			if l != "" {
				got = append(got, l)
			}
		case <-timeout:
			t.Fatal("stream not ended within 5 s of Drain")
		}
	}
	if strings.Join(got, "|") != "event: shutdown|data: {}" {
		t.Errorf("stream ended with %q; want the shutdown event and a clean end", got)
	}
}
