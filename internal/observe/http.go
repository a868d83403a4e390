package observe

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// RequestHeader carries a request id: taken from the client when it is a
// plausible id, made up otherwise, and always sent back.
const RequestHeader = "X-Request-ID"

// HTTP returns gin middleware that gives each request an id, puts it and
// the route's session id (:id) into the context for the log, opens a
// server span (continuing a W3C traceparent from the client), and records
// the request's duration by route and status. Health and metrics routes
// get no span.
func HTTP(m *Metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		route := c.FullPath()
		ctx := c.Request.Context()
		id := c.GetHeader(RequestHeader)
		if !plausibleID(id) {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Header(RequestHeader, id)
		ctx = WithRequestID(ctx, id)
		if sid := c.Param("id"); sid != "" && strings.Contains(route, "/sessions/:id") && plausibleID(sid) {
			ctx = WithSessionID(ctx, sid)
		}
		var span trace.Span
		if traced(route) {
			ctx = otel.GetTextMapPropagator().Extract(ctx, propagation.HeaderCarrier(c.Request.Header))
			ctx, span = tracer.Start(ctx, c.Request.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.String("http.request.method", c.Request.Method), attribute.String("http.route", route)))
		}
		c.Request = c.Request.WithContext(ctx)
		c.Next()
		status := c.Writer.Status()
		if span != nil {
			span.SetAttributes(attribute.Int("http.response.status_code", status))
			if status >= 500 {
				span.SetStatus(codes.Error, "status "+c.Writer.Header().Get("Status"))
			}
			span.End()
		}
		m.HTTPRequest(c.Request.Method, route, status, time.Since(start))
		if strings.HasPrefix(route, "/v1/webhooks/") {
			m.Webhook(status)
		}
	}
}

func traced(route string) bool {
	switch route {
	case "", "/metrics", "/healthz", "/readyz":
		return false
	}
	return true
}

// plausibleID accepts 1 to 64 letters, digits, '-', '_' and '.'.
func plausibleID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}
