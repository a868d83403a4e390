package redisstore

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Embedded returns a Store on an in-process Redis (miniredis) listening on a
// loopback port, for running the service with nothing else installed. It
// logs a warning: everything is kept in memory only and is lost when the
// process exits, and a second process cannot share it. The returned function
// stops the Store and the server.
//
// miniredis counts TTLs down only when told to; Embedded tells it every
// tick of expireTick, so that ended conversations and webhook answers
// expire as they do on a real Redis.
func Embedded(log *slog.Logger) (*Store, func(), error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, nil, fmt.Errorf("redisstore: embedded Redis: %w", err)
	}
	rdb := redis.NewClient(&redis.Options{
		Addr:            m.Addr(),
		Protocol:        2,
		DisableIdentity: true,
	})
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(expireTick)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				m.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	log.Warn("EMBEDDED STORE: sessions, facts and the event log are kept in this process's memory only and are LOST ON EXIT; set REDIS_URL to use Redis",
		"addr", m.Addr())
	s := New(rdb, log)
	cleanup := func() {
		_ = s.Close()
		close(stop)
		<-stopped
		_ = rdb.Close()
		m.Close()
	}
	return s, cleanup, nil
}

// expireTick is how often the embedded Redis's TTLs are counted down.
const expireTick = 50 * time.Millisecond
