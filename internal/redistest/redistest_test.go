package redistest

import (
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func TestStart(t *testing.T) {
	s := NewServer(t)
	if r, err := s.Do("SET", "k", "v"); err != nil || r != "OK" {
		t.Fatalf("SET = %q, %v", r, err)
	}
	if r, err := s.Do("GET", "k"); err != nil || r != "v" {
		t.Fatalf("GET = %q, %v; want v", r, err)
	}
	s.Stop()
	if _, err := s.Do("PING"); err == nil {
		t.Error("PING after Stop succeeded")
	}
}

func TestDB(t *testing.T) {
	a1, d1 := DB(t)
	a2, d2 := DB(t)
	if a1 != a2 || d1 == d2 || d1 == 0 {
		t.Errorf("DB twice = %s/%d and %s/%d; want one server, two distinct databases other than 0", a1, d1, a2, d2)
	}
}

func TestCluster(t *testing.T) {
	addr := Cluster(t)
	info, err := do(addr, "CLUSTER", "INFO")
	if err != nil || !strings.Contains(info, "cluster_state:ok") {
		t.Fatalf("CLUSTER INFO = %q, %v", info, err)
	}
}

func TestMissingServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := start(t.TempDir())
	if err == nil || err.Error() != missing {
		t.Fatalf("start without redis-server = %v, want %q", err, missing)
	}
}
