package redisstore

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// hintRetry is how often timer hints that could not be written are tried
// again.
const hintRetry = 500 * time.Millisecond

// hintQueue keeps the Cluster timer hints (see Commit) whose commit was
// stored but whose ZADD failed, typically because the node holding the
// timers set was down, and writes them again until they land. Without it
// such a session would never time out. A hint only ever moves a timer
// later (ZADD GT), so writing one late is safe. The queue lives in this
// process: hints of a node killed before they land are lost with it.
type hintQueue struct {
	mu      sync.Mutex
	pending map[string]float64 // member → due (ms); the latest wins
	stop    chan struct{}
	done    chan struct{}
}

// add queues a hint and starts the retrying goroutine if it is not running.
func (q *hintQueue) add(ctx context.Context, rdb redis.UniversalClient, log *slog.Logger, member string, due float64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.pending == nil {
		q.pending = make(map[string]float64)
	}
	q.pending[member] = max(q.pending[member], due)
	if q.stop == nil {
		q.stop, q.done = make(chan struct{}), make(chan struct{})
		go q.run(context.WithoutCancel(ctx), rdb, log, q.stop, q.done)
	}
}

// len reports how many hints wait.
func (q *hintQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending)
}

func (q *hintQueue) run(parent context.Context, rdb redis.UniversalClient, log *slog.Logger, stop, done chan struct{}) {
	defer close(done)
	ctx, cancel := context.WithCancel(parent) // ended by close
	defer cancel()
	go func() { <-stop; cancel() }()
	tick := time.NewTicker(hintRetry)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		q.mu.Lock()
		batch := q.pending
		q.pending = make(map[string]float64)
		q.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		zs := make([]redis.Z, 0, len(batch))
		for m, due := range batch {
			zs = append(zs, redis.Z{Member: m, Score: due})
		}
		if err := rdb.ZAddArgs(ctx, timersKey, redis.ZAddArgs{GT: true, Members: zs}).Err(); err != nil {
			q.mu.Lock()
			for m, due := range batch {
				q.pending[m] = max(q.pending[m], due)
			}
			q.mu.Unlock()
			continue
		}
		log.Info("redisstore: timers written again after a failed commit hint", "timers", len(zs))
	}
}

// close stops the retrying goroutine; hints still queued are dropped.
func (q *hintQueue) close() {
	q.mu.Lock()
	stop, done := q.stop, q.done
	q.stop = nil
	q.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}
