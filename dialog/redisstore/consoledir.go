package redisstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
)

// The directory: what the staff console and the courier page list. It is
// written after each commit (outside the commit script, since its keys are
// in other slots than a delivery's), so a node that dies between the two
// leaves a summary one change behind until the session's next change.
//
//	so:console:sum    hash  session id → dialog.Summary JSON
//	so:console:ch     hash  session id → channel of the recipient's last reply
//	so:console:ended  zset  session id scored by when it ended (ms), for trimming
//	so:console        channel: every new Summary JSON
//	so:courier:<id>   set   the courier's delivery ids
const (
	summaryKey     = "so:console:sum"
	channelKey     = "so:console:ch"
	endedKey       = "so:console:ended"
	summaryChannel = "so:console"
	courierPrefix  = "so:courier:"

	// endedKeep is how long an ended conversation stays on the console.
	endedKeep = 24 * time.Hour
)

// afterCommit writes the directory entries of a stored change: the
// courier's index when facts name a courier, and the session's summary,
// published to every node's consoles. A failure is logged, not returned:
// the change itself is stored.
func (s *Store) afterCommit(ctx context.Context, c *dialog.Change) {
	courier := ""
	if c.Facts != nil {
		courier = c.Facts.Courier.ID
	}
	if courier == "" && c.Session == nil {
		return
	}
	// The change is stored: a caller that gives up now must not leave the
	// directory behind it.
	ctx = context.WithoutCancel(ctx)
	pipe := s.rdb.Pipeline()
	if courier != "" {
		pipe.SAdd(ctx, courierPrefix+courier, string(c.Delivery))
	}
	if c.Session != nil {
		sum := dialog.Summarize(c.Session, c.Publish)
		b, err := encode(sum)
		if err != nil {
			s.log.Warn("redisstore: summary not encoded", "session", c.Session.ID, "err", err)
			return
		}
		sid := string(c.Session.ID)
		pipe.HSet(ctx, summaryKey, sid, b)
		if sum.Channel != "" {
			pipe.HSet(ctx, channelKey, sid, string(sum.Channel))
		}
		if sum.State.Ended() {
			pipe.ZAdd(ctx, endedKey, redis.Z{Score: float64(time.Now().UnixMilli()), Member: sid})
		}
		pipe.Publish(ctx, summaryChannel, b)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		s.log.Warn("redisstore: directory not updated", "delivery", c.Delivery, "err", err)
	}
}

// Summaries returns every conversation the console lists, oldest first,
// with the channel of each one's last reply filled in. Conversations that
// ended more than a day ago are dropped from the directory.
func (s *Store) Summaries(ctx context.Context) ([]dialog.Summary, error) {
	cut := strconv.FormatInt(time.Now().Add(-endedKeep).UnixMilli(), 10)
	old, err := s.rdb.ZRangeByScore(ctx, endedKey, &redis.ZRangeBy{Min: "-inf", Max: cut}).Result()
	if err != nil {
		return nil, fail("summaries", err)
	}
	if len(old) > 0 {
		pipe := s.rdb.Pipeline()
		pipe.HDel(ctx, summaryKey, old...)
		pipe.HDel(ctx, channelKey, old...)
		pipe.ZRemRangeByScore(ctx, endedKey, "-inf", cut)
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fail("summaries: trim", err)
		}
	}
	pipe := s.rdb.Pipeline()
	sums := pipe.HGetAll(ctx, summaryKey)
	chans := pipe.HGetAll(ctx, channelKey)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fail("summaries", err)
	}
	out := make([]dialog.Summary, 0, len(sums.Val()))
	for sid, js := range sums.Val() {
		var sum dialog.Summary
		if err := decode(js, &sum); err != nil {
			return nil, fmt.Errorf("redisstore: summary %s: %w", sid, err)
		}
		sum.Channel = signoff.Channel(chans.Val()[sid])
		out = append(out, sum)
	}
	slices.SortFunc(out, func(a, b dialog.Summary) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// WatchSummaries returns every summary committed on any node from the
// moment it returns until ctx ends, when the channel is closed. A reader
// that falls behind by more than a few hundred loses summaries (it can
// call Summaries again). Each call holds one Redis connection.
func (s *Store) WatchSummaries(ctx context.Context) (<-chan dialog.Summary, error) {
	ps := s.rdb.Subscribe(ctx, summaryChannel)
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return nil, fail("watch summaries", err)
	}
	out := make(chan dialog.Summary, 256)
	msgs := ps.Channel(redis.WithChannelSize(256))
	go func() {
		defer close(out)
		defer ps.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-msgs:
				if !ok {
					return
				}
				var sum dialog.Summary
				if err := decode(m.Payload, &sum); err != nil {
					s.log.Warn("redisstore: undecodable summary", "err", err)
					continue
				}
				select {
				case out <- sum:
				default: // a slow reader loses this one
				}
			}
		}
	}()
	return out, nil
}

// CourierDeliveries returns the deliveries whose facts named courier, in
// no particular order.
func (s *Store) CourierDeliveries(ctx context.Context, courier string) ([]signoff.DeliveryID, error) {
	ids, err := s.rdb.SMembers(ctx, courierPrefix+courier).Result()
	if err != nil {
		return nil, fail("courier deliveries", err)
	}
	out := make([]signoff.DeliveryID, len(ids))
	for i, id := range ids {
		out[i] = signoff.DeliveryID(id)
	}
	slices.Sort(out)
	return out, nil
}
