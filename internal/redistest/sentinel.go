package redistest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SentinelSet is a master, its replica and one redis-sentinel watching them
// under the name Master.
type SentinelSet struct {
	Master   string
	Primary  *Server
	Replica  *Server
	Sentinel *Server
}

const missingSentinel = "redis-sentinel not found: run `make deps` (apt-get install -y redis-sentinel)"

// NewSentinel starts a master, a replica of it, and a redis-sentinel that
// fails over after the master has been silent for 1 s. Everything stops
// when the test ends.
func NewSentinel(tb testing.TB) *SentinelSet {
	tb.Helper()
	bin, err := exec.LookPath("redis-sentinel")
	if err != nil {
		tb.Fatal(missingSentinel)
	}
	set := &SentinelSet{Master: "signoff"}
	set.Primary = NewServer(tb, "--appendonly", "yes")
	host, port, _ := strings.Cut(set.Primary.Addr, ":")
	set.Replica = NewServer(tb, "--replicaof", host, port)
	deadline := time.Now().Add(15 * time.Second)
	for {
		info, err := set.Replica.Do("INFO", "replication")
		if err == nil && strings.Contains(info, "master_link_status:up") {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redistest: replica not in sync within 15s: %v %s", err, info)
		}
		time.Sleep(50 * time.Millisecond)
	}
	dir := tb.TempDir()
	var last error
	for range 5 {
		p, err := freePort()
		if err != nil {
			tb.Fatal(err)
		}
		conf := filepath.Join(dir, "sentinel.conf")
		text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor %s %s %s 1\n"+
			"sentinel down-after-milliseconds %s 1000\nsentinel failover-timeout %s 5000\nsentinel parallel-syncs %s 1\n",
			p, dir, set.Master, host, port, set.Master, set.Master, set.Master)
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
		s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(p), dir: dir, out: new(logBuffer), done: make(chan struct{})}
		s.cmd = exec.Command(bin, conf)
		s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
		parentDeathSignal(s.cmd)
		if err := startProcess(s.cmd); err != nil {
			tb.Fatal(err)
		}
		go func() { _ = s.cmd.Wait(); close(s.done) }()
		if last = s.waitReady(10 * time.Second); last == nil {
			tb.Cleanup(s.Stop)
			set.Sentinel = s
			return set
		}
		s.Stop()
	}
	tb.Fatal(last)
	return nil
}

// URL returns a REDIS_URL for the set through its sentinel.
func (s *SentinelSet) URL() string {
	return "redis+sentinel://" + s.Sentinel.Addr + "/" + s.Master
}

// MasterAddr asks the sentinel which address is the master now.
func (s *SentinelSet) MasterAddr() (string, error) {
	r, err := s.Sentinel.Do("SENTINEL", "get-master-addr-by-name", s.Master)
	if err != nil {
		return "", err
	}
	host, port, ok := strings.Cut(r, "\n")
	if !ok {
		return "", fmt.Errorf("redistest: sentinel answered %q", r)
	}
	return host + ":" + port, nil
}
