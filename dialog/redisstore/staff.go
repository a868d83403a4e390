package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// Staff console sign-ins: sessions and failed attempts.
//
//	so:staff:s:<key>     string  a console session (opaque bytes), with a TTL
//	so:staff:fail:<name> counter failed sign-ins of a name, expiring with the window
const (
	staffSessionPrefix = "so:staff:s:"
	staffFailPrefix    = "so:staff:fail:"
)

// PutStaffSession stores a console session under key for ttl.
func (s *Store) PutStaffSession(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if err := s.rdb.Set(ctx, staffSessionPrefix+key, val, ttl).Err(); err != nil {
		return fail("staff session", err)
	}
	return nil
}

// StaffSession returns the console session stored under key, or an error of
// kind signoff.ErrNotFound.
func (s *Store) StaffSession(ctx context.Context, key string) ([]byte, error) {
	b, err := s.rdb.Get(ctx, staffSessionPrefix+key).Bytes()
	if err != nil {
		return nil, fail("staff session", err)
	}
	return b, nil
}

// DeleteStaffSession ends the console session stored under key.
func (s *Store) DeleteStaffSession(ctx context.Context, key string) error {
	if err := s.rdb.Del(ctx, staffSessionPrefix+key).Err(); err != nil {
		return fail("staff session", err)
	}
	return nil
}

// StaffFailure counts one failed sign-in of name and returns the count in
// the current window, which starts at the first failure and lasts window.
func (s *Store) StaffFailure(ctx context.Context, name string, window time.Duration) (int64, error) {
	key := staffFailPrefix + name
	n, err := s.rdb.Incr(ctx, key).Result()
	if err != nil {
		return 0, fail("staff failures", err)
	}
	if n == 1 {
		if err := s.rdb.PExpire(ctx, key, window).Err(); err != nil {
			return 0, fail("staff failures", err)
		}
	}
	return n, nil
}

// StaffFailures returns the failed sign-ins of name in the current window.
func (s *Store) StaffFailures(ctx context.Context, name string) (int64, error) {
	n, err := s.rdb.Get(ctx, staffFailPrefix+name).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fail("staff failures", err)
	}
	return n, nil
}

// ClearStaffFailures forgets name's failed sign-ins (after a good one).
func (s *Store) ClearStaffFailures(ctx context.Context, name string) error {
	if err := s.rdb.Del(ctx, staffFailPrefix+name).Err(); err != nil {
		return fail("staff failures", err)
	}
	return nil
}
