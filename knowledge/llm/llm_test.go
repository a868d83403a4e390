package llm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/internal/openaitest"
	"github.com/signoff/signoff/knowledge"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func client(t testing.TB, srv *openaitest.Server, timeout time.Duration) *Client {
	t.Helper()
	c, err := New(Config{BaseURL: srv.URL(), APIKey: "sk-test", Model: "test-model", Timeout: timeout, BreakFor: time.Hour}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var menu = []signoff.Option{{Key: "1", Label: "Deliver now"}, {Key: "3", Label: "Pickup station"}, {Key: "0", Label: "Person"}}

func understand(c *Client, text string) (dialog.Understanding, error) {
	return c.Understand(context.Background(), dialog.UnderstandRequest{Locale: signoff.LocaleEN, Text: text, Prompt: "Choose:", Offered: menu})
}

// TestUnderstandRequest checks the wire request: the model, the forced tool
// and an enum of exactly the offered keys plus question and unclear.
func TestUnderstandRequest(t *testing.T) {
	srv := openaitest.New(t, func(openaitest.Request) openaitest.Reply { return openaitest.ToolCall(ToolName, `{"choice":"3"}`) })
	u, err := understand(client(t, srv, time.Second), "I'll get it from the station myself")
	if err != nil || u.Choice != "3" || u.Model != "test-model" {
		t.Fatalf("Understand = %+v, %v; want choice 3", u, err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Model != "test-model" || r.Auth != "Bearer sk-test" || r.Stream {
		t.Errorf("model %q auth %q stream %v", r.Model, r.Auth, r.Stream)
	}
	var choice struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(r.ToolChoice, &choice); err != nil || choice.Type != "function" || choice.Function.Name != ToolName {
		t.Errorf("tool_choice %s, want the function %s forced", r.ToolChoice, ToolName)
	}
	var tool struct {
		Function struct {
			Name       string `json:"name"`
			Parameters struct {
				Properties struct {
					Choice struct {
						Enum []string `json:"enum"`
					} `json:"choice"`
				} `json:"properties"`
				Required []string `json:"required"`
			} `json:"parameters"`
		} `json:"function"`
	}
	if len(r.Tools) != 1 || json.Unmarshal(r.Tools[0], &tool) != nil {
		t.Fatalf("tools %s", r.Tools)
	}
	if want := []string{"1", "3", "0", "question", "unclear"}; !slices.Equal(tool.Function.Parameters.Properties.Choice.Enum, want) {
		t.Errorf("enum %v, want %v", tool.Function.Parameters.Properties.Choice.Enum, want)
	}
	if !strings.Contains(r.Text(), "I'll get it from the station myself") || !strings.Contains(r.Text(), "3: Pickup station") {
		t.Errorf("the request does not carry the reply and the options:\n%s", r.Text())
	}
}

// TestUnderstandRefuses: a key not offered, malformed arguments, no tool
// call or another tool are errors, never outcomes, and are not retried.
func TestUnderstandRefuses(t *testing.T) {
	for name, rep := range map[string]openaitest.Reply{
		"not offered": openaitest.ToolCall(ToolName, `{"choice":"2"}`),
		"malformed":   openaitest.ToolCall(ToolName, `{"choice": "3"`),
		"not json":    openaitest.ToolCall(ToolName, `choice=3`),
		"no choice":   openaitest.ToolCall(ToolName, `{"pick":"3"}`),
		"other tool":  openaitest.ToolCall("do_something", `{"choice":"3"}`),
		"no call":     {Content: "I think they want option 3."},
	} {
		t.Run(name, func(t *testing.T) {
			srv := openaitest.New(t, func(openaitest.Request) openaitest.Reply { return rep })
			u, err := understand(client(t, srv, time.Second), "whatever")
			if err == nil {
				t.Fatalf("Understand = %+v, want an error", u)
			}
			if n := len(srv.Requests()); n != 1 {
				t.Errorf("%d requests, want 1: a wrong answer is not retried", n)
			}
		})
	}
}

// TestTimeout: a model that hangs is given up on at the timeout.
func TestTimeout(t *testing.T) {
	srv := openaitest.New(t, func(openaitest.Request) openaitest.Reply { return openaitest.Reply{Delay: time.Minute} })
	c := client(t, srv, 300*time.Millisecond)
	start := time.Now()
	_, err := understand(c, "hmm")
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want a deadline", err)
	}
	t.Logf("returned %v after a 300ms bound", took)
	if took < 300*time.Millisecond || took > 3*time.Second {
		t.Errorf("took %v, want about the 300ms timeout", took)
	}
}

// TestRetries: 429, 5xx and a dropped connection are retried; 400 and 401
// are not.
func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		first   openaitest.Reply
		retried bool
	}{
		{openaitest.Reply{Status: 429}, true},
		{openaitest.Reply{Status: 500}, true},
		{openaitest.Reply{Status: 503}, true},
		{openaitest.Reply{Drop: true}, true},
		{openaitest.Reply{Status: 400}, false},
		{openaitest.Reply{Status: 401}, false},
	} {
		var n atomic.Int32
		srv := openaitest.New(t, func(openaitest.Request) openaitest.Reply {
			if n.Add(1) == 1 {
				return tc.first
			}
			return openaitest.ToolCall(ToolName, `{"choice":"1"}`)
		})
		u, err := understand(client(t, srv, 2*time.Second), "bring it")
		if tc.retried && (err != nil || u.Choice != "1" || n.Load() != 2) {
			t.Errorf("%+v: %+v, %v after %d requests; want choice 1 on the retry", tc.first, u, err, n.Load())
		}
		if !tc.retried && (err == nil || n.Load() != 1) {
			t.Errorf("%+v: %+v, %v after %d requests; want an error, not retried", tc.first, u, err, n.Load())
		}
	}
}

// TestBreaker: five failures in a row open the breaker, which then fails
// fast without a request; after BreakFor a probe goes through and closes it.
func TestBreaker(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	srv := openaitest.New(t, func(openaitest.Request) openaitest.Reply {
		if fail.Load() {
			return openaitest.Reply{Status: 400}
		}
		return openaitest.ToolCall(ToolName, `{"choice":"0"}`)
	})
	c, err := New(Config{BaseURL: srv.URL(), Model: "m", Timeout: time.Second, BreakFor: 200 * time.Millisecond}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		understand(c, "x")
	}
	if c.Breaker() != "open" {
		t.Fatalf("breaker %s after 5 failures, want open", c.Breaker())
	}
	before := len(srv.Requests())
	start := time.Now()
	if _, err := understand(c, "x"); err == nil || len(srv.Requests()) != before {
		t.Errorf("open breaker: err %v, %d new requests; want a fast error", err, len(srv.Requests())-before)
	}
	t.Logf("open breaker failed in %v", time.Since(start))
	fail.Store(false)
	time.Sleep(250 * time.Millisecond)
	if u, err := understand(c, "x"); err != nil || u.Choice != "0" || c.Breaker() != "closed" {
		t.Errorf("probe: %+v %v, breaker %s; want choice 0 and closed", u, err, c.Breaker())
	}
	// A call its caller cancels does not count against the model.
	srv.Script(func(openaitest.Request) openaitest.Reply { return openaitest.Reply{Delay: time.Minute} })
	for range 6 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		ctx, cancel2 := context.WithCancel(ctx)
		go func() { time.Sleep(5 * time.Millisecond); cancel2() }()
		c.Understand(ctx, dialog.UnderstandRequest{Locale: signoff.LocaleEN, Text: "x", Offered: menu})
		cancel()
	}
	if c.Breaker() != "closed" {
		t.Errorf("breaker %s after calls the caller cancelled, want closed", c.Breaker())
	}
}

// TestPhraseStreamsSentences: the first sentence is handed on while the
// stream is still open, in both languages, and the request carries the
// numbered passages.
func TestPhraseStreamsSentences(t *testing.T) {
	for _, tc := range []struct {
		l      signoff.Locale
		tokens []string
		first  string
	}{
		{signoff.LocaleEN, []string{"Report", " damage within", " 48 hours.", " [1]", " Reply 0", " for a person. [1]"}, "Report damage within 48 hours. [1]"},
		{signoff.LocaleZH, []string{"请在", "48小时内", "报告破损。", "[1]", "回复0", "转人工。[1]"}, "请在48小时内报告破损。"},
	} {
		srv := openaitest.New(t, func(openaitest.Request) openaitest.Reply {
			return openaitest.Reply{Tokens: tc.tokens, TokenDelay: 80 * time.Millisecond}
		})
		c := client(t, srv, 5*time.Second)
		var mu sync.Mutex
		var got []string
		var firstAt, endAt time.Time
		start := time.Now()
		full, err := c.Phrase(context.Background(), knowledge.PhraseRequest{Locale: tc.l, Question: "damaged?",
			Passages: []string{"Report damage within 48 hours."}, Sentences: 2}, func(s string) {
			mu.Lock()
			defer mu.Unlock()
			if len(got) == 0 {
				firstAt = time.Now()
			}
			got = append(got, s)
		})
		endAt = time.Now()
		if err != nil || len(got) != 2 || got[0] != tc.first {
			t.Fatalf("%s: %q, %v; sentences %q", tc.l, full, err, got)
		}
		// Two tokens were still to come when the first sentence was known.
		if !firstAt.Before(endAt.Add(-80 * time.Millisecond)) {
			t.Errorf("%s: the first sentence came %v after the start, the stream ended at %v: not before the end", tc.l,
				firstAt.Sub(start), endAt.Sub(start))
		}
		r := srv.Requests()[0]
		if !r.Stream || !strings.Contains(r.Text(), "[1] Report damage within 48 hours.") {
			t.Errorf("%s: request stream=%v text:\n%s", tc.l, r.Stream, r.Text())
		}
	}
}

// TestPhraseFailsAfterSentence: a stream cut after a sentence is not
// retried, since that sentence was already handed on.
func TestPhraseError(t *testing.T) {
	srv := openaitest.New(t, func(openaitest.Request) openaitest.Reply {
		return openaitest.Reply{Status: http.StatusInternalServerError}
	})
	c := client(t, srv, 400*time.Millisecond)
	_, err := c.Phrase(context.Background(), knowledge.PhraseRequest{Locale: signoff.LocaleEN, Question: "q", Passages: []string{"p"}},
		func(string) { t.Error("a sentence from a failed call") })
	if err == nil {
		t.Fatal("want an error from a model that keeps failing")
	}
	if n := len(srv.Requests()); n < 2 {
		t.Errorf("%d requests, want retries of the 500", n)
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{"OPENAI_BASE_URL": "http://x/v1", "SIGNOFF_LLM_MODEL": "qwen", "SIGNOFF_LLM_TIMEOUT": "700ms"}
	cfg, ok, err := FromEnv(func(k string) string { return env[k] })
	if err != nil || !ok || cfg.Model != "qwen" || cfg.Timeout != 700*time.Millisecond || cfg.BaseURL != "http://x/v1" {
		t.Errorf("FromEnv = %+v %v %v", cfg, ok, err)
	}
	env["SIGNOFF_LLM_TIMEOUT"] = "soon"
	if _, _, err := FromEnv(func(k string) string { return env[k] }); err == nil {
		t.Error("a bad timeout is accepted")
	}
	if _, ok, _ := FromEnv(func(string) string { return "" }); ok {
		t.Error("a model is configured with nothing set")
	}
}

type ctxKey struct{}

// roundTripper records whether each request's context carries ctxKey.
type roundTripper struct{ marked atomic.Int32 }

func (rt *roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Context().Value(ctxKey{}) != nil {
		rt.marked.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestObserve: the observer sees each Understand and Phrase call once, by
// op, retries included in the one call; the request runs on the context it
// returns; done gets the call's error.
func TestObserve(t *testing.T) {
	var fail atomic.Bool
	srv := openaitest.New(t, func(r openaitest.Request) openaitest.Reply {
		if fail.Load() {
			return openaitest.Reply{Status: 400}
		}
		if r.Stream {
			return openaitest.Stream(0, "Yes. ", "It is.")
		}
		return openaitest.ToolCall(ToolName, `{"choice":"1"}`)
	})
	type call struct {
		op  string
		err error
	}
	var (
		mu    sync.Mutex
		calls []call
	)
	rt := &roundTripper{}
	c, err := New(Config{BaseURL: srv.URL(), Model: "m", Timeout: time.Second, BreakFor: time.Hour,
		HTTPClient: &http.Client{Transport: rt},
		Observe: func(ctx context.Context, op string) (context.Context, func(error)) {
			return context.WithValue(ctx, ctxKey{}, op), func(err error) {
				mu.Lock()
				defer mu.Unlock()
				calls = append(calls, call{op, err})
			}
		}}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	phrase := func() error {
		_, err := c.Phrase(context.Background(), knowledge.PhraseRequest{Locale: signoff.LocaleEN, Question: "q", Passages: []string{"p"}},
			func(string) {})
		return err
	}
	if _, err := understand(c, "now"); err != nil {
		t.Fatal(err)
	}
	if err := phrase(); err != nil {
		t.Fatal(err)
	}
	fail.Store(true)
	_, uerr := understand(c, "now")
	perr := phrase()
	if uerr == nil || perr == nil {
		t.Fatalf("errors %v, %v; want both calls to fail on a 400", uerr, perr)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []call{{"understand", nil}, {"phrase", nil}, {"understand", uerr}, {"phrase", perr}}
	if !slices.Equal(calls, want) {
		t.Errorf("observed %v, want %v", calls, want)
	}
	if n := rt.marked.Load(); n != 4 {
		t.Errorf("%d of 4 requests ran on the observer's context", n)
	}
}
