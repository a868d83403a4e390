package observe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/signoff/signoff/dialog"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// TestCommittedCounts: what a commit did is counted from its log entries.
func TestCommittedCounts(t *testing.T) {
	m := NewMetrics()
	m.Committed(dialog.Change{Log: []dialog.LogEntry{
		{Kind: "reply", Data: map[string]string{"channel": "chat"}},
		{Kind: "reply", Data: map[string]string{"channel": "voice"}},
		{Kind: "outcome", Data: map[string]string{"outcome": "leave_at_door", "consent_channel": "voice"}},
		{Kind: "handoff", Data: map[string]string{"reason": "no_reply"}},
		{Kind: "call_started"}, {Kind: "barge_in"}, {Kind: "barge_in"},
		{Kind: "call_ended", Data: map[string]string{"late_frames": "3"}},
	}})
	m.QueueWait(3 * time.Second)
	m.FrameLateness(5 * time.Millisecond)
	m.Webhook(202)
	m.Limited("ip")
	out := scrape(t, m)
	for _, want := range []string{
		`signoff_turns_total{channel="chat"} 1`, `signoff_turns_total{channel="voice"} 1`,
		`signoff_outcomes_total{channel="voice",outcome="leave_at_door"} 1`,
		`signoff_handoffs_total{reason="no_reply"} 1`,
		`signoff_calls_total{event="started"} 1`, `signoff_calls_total{event="ended"} 1`, `signoff_calls_live 0`,
		`signoff_barge_ins_total 2`, `signoff_call_late_frames_total 3`,
		`signoff_handoff_queue_wait_seconds_count 1`, `signoff_call_frame_lateness_seconds_count 1`,
		`signoff_webhooks_total{result="202"} 1`, `signoff_rate_limited_total{limit="ip"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	var none *Metrics // a nil recorder records nothing and does not panic
	none.Committed(dialog.Change{Log: []dialog.LogEntry{{Kind: "reply"}}})
	none.QueueWait(time.Second)
	_, done := none.Model(context.Background(), "chat")
	done(nil)
}

// TestModelRecorder: a model call is timed, its errors counted, and it is
// a span under the caller's.
func TestModelRecorder(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	otel.SetTracerProvider(tp)
	defer otel.SetTracerProvider(sdktrace.NewTracerProvider())
	m := NewMetrics()
	ctx, parent := StartSpan(context.Background(), "dialog reply")
	_, done := m.Model(ctx, "chat")
	done(nil)
	_, done = m.Model(ctx, "chat")
	done(errors.New("model down"))
	parent.End()
	out := scrape(t, m)
	if !strings.Contains(out, `signoff_model_seconds_count{op="chat"} 2`) || !strings.Contains(out, `signoff_model_errors_total{op="chat"} 1`) {
		t.Errorf("model metrics:\n%s", grep(out, "signoff_model"))
	}
	spans := rec.Ended()
	if len(spans) != 3 {
		t.Fatalf("%d spans ended; want 3", len(spans))
	}
	for _, s := range spans[:2] {
		if s.Name() != "model chat" || s.Parent().SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("span %q has parent %v; want model chat under the dialog span", s.Name(), s.Parent().SpanID())
		}
	}
	if spans[1].Status().Description != "model down" {
		t.Errorf("failed call's span status %+v", spans[1].Status())
	}
}

// TestLogHandlerIDs: records logged with a context carry its ids.
func TestLogHandlerIDs(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	ctx := WithSessionID(WithRequestID(context.Background(), "r-1"), "s_abc")
	ctx, span := tp.Tracer("t").Start(ctx, "x")
	log.InfoContext(ctx, "hello")
	span.End()
	log.Info("no context ids")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var first, second map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[1]), &second)
	if first["request_id"] != "r-1" || first["session_id"] != "s_abc" || first["trace_id"] != span.SpanContext().TraceID().String() || first["component"] != "test" {
		t.Errorf("record with context: %v", first)
	}
	if _, ok := second["request_id"]; ok {
		t.Errorf("record without context ids: %v", second)
	}
}

// TestPlausibleID bounds the ids taken from clients.
func TestPlausibleID(t *testing.T) {
	for id, want := range map[string]bool{"abc-1_2.3": true, "": false, strings.Repeat("a", 65): false, "a b": false, "ü": false, "a\n": false} {
		if got := plausibleID(id); got != want {
			t.Errorf("plausibleID(%q) = %v, want %v", id, got, want)
		}
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
