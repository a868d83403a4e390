package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/evidence"
	"github.com/signoff/signoff/dialog/storetest"
	"github.com/signoff/signoff/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// newStore returns a Store made as the server makes it (Open, so RESP2) on
// a fresh database of the shared redis-server, and a client of that
// database (go-redis's default, RESP3) to look at the keys.
func newStore(t testing.TB) (*Store, *redis.Client) {
	t.Helper()
	addr, db := redistest.DB(t)
	s, err := Open(t.Context(), fmt.Sprintf("redis://%s/%d", addr, db), testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	t.Cleanup(func() { _ = rdb.Close() })
	return s, rdb
}

func newEmbedded(t testing.TB) *Store {
	t.Helper()
	s, cleanup, err := Embedded(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	return s
}

func TestConformanceRedis(t *testing.T) {
	storetest.Run(t, func(t *testing.T) dialog.Store { s, _ := newStore(t); return s })
}

// TestConformanceRESP3 runs the suite on a client of go-redis's defaults,
// which speaks RESP3, as a caller of New may.
func TestConformanceRESP3(t *testing.T) {
	storetest.Run(t, func(t *testing.T) dialog.Store {
		_, rdb := newStore(t)
		s := New(rdb, testLog(t))
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestConformanceEmbedded(t *testing.T) {
	storetest.Run(t, func(t *testing.T) dialog.Store { return newEmbedded(t) })
}

// TestConformanceCluster runs the suite on a one-node Redis Cluster, which
// enforces what a real one does: a script may touch only keys of one slot.
func TestConformanceCluster(t *testing.T) {
	storetest.Run(t, func(t *testing.T) dialog.Store {
		rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{redistest.Cluster(t)}})
		t.Cleanup(func() { _ = rdb.Close() })
		s := New(rdb, testLog(t))
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

var t0 = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

func newSession(d signoff.DeliveryID, id signoff.SessionID) *signoff.Session {
	return &signoff.Session{ID: id, DeliveryID: d, Locale: signoff.LocaleZH, State: signoff.StateAwaitingChoice,
		TokenHash: "00", CreatedAt: t0, UpdatedAt: t0, Version: 1,
		Transcript: []signoff.Message{{From: signoff.FromBot, Text: "您好", At: t0}}}
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func mustCommit(t testing.TB, s *Store, c dialog.Change) {
	t.Helper()
	if err := s.Commit(ctx(t), c); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// TestKeyLayout pins the layout the package comment documents.
func TestKeyLayout(t *testing.T) {
	s, rdb := newStore(t)
	c := ctx(t)
	d, sid := signoff.DeliveryID("D-layout"), signoff.SessionID("S-layout")
	sess := newSession(d, sid)
	sess.Deadline = t0.Add(time.Minute + 500*time.Microsecond)
	mustCommit(t, s, dialog.Change{Delivery: d, Facts: &signoff.Delivery{ID: d, Version: 1}, Session: sess,
		Log:       []dialog.LogEntry{{Kind: "webhook", At: t0, Data: map[string]string{"type": "x"}}},
		WebhookID: "msg_1", Answer: []byte(`{"opened":true}`), Timer: sess.Deadline})

	state := "so:{d:D-layout}"
	h, err := rdb.HGetAll(c, state).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"facts", "facts.v", "open", "s:S-layout", "v:S-layout"} {
		if _, ok := h[f]; !ok {
			t.Errorf("%s has no field %s: %v", state, f, h)
		}
	}
	if h["facts.v"] != "1" || h["v:S-layout"] != "1" || h["open"] != "S-layout" {
		t.Errorf("%s = %v", state, h)
	}
	msgs, err := rdb.XRange(c, state+":log", "-", "+").Result()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("log: %v %v", msgs, err)
	}
	v := msgs[0].Values
	want := evidence.Record{Seq: 1, At: evidence.FormatTime(t0), Kind: "webhook", Fields: map[string]string{"type": "x"}}
	want.Hash, _ = want.ComputeHash()
	if wb, _ := json.Marshal(want); v["seq"] != "1" || v["rec"] != string(wb) {
		t.Errorf("log entry fields = %v, want seq 1 and rec %s", v, wb)
	}
	if h["head"] != "1:"+want.Hash {
		t.Errorf("head = %q, want 1:%s", h["head"], want.Hash)
	}
	if got, _ := rdb.Get(c, state+":wh:msg_1").Result(); got != `{"opened":true}` {
		t.Errorf("webhook answer = %q", got)
	}
	if ttl := rdb.PTTL(c, state+":wh:msg_1").Val(); ttl < 71*time.Hour || ttl > 72*time.Hour {
		t.Errorf("webhook answer TTL = %v, want 72h", ttl)
	}
	if got, _ := rdb.Get(c, "so:sid:S-layout").Result(); got != "D-layout" {
		t.Errorf("so:sid:S-layout = %q", got)
	}
	score, err := rdb.ZScore(c, "so:timers", "D-layout\x00S-layout").Result()
	if want := float64(t0.Add(time.Minute).UnixMilli() + 1); err != nil || score != want {
		t.Errorf("timer score = %v %v, want %v (rounded up)", score, err, want)
	}
	if ttl := rdb.PTTL(c, state).Val(); ttl != -1 {
		t.Errorf("state TTL = %v, want none", ttl)
	}
}

// TestTTLReachesEveryKey: a TTL covers the state, the log and the session
// bindings of every session of the delivery, not the webhook answers; a
// new session takes it off again.
func TestTTLReachesEveryKey(t *testing.T) {
	s, rdb := newStore(t)
	c := ctx(t)
	d := signoff.DeliveryID("D-ttl")
	a, b := newSession(d, "S-ttl-a"), newSession(d, "S-ttl-b")
	mustCommit(t, s, dialog.Change{Delivery: d, Session: a, WebhookID: "w1", Answer: []byte("x"),
		Log: []dialog.LogEntry{{Kind: "k", At: t0}}})
	a2 := *a
	a2.Version, a2.State = 2, signoff.StateExpired
	mustCommit(t, s, dialog.Change{Delivery: d, Session: &a2, CloseSession: true})
	mustCommit(t, s, dialog.Change{Delivery: d, Session: b})
	b2 := *b
	b2.Version, b2.State = 2, signoff.StateSigned
	const ttl = time.Hour
	mustCommit(t, s, dialog.Change{Delivery: d, Session: &b2, CloseSession: true, TTL: ttl})

	for _, k := range []string{"so:{d:D-ttl}", "so:{d:D-ttl}:log", "so:sid:S-ttl-a", "so:sid:S-ttl-b"} {
		if got := rdb.PTTL(c, k).Val(); got <= 0 || got > ttl {
			t.Errorf("PTTL %s = %v, want in (0, %v]", k, got, ttl)
		}
	}
	if got := rdb.PTTL(c, "so:{d:D-ttl}:wh:w1").Val(); got < 71*time.Hour {
		t.Errorf("webhook answer PTTL = %v, want its own 72h", got)
	}

	// The delivery comes back to life: a new conversation must not expire.
	mustCommit(t, s, dialog.Change{Delivery: d, Session: newSession(d, "S-ttl-c")})
	for _, k := range []string{"so:{d:D-ttl}", "so:{d:D-ttl}:log"} {
		if got := rdb.PTTL(c, k).Val(); got != -1 {
			t.Errorf("PTTL %s after a new session = %v, want none", k, got)
		}
	}
}

// TestTimerCancelIsExact: outside a Cluster a cancelled timer is gone at
// once, not left to fire.
func TestTimerCancelIsExact(t *testing.T) {
	for name, s := range map[string]*Store{"redis": first(newStore(t)), "embedded": newEmbedded(t)} {
		t.Run(name, func(t *testing.T) {
			d := signoff.DeliveryID("D-cancel")
			sess := newSession(d, "S-cancel")
			sess.Deadline = t0
			mustCommit(t, s, dialog.Change{Delivery: d, Session: sess, Timer: t0})
			done := *sess
			done.Version, done.Deadline = 2, time.Time{}
			mustCommit(t, s, dialog.Change{Delivery: d, Session: &done})
			if due, err := s.DueTimers(ctx(t), t0.Add(time.Hour), time.Minute, 10); err != nil || len(due) != 0 {
				t.Errorf("DueTimers after cancel = %v, %v; want none", due, err)
			}
		})
	}
}

func first[A, B any](a A, _ B) A { return a }

// TestConflictLeavesTimer: a commit that loses a version race does not
// touch the winner's timer.
func TestConflictLeavesTimer(t *testing.T) {
	s, _ := newStore(t)
	d := signoff.DeliveryID("D-race")
	sess := newSession(d, "S-race")
	mustCommit(t, s, dialog.Change{Delivery: d, Session: sess})
	win, lose := *sess, *sess
	win.Version, win.Deadline = 2, t0.Add(time.Minute)
	lose.Version, lose.Deadline = 2, t0.Add(time.Second)
	mustCommit(t, s, dialog.Change{Delivery: d, Session: &win, Timer: win.Deadline})
	if err := s.Commit(ctx(t), dialog.Change{Delivery: d, Session: &lose, Timer: lose.Deadline}); !errors.Is(err, signoff.ErrConflict) {
		t.Fatalf("losing commit = %v, want ErrConflict", err)
	}
	if due, _ := s.DueTimers(ctx(t), t0.Add(30*time.Second), time.Minute, 10); len(due) != 0 {
		t.Errorf("the loser's timer came due: %v", due)
	}
}

// TestSubscribeAcrossNodes: two Stores on one Redis stand for two nodes; a
// line committed on one reaches a listener on the other, in order.
func TestSubscribeAcrossNodes(t *testing.T) {
	addr, db := redistest.DB(t)
	node := func() *Store {
		rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db})
		s := New(rdb, testLog(t))
		t.Cleanup(func() { _ = s.Close(); _ = rdb.Close() })
		return s
	}
	a, b := node(), node()
	testSubscribe(t, a, b, "S-nodes")
}

func TestSubscribeEmbedded(t *testing.T) {
	s := newEmbedded(t)
	testSubscribe(t, s, s, "S-embedded")
}

func TestSubscribeCluster(t *testing.T) {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{redistest.Cluster(t)}})
	t.Cleanup(func() { _ = rdb.Close() })
	s := New(rdb, testLog(t))
	t.Cleanup(func() { _ = s.Close() })
	testSubscribe(t, s, s, "S-cluster")
}

func testSubscribe(t *testing.T, writer, reader *Store, sid signoff.SessionID) {
	sub, cancel := context.WithCancel(ctx(t))
	lines, err := reader.Subscribe(sub, sid)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	other, err := reader.Subscribe(ctx(t), sid+"-other")
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	d := signoff.DeliveryID("D-" + string(sid))
	sess := newSession(d, sid)
	posted := []dialog.Posted{{Seq: 0, Message: sess.Transcript[0]},
		{Seq: 1, Message: signoff.Message{From: signoff.FromRecipient, Text: "2", Channel: signoff.ChannelChat, At: t0}}}
	mustCommit(t, writer, dialog.Change{Delivery: d, Session: sess, Publish: posted})
	for i, want := range posted {
		select {
		case got := <-lines:
			if got.Seq != want.Seq || got.Message.Text != want.Message.Text || !got.Message.At.Equal(want.Message.At) {
				t.Errorf("line %d = %+v, want %+v", i, got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("line %d not received", i)
		}
	}
	select {
	case p := <-other:
		t.Errorf("a listener of another session got %+v", p)
	default:
	}
	cancel()
	select {
	case _, ok := <-lines:
		if ok {
			t.Error("a line after the subscription ended")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("channel not closed when the subscription's context ended")
	}
}

// TestSlowListener: a listener that does not read loses lines; the hub and
// the other listeners of the same session go on.
func TestSlowListener(t *testing.T) {
	s, _ := newStore(t)
	d, sid := signoff.DeliveryID("D-slow"), signoff.SessionID("S-slow")
	slow, err := s.Subscribe(ctx(t), sid)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := s.Subscribe(ctx(t), sid)
	if err != nil {
		t.Fatal(err)
	}
	sess := newSession(d, sid)
	const batches, per = 10, 20
	seq := 0
	for i := range batches {
		var ps []dialog.Posted
		for range per {
			ps = append(ps, dialog.Posted{Seq: seq, Message: signoff.Message{From: signoff.FromBot, Text: strconv.Itoa(seq), At: t0}})
			seq++
		}
		cur := *sess
		cur.Version = int64(i + 1)
		mustCommit(t, s, dialog.Change{Delivery: d, Session: &cur, Publish: ps})
		for _, want := range ps {
			select {
			case got := <-fast:
				if got.Seq != want.Seq {
					t.Fatalf("fast listener got seq %d, want %d", got.Seq, want.Seq)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("fast listener stuck at seq %d", want.Seq)
			}
		}
	}
	if n := len(slow); n != listenerBuffer {
		t.Errorf("slow listener holds %d lines, want its buffer of %d", n, listenerBuffer)
	}
	if got := <-slow; got.Seq != 0 {
		t.Errorf("slow listener's first line is seq %d, want 0", got.Seq)
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	s, _ := newStore(t)
	lines, err := s.Subscribe(ctx(t), "S-close")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-lines:
		if ok {
			t.Error("a line after Close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close left a subscription open")
	}
	if _, err := s.Subscribe(ctx(t), "S-close"); err == nil {
		t.Error("Subscribe after Close succeeded")
	}
}

// TestUnavailable: with Redis gone, every call says ErrUnavailable.
func TestUnavailable(t *testing.T) {
	srv := redistest.NewServer(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialerRetries: 1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	s := New(rdb, testLog(t))
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping with Redis up: %v", err)
	}
	srv.Stop()

	d := signoff.DeliveryID("D-down")
	calls := map[string]func() error{
		"Ping": func() error { return s.Ping(ctx(t)) },
		"Load": func() error { _, _, err := s.Load(ctx(t), d); return err },
		"LoadSession": func() error {
			_, _, err := s.LoadSession(ctx(t), "S-down")
			return err
		},
		"Commit":     func() error { return s.Commit(ctx(t), dialog.Change{Delivery: d, Session: newSession(d, "S-down")}) },
		"DueTimers":  func() error { _, err := s.DueTimers(ctx(t), t0, time.Minute, 1); return err },
		"ClearTimer": func() error { return s.ClearTimer(ctx(t), dialog.Timer{Delivery: d, Session: "S-down", Due: t0}) },
		"Log":        func() error { _, err := s.Log(ctx(t), d); return err },
		"Subscribe":  func() error { _, err := s.Subscribe(ctx(t), "S-down"); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, signoff.ErrUnavailable) {
			t.Errorf("%s with Redis down = %v, want ErrUnavailable", name, err)
		}
	}
}

func TestErrorKinds(t *testing.T) {
	s, rdb := newStore(t)
	c := ctx(t)
	if _, err := s.SessionDelivery(c, "S-none"); !errors.Is(err, signoff.ErrNotFound) {
		t.Errorf("SessionDelivery(unknown) = %v, want ErrNotFound", err)
	}
	// A key of the wrong type is a bug, not an outage.
	rdb.Set(c, "so:{d:D-wrong}:log", "x", 0)
	if _, err := s.Log(c, "D-wrong"); err == nil || errors.Is(err, signoff.ErrUnavailable) || errors.Is(err, signoff.ErrNotFound) {
		t.Errorf("Log of a key of the wrong type = %v, want an error of no kind", err)
	}

	d := signoff.DeliveryID("D-inv")
	for name, ch := range map[string]dialog.Change{
		"no delivery":          {Session: newSession("", "S-inv")},
		"brace in id":          {Delivery: "D}x", Facts: &signoff.Delivery{ID: "D}x", Version: 1}},
		"facts of another":     {Delivery: d, Facts: &signoff.Delivery{ID: "other", Version: 1}},
		"session of another":   {Delivery: d, Session: newSession("other", "S-inv")},
		"session version 0":    {Delivery: d, Session: &signoff.Session{ID: "S-inv", DeliveryID: d}},
		"timer and no session": {Delivery: d, Timer: t0},
	} {
		if err := s.Commit(c, ch); !errors.Is(err, signoff.ErrInvalid) {
			t.Errorf("%s: Commit = %v, want ErrInvalid", name, err)
		}
	}
	// A session id belongs to one delivery for good.
	mustCommit(t, s, dialog.Change{Delivery: d, Session: newSession(d, "S-bound")})
	if err := s.Commit(c, dialog.Change{Delivery: "D-other", Session: newSession("D-other", "S-bound")}); !errors.Is(err, signoff.ErrConflict) {
		t.Errorf("reusing a session id for another delivery = %v, want ErrConflict", err)
	}
}

// TestScriptCacheFlushed: after SCRIPT FLUSH (a restart, a failover) the
// scripts load themselves again.
func TestScriptCacheFlushed(t *testing.T) {
	s, rdb := newStore(t)
	c := ctx(t)
	d := signoff.DeliveryID("D-flush")
	mustCommit(t, s, dialog.Change{Delivery: d, Session: newSession(d, "S-flush")})
	if err := rdb.ScriptFlush(c).Err(); err != nil {
		t.Fatal(err)
	}
	if _, sess, err := s.Load(c, d); err != nil || sess == nil {
		t.Fatalf("Load after SCRIPT FLUSH = %v, %v", sess, err)
	}
	if err := rdb.ScriptFlush(c).Err(); err != nil {
		t.Fatal(err)
	}
	sess := newSession(d, "S-flush")
	sess.Version = 2
	mustCommit(t, s, dialog.Change{Delivery: d, Session: sess})

	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{redistest.Cluster(t)}})
	t.Cleanup(func() { _ = cl.Close() })
	cs := New(cl, testLog(t))
	t.Cleanup(func() { _ = cs.Close() })
	mustCommit(t, cs, dialog.Change{Delivery: d, Session: newSession(d, "S-flush")})
	if err := cl.ForEachShard(c, func(ctx context.Context, n *redis.Client) error { return n.ScriptFlush(ctx).Err() }); err != nil {
		t.Fatal(err)
	}
	sess.Deadline = t0
	mustCommit(t, cs, dialog.Change{Delivery: d, Session: sess, Timer: t0})
	if due, err := cs.DueTimers(c, t0, time.Minute, 10); err != nil || len(due) != 1 {
		t.Errorf("cluster timer after SCRIPT FLUSH: %v, %v", due, err)
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		url      string
		mode     string
		addrs    []string
		db       int
		user     string
		pass     string
		master   string
		tls      bool
		wantErr  string
		sentPass string
	}{
		{url: "redis://localhost:6379/0", mode: "single", addrs: []string{"localhost:6379"}},
		{url: "redis://localhost", mode: "single", addrs: []string{"localhost:6379"}},
		{url: "127.0.0.1:7000", mode: "single", addrs: []string{"127.0.0.1:7000"}},
		{url: "redis://u:p%40ss@db.internal:6380/3?dial_timeout=2s", mode: "single", addrs: []string{"db.internal:6380"}, db: 3, user: "u", pass: "p@ss"},
		{url: "rediss://:secret@cache.example:6380", mode: "single", addrs: []string{"cache.example:6380"}, pass: "secret", tls: true},
		{url: "redis://a:7000,b:7001,c:7002", mode: "cluster", addrs: []string{"a:7000", "b:7001", "c:7002"}},
		{url: "a:7000, b:7001", mode: "cluster", addrs: []string{"a:7000", "b:7001"}},
		{url: "redis+cluster://:pw@a:7000", mode: "cluster", addrs: []string{"a:7000"}, pass: "pw"},
		{url: "rediss+cluster://a:7000,b:7001?read_timeout=1s", mode: "cluster", addrs: []string{"a:7000", "b:7001"}, tls: true},
		{url: "redis+sentinel://s1:26379,s2:26379/mymaster/2", mode: "sentinel", addrs: []string{"s1:26379", "s2:26379"}, master: "mymaster", db: 2},
		{url: "redis+sentinel://:pw@s1:26379/mymaster?sentinel_password=spw", mode: "sentinel", addrs: []string{"s1:26379"}, master: "mymaster", pass: "pw", sentPass: "spw"},
		{url: "", wantErr: "empty"},
		{url: "http://localhost", wantErr: "want a redis://"},
		{url: "redis+sentinel://s1:26379", wantErr: "master"},
		{url: "redis+cluster://a:7000/2", wantErr: "database 0"},
		{url: "redis+ring://a:7000", wantErr: "unknown mode"},
		{url: "redis://:hunter2@localhost/x", wantErr: "invalid database"},
		{url: "redis://:hunter2@localhost?bogus=1", wantErr: "bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			cfg, err := parseURL(tt.url)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, signoff.ErrInvalid) {
					t.Fatalf("parseURL = %v, want an ErrInvalid mentioning %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error repeats the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseURL: %v", err)
			}
			if cfg.mode != tt.mode || fmt.Sprint(cfg.addrs) != fmt.Sprint(tt.addrs) {
				t.Errorf("mode %s addrs %v, want %s %v", cfg.mode, cfg.addrs, tt.mode, tt.addrs)
			}
			var db int
			var user, pass, master, sentPass string
			var tls bool
			switch {
			case cfg.single != nil:
				db, user, pass, tls = cfg.single.DB, cfg.single.Username, cfg.single.Password, cfg.single.TLSConfig != nil
			case cfg.cluster != nil:
				user, pass, tls = cfg.cluster.Username, cfg.cluster.Password, cfg.cluster.TLSConfig != nil
			case cfg.failover != nil:
				o := cfg.failover
				db, user, pass, master, sentPass, tls = o.DB, o.Username, o.Password, o.MasterName, o.SentinelPassword, o.TLSConfig != nil
			}
			if db != tt.db || user != tt.user || pass != tt.pass || master != tt.master || sentPass != tt.sentPass || tls != tt.tls {
				t.Errorf("db %d user %q pass %q master %q sentinel pass %q tls %v; want %d %q %q %q %q %v",
					db, user, pass, master, sentPass, tls, tt.db, tt.user, tt.pass, tt.master, tt.sentPass, tt.tls)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"redis://u:secret@h:1/0": "redis://u:xxxxx@h:1/0",
		"redis://h:1":            "redis://h:1",
		"redis+sentinel://h/m?sentinel_password=s3cr3t": "redis+sentinel://h/m?sentinel_password=xxxxx",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOpen(t *testing.T) {
	addr, db := redistest.DB(t)
	s, err := Open(ctx(t), fmt.Sprintf("redis://%s/%d", addr, db), testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatal(err)
	}
}
