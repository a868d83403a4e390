package observe

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/signoff/signoff/dialog"
)

// Metrics are Signoff's Prometheus metrics, on a registry of their own.
// Every method is safe for concurrent use, and a nil *Metrics records
// nothing, so that packages and tests may leave it out.
type Metrics struct {
	reg *prometheus.Registry

	turns       *prometheus.CounterVec   // channel
	outcomes    *prometheus.CounterVec   // channel, outcome
	handoffs    *prometheus.CounterVec   // reason
	queueWait   prometheus.Histogram     // seconds a handoff waited for a person
	webhooks    *prometheus.CounterVec   // result
	commits     *prometheus.CounterVec   // result
	redis       *prometheus.HistogramVec // command
	redisErrors *prometheus.CounterVec   // command
	model       *prometheus.HistogramVec // op
	modelErrors *prometheus.CounterVec   // op
	calls       *prometheus.CounterVec   // event: started, ended
	callsLive   prometheus.Gauge
	bargeIns    prometheus.Counter
	lateFrames  prometheus.Counter
	frameLate   prometheus.Histogram
	http        *prometheus.HistogramVec // method, route, status
	limited     *prometheus.CounterVec   // scope
	streams     prometheus.Gauge
}

// NewMetrics returns the metrics on a fresh registry, with the Go runtime
// and process collectors.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	fast := []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}
	m := &Metrics{reg: reg,
		turns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "signoff_turns_total",
			Help: "Recipient inputs committed to a conversation, by channel."}, []string{"channel"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "signoff_outcomes_total",
			Help: "Outcomes recorded, by the channel of the consent and the outcome."}, []string{"channel", "outcome"}),
		handoffs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "signoff_handoffs_total",
			Help: "Conversations handed to a person, by reason."}, []string{"reason"}),
		queueWait: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "signoff_handoff_queue_wait_seconds",
			Help: "How long a handed-off conversation waited for a person.", Buckets: prometheus.ExponentialBuckets(1, 2, 12)}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "signoff_webhooks_total",
			Help: "Order webhooks answered, by result (the HTTP status)."}, []string{"result"}),
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "signoff_store_commits_total",
			Help: "Store commits, by result: ok, conflict, duplicate, unavailable, error."}, []string{"result"}),
		redis: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "signoff_redis_seconds",
			Help: "Redis round trips (commands and pipelines), by command.", Buckets: fast}, []string{"command"}),
		redisErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "signoff_redis_errors_total",
			Help: "Redis round trips that failed, by command (redis nil not counted)."}, []string{"command"}),
		model: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "signoff_model_seconds",
			Help: "Language model and speech model calls, by operation.", Buckets: prometheus.ExponentialBuckets(.01, 2, 12)}, []string{"op"}),
		modelErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "signoff_model_errors_total",
			Help: "Model calls that failed, by operation."}, []string{"op"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "signoff_calls_total",
			Help: "Voice calls, by event: started or ended."}, []string{"event"}),
		callsLive: prometheus.NewGauge(prometheus.GaugeOpts{Name: "signoff_calls_live",
			Help: "Voice calls started minus ended, as this node committed them."}),
		bargeIns: prometheus.NewCounter(prometheus.CounterOpts{Name: "signoff_barge_ins_total",
			Help: "Times a caller cut the bot off."}),
		lateFrames: prometheus.NewCounter(prometheus.CounterOpts{Name: "signoff_call_late_frames_total",
			Help: "Bot audio frames sent more than 40 ms behind their schedule, summed over ended calls."}),
		frameLate: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "signoff_call_frame_lateness_seconds",
			Help: "How far behind its 20 ms schedule a bot frame was sent (FrameLateness).", Buckets: fast}),
		http: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "signoff_http_request_seconds",
			Help: "HTTP requests, by method, route and status.", Buckets: fast}, []string{"method", "route", "status"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "signoff_rate_limited_total",
			Help: "Requests refused with 429, by limit."}, []string{"limit"}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{Name: "signoff_sse_streams",
			Help: "Open server-sent event streams."}),
	}
	for _, c := range []prometheus.Collector{m.turns, m.outcomes, m.handoffs, m.queueWait, m.webhooks, m.commits,
		m.redis, m.redisErrors, m.model, m.modelErrors, m.calls, m.callsLive, m.bargeIns, m.lateFrames, m.frameLate,
		m.http, m.limited, m.streams} {
		f(c)
	}
	return m
}

// Registry is where the metrics are registered, for adding more.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format (GET /metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Committed counts what one stored change did, from its evidence log
// entries: turns, outcomes, handoffs, calls, barge-ins and late frames.
func (m *Metrics) Committed(c dialog.Change) {
	if m == nil {
		return
	}
	for _, e := range c.Log {
		switch e.Kind {
		case "reply":
			m.turns.WithLabelValues(label(e.Data["channel"])).Inc()
		case "outcome":
			m.outcomes.WithLabelValues(label(e.Data["consent_channel"]), label(e.Data["outcome"])).Inc()
		case "handoff":
			m.handoffs.WithLabelValues(label(e.Data["reason"])).Inc()
		case "call_started":
			m.calls.WithLabelValues("started").Inc()
			m.callsLive.Inc()
		case "call_ended":
			m.calls.WithLabelValues("ended").Inc()
			m.callsLive.Dec()
			if n, err := strconv.Atoi(e.Data["late_frames"]); err == nil && n > 0 {
				m.lateFrames.Add(float64(n))
			}
		case "barge_in":
			m.bargeIns.Inc()
		}
	}
}

func label(v string) string {
	if v == "" {
		return "none"
	}
	return v
}

// Commit counts one store commit by result.
func (m *Metrics) Commit(result string) {
	if m != nil {
		m.commits.WithLabelValues(result).Inc()
	}
}

// QueueWait records how long a handed-off conversation waited for a person;
// the staff console calls it when one is claimed.
func (m *Metrics) QueueWait(d time.Duration) {
	if m != nil {
		m.queueWait.Observe(d.Seconds())
	}
}

// FrameLateness records how far behind its schedule one bot audio frame
// was sent; the voice channel may call it every frame.
func (m *Metrics) FrameLateness(d time.Duration) {
	if m != nil {
		m.frameLate.Observe(max(d, 0).Seconds())
	}
}

// Webhook counts one answered order webhook by its HTTP status.
func (m *Metrics) Webhook(status int) {
	if m != nil {
		m.webhooks.WithLabelValues(strconv.Itoa(status)).Inc()
	}
}

// Limited counts one request refused by the named limit.
func (m *Metrics) Limited(limit string) {
	if m != nil {
		m.limited.WithLabelValues(limit).Inc()
	}
}

// Stream counts an SSE stream opening (+1) or closing (-1).
func (m *Metrics) Stream(delta int) {
	if m != nil {
		m.streams.Add(float64(delta))
	}
}

// HTTPRequest records one HTTP request. route is the route pattern, never
// the path (which carries ids).
func (m *Metrics) HTTPRequest(method, route string, status int, d time.Duration) {
	if m != nil {
		if route == "" {
			route = "unmatched"
		}
		m.http.WithLabelValues(method, route, strconv.Itoa(status)).Observe(d.Seconds())
	}
}

// Model starts one call to a language or speech model: it opens a span
// named "model <op>" and returns the context to make the call with and a
// function to call with the call's error when it is done, which ends the
// span and records the latency and any error. The knowledge and speech
// adapters call it around each request:
//
//	ctx, done := metrics.Model(ctx, "chat")
//	resp, err := client.CreateChatCompletion(ctx, req)
//	done(err)
func (m *Metrics) Model(ctx context.Context, op string) (context.Context, func(error)) {
	ctx, span := StartSpan(ctx, "model "+op)
	start := time.Now()
	return ctx, func(err error) {
		EndSpan(span, err)
		if m == nil {
			return
		}
		m.model.WithLabelValues(op).Observe(time.Since(start).Seconds())
		if err != nil {
			m.modelErrors.WithLabelValues(op).Inc()
		}
	}
}
