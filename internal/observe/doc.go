// Package observe is Signoff's observability: Prometheus metrics, a slog
// handler that stamps request, session and trace ids on every record, and
// OpenTelemetry tracing (OTLP over HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is
// set, off otherwise).
//
// It is an adapter: dialog and the root must not import it. Other packages
// report through the small recorders here (Metrics.Model, Metrics.QueueWait,
// StartSpan); what the engine does is read from the evidence log entries of
// each committed dialog.Change (see Store), so the engine needs no hooks.
package observe
