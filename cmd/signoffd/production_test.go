package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/signoff/signoff/internal/redistest"
)

// collector is a test OpenTelemetry collector: it takes OTLP/HTTP protobuf
// trace exports and keeps their spans.
type collector struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body = zr
	}
	raw, _ := io.ReadAll(body)
	var req coltrace.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || proto.Unmarshal(raw, &req) != nil {
		http.Error(w, "not an OTLP trace export", 400)
		return
	}
	c.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			c.spans = append(c.spans, ss.Spans...)
		}
	}
	c.mu.Unlock()
	out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

// trace returns the spans of one trace.
func (c *collector) trace(id []byte) []*tracepb.Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*tracepb.Span
	for _, s := range c.spans {
		if bytes.Equal(s.TraceId, id) {
			out = append(out, s)
		}
	}
	return out
}

// TestProduction drives the real binary on a real redis-server through
// what production needs: traces with parent links to a collector, metrics,
// request and session ids in the logs, an idempotent retried message, rate
// and body limits, Redis killed and restarted (503 with Retry-After, then
// recovery with nothing half-written), and a SIGTERM drain.
func TestProduction(t *testing.T) {
	col := &collector{}
	otlp := httptest.NewServer(col)
	defer otlp.Close()
	rdb := redistest.NewServer(t, "--appendonly", "yes")
	bin := buildServer(t)
	srv := startServer(t, bin, "REDIS_URL=redis://"+rdb.Addr+"/0?dial_timeout=300ms&read_timeout=1s&max_retries=1",
		"OTEL_EXPORTER_OTLP_ENDPOINT="+otlp.URL, "OTEL_BSP_SCHEDULE_DELAY=100", "OTEL_SERVICE_NAME=signoffd-test",
		"SIGNOFF_RATE_LIMITS=chat=8/h,ip=1000/s", "SIGNOFF_MAX_BODY=65536", "SIGNOFF_DRAIN_DELAY=1s",
		"SIGNOFF_TTS=none", "SIGNOFF_ASR=none")

	// A webhook carrying a W3C traceparent: its spans join that trace.
	traceID, parent := "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	raw, _ := json.Marshal(opening("PROD-1"))
	req := signedRequest(t, srv.url, "msg_prod_1", raw)
	req.Header.Set("traceparent", "00-"+traceID+"-"+parent+"-01")
	req.Header.Set("X-Request-ID", "req-prod-1")
	status, open := do(t, req)
	if status != http.StatusAccepted {
		t.Fatalf("opening webhook: %d %v", status, open)
	}
	sid, token := open["session_id"].(string), open["recipient_token"].(string)

	// A message retried under the same Idempotency-Key counts once.
	first := chatKey(t, srv.url, sid, token, "快递到哪了", "key-1")
	again := chatKey(t, srv.url, sid, token, "快递到哪了", "key-1")
	if first.replayed || !again.replayed || fmt.Sprint(first.body["replies"]) != fmt.Sprint(again.body["replies"]) {
		t.Errorf("retried message: first replayed=%v, again replayed=%v; replies %v vs %v", first.replayed, again.replayed,
			first.body["replies"], again.body["replies"])
	}
	if r := chatKey(t, srv.url, sid, token, "2", "key-2"); r.body["outcome"] != "leave_at_door" {
		t.Fatalf("after 2: %v", r.body)
	}
	sess := getSession(t, srv.url, sid, token)
	if recipient, _, _ := transcriptLines(sess); recipient != 2 {
		t.Errorf("transcript has %d recipient lines; want 2 (the retry counted once)", recipient)
	}

	// Traces: server span → dialog → store → redis, all under the
	// client's trace.
	id, _ := hex.DecodeString(traceID)
	var spans []*tracepb.Span
	deadline := time.Now().Add(15 * time.Second)
	for {
		spans = col.trace(id)
		if chainOK(spans, parent) == "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if why := chainOK(spans, parent); why != "" {
		names := []string{}
		for _, s := range spans {
			names = append(names, s.Name)
		}
		t.Errorf("trace %s: %s; spans %v", traceID, why, names)
	}

	// Metrics.
	metrics := get(t, srv.url+"/metrics")
	for _, want := range []string{
		`signoff_turns_total{channel="chat"} 2`,
		`signoff_outcomes_total{channel="chat",outcome="leave_at_door"} 1`,
		`signoff_webhooks_total{result="202"} 1`,
		`signoff_redis_seconds_count{command="evalsha"}`,
		`signoff_store_commits_total{result="duplicate"} 1`,
		`signoff_http_request_seconds_count{method="POST",route="/v1/sessions/:id/messages",status="200"} 3`,
		`go_goroutines`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// Limits: the chat limit is 8 an hour per token; 3 are used.
	var limited *http.Response
	for i := range 6 {
		body, _ := json.Marshal(map[string]string{"text": "谢谢"})
		req, _ := http.NewRequest("POST", srv.url+"/v1/sessions/"+sid+"/messages", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			limited = resp
			if i != 5 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), `"code":"rate_limited"`) {
				t.Errorf("message %d: 429 with Retry-After %q and body %s; want the 9th refused with a JSON error",
					i+4, resp.Header.Get("Retry-After"), b)
			}
		}
	}
	if limited == nil {
		t.Error("9 messages in an hour were all accepted; the limit is 8")
	}
	big := bytes.Repeat([]byte("x"), 100<<10)
	if status, body := do(t, signedRequest(t, srv.url, "msg_big", big)); status != http.StatusRequestEntityTooLarge || body["error"] == nil {
		t.Errorf("100 KiB webhook: %d %v; want 413 with a JSON error", status, body)
	}

	// Logs: JSON with request and session ids; no personal data.
	var sawRequest, sawSession bool
	for _, line := range strings.Split(srv.logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		sawRequest = sawRequest || rec["request_id"] == "req-prod-1"
		sawSession = sawSession || (rec["session_id"] == sid && rec["request_id"] != nil && rec["trace_id"] != nil)
	}
	if !sawRequest || !sawSession {
		t.Errorf("log lines with the client's request id: %v; with session, request and trace ids: %v", sawRequest, sawSession)
	}
	if strings.Contains(srv.logs.String(), "13912345678") || strings.Contains(srv.logs.String(), "王芳") {
		t.Error("the log carries the recipient's phone or name")
	}

	// Redis dies: not ready, 503 with Retry-After, nothing half-written.
	rdb.Stop()
	if status := statusOf(t, srv.url+"/readyz"); status != http.StatusServiceUnavailable {
		t.Errorf("/readyz with Redis down: %d, want 503", status)
	}
	other, _ := json.Marshal(opening("PROD-2"))
	resp := rawDo(t, signedRequest(t, srv.url, "msg_prod_2", other))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("webhook with Redis down: %d Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if err := rdb.Restart(); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, srv.url+"/readyz", 200, 20*time.Second)
	status, open2 := do(t, signedRequest(t, srv.url, "msg_prod_2", other))
	if status != http.StatusAccepted {
		t.Fatalf("webhook after Redis came back: %d %v", status, open2)
	}
	sess = getSession(t, srv.url, sid, token)
	if sess["outcome"] != "leave_at_door" {
		t.Errorf("after the restart the first session is %v", sess)
	}

	// SIGTERM: not ready at once, SSE ends cleanly, the process exits 0.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sreq, _ := http.NewRequestWithContext(ctx, "GET", srv.url+"/v1/sessions/"+sid+"/stream?t="+token, nil)
	sresp, err := http.DefaultClient.Do(sreq)
	if err != nil || sresp.StatusCode != 200 {
		t.Fatalf("stream: %v %v", err, sresp)
	}
	streamEnd := make(chan string, 1)
	go func() {
		var last string
		sc := bufio.NewScanner(sresp.Body)
		for sc.Scan() {
			if sc.Text() != "" {
				last = sc.Text()
			}
		}
		if sc.Err() != nil {
			last = "error: " + sc.Err().Error()
		}
		streamEnd <- last
	}()
	time.Sleep(200 * time.Millisecond)
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // inside the 1 s drain delay
	if status := statusOf(t, srv.url+"/readyz"); status != http.StatusServiceUnavailable {
		t.Errorf("/readyz while draining: %d, want 503", status)
	}
	select {
	case last := <-streamEnd:
		if last != "data: {}" {
			t.Errorf("stream ended with %q; want the shutdown event and a clean end", last)
		}
	case <-time.After(15 * time.Second):
		t.Error("stream not ended within 15 s of SIGTERM")
	}
	select {
	case err := <-srv.done:
		srv.done <- err
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit within 20 s of SIGTERM")
	}
	if !strings.Contains(srv.logs.String(), "draining") {
		t.Error("no draining line in the log")
	}
}

// chainOK checks that spans hold a server span under parent, a dialog span
// under it, a store span under that and a redis span under a store span;
// it says what is missing, or "".
func chainOK(spans []*tracepb.Span, parent string) string {
	byParent := map[string][]*tracepb.Span{}
	for _, s := range spans {
		p := hex.EncodeToString(s.ParentSpanId)
		byParent[p] = append(byParent[p], s)
	}
	find := func(parents []*tracepb.Span, prefix string) []*tracepb.Span {
		var out []*tracepb.Span
		for _, p := range parents {
			for _, c := range byParent[hex.EncodeToString(p.SpanId)] {
				if strings.HasPrefix(c.Name, prefix) {
					out = append(out, c)
				}
			}
		}
		return out
	}
	var server []*tracepb.Span
	for _, s := range byParent[parent] {
		if s.Name == "POST /v1/webhooks/orders" && s.Kind == tracepb.Span_SPAN_KIND_SERVER {
			server = append(server, s)
		}
	}
	if len(server) == 0 {
		return "no server span under the client's span"
	}
	dialog := find(server, "dialog ")
	if len(dialog) == 0 {
		return "no dialog span under the server span"
	}
	store := find(dialog, "store ")
	if len(store) == 0 {
		return "no store span under the dialog span"
	}
	if len(find(store, "redis ")) == 0 {
		return "no redis span under a store span"
	}
	return ""
}

func signedRequest(t *testing.T, url, id string, raw []byte) *http.Request {
	t.Helper()
	wh, err := newWebhookSigner()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sig, err := wh.Sign(id, now, raw)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", url+"/v1/webhooks/orders", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", fmt.Sprint(now.Unix()))
	req.Header.Set("webhook-signature", sig)
	return req
}

type keyed struct {
	body     map[string]any
	replayed bool
}

func chatKey(t *testing.T, url, sid, token, text, key string) keyed {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"text": text})
	req, _ := http.NewRequest("POST", url+"/v1/sessions/"+sid+"/messages", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	resp := rawDo(t, req)
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, &m) != nil {
		t.Fatalf("chat %q: %d %s", text, resp.StatusCode, b)
	}
	return keyed{body: m, replayed: resp.Header.Get("Idempotent-Replayed") == "true"}
}

func getSession(t *testing.T, url, sid, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/v1/sessions/"+sid, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	status, m := do(t, req)
	if status != 200 {
		t.Fatalf("session: %d %v", status, m)
	}
	return m
}

func rawDo(t *testing.T, req *http.Request) *http.Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func statusOf(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func waitStatus(t *testing.T, url string, want int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for statusOf(t, url) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %d within %v", url, want, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
