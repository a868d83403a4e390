package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/signoff/signoff/internal/observe"
	"github.com/signoff/signoff/internal/redistest"
)

func TestParseRateLimits(t *testing.T) {
	rl, err := parseRateLimits("chat=5/s, ip=7/m")
	if err != nil {
		t.Fatal(err)
	}
	if rl.Token["chat"] != (limit{5, time.Second}) || rl.Token["call"] != (limit{10, time.Minute}) || rl.IP != (limit{7, time.Minute}) {
		t.Errorf("got %+v", rl)
	}
	if rl, _ := parseRateLimits("off"); len(rl.Token) != 0 || rl.IP.N != 0 {
		t.Errorf("off: %+v", rl)
	}
	for _, bad := range []string{"chat=5", "chat=x/s", "chat=5/d", "video=1/s", "chat=-1/s"} {
		if _, err := parseRateLimits(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestClientIP(t *testing.T) {
	trusted, err := parseProxies("10.0.0.0/8, 192.168.1.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ remote, xff, want string }{
		{"203.0.113.9:1234", "1.2.3.4", "203.0.113.9"},                // untrusted peer: its header is ignored
		{"10.1.2.3:1234", "1.2.3.4", "1.2.3.4"},                       // trusted proxy
		{"10.1.2.3:1234", "6.6.6.6, 1.2.3.4, 192.168.1.1", "1.2.3.4"}, // rightmost untrusted hop
		{"10.1.2.3:1234", "garbage", "10.1.2.3"},
		{"10.1.2.3:1234", "", "10.1.2.3"},
		{"[::ffff:10.1.2.3]:1", "5.5.5.5", "5.5.5.5"},
	} {
		r := httptest.NewRequest("POST", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := clientIP(r, trusted); got.String() != tc.want {
			t.Errorf("%s with X-Forwarded-For %q: %v, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
	if _, err := parseProxies("10.0.0.0/33"); err == nil {
		t.Error("a bad prefix was accepted")
	}
}

func FuzzClientIP(f *testing.F) {
	trusted, _ := parseProxies("10.0.0.0/8,::1")
	f.Add("10.0.0.1:80", "1.2.3.4, 10.0.0.2")
	f.Add("[::1]:80", "::ffff:1.2.3.4")
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		ip := clientIP(r, trusted)
		if ip.IsValid() && ip.Is4In6() {
			t.Errorf("%v is not unmapped", ip)
		}
	})
}

// TestLimiter: over a token's limit, on any node (two limiters share one
// Redis), or an IP's, the answer is 429 with Retry-After and a JSON error.
func TestLimiter(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: redistest.Start(t)})
	defer rdb.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := rateLimits{Token: map[string]limit{"chat": {3, time.Minute}}, IP: limit{5, time.Minute}}
	gin.SetMode(gin.ReleaseMode)
	node := func() http.Handler {
		r := gin.New()
		l := newLimiter(cfg, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, rdb, observe.NewMetrics(), log)
		r.Use(l.middleware())
		r.POST("/v1/sessions/:id/messages", func(c *gin.Context) { c.JSON(200, gin.H{}) })
		r.GET("/v1/sessions/:id", func(c *gin.Context) { c.JSON(200, gin.H{}) })
		return r
	}
	a, b := node(), node()
	send := func(h http.Handler, ip, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(context.Background(), "POST", "/v1/sessions/s_1/messages", nil)
		req.RemoteAddr = "127.0.0.1:5000"
		req.Header.Set("X-Forwarded-For", ip)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for i, h := range []http.Handler{a, b, a} {
		if rec := send(h, "1.1.1."+string(rune('1'+i)), "tok"); rec.Code != 200 {
			t.Fatalf("message %d: %d", i+1, rec.Code)
		}
	}
	rec := send(b, "1.1.1.9", "tok")
	if rec.Code != 429 || rec.Header().Get("Retry-After") == "" || rec.Body.String() == "" {
		t.Errorf("4th message of a token on the other node: %d Retry-After %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if rec := send(b, "1.1.1.9", "other"); rec.Code != 200 {
		t.Errorf("another token: %d", rec.Code)
	}
	// Per IP, in the node's memory: 5 a minute.
	var last *httptest.ResponseRecorder
	for i := range 6 {
		last = send(a, "2.2.2.2", "ip-"+string(rune('a'+i)))
	}
	if last.Code != 429 || last.Body.String() != `{"error":{"code":"rate_limited","message":"too many requests (ip limit); retry after 12 s"}}` {
		t.Errorf("6th request from one IP: %d %s", last.Code, last.Body)
	}
	// Routes outside the limited groups are not limited.
	req := httptest.NewRequest("GET", "/v1/sessions/s_1", nil)
	req.RemoteAddr = "2.2.2.2:1"
	rec = httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("GET session from a limited IP: %d", rec.Code)
	}
}
