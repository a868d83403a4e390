package redistest

import (
	"strings"
	"testing"
	"time"
)

// TestClusterRestartKeepsData: a master killed with SIGKILL comes back from
// its append-only file with what it had acknowledged.
func TestClusterRestartKeepsData(t *testing.T) {
	c := NewCluster(t, 3)
	key := "{d:restart}:k"
	i, err := c.Owner(key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Nodes[i].Do("SET", key, "kept"); err != nil {
		t.Fatal(err)
	}
	c.Kill(i)
	if _, err := c.Nodes[i].Do("PING"); err == nil {
		t.Fatal("the killed node still answers")
	}
	if err := c.Restart(i); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitOK(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Nodes[i].Do("GET", key); err != nil || v != "kept" {
		t.Fatalf("after restart: GET = %q, %v; want kept", v, err)
	}
	if !strings.HasPrefix(c.URL(), "redis+cluster://127.0.0.1:") {
		t.Errorf("URL %q", c.URL())
	}
}

// TestSentinelNamesMaster: the sentinel reports the primary as the master.
func TestSentinelNamesMaster(t *testing.T) {
	s := NewSentinel(t)
	got, err := s.MasterAddr()
	if err != nil || got != s.Primary.Addr {
		t.Fatalf("master = %q, %v; want %s", got, err, s.Primary.Addr)
	}
}
