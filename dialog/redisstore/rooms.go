package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/signoff/signoff"
)

// roomKey holds the URL of the node that holds a delivery's video room. It
// shares the delivery's hash tag, so it lives in the delivery's slot.
func roomKey(d signoff.DeliveryID) string { return stateKey(d) + ":room" }

// claimRoom sets the holder if the room is free, or extends the lease of
// the holder that asks again; it returns the holder either way.
var claimRoom = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return cur
`)

// releaseRoom deletes the holder only if it is still the one releasing.
var releaseRoom = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// ClaimRoom makes node the holder of d's video room for lease (set only if
// free), or extends node's lease when it holds it already, and returns the
// holder. Errors: signoff.ErrInvalid for a bad id, signoff.ErrUnavailable
// when Redis cannot be reached.
func (s *Store) ClaimRoom(ctx context.Context, d signoff.DeliveryID, node string, lease time.Duration) (string, error) {
	if !validID(string(d)) || node == "" {
		return "", fmt.Errorf("redisstore: claim room %q: %w", d, signoff.ErrInvalid)
	}
	holder, err := claimRoom.Run(ctx, s.rdb, []string{roomKey(d)}, node, lease.Milliseconds()).Text()
	if err != nil {
		return "", fail("claim room "+string(d), err)
	}
	return holder, nil
}

// ReleaseRoom frees d's video room if node still holds it.
func (s *Store) ReleaseRoom(ctx context.Context, d signoff.DeliveryID, node string) error {
	if !validID(string(d)) {
		return fmt.Errorf("redisstore: release room %q: %w", d, signoff.ErrInvalid)
	}
	if err := releaseRoom.Run(ctx, s.rdb, []string{roomKey(d)}, node).Err(); err != nil {
		return fail("release room "+string(d), err)
	}
	return nil
}
