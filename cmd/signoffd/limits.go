package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/internal/observe"
)

// A limit allows N requests per Per.
type limit struct {
	N   int
	Per time.Duration
}

func (l limit) String() string { return fmt.Sprintf("%d/%v", l.N, l.Per) }

// rateLimits are SIGNOFF_RATE_LIMITS: per recipient token and group of
// endpoints (chat, call, proof), counted in Redis so that they hold across
// nodes; and per client IP, over all three groups, in each node's memory.
type rateLimits struct {
	Token map[string]limit // by group
	IP    limit            // zero: none
}

// defaultRateLimits is what SIGNOFF_RATE_LIMITS defaults to.
const defaultRateLimits = "chat=60/m,call=10/m,proof=30/m,ip=50/s"

// parseRateLimits reads "group=N/unit,...", unit s, m or h, groups chat,
// call, proof and ip; "off" turns every limit off. Groups left out keep
// their default.
func parseRateLimits(s string) (rateLimits, error) {
	s = strings.TrimSpace(s)
	if s == "off" {
		return rateLimits{Token: map[string]limit{}}, nil
	}
	rl := rateLimits{Token: map[string]limit{}}
	for _, part := range strings.Split(defaultRateLimits+","+s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		group, spec, ok := strings.Cut(part, "=")
		n, unit, ok2 := strings.Cut(spec, "/")
		num, err := strconv.Atoi(n)
		per := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[unit]
		if !ok || !ok2 || err != nil || num < 0 || per == 0 {
			return rateLimits{}, fmt.Errorf("SIGNOFF_RATE_LIMITS: %q is not group=N/unit (unit s, m or h), or off", part)
		}
		l := limit{N: num, Per: per}
		switch group {
		case "chat", "call", "proof":
			rl.Token[group] = l
		case "ip":
			rl.IP = l
		default:
			return rateLimits{}, fmt.Errorf("SIGNOFF_RATE_LIMITS: unknown group %q; want chat, call, proof or ip", group)
		}
	}
	return rl, nil
}

// parseProxies reads SIGNOFF_TRUSTED_PROXIES: comma-separated addresses or
// CIDR prefixes of the proxies whose X-Forwarded-For is believed.
func parseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			a, err := netip.ParseAddr(p)
			if err != nil {
				return nil, fmt.Errorf("SIGNOFF_TRUSTED_PROXIES: %q: %w", p, err)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		pf, err := netip.ParsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("SIGNOFF_TRUSTED_PROXIES: %q: %w", p, err)
		}
		out = append(out, pf.Masked())
	}
	return out, nil
}

// clientIP is the address the request came from: the peer, or, when the
// peer is a trusted proxy, the rightmost X-Forwarded-For hop that is not one.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	addr = addr.Unmap()
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if !isTrusted(addr) {
		return addr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addr
		}
		if a = a.Unmap(); !isTrusted(a) {
			return a
		}
	}
	return addr
}

// limitGroup names the limited group of a route, or "".
func limitGroup(method, route string) string {
	switch {
	case strings.Contains(route, "proof"):
		return "proof"
	case strings.HasPrefix(route, "/v1/sessions/:id/call"):
		return "call"
	case method == http.MethodPost && (route == "/v1/sessions/:id/messages" || route == "/v1/sessions/:id/voice-messages"):
		return "chat"
	}
	return ""
}

// limiter enforces rateLimits.
type limiter struct {
	cfg     rateLimits
	trusted []netip.Prefix
	rdb     redis.UniversalClient // nil: token limits off (embedded store)
	metrics *observe.Metrics
	log     *slog.Logger
	now     func() time.Time

	mu  sync.Mutex
	ips map[netip.Addr]*ipEntry
}

type ipEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(cfg rateLimits, trusted []netip.Prefix, rdb redis.UniversalClient, m *observe.Metrics, log *slog.Logger) *limiter {
	return &limiter{cfg: cfg, trusted: trusted, rdb: rdb, metrics: m, log: log, now: time.Now, ips: make(map[netip.Addr]*ipEntry)}
}

// middleware refuses, with 429 and Retry-After, a request over its IP's or
// its token's limit.
func (l *limiter) middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		group := limitGroup(c.Request.Method, c.FullPath())
		if group == "" {
			c.Next()
			return
		}
		if wait, ok := l.allowIP(clientIP(c.Request, l.trusted)); !ok {
			l.refuse(c, "ip", wait)
			return
		}
		if tok, err := channels.Bearer(c, true); err == nil {
			if wait, ok := l.allowToken(c.Request.Context(), group, tok); !ok {
				l.refuse(c, group, wait)
				return
			}
		}
		c.Next()
	}
}

func (l *limiter) refuse(c *gin.Context, which string, wait time.Duration) {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	l.metrics.Limited(which)
	l.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "request refused", slog.String("route", c.FullPath()),
		slog.Int("status", http.StatusTooManyRequests), slog.String("code", "rate_limited"), slog.String("limit", which))
	c.Header("Retry-After", strconv.Itoa(secs))
	c.AbortWithStatusJSON(http.StatusTooManyRequests, channels.ErrorBody{Error: channels.ErrorDetail{
		Code: "rate_limited", Message: fmt.Sprintf("too many requests (%s limit); retry after %d s", which, secs)}})
}

// allowIP takes one request from ip's bucket (rate N/Per, burst N).
func (l *limiter) allowIP(ip netip.Addr) (time.Duration, bool) {
	if l.cfg.IP.N == 0 || !ip.IsValid() {
		return 0, true
	}
	now := l.now()
	l.mu.Lock()
	e := l.ips[ip]
	if e == nil {
		if len(l.ips) >= 100_000 {
			l.sweep(now)
		}
		e = &ipEntry{lim: rate.NewLimiter(rate.Limit(float64(l.cfg.IP.N)/l.cfg.IP.Per.Seconds()), l.cfg.IP.N)}
		l.ips[ip] = e
	}
	e.seen = now
	r := e.lim.ReserveN(now, 1)
	l.mu.Unlock()
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// sweep forgets addresses idle for a minute; l.mu is held.
func (l *limiter) sweep(now time.Time) {
	for ip, e := range l.ips {
		if now.Sub(e.seen) > time.Minute {
			delete(l.ips, ip)
		}
	}
}

// allowToken counts one request of token in group in a fixed window in
// Redis. When Redis cannot be asked the request is let through: it will
// get its own 503 if Redis is down, and a limit must not turn a Redis
// hiccup into refusals.
func (l *limiter) allowToken(ctx context.Context, group, token string) (time.Duration, bool) {
	lim, ok := l.cfg.Token[group]
	if !ok || lim.N == 0 || l.rdb == nil {
		return 0, true
	}
	now := l.now()
	window := now.UnixMilli() / lim.Per.Milliseconds()
	sum := sha256.Sum256([]byte(token))
	key := "so:rl:{" + hex.EncodeToString(sum[:12]) + "}:" + group + ":" + strconv.FormatInt(window, 10)
	pipe := l.rdb.Pipeline()
	incr := pipe.Incr(ctx, key)
	pipe.PExpire(ctx, key, lim.Per+time.Second)
	if _, err := pipe.Exec(ctx); err != nil {
		l.log.DebugContext(ctx, "rate limit not checked", "err", err)
		return 0, true
	}
	if incr.Val() > int64(lim.N) {
		end := time.UnixMilli((window + 1) * lim.Per.Milliseconds())
		return end.Sub(now), false
	}
	return 0, true
}
