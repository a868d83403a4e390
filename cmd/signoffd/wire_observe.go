package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/redisstore"
	"github.com/signoff/signoff/internal/observe"
)

// ProdConfig is the production side of the configuration: limits, guards
// and draining. Tracing reads the standard OTEL_* variables itself.
type ProdConfig struct {
	RateLimits     rateLimits     // SIGNOFF_RATE_LIMITS (see parseRateLimits)
	TrustedProxies []netip.Prefix // SIGNOFF_TRUSTED_PROXIES
	MaxBody        int64          // SIGNOFF_MAX_BODY: bytes of any request body, default 16 MiB
	RequestTimeout time.Duration  // SIGNOFF_REQUEST_TIMEOUT: read and write deadline of a request (not SSE), default 30s
	DrainDelay     time.Duration  // SIGNOFF_DRAIN_DELAY: not ready, still serving, before draining; default 0
	MaxCalls       int            // SIGNOFF_MAX_CALLS: calls at once on a node, default 200
}

func loadProdConfig(getenv func(string) string) (ProdConfig, error) {
	var p ProdConfig
	var err error
	if p.RateLimits, err = parseRateLimits(getenv("SIGNOFF_RATE_LIMITS")); err != nil {
		return p, err
	}
	if p.TrustedProxies, err = parseProxies(getenv("SIGNOFF_TRUSTED_PROXIES")); err != nil {
		return p, err
	}
	p.MaxBody, p.MaxCalls = 16<<20, 200
	for key, dst := range map[string]*int64{"SIGNOFF_MAX_BODY": &p.MaxBody} {
		if v := getenv(key); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return p, fmt.Errorf("%s: %q is not a positive number of bytes", key, v)
			}
			*dst = n
		}
	}
	if v := getenv("SIGNOFF_MAX_CALLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return p, fmt.Errorf("SIGNOFF_MAX_CALLS: %q is not a positive number", v)
		}
		p.MaxCalls = n
	}
	p.RequestTimeout = 30 * time.Second
	for key, dst := range map[string]*time.Duration{"SIGNOFF_REQUEST_TIMEOUT": &p.RequestTimeout, "SIGNOFF_DRAIN_DELAY": &p.DrainDelay} {
		if v := getenv(key); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return p, fmt.Errorf("%s: %q is not a duration such as 5s", key, v)
			}
			*dst = d
		}
	}
	return p, nil
}

// production is the node's observability, limits, readiness and drain.
type production struct {
	cfg      ProdConfig
	metrics  *observe.Metrics
	log      *slog.Logger
	store    *redisstore.Store
	limits   *limiter
	draining atomic.Bool
	shutdown func(context.Context) error // flushes traces
}

// newProduction sets up tracing and metrics and instruments store's Redis
// client. Call close when the node stops.
func newProduction(ctx context.Context, cfg Config, getenv func(string) string, store *redisstore.Store, log *slog.Logger) (*production, error) {
	shutdown, err := observe.Tracing(ctx, getenv, "signoffd", log)
	if err != nil {
		return nil, err
	}
	m := observe.NewMetrics()
	store.AddHook(m.RedisHook())
	p := &production{cfg: cfg.Prod, metrics: m, log: log, store: store, shutdown: shutdown}
	p.limits = newLimiter(cfg.Prod.RateLimits, cfg.Prod.TrustedProxies, store.Client(), m, log)
	return p, nil
}

// close flushes the traces.
func (p *production) close(ctx context.Context) {
	if err := p.shutdown(ctx); err != nil {
		p.log.Warn("traces not all flushed", "err", err)
	}
}

// engineStore is what the engine is given: the store, observed.
func (p *production) engineStore() dialog.Store { return observe.NewStore(p.store, p.metrics) }

// middleware is what every request passes, in order: ids, span and
// metrics; then deadlines and the body limit; then the rate limits.
func (p *production) middleware() []gin.HandlerFunc {
	return []gin.HandlerFunc{observe.HTTP(p.metrics), p.guard(), p.limits.middleware()}
}

// routes adds /metrics.
func (p *production) routes(r gin.IRoutes) {
	r.GET("/metrics", gin.WrapH(p.metrics.Handler()))
}

// guard bounds a request: its body to MaxBody (413 at once when it says it
// is larger), and its reading and writing to RequestTimeout. SSE streams set
// their own write deadline at each write instead.
func (p *production) guard() gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > p.cfg.MaxBody {
			channels.WriteError(c, p.log, signoff.Errorf(signoff.ErrTooLarge, "body_too_large", "the body is over %d bytes", p.cfg.MaxBody))
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, p.cfg.MaxBody)
		}
		if !strings.HasSuffix(c.FullPath(), "/stream") && c.FullPath() != "/metrics" {
			rc := http.NewResponseController(c.Writer)
			deadline := time.Now().Add(p.cfg.RequestTimeout)
			_ = rc.SetReadDeadline(deadline)
			_ = rc.SetWriteDeadline(deadline)
		} else {
			p.metrics.Stream(1)
			defer p.metrics.Stream(-1)
		}
		c.Next()
	}
}

// readyz answers 200 while the node takes traffic: Redis answers and the
// node is not draining; 503 otherwise.
func (p *production) readyz(c *gin.Context) {
	if p.draining.Load() {
		channels.WriteError(c, p.log, signoff.Errorf(signoff.ErrUnavailable, "draining", "this node is shutting down"))
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := p.store.Ping(ctx); err != nil {
		channels.WriteError(c, p.log, signoff.Wrap(signoff.ErrUnavailable, "redis_unavailable", "redis is not reachable", err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// drain turns the node not-ready, waits DrainDelay for load balancers to
// notice, then ends the SSE streams; the caller then hangs up the calls and
// shuts the HTTP server down, which finishes the requests in flight.
func (p *production) drain(ctx context.Context, streams interface{ Drain() }) {
	p.draining.Store(true)
	p.log.Info("draining: not ready", "delay", p.cfg.DrainDelay)
	if p.cfg.DrainDelay > 0 {
		select {
		case <-time.After(p.cfg.DrainDelay):
		case <-ctx.Done():
		}
	}
	streams.Drain()
}

// tracedEngine opens a "dialog" span around each engine call a channel
// makes, between the request's span and the store's.
type tracedEngine struct{ *dialog.Engine }

func (e tracedEngine) Notify(ctx context.Context, ev signoff.OrderEvent) (n dialog.Notice, err error) {
	ctx, span := observe.StartSpan(ctx, "dialog notify")
	defer func() { observe.EndSpan(span, err) }()
	return e.Engine.Notify(ctx, ev)
}

func (e tracedEngine) Reply(ctx context.Context, id signoff.SessionID, token string, in signoff.Input) (t dialog.Turn, err error) {
	ctx, span := observe.StartSpan(ctx, "dialog reply")
	defer func() { observe.EndSpan(span, err) }()
	return e.Engine.Reply(ctx, id, token, in)
}

func (e tracedEngine) ReplyOnce(ctx context.Context, id signoff.SessionID, token, key string, in signoff.Input) (t dialog.Turn, replayed bool, err error) {
	ctx, span := observe.StartSpan(ctx, "dialog reply_once")
	defer func() { observe.EndSpan(span, err) }()
	return e.Engine.ReplyOnce(ctx, id, token, key, in)
}

func (e tracedEngine) Session(ctx context.Context, id signoff.SessionID, token string) (s signoff.Session, d signoff.Delivery, err error) {
	ctx, span := observe.StartSpan(ctx, "dialog session")
	defer func() { observe.EndSpan(span, err) }()
	return e.Engine.Session(ctx, id, token)
}
