// Package redistest runs real redis-server processes for tests.
//
// Start gives a test its own server, stopped when the test ends. DB gives a
// fresh, empty database on one server shared by the whole test binary, which
// keeps a suite of many small tests fast; Cluster does the same for a
// one-node Redis Cluster. A package that uses DB or Cluster calls Main from
// its TestMain so that the shared servers stop when the binary exits.
//
// A missing redis-server fails the test: the tests of a Redis adapter that
// silently skip prove nothing.
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Databases is how many logical databases the shared server has, and so how
// many times DB may be called in one test binary.
const Databases = 4096

const missing = "redis-server not found: run `make deps` (apt-get install -y redis-server)"

// Server is one redis-server process on a loopback port.
type Server struct {
	Addr string // host:port

	cmd  *exec.Cmd
	bin  string
	args []string
	dir  string
	out  *logBuffer    // the server's output, for failures
	done chan struct{} // closed when the process has exited
	once sync.Once
}

// Start runs a redis-server of the test's own and returns its address. The
// server is killed when the test ends.
func Start(tb testing.TB) string {
	tb.Helper()
	return NewServer(tb).Addr
}

// NewServer runs a redis-server with the given extra arguments and stops it
// when the test ends. Use it when a test must stop the server itself.
func NewServer(tb testing.TB, args ...string) *Server {
	tb.Helper()
	s, err := start(tb.TempDir(), args...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Stop kills the server and waits for it to exit. It may be called more than
// once.
func (s *Server) Stop() {
	s.once.Do(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
	})
}

// Restart kills the server if it runs and starts it again on the same
// port, directory and arguments (with --appendonly yes it reloads its
// data), waiting until it answers PING. The test's cleanup stops the new
// process too.
func (s *Server) Restart() error {
	s.Stop()
	_, port, _ := net.SplitHostPort(s.Addr)
	p, _ := strconv.Atoi(port)
	var last error
	for range 50 { // the port may linger for a moment
		n, err := startAt(s.bin, s.dir, p, s.args...)
		if err != nil {
			return err
		}
		if last = n.waitReady(10 * time.Second); last == nil {
			s.cmd, s.out, s.done, s.once = n.cmd, n.out, n.done, sync.Once{}
			return nil
		}
		n.Stop()
		time.Sleep(100 * time.Millisecond)
	}
	return last
}

// Do sends one command to the server on a new connection and returns its
// reply as text: a status, an integer, a bulk string, or the elements of an
// array joined by newlines. An error reply is returned as an error.
func (s *Server) Do(args ...string) (string, error) {
	return do(s.Addr, args...)
}

var shared struct {
	sync.Mutex
	single  *Server
	nextDB  int
	cluster *Server
	dirs    []string
}

// DB returns the address of the binary's shared redis-server and the number
// of a database no other caller has been given. Clients must select that
// database (for example go-redis Options.DB). Pub/sub is not scoped by
// database, so tests sharing the server must use distinct channel names.
func DB(tb testing.TB) (addr string, db int) {
	tb.Helper()
	shared.Lock()
	defer shared.Unlock()
	if shared.single == nil {
		s, err := sharedServer("--databases", strconv.Itoa(Databases))
		if err != nil {
			tb.Fatal(err)
		}
		shared.single = s
	}
	shared.nextDB++
	if shared.nextDB >= Databases {
		tb.Fatalf("redistest: all %d databases of the shared server are used; raise redistest.Databases", Databases)
	}
	return shared.single.Addr, shared.nextDB
}

// Cluster returns the address of the binary's shared one-node Redis Cluster
// (all 16384 slots on one node), emptied with FLUSHALL. Tests that use it
// must not run in parallel with each other.
func Cluster(tb testing.TB) string {
	tb.Helper()
	shared.Lock()
	defer shared.Unlock()
	if shared.cluster == nil {
		s, err := sharedServer("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-announce-ip", "127.0.0.1")
		if err == nil {
			err = formCluster(s)
		}
		if err != nil {
			if s != nil {
				s.Stop()
			}
			tb.Fatal(err)
		}
		shared.cluster = s
	}
	if _, err := shared.cluster.Do("FLUSHALL"); err != nil {
		tb.Fatalf("redistest: FLUSHALL: %v", err)
	}
	return shared.cluster.Addr
}

// Main runs the tests and then stops the shared servers. Call it from
// TestMain in a package that uses DB or Cluster:
//
//	func TestMain(m *testing.M) { redistest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	shared.Lock()
	for _, s := range []*Server{shared.single, shared.cluster} {
		if s != nil {
			s.Stop()
		}
	}
	for _, d := range shared.dirs {
		_ = os.RemoveAll(d)
	}
	shared.Unlock()
	os.Exit(code)
}

// sharedServer starts a server that outlives any one test. Main stops it;
// should a binary forget to call Main, the server is killed with its parent
// where the platform allows (see parentDeathSignal).
func sharedServer(args ...string) (*Server, error) {
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return nil, err
	}
	shared.dirs = append(shared.dirs, dir)
	return start(dir, args...)
}

// start runs redis-server in dir on a free port and waits until it answers
// PING. A port taken between choosing and binding is retried.
func start(dir string, args ...string) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New(missing)
	}
	var last error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s, err := startAt(bin, dir, port, args...)
		if err != nil {
			return nil, err
		}
		if last = s.waitReady(10 * time.Second); last == nil {
			return s, nil
		}
		s.Stop()
	}
	return nil, last
}

// startAt runs redis-server in dir on port without waiting for it.
func startAt(bin, dir string, port int, args ...string) (*Server, error) {
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), bin: bin, args: args, dir: dir, out: new(logBuffer), done: make(chan struct{})}
	argv := append([]string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir,
	}, args...)
	s.cmd = exec.Command(bin, argv...)
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	parentDeathSignal(s.cmd)
	if err := startProcess(s.cmd); err != nil {
		return nil, fmt.Errorf("redistest: start %s: %w", bin, err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	return s, nil
}

// waitReady polls PING until the server answers, exits, or d passes.
func (s *Server) waitReady(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		if r, err := s.Do("PING"); err == nil && r == "PONG" {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("redistest: redis-server exited at start:\n%s", s.log())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redistest: redis-server on %s did not answer PING within %v:\n%s", s.Addr, d, s.log())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *Server) log() string { return s.out.String() }

// formCluster gives a fresh cluster node every slot and waits until the
// cluster reports ok.
func formCluster(s *Server) error {
	if _, err := s.Do("CLUSTER", "ADDSLOTSRANGE", "0", "16383"); err != nil {
		return fmt.Errorf("redistest: CLUSTER ADDSLOTSRANGE: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := s.Do("CLUSTER", "INFO")
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redistest: cluster on %s not ok within 10s: %v %s", s.Addr, err, info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redistest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// do speaks just enough RESP2 to send one command and read its reply.
func do(addr string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c, b.String()); err != nil {
		return "", err
	}
	return readReply(bufio.NewReader(c))
}

func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("redistest: empty reply")
	}
	switch body := line[1:]; line[0] {
	case '+', ':':
		return body, nil
	case '-':
		return "", errors.New(body)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return "", err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil {
			return "", err
		}
		parts := make([]string, 0, max(n, 0))
		for range n {
			p, err := readReply(r)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, "\n"), nil
	}
	return "", fmt.Errorf("redistest: unexpected reply %q", line)
}

// logBuffer lets the server's output be read while it is still written.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
