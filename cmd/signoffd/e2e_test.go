package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/signoff/signoff/internal/redistest"
)

const testSecret = "whsec_ZTJlLXRlc3Qtc2VjcmV0LWZvci1zaWdub2Zm"

// logBuffer collects a process's output; safe to read while it writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// server is a signoffd process started for a test.
type server struct {
	url  string
	cmd  *exec.Cmd
	logs *logBuffer
	done chan error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	binDir    string
)

// buildServer compiles signoffd (with the race detector) once per test
// binary; TestMain removes it.
func buildServer(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "signoffd-test-")
		if buildErr != nil {
			return
		}
		builtBin = filepath.Join(binDir, "signoffd")
		out, err := exec.Command("go", "build", "-race", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func startServer(t *testing.T, bin string, env ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	s := &server{url: "http://" + addr, logs: &logBuffer{}, done: make(chan error, 1)}
	s.cmd = exec.Command(bin)
	s.cmd.Env = append(os.Environ(), "SIGNOFF_ADDR="+addr, "SIGNOFF_WEBHOOK_SECRET="+testSecret, "SIGNOFF_LOG_LEVEL=debug",
		"SIGNOFF_BLOB_DIR="+t.TempDir())
	s.cmd.Env = append(s.cmd.Env, env...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.done
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready after 20s: %v\n%s", err, s.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func sendWebhook(t *testing.T, url, id string, body any) (int, map[string]any) {
	t.Helper()
	return sendSigned(t, url, testSecret, id, body)
}

func sendSigned(t *testing.T, url, secret, id string, body any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	wh, err := standardwebhooks.NewWebhook(secret)
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
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: %d %q is not JSON", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

func chat(t *testing.T, url, sid, token, text string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"text": text})
	req, _ := http.NewRequest("POST", url+"/v1/sessions/"+sid+"/messages", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	status, m := do(t, req)
	if status != 200 {
		t.Fatalf("chat %q: %d %v", text, status, m)
	}
	return m
}

func opening(delivery string) map[string]any {
	return map[string]any{
		"type": "delivery.out_for_delivery", "timestamp": time.Now().UTC().Format(time.RFC3339),
		"data": map[string]any{
			"delivery_id":    delivery,
			"recipient":      map[string]any{"name": "王芳", "phone": "13912345678", "locale": "zh-CN", "time_zone": "Asia/Shanghai"},
			"courier":        map[string]any{"id": "C-7", "name": "李师傅", "phone": "13800001111"},
			"address":        "幸福路 8 号",
			"eta":            time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339),
			"status":         "out_for_delivery",
			"last_location":  "幸福路营业部",
			"pickup_station": map[string]any{"name": "幸福路菜鸟驿站", "address": "幸福路 10 号", "hours": "08:00-21:00"},
		},
	}
}

// TestEndToEnd runs the real binary against a real redis-server: a signed
// webhook opens a conversation, the recipient completes a sign-off through
// the chat API, an SSE stream sees the delivery's update, and SIGTERM drains.
func TestEndToEnd(t *testing.T) {
	redisAddr := redistest.Start(t)
	bin := buildServer(t)
	srv := startServer(t, bin, "REDIS_URL=redis://"+redisAddr+"/0")

	status, open := sendWebhook(t, srv.url, "msg_e2e_1", opening("E2E-1"))
	if status != http.StatusAccepted {
		t.Fatalf("opening webhook: %d %v, want 202", status, open)
	}
	sid, _ := open["session_id"].(string)
	token, _ := open["recipient_token"].(string)
	link, _ := open["recipient_url"].(string)
	if sid == "" || token == "" || !strings.HasPrefix(link, srv.url+"/r/"+sid) {
		t.Fatalf("webhook answer %v lacks session_id, recipient_token or recipient_url", open)
	}
	// The same webhook id again: the same answer, nothing new.
	status, again := sendWebhook(t, srv.url, "msg_e2e_1", opening("E2E-1"))
	if status != http.StatusAccepted || again["session_id"] != sid {
		t.Fatalf("replayed webhook: %d %v, want 202 with %s", status, again, sid)
	}

	// Wrong token: 401 with a JSON error.
	req, _ := http.NewRequest("GET", srv.url+"/v1/sessions/"+sid, nil)
	req.Header.Set("Authorization", "Bearer nope")
	if status, body := do(t, req); status != 401 || body["error"] == nil {
		t.Fatalf("wrong token: %d %v, want 401 with an error body", status, body)
	}

	req, _ = http.NewRequest("GET", srv.url+"/v1/sessions/"+sid, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	status, sess := do(t, req)
	if status != 200 || sess["state"] != "awaiting_choice" {
		t.Fatalf("session: %d %v", status, sess)
	}
	if tr, _ := sess["transcript"].([]any); len(tr) != 1 {
		t.Fatalf("transcript %v, want the greeting", sess["transcript"])
	}

	// Follow the stream while the conversation goes on.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sreq, _ := http.NewRequestWithContext(ctx, "GET", srv.url+"/v1/sessions/"+sid+"/stream?t="+token, nil)
	sresp, err := http.DefaultClient.Do(sreq)
	if err != nil || sresp.StatusCode != 200 {
		t.Fatalf("stream: %v %v", err, sresp)
	}
	defer sresp.Body.Close()
	events := make(chan string, 32)
	go func() {
		sc := bufio.NewScanner(sresp.Body)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- line
			}
		}
		close(events)
	}()

	r := chat(t, srv.url, sid, token, "快递到哪了")
	if replies, _ := r["replies"].([]any); len(replies) == 0 || !strings.Contains(fmt.Sprint(replies[0]), "幸福路营业部") {
		t.Fatalf("tracking answer %v does not name the last location", r)
	}
	r = chat(t, srv.url, sid, token, "２")
	if r["outcome"] != "leave_at_door" || r["state"] != "arranged" {
		t.Fatalf("after 2: %v", r)
	}

	// The courier delivers; the stream carries the question, and the
	// recipient confirms.
	body := map[string]any{"type": "delivery.delivered", "timestamp": time.Now().UTC().Format(time.RFC3339),
		"data": map[string]any{"delivery_id": "E2E-1", "status": "delivered"}}
	if status, m := sendWebhook(t, srv.url, "msg_e2e_2", body); status != 200 {
		t.Fatalf("delivered webhook: %d %v", status, m)
	}
	timeout := time.After(10 * time.Second)
	for found := false; !found; {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatal("stream closed early")
			}
			found = strings.Contains(e, "收到了请回复1")
		case <-timeout:
			t.Fatal("no delivered message on the stream within 10s")
		}
	}
	r = chat(t, srv.url, sid, token, "收到了")
	if r["state"] != "signed" || r["outcome"] != "leave_at_door" {
		t.Fatalf("after receipt: %v", r)
	}
	cancel()

	// SIGTERM: the server drains and exits cleanly.
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-srv.done:
		srv.done <- err
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, srv.logs)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not stop within 15s of SIGTERM")
	}
	if strings.Contains(srv.logs.String(), "13912345678") || strings.Contains(srv.logs.String(), "王芳") {
		t.Error("the server log carries the recipient's phone or name")
	}
}

// TestEmbeddedDefault: with nothing configured the server starts on the
// embedded store and says so.
func TestEmbeddedDefault(t *testing.T) {
	bin := buildServer(t)
	srv := startServer(t, bin, "REDIS_URL=", "SIGNOFF_WEBHOOK_SECRET=")
	status, open := sendWebhook(t, srv.url, "msg_emb_1", opening("EMB-1"))
	// The test secret is not the development secret: refused.
	if status != http.StatusUnauthorized {
		t.Fatalf("webhook signed with another secret: %d %v, want 401", status, open)
	}
	if !strings.Contains(srv.logs.String(), "EMBEDDED STORE") {
		t.Errorf("no loud line about the embedded store in:\n%s", srv.logs)
	}
	if !strings.Contains(srv.logs.String(), "development secret") {
		t.Errorf("no warning about the development webhook secret")
	}
	// Signed with the development secret, a whole sign-off works.
	status, open = sendSigned(t, srv.url, devWebhookSecret, "msg_emb_2", opening("EMB-1"))
	if status != http.StatusAccepted {
		t.Fatalf("webhook signed with the development secret: %d %v, want 202", status, open)
	}
	r := chat(t, srv.url, open["session_id"].(string), open["recipient_token"].(string), "3")
	if r["outcome"] != "pickup_station" {
		t.Errorf("after 3: %v", r)
	}
}
