package redistest

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestServersOutliveEndedThreads: servers keep running while goroutines
// lock threads and end them (as speech/sphinx's niced recognition does),
// though the parent-death signal is tied to the thread that forked.
func TestServersOutliveEndedThreads(t *testing.T) {
	var servers []*Server
	for range 6 {
		got := make(chan *Server)
		go func() { got <- NewServer(t) }() // forked from whatever thread runs this
		servers = append(servers, <-got)
	}
	for range 100 {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
				time.Sleep(time.Millisecond)
			})
		}
		wg.Wait()
	}
	time.Sleep(200 * time.Millisecond)
	for i, s := range servers {
		if r, err := s.Do("PING"); err != nil || r != "PONG" {
			t.Errorf("server %d: PING after threads ended = %q, %v; want PONG", i, r, err)
		}
	}
}
