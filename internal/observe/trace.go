package observe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

const instrumentation = "github.com/signoff/signoff"

// tracer follows the global provider, so spans started before Tracing
// runs (or without it) cost next to nothing and go nowhere.
var tracer = otel.Tracer(instrumentation)

// Tracing sets up OpenTelemetry tracing from the standard environment:
// with OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
// set, spans are batched and exported over OTLP/HTTP (protobuf), and W3C
// trace context is read from and written to HTTP headers; otherwise
// tracing stays off. OTEL_SERVICE_NAME names the service (default
// service). The returned function flushes and stops the exporter.
func Tracing(ctx context.Context, getenv func(string) string, service string, log *slog.Logger) (func(context.Context) error, error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("observe: OTLP exporter: %w", err)
	}
	if s := getenv("OTEL_SERVICE_NAME"); s != "" {
		service = s
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", service)))
	if err != nil {
		return nil, fmt.Errorf("observe: resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("observe: tracing", "err", err) }))
	log.Info("tracing on: OTLP over HTTP", "service", service)
	return tp.Shutdown, nil
}

// StartSpan starts a span named name as a child of ctx's span.
func StartSpan(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return tracer.Start(ctx, name, trace.WithAttributes(attrs...))
}

// EndSpan ends span, marking it failed when err is not nil. A context
// cancelled by the client is not a failure of ours, but is recorded.
func EndSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		if !errors.Is(err, context.Canceled) {
			span.SetStatus(codes.Error, err.Error())
		}
	}
	span.End()
}
