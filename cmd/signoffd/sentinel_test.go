package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/signoff/signoff/internal/redistest"
)

// TestSentinel runs signoffd through a real redis-sentinel: a conversation
// starts on the master, the master is killed, the sentinel promotes the
// replica, and the conversation finishes on it with nothing lost.
func TestSentinel(t *testing.T) {
	set := redistest.NewSentinel(t)
	srv := startServer(t, buildServer(t), "REDIS_URL="+set.URL()+"?dial_timeout=300ms&read_timeout=1s&max_retries=1",
		"SIGNOFF_TTS=none", "SIGNOFF_ASR=none", "SIGNOFF_RATE_LIMITS=off")
	f := newFleet(srv.url)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	status, open, err := f.webhook(ctx, "msg_sentinel_1", opening("SEN-1"))
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("opening webhook: %d %v %v", status, open, err)
	}
	sid, token := open["session_id"].(string), open["recipient_token"].(string)
	if _, err := f.say(ctx, sid, token, "快递到哪了"); err != nil {
		t.Fatal(err)
	}
	// Everything acknowledged has reached the replica before the master dies.
	if n, err := set.Primary.Do("WAIT", "1", "5000"); err != nil || n != "1" {
		t.Fatalf("WAIT 1: %q %v", n, err)
	}
	set.Primary.Stop()
	killed := time.Now()

	r, err := f.say(ctx, sid, token, "2")
	if err != nil {
		t.Fatal(err)
	}
	if r["outcome"] != "leave_at_door" {
		t.Fatalf("after 2: %v", r)
	}
	m, err := f.session(ctx, sid, token)
	if err != nil {
		t.Fatal(err)
	}
	if recipient, _, _ := transcriptLines(m); recipient != 2 {
		t.Errorf("%d recipient lines after the failover; want 2", recipient)
	}
	master, err := set.MasterAddr()
	if err != nil || master != set.Replica.Addr {
		t.Errorf("sentinel names %q (%v) as master; want the replica %s", master, err, set.Replica.Addr)
	}
	failed, total := f.rate(killed, time.Now())
	t.Logf("failover: the reply went through %v after the master died; %d of %d attempts failed meanwhile",
		time.Since(killed).Round(100*time.Millisecond), failed, total)
	waitStatus(t, srv.url+"/readyz", 200, 10*time.Second)
}
