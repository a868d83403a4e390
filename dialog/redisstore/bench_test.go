//go:build unix

package redisstore

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/internal/redistest"
)

// benchSession is a conversation of a realistic size: a dozen lines.
func benchSession(d signoff.DeliveryID, id signoff.SessionID) *signoff.Session {
	s := newSession(d, id)
	s.Offered = []signoff.Option{{Key: "1", Label: "现在送上门，本人签收"}, {Key: "2", Label: "放门口"}, {Key: "3", Label: "放驿站/代收点"},
		{Key: "4", Label: "放快递柜"}, {Key: "5", Label: "改约时间"}, {Key: "0", Label: "转人工"}}
	for i := range 12 {
		s.Transcript = append(s.Transcript, signoff.Message{From: signoff.FromBot, Text: "您好，您的快递今天下午送达，请回复数字选择签收方式。", Options: s.Offered[:i%6], At: t0})
	}
	return s
}

// benchTurn is one turn's commit of s at version v.
func benchTurn(s signoff.Session, v int64) dialog.Change {
	s.Version = v
	s.Deadline = time.Now().Add(time.Minute)
	n := len(s.Transcript)
	return dialog.Change{Delivery: s.DeliveryID, Session: &s, Timer: s.Deadline,
		Log: []dialog.LogEntry{
			{Kind: "reply", At: t0, Data: map[string]string{"text": "2", "channel": "chat"}},
			{Kind: "bot", At: t0, Data: map[string]string{"text": s.Transcript[n-1].Text}},
		},
		Publish: []dialog.Posted{{Seq: n - 2, Message: s.Transcript[n-2]}, {Seq: n - 1, Message: s.Transcript[n-1]}},
	}
}

var benchSeq atomic.Int64

// benchParallelism is how many goroutines per CPU the benchmarks run: a
// server holds many chats at once, so a turn's round trips overlap.
const benchParallelism = 8

// benchStore is a Store made as the server makes it, with Open, on a fresh
// database of the shared redis-server, and a client to watch that server.
func benchStore(b *testing.B) (*Store, *redis.Client) {
	addr, db := redistest.DB(b)
	s, err := Open(b.Context(), fmt.Sprintf("redis://%s/%d", addr, db), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	b.Cleanup(func() { _ = rdb.Close() })
	return s, rdb
}

// cpuMeter reports the CPU time per operation spent by this process and by
// the redis-server, the cost that decides turns per second on a small box.
type cpuMeter struct {
	rdb         *redis.Client
	self, redis time.Duration
}

func startCPU(b *testing.B, rdb *redis.Client) *cpuMeter {
	m := &cpuMeter{rdb: rdb}
	m.self, m.redis = selfCPU(b), redisCPU(b, rdb)
	b.ResetTimer()
	return m
}

func (m *cpuMeter) stop(b *testing.B) {
	b.StopTimer()
	self, red := selfCPU(b)-m.self, redisCPU(b, m.rdb)-m.redis
	b.ReportMetric(float64(self.Microseconds())/float64(b.N), "go-cpu-µs/op")
	b.ReportMetric(float64(red.Microseconds())/float64(b.N), "redis-cpu-µs/op")
}

func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func redisCPU(b *testing.B, rdb *redis.Client) time.Duration {
	info, err := rdb.Info(b.Context(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for line := range strings.Lines(info) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		if k == "used_cpu_sys" || k == "used_cpu_user" {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}

func BenchmarkCommit(b *testing.B) {
	s, rdb := benchStore(b)
	b.ReportAllocs()
	b.SetParallelism(benchParallelism)
	m := startCPU(b, rdb)
	b.RunParallel(func(pb *testing.PB) {
		n := benchSeq.Add(1)
		d, id := signoff.DeliveryID(fmt.Sprint("D-bc-", n)), signoff.SessionID(fmt.Sprint("S-bc-", n))
		sess := benchSession(d, id)
		c := b.Context()
		if err := s.Commit(c, dialog.Change{Delivery: d, Session: sess}); err != nil {
			b.Fatal(err)
		}
		for v := int64(2); pb.Next(); v++ {
			if err := s.Commit(c, benchTurn(*sess, v)); err != nil {
				b.Fatal(err)
			}
		}
	})
	m.stop(b)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

func BenchmarkLoadSession(b *testing.B) {
	s, rdb := benchStore(b)
	b.ReportAllocs()
	b.SetParallelism(benchParallelism)
	m := startCPU(b, rdb)
	b.RunParallel(func(pb *testing.PB) {
		n := benchSeq.Add(1)
		d, id := signoff.DeliveryID(fmt.Sprint("D-bl-", n)), signoff.SessionID(fmt.Sprint("S-bl-", n))
		c := b.Context()
		if err := s.Commit(c, dialog.Change{Delivery: d, Facts: &signoff.Delivery{ID: d, Version: 1}, Session: benchSession(d, id)}); err != nil {
			b.Fatal(err)
		}
		for pb.Next() {
			if _, _, err := s.LoadSession(c, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	m.stop(b)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "loads/s")
}

// BenchmarkTurn is a chat turn's store work: LoadSession, then Commit.
func BenchmarkTurn(b *testing.B) {
	s, rdb := benchStore(b)
	b.ReportAllocs()
	b.SetParallelism(benchParallelism)
	m := startCPU(b, rdb)
	b.RunParallel(func(pb *testing.PB) {
		n := benchSeq.Add(1)
		d, id := signoff.DeliveryID(fmt.Sprint("D-bt-", n)), signoff.SessionID(fmt.Sprint("S-bt-", n))
		c := b.Context()
		if err := s.Commit(c, dialog.Change{Delivery: d, Facts: &signoff.Delivery{ID: d, Version: 1}, Session: benchSession(d, id)}); err != nil {
			b.Fatal(err)
		}
		for pb.Next() {
			sess, _, err := s.LoadSession(c, id)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Commit(c, benchTurn(sess, sess.Version+1)); err != nil {
				b.Fatal(err)
			}
		}
	})
	m.stop(b)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
}
