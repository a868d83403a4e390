package redistest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RealCluster is a Redis Cluster of several masters, each a redis-server
// process with its own directory and the append-only file on, so that a
// master killed with SIGKILL comes back with its data by Restart.
type RealCluster struct {
	Nodes []*Server
}

// NewCluster starts masters redis-server processes on free loopback ports,
// joins them with `redis-cli --cluster create` (no replicas), and waits until
// every node reports cluster_state:ok. Everything stops when the test ends.
// The cluster keeps serving the slots of the nodes that are up while one is
// down (cluster-require-full-coverage no), and a node must be down for
// 30 s before the others mark it failed.
func NewCluster(tb testing.TB, masters int) *RealCluster {
	tb.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		tb.Fatal("redis-cli not found: run `make deps` (apt-get install -y redis-tools)")
	}
	c := &RealCluster{}
	root := tb.TempDir()
	for i := range masters {
		dir := filepath.Join(root, "node"+strconv.Itoa(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			tb.Fatal(err)
		}
		args := []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "30000", "--cluster-require-full-coverage", "no",
			"--cluster-announce-ip", "127.0.0.1", "--appendonly", "yes", "--appendfsync", "everysec"}
		s, err := start(dir, args...)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(s.Stop)
		c.Nodes = append(c.Nodes, s)
	}
	argv := append([]string{"--cluster", "create"}, c.Addrs()...)
	argv = append(argv, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, argv...).CombinedOutput(); err != nil {
		tb.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.WaitOK(30 * time.Second); err != nil {
		tb.Fatal(err)
	}
	return c
}

// Addrs returns the nodes' addresses.
func (c *RealCluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr
	}
	return out
}

// URL returns a REDIS_URL naming every node as a seed.
func (c *RealCluster) URL() string { return "redis+cluster://" + strings.Join(c.Addrs(), ",") }

// WaitOK waits until every node answers and reports cluster_state:ok and
// knows all the others.
func (c *RealCluster) WaitOK(d time.Duration) error {
	deadline := time.Now().Add(d)
	want := "cluster_known_nodes:" + strconv.Itoa(len(c.Nodes))
	for {
		ok := true
		var last string
		for _, n := range c.Nodes {
			info, err := n.Do("CLUSTER", "INFO")
			if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, want) {
				ok, last = false, fmt.Sprintf("%s: %v %s", n.Addr, err, info)
				break
			}
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redistest: cluster not ok within %v: %s", d, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Owner returns the index of the node that serves key.
func (c *RealCluster) Owner(key string) (int, error) {
	for i, n := range c.Nodes {
		_, err := n.Do("TYPE", key)
		if err == nil {
			return i, nil
		}
		if !strings.HasPrefix(err.Error(), "MOVED") && !strings.HasPrefix(err.Error(), "ASK") {
			return -1, err
		}
	}
	return -1, errors.New("redistest: no node owns " + key)
}

// Kill ends node i with SIGKILL and waits for it to exit.
func (c *RealCluster) Kill(i int) { c.Nodes[i].Stop() }

// Restart starts node i again on its port and directory, where it reads its
// nodes.conf and its append-only file, and waits until it answers PING.
func (c *RealCluster) Restart(i int) error { return c.Nodes[i].Restart() }

// Log returns node i's output so far.
func (c *RealCluster) Log(i int) string { return c.Nodes[i].log() }
