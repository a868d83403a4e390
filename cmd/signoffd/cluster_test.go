package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signoff/signoff/internal/redistest"
)

// clusterEnv is how the nodes of the multi-node tests run: short reply
// timeouts so that timers fire during the test, quick timer polling, Redis
// timeouts short enough that a dead master is noticed at once, no limits.
var clusterEnv = []string{
	"SIGNOFF_REPLY_TIMEOUT=5s", "SIGNOFF_HANDOFF_TIMEOUT=30m", "SIGNOFF_TIMER_POLL=100ms",
	"SIGNOFF_RATE_LIMITS=off", "SIGNOFF_TTS=none", "SIGNOFF_ASR=none", "SIGNOFF_LOG_LEVEL=info",
}

// clusterRedisOptions make the nodes' Redis clients give up on a dead
// master quickly (the client retries elsewhere) instead of hanging.
const clusterRedisOptions = "?dial_timeout=300ms&read_timeout=1s&write_timeout=1s&max_retries=1"

// conversation is one scripted recipient of TestCluster.
type conversation struct {
	delivery string
	script   []string // what the recipient says; none: stays silent
	outcome  string   // the outcome it must end with
	state    string

	sid, token string
	sent       int // messages acknowledged
}

func scripted(i int) *conversation {
	c := &conversation{delivery: fmt.Sprintf("CL-%04d", i)}
	switch i % 10 {
	case 0: // silent: two re-prompts by timer, then a handoff
		c.outcome, c.state = "handoff", "handoff"
	case 1, 2, 3:
		c.script, c.outcome, c.state = []string{"3"}, "pickup_station", "arranged"
	default:
		c.script, c.outcome, c.state = []string{"快递到哪了", "2"}, "leave_at_door", "arranged"
	}
	return c
}

// TestCluster runs 1,000 conversations over three signoffd nodes on a
// three-master Redis Cluster, each request to a random node, while one node
// is killed with SIGKILL and the Redis master holding the timers is killed
// and restarted from its append-only file. Every conversation must reach
// its outcome with each message counted once, each silent one must be
// re-prompted by its timer exactly twice and then handed off, and streams
// followed over SSE must see every line.
func TestCluster(t *testing.T) {
	const total, workers, followed = 1000, 24, 30
	began := time.Now()
	cluster := redistest.NewCluster(t, 3)
	nodes := startNodes(t, 3, cluster.URL()+clusterRedisOptions, clusterEnv...)
	t.Logf("cluster and nodes up in %v", time.Since(began).Round(time.Millisecond))
	urls := make([]string, len(nodes))
	for i, n := range nodes {
		urls[i] = n.url
	}
	f := newFleet(urls...)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	convs := make([]*conversation, total)
	for i := range convs {
		convs[i] = scripted(i)
	}
	var done atomic.Int64
	errs := make(chan error, total)
	followCtx, stopFollowing := context.WithCancel(ctx)
	defer stopFollowing()
	type follower struct {
		mu         sync.Mutex
		seen       map[int]bool
		reconnects int
	}
	followers := make(map[int]*follower)
	var followWG sync.WaitGroup

	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				c := convs[i]
				status, open, err := f.webhook(ctx, "msg_"+c.delivery, opening(c.delivery))
				if err != nil || status != http.StatusAccepted {
					errs <- fmt.Errorf("%s: opening webhook: %d %v %v", c.delivery, status, open, err)
					continue
				}
				c.sid, _ = open["session_id"].(string)
				c.token, _ = open["recipient_token"].(string)
				if fl := followers[i]; fl != nil {
					followWG.Add(1)
					go func() {
						defer followWG.Done()
						n := f.follow(followCtx, c.sid, c.token, func(seq int) { fl.mu.Lock(); fl.seen[seq] = true; fl.mu.Unlock() })
						fl.mu.Lock()
						fl.reconnects = n
						fl.mu.Unlock()
					}()
				}
				for _, text := range c.script {
					if _, err := f.say(ctx, c.sid, c.token, text); err != nil {
						errs <- fmt.Errorf("%s: %w", c.delivery, err)
						break
					}
					c.sent++
				}
				done.Add(1)
			}
		}()
	}
	for i := 0; i < total; i += total / followed {
		followers[i+4] = &follower{seen: map[int]bool{}} // a talking one (i%10 == 4)
	}

	// The faults, while the conversations run.
	type fault struct {
		name     string
		from, to time.Time
	}
	var faults []fault
	chaos := make(chan struct{})
	go func() {
		defer close(chaos)
		waitFor := func(n int64) {
			for done.Load() < n && ctx.Err() == nil {
				time.Sleep(20 * time.Millisecond)
			}
		}
		waitFor(total / 4)
		victim := nodes[2]
		from := time.Now()
		victim.cmd.Process.Kill()
		// A balancer notices after a few failed health checks.
		time.Sleep(2 * time.Second)
		f.remove(victim.url)
		faults = append(faults, fault{"signoffd node SIGKILLed (out of rotation after 2 s)", from, time.Now().Add(time.Second)})

		waitFor(total / 2)
		owner, err := cluster.Owner("so:timers")
		if err != nil {
			t.Errorf("owner of so:timers: %v", err)
			return
		}
		from = time.Now()
		cluster.Kill(owner)
		time.Sleep(time.Second)
		if err := cluster.Restart(owner); err != nil {
			t.Errorf("restart Redis master: %v", err)
			return
		}
		if err := cluster.WaitOK(30 * time.Second); err != nil {
			t.Errorf("cluster after restart: %v", err)
		}
		faults = append(faults, fault{"Redis master (holding so:timers) SIGKILLed, restarted from its AOF", from, time.Now().Add(time.Second)})
	}()

	for i := range convs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	<-chaos
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ran := time.Since(start)
	t.Logf("conversations driven in %v", ran.Round(time.Millisecond))

	// Every conversation reaches its outcome; silent ones after their
	// timers: wait for them (a timer claimed by the killed node waits out
	// its 30 s lease).
	lost, duplicated, waiting := 0, 0, convs
	deadline := time.Now().Add(90 * time.Second)
	for len(waiting) > 0 {
		var still []*conversation
		for _, c := range waiting {
			if c.sid == "" {
				continue
			}
			m, err := f.session(ctx, c.sid, c.token)
			if err != nil {
				t.Fatalf("%s: %v", c.delivery, err)
			}
			if m["outcome"] != c.outcome || m["state"] != c.state {
				still = append(still, c)
				continue
			}
			recipient, bot, _ := transcriptLines(m)
			switch {
			case recipient < c.sent:
				lost++
				t.Errorf("%s: %d recipient lines, %d messages acknowledged", c.delivery, recipient, c.sent)
			case recipient > c.sent:
				duplicated++
				t.Errorf("%s: %d recipient lines, %d messages sent", c.delivery, recipient, c.sent)
			case len(c.script) == 0 && bot != 4:
				duplicated++
				t.Errorf("%s: silent conversation has %d bot lines; want greeting, 2 re-prompts, handoff", c.delivery, bot)
			}
		}
		waiting = still
		if len(waiting) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, c := range waiting {
		lost++
		m, _ := f.session(ctx, c.sid, c.token)
		t.Errorf("%s: state %v outcome %v; want %s %s", c.delivery, m["state"], m["outcome"], c.state, c.outcome)
	}
	opened := 0
	for _, c := range convs {
		if c.sid != "" {
			opened++
		}
	}
	if opened != total {
		lost += total - opened
		t.Errorf("%d of %d conversations opened", opened, total)
	}

	t.Logf("outcomes checked after %v", time.Since(start).Round(time.Millisecond))

	// Streams followed across nodes and faults saw every line.
	time.Sleep(time.Second)
	stopFollowing()
	followWG.Wait()
	missed, reconnects := 0, 0
	for i, fl := range followers {
		c := convs[i]
		m, err := f.session(ctx, c.sid, c.token)
		if err != nil {
			t.Fatal(err)
		}
		_, _, bots := transcriptLines(m)
		fl.mu.Lock()
		for _, seq := range bots {
			if !fl.seen[seq] {
				missed++
				t.Errorf("%s: stream never delivered line %d", c.delivery, seq)
			}
		}
		reconnects += fl.reconnects
		fl.mu.Unlock()
	}

	failed, attempts := f.rate(start, time.Now())
	t.Logf("%d conversations over 3 nodes in %v: %d requests (%.0f/s); lost %d, duplicated %d",
		total, ran.Round(time.Millisecond), attempts, float64(attempts)/ran.Seconds(), lost, duplicated)
	for _, fl := range faults {
		ff, ft := f.rate(fl.from, fl.to)
		t.Logf("fault %q for %v: %d of %d client attempts failed (%.1f%%), each retried on another node",
			fl.name, fl.to.Sub(fl.from).Round(100*time.Millisecond), ff, ft, pct(ff, ft))
	}
	t.Logf("whole run: %d of %d attempts failed (%.1f%%); %d streams followed, %d reconnects, %d lines missed",
		failed, attempts, pct(failed, attempts), len(followers), reconnects, missed)
	if len(faults) != 2 {
		t.Errorf("only %d of 2 faults happened", len(faults))
	}
	if lost != 0 || duplicated != 0 {
		t.Errorf("lost %d, duplicated %d; want 0 and 0", lost, duplicated)
	}
	if os.Getenv("SIGNOFF_CLUSTER_LOGS") != "" {
		for i, n := range nodes {
			t.Logf("node %d log:\n%s", i, n.logs)
		}
	}
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}
