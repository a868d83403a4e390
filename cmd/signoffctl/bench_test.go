package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/signoff/signoff/internal/redistest"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		d := make([]time.Duration, len(v))
		for i, x := range v {
			d[i] = time.Duration(x) * time.Millisecond
		}
		return d
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	thousand := make([]int, 1000)
	for i := range thousand {
		thousand[i] = i + 1
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		pct    int
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ms(7), 50, 7 * time.Millisecond},
		{"one p99", ms(7), 99, 7 * time.Millisecond},
		{"two p50", ms(1, 2), 50, 1 * time.Millisecond},
		{"two p51", ms(1, 2), 51, 2 * time.Millisecond},
		{"four p50", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"four p75", ms(1, 2, 3, 4), 75, 3 * time.Millisecond},
		{"four p76", ms(1, 2, 3, 4), 76, 4 * time.Millisecond},
		{"ten p90", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
		{"ten p99", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"hundred p50", ms(hundred...), 50, 50 * time.Millisecond},
		{"hundred p90", ms(hundred...), 90, 90 * time.Millisecond},
		{"hundred p99", ms(hundred...), 99, 99 * time.Millisecond},
		{"hundred p100", ms(hundred...), 100, 100 * time.Millisecond},
		{"thousand p99", ms(thousand...), 99, 990 * time.Millisecond},
		{"p0 is the least", ms(3, 4, 5), 0, 3 * time.Millisecond},
		{"ties", ms(1, 5, 5, 5, 9), 50, 5 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.pct); got != tt.want {
			t.Errorf("%s: percentile(p%d) = %v, want %v", tt.name, tt.pct, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	samples := []time.Duration{5, 1, 4, 2, 3}
	got := summarize(samples, 2, 2*time.Second)
	want := latencyStats{Count: 5, Errors: 2, Elapsed: 2 * time.Second, PerSecond: 2.5, P50: 3, P90: 5, P99: 5, Max: 5}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if !slices.IsSorted(samples) {
		t.Errorf("samples not sorted: %v", samples)
	}
}

// fakeSignoff speaks enough of Signoff's API for the bench: it checks the
// webhook's signature and body, opens a session for each fresh delivery,
// and answers the turns. Every failEvery-th turn (when not 0) fails with 500.
type fakeSignoff struct {
	*httptest.Server
	wh        *standardwebhooks.Webhook
	failEvery int64

	webhooks, greetings, turns atomic.Int64
	mu                         sync.Mutex
	bad                        []string        // what was wrong with requests
	sessions                   map[string]int  // session id → turns taken
	deliveries                 map[string]bool // delivery ids seen
	texts                      map[string]int  // first turn texts, counted
}

func newFakeSignoff(t *testing.T, secret string, failEvery int64) *fakeSignoff {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSignoff{wh: wh, failEvery: failEvery,
		sessions: map[string]int{}, deliveries: map[string]bool{}, texts: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/webhooks/orders", f.webhook)
	mux.HandleFunc("GET /v1/sessions/{id}", f.session)
	mux.HandleFunc("POST /v1/sessions/{id}/messages", f.message)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSignoff) complain(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bad = append(f.bad, fmt.Sprintf(format, args...))
}

func (f *fakeSignoff) webhook(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := f.wh.Verify(body, r.Header); err != nil {
		f.complain("webhook: %v", err)
		writeJSON(w, http.StatusUnauthorized, `{"error":{"code":"bad_signature","message":"no"}}`)
		return
	}
	var ev struct {
		Type string `json:"type"`
		Data struct {
			DeliveryID string `json:"delivery_id"`
			Recipient  struct {
				Phone, Locale string
			} `json:"recipient"`
		} `json:"data"`
	}
	json.Unmarshal(body, &ev)
	if ev.Type != "delivery.out_for_delivery" || ev.Data.DeliveryID == "" || ev.Data.Recipient.Phone == "" {
		f.complain("webhook: bad body %s", body)
		writeJSON(w, http.StatusBadRequest, `{"error":{"code":"missing_field","message":"no"}}`)
		return
	}
	f.mu.Lock()
	dup := f.deliveries[ev.Data.DeliveryID]
	f.deliveries[ev.Data.DeliveryID] = true
	id := fmt.Sprintf("s-%d", len(f.deliveries))
	f.sessions[id] = 0
	f.mu.Unlock()
	if dup {
		f.complain("webhook: delivery %s twice", ev.Data.DeliveryID)
	}
	f.webhooks.Add(1)
	writeJSON(w, http.StatusAccepted, fmt.Sprintf(`{"session_id":%q,"recipient_token":"tok-%s","recipient_url":"/r/%s?t=tok-%s"}`, id, id, id, id))
}

func (f *fakeSignoff) authorized(w http.ResponseWriter, r *http.Request) bool {
	id := r.PathValue("id")
	f.mu.Lock()
	_, ok := f.sessions[id]
	f.mu.Unlock()
	if !ok || r.Header.Get("Authorization") != "Bearer tok-"+id {
		f.complain("%s %s: not authorized", r.Method, r.URL.Path)
		writeJSON(w, http.StatusUnauthorized, `{"error":{"code":"bad_token","message":"no"}}`)
		return false
	}
	return true
}

func (f *fakeSignoff) session(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	f.greetings.Add(1)
	writeJSON(w, http.StatusOK, `{"session_id":"x","state":"awaiting_choice","transcript":[{"from":"bot","text":"您好","at":"2025-01-01T00:00:00Z"}]}`)
}

func (f *fakeSignoff) message(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	var req struct{ Text string }
	json.NewDecoder(r.Body).Decode(&req)
	n := f.turns.Add(1)
	if f.failEvery > 0 && n%f.failEvery == 0 {
		writeJSON(w, http.StatusInternalServerError, `{"error":{"code":"internal","message":"internal error"}}`)
		return
	}
	id := r.PathValue("id")
	f.mu.Lock()
	f.sessions[id]++
	k := f.sessions[id]
	if k == 1 {
		f.texts[req.Text]++
	}
	f.mu.Unlock()
	outcome := "null"
	if k == 3 && req.Text == "2" {
		outcome = `"leave_at_door"`
	}
	writeJSON(w, http.StatusOK, `{"replies":[{"text":"请选择","options":[{"key":"1","label":"送上门"}]}],"state":"arranged","outcome":`+outcome+`}`)
}

func TestBench(t *testing.T) {
	addr := redistest.Start(t)
	f := newFakeSignoff(t, testSecret, 0)
	const n, c = 40, 8
	var out, errOut syncBuffer
	err := run(context.Background(),
		[]string{"bench", "-url", f.URL, "-redis", "redis://" + addr + "/0", "-c", fmt.Sprint(c), "-n", fmt.Sprint(n), "-json"},
		env(map[string]string{envSecret: testSecret}), strings.NewReader(""), &out, &errOut)
	if err != nil {
		t.Fatalf("bench: %v\nstdout: %s\nstderr: %s", err, out.String(), errOut.String())
	}
	t.Logf("report:\n%s", out.String())
	var r struct {
		Recipients, Concurrency int
		Turns, Webhooks         map[string]float64
		Baseline                map[string]float64
		GreetingErrors          int `json:"greeting_errors"`
		SkippedTurns            int `json:"skipped_turns"`
		Ratio                   float64
		Outcomes                map[string]int
	}
	if err := json.Unmarshal([]byte(out.String()), &r); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"turns.count", r.Turns["count"], 3 * n},
		{"turns.errors", r.Turns["errors"], 0},
		{"webhooks.count", r.Webhooks["count"], n},
		{"webhooks.errors", r.Webhooks["errors"], 0},
		{"baseline.count", r.Baseline["count"], 3 * n},
		{"baseline.errors", r.Baseline["errors"], 0},
		{"greeting_errors", float64(r.GreetingErrors), 0},
		{"skipped_turns", float64(r.SkippedTurns), 0},
		{"outcomes.leave_at_door", float64(r.Outcomes["leave_at_door"]), n},
		{"recipients", float64(r.Recipients), n},
		{"concurrency", float64(r.Concurrency), c},
		{"server webhooks", float64(f.webhooks.Load()), n},
		{"server greetings", float64(f.greetings.Load()), n},
		{"server turns", float64(f.turns.Load()), 3 * n},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	f.mu.Lock()
	if len(f.bad) > 0 {
		t.Errorf("the server saw bad requests: %q", f.bad)
	}
	if f.texts["快递到哪了"] != n/2 || f.texts["where is my parcel"] != n/2 {
		t.Errorf("got first turns %v, want half zh-CN, half en", f.texts)
	}
	f.mu.Unlock()

	for _, s := range []map[string]float64{r.Turns, r.Baseline} {
		if !(0 < s["p50_ms"] && s["p50_ms"] <= s["p90_ms"] && s["p90_ms"] <= s["p99_ms"] && s["p99_ms"] <= s["max_ms"]) {
			t.Errorf("percentiles out of order: %v", s)
		}
		if s["per_second"] <= 0 || s["elapsed_s"] <= 0 {
			t.Errorf("no rate: %v", s)
		}
	}
	want := r.Turns["per_second"] / r.Baseline["per_second"]
	if math.IsNaN(r.Ratio) || math.IsInf(r.Ratio, 0) || r.Ratio <= 0 || r.Ratio > 100 ||
		math.Abs(r.Ratio-want) > 1e-9*want {
		t.Errorf("got ratio %v, want turns/s ÷ baseline/s = %v, and sane", r.Ratio, want)
	}

	// The baseline did its GET and SET against the Redis given.
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	keys, err := rdb.Keys(context.Background(), "signoffctl:bench:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != n {
		t.Errorf("got %d baseline keys in Redis, want %d (one per recipient)", len(keys), n)
	}
	if len(keys) > 0 {
		v, _ := rdb.Get(context.Background(), keys[0]).Result()
		if v != `{"text":"2"}` {
			t.Errorf("baseline stored %q, want the request body", v)
		}
	}
}

func TestBenchCountsErrors(t *testing.T) {
	addr := redistest.Start(t)
	f := newFakeSignoff(t, testSecret, 7)
	const n = 20
	var out, errOut syncBuffer
	err := run(context.Background(),
		[]string{"bench", "-url", f.URL, "-secret", testSecret, "-c", "4", "-n", fmt.Sprint(n)},
		env(map[string]string{envRedis: addr}), strings.NewReader(""), &out, &errOut)
	const failed = 3 * n / 7
	t.Logf("report:\n%s", out.String())
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%d requests failed", failed)) {
		t.Fatalf("got error %v, want %d requests failed\n%s", err, failed, out.String())
	}
	o := out.String()
	for _, want := range []string{
		fmt.Sprintf("errors: %d (webhooks 0, greetings 0, turns %d, baseline 0)", failed, failed),
		"turn: server answered 500 Internal Server Error: internal: internal error",
		"ratio ",
		"signoff turns",
		"webhooks",
		"baseline",
	} {
		if !strings.Contains(o, want) {
			t.Errorf("output does not contain %q:\n%s", want, o)
		}
	}
}

func TestBenchWebhookRefused(t *testing.T) {
	addr := redistest.Start(t)
	f := newFakeSignoff(t, "whsec_"+"b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA==", 0)
	var out, errOut syncBuffer
	err := run(context.Background(),
		[]string{"bench", "-url", f.URL, "-secret", testSecret, "-redis", addr, "-c", "2", "-n", "4"},
		env(nil), strings.NewReader(""), &out, &errOut)
	if err == nil {
		t.Fatalf("got no error, want one\n%s", out.String())
	}
	if o := out.String(); !strings.Contains(o, "errors: 4 (webhooks 4") || !strings.Contains(o, "12 turns skipped") ||
		!strings.Contains(o, "bad_signature") {
		t.Errorf("output does not report the refused webhooks:\n%s", o)
	}
}

func TestBenchConfig(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"-secret", testSecret}, nil, "no Redis"},
		{[]string{"-redis", "127.0.0.1:1"}, nil, "no webhook secret"},
		{[]string{"-c", "0", "-redis", "x", "-secret", "y"}, nil, "-c 0"},
		{[]string{"-n", "-1", "-redis", "x", "-secret", "y"}, nil, "-n -1"},
		{[]string{"-redis", "redis://u:hunter2@[::1", "-secret", testSecret}, nil, "bad Redis URL"},
		{nil, map[string]string{envRedis: "127.0.0.1:1", envSecret: testSecret}, "redis 127.0.0.1:1"},
	}
	for _, tt := range tests {
		var out, errOut syncBuffer
		err := run(context.Background(), append([]string{"bench"}, tt.args...), env(tt.env), strings.NewReader(""), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("bench %q: got error %v, want one containing %q", tt.args, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

// TestBenchPrint checks the text report's shape on fixed numbers.
func TestBenchPrint(t *testing.T) {
	r := benchReport{Recipients: 2, Concurrency: 2,
		Turns:    latencyStats{Count: 6, Elapsed: 2 * time.Second, PerSecond: 3, P50: time.Millisecond, P90: 2 * time.Millisecond, P99: 3 * time.Millisecond, Max: 4 * time.Millisecond},
		Webhooks: latencyStats{Count: 2, Elapsed: time.Second, PerSecond: 2, P50: 5 * time.Millisecond, P99: 6 * time.Millisecond},
		Baseline: latencyStats{Count: 6, Elapsed: time.Second, PerSecond: 6, P50: time.Millisecond},
		Ratio:    0.5, Outcomes: map[string]int{"leave_at_door": 2}}
	var b bytes.Buffer
	r.print(&b)
	for _, want := range []string{
		"signoff turns  6   0       2.00s    3.0    1.00ms  2.00ms  3.00ms  4.00ms",
		"opened         2   0       1.00s    2.0    5.00ms",
		"ratio 0.5000",
		"outcomes after the last turn: leave_at_door 2",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report does not contain %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "errors:") {
		t.Errorf("report shows errors where there were none:\n%s", b.String())
	}
}
