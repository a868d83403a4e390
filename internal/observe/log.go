package observe

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

type ctxKey int

const (
	requestKey ctxKey = iota
	sessionKey
)

// WithRequestID returns ctx carrying a request id for the log.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestKey, id)
}

// RequestID returns the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestKey).(string)
	return s
}

// WithSessionID returns ctx carrying a session id for the log.
func WithSessionID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, sessionKey, id)
}

// LogHandler wraps h so that every record logged with a context gets that
// context's request_id, session_id, trace_id and span_id, when it has them.
// Ids are not personal data; what else a record carries is the caller's
// business (see STYLE.md: personal values redact themselves).
func LogHandler(h slog.Handler) slog.Handler { return idHandler{h} }

type idHandler struct{ slog.Handler }

func (h idHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if id, _ := ctx.Value(requestKey).(string); id != "" {
			r.AddAttrs(slog.String("request_id", id))
		}
		if id, _ := ctx.Value(sessionKey).(string); id != "" {
			r.AddAttrs(slog.String("session_id", id))
		}
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h idHandler) WithAttrs(as []slog.Attr) slog.Handler { return idHandler{h.Handler.WithAttrs(as)} }
func (h idHandler) WithGroup(name string) slog.Handler    { return idHandler{h.Handler.WithGroup(name)} }
