package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// fleet is a client of several signoffd nodes, as a load balancer and a
// patient client would be together: each request goes to a random node
// that is in rotation, and a failed attempt (transport error, 5xx, 429) is
// tried again on another after a short pause. Every attempt is noted, so
// that error rates can be read for any stretch of time.
type fleet struct {
	client *http.Client

	mu       sync.Mutex
	nodes    []string
	out      map[string]bool // taken out of rotation
	attempts []attempt
}

type attempt struct {
	at     time.Time
	status int // 0: transport error
}

func newFleet(urls ...string) *fleet {
	return &fleet{nodes: urls, out: map[string]bool{},
		client: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

func (f *fleet) pick() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var in []string
	for _, n := range f.nodes {
		if !f.out[n] {
			in = append(in, n)
		}
	}
	return in[mrand.IntN(len(in))]
}

// remove takes a node out of rotation, as a health-checking balancer does.
func (f *fleet) remove(url string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.out[url] = true
}

func (f *fleet) note(status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts = append(f.attempts, attempt{at: time.Now(), status: status})
}

// rate returns the failed and total attempts made in [from, to).
func (f *fleet) rate(from, to time.Time) (failed, total int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.attempts {
		if !a.at.Before(from) && a.at.Before(to) {
			total++
			if a.status == 0 || a.status >= 500 || a.status == 429 {
				failed++
			}
		}
	}
	return failed, total
}

// do sends the request that mk builds for a node until one answers with a
// status that is not a failure, or ctx ends; it returns that status and
// the decoded JSON body.
func (f *fleet) do(ctx context.Context, mk func(base string) (*http.Request, error)) (int, map[string]any, error) {
	pause := 20 * time.Millisecond
	for {
		req, err := mk(f.pick())
		if err != nil {
			return 0, nil, err
		}
		resp, err := f.client.Do(req.WithContext(ctx))
		status := 0
		var body map[string]any
		if err == nil {
			status = resp.StatusCode
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			_ = json.Unmarshal(b, &body)
		}
		f.note(status)
		if status != 0 && status < 500 && status != 429 {
			return status, body, nil
		}
		select {
		case <-ctx.Done():
			return status, body, fmt.Errorf("gave up: last status %d, err %v: %w", status, err, ctx.Err())
		case <-time.After(pause + time.Duration(mrand.Int64N(int64(pause)))):
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}

// webhook sends a signed order webhook.
func (f *fleet) webhook(ctx context.Context, id string, body any) (int, map[string]any, error) {
	raw, _ := json.Marshal(body)
	wh, err := standardwebhooks.NewWebhook(testSecret)
	if err != nil {
		return 0, nil, err
	}
	return f.do(ctx, func(base string) (*http.Request, error) {
		now := time.Now()
		sig, err := wh.Sign(id, now, raw)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequest("POST", base+"/v1/webhooks/orders", bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
		return req, nil
	})
}

// say sends one chat message under an idempotency key of its own, so that
// retries on other nodes count once.
func (f *fleet) say(ctx context.Context, sid, token, text string) (map[string]any, error) {
	body, _ := json.Marshal(map[string]string{"text": text})
	key := newKey()
	status, m, err := f.do(ctx, func(base string) (*http.Request, error) {
		req, err := http.NewRequest("POST", base+"/v1/sessions/"+sid+"/messages", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Idempotency-Key", key)
		return req, nil
	})
	if err != nil {
		return nil, err
	}
	if status != 200 {
		return m, fmt.Errorf("chat %q: status %d %v", text, status, m)
	}
	return m, nil
}

// session reads a session with its transcript.
func (f *fleet) session(ctx context.Context, sid, token string) (map[string]any, error) {
	status, m, err := f.do(ctx, func(base string) (*http.Request, error) {
		req, err := http.NewRequest("GET", base+"/v1/sessions/"+sid, nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return req, err
	})
	if err == nil && status != 200 {
		err = fmt.Errorf("session %s: status %d %v", sid, status, m)
	}
	return m, err
}

func newKey() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// follow reads a session's SSE stream from random nodes until ctx ends,
// reconnecting with Last-Event-ID whenever a stream ends, and reports the
// seq of every line received, and how many times it reconnected.
func (f *fleet) follow(ctx context.Context, sid, token string, seen func(seq int)) (reconnects int) {
	last := ""
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "GET", f.pick()+"/v1/sessions/"+sid+"/stream?t="+token, nil)
		if last != "" {
			req.Header.Set("Last-Event-ID", last)
		} else {
			req.Header.Set("Last-Event-ID", "-1") // from the greeting on
		}
		resp, err := (&http.Client{}).Do(req)
		if err == nil && resp.StatusCode == 200 {
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if v, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
					n, err := strconv.Atoi(v)
					if err == nil {
						seen(n)
						last = v
					}
				}
			}
		}
		if resp != nil {
			resp.Body.Close()
		}
		if ctx.Err() != nil {
			break
		}
		reconnects++
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	return reconnects
}

// transcriptLines counts a session's transcript lines by speaker.
func transcriptLines(m map[string]any) (recipient, bot int, bots []int) {
	tr, _ := m["transcript"].([]any)
	for i, l := range tr {
		line, _ := l.(map[string]any)
		switch line["from"] {
		case "recipient":
			recipient++
		default:
			bot++
			bots = append(bots, i)
		}
	}
	return recipient, bot, bots
}

// startNodes starts n signoffd processes on redisURL.
func startNodes(t *testing.T, n int, redisURL string, env ...string) []*server {
	t.Helper()
	bin := buildServer(t)
	out := make([]*server, n)
	for i := range n {
		out[i] = startServer(t, bin, append([]string{"REDIS_URL=" + redisURL}, env...)...)
	}
	return out
}

func newWebhookSigner() (*standardwebhooks.Webhook, error) {
	return standardwebhooks.NewWebhook(testSecret)
}
