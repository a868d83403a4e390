package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
)

// DueTimers claims up to n timers due at now (see claimScript). A timer
// comes due at its time rounded up to the millisecond, never before. The
// claimed Timer carries the time it was scheduled for.
func (s *Store) DueTimers(ctx context.Context, now time.Time, lease time.Duration, n int) ([]dialog.Timer, error) {
	if n <= 0 {
		return nil, nil
	}
	ms := now.UnixMilli()
	members, err := claimScript.Run(ctx, s.rdb, []string{timersKey},
		ms, ms+max(lease.Milliseconds(), 1), n, sep).StringSlice()
	if err != nil {
		return nil, fail("claim timers", err)
	}
	out := make([]dialog.Timer, 0, len(members))
	for _, m := range members {
		t, ok := parseClaim(m)
		if !ok {
			// Not written by this package: drop it rather than hand it
			// out again every lease.
			s.log.Warn("redisstore: dropping a malformed timer", "member", strconv.Quote(m))
			if err := s.rdb.ZRem(ctx, timersKey, m).Err(); err != nil {
				return out, fail("drop timer", err)
			}
			continue
		}
		out = append(out, t)
	}
	return out, nil
}

// ClearTimer ends a claimed timer; the session's timer stays if it was
// rescheduled since the claim (see clearScript).
func (s *Store) ClearTimer(ctx context.Context, t dialog.Timer) error {
	plain := timerMember(t.Delivery, t.Session)
	due := t.Due.UnixMilli()
	claimed := plain + sep + strconv.FormatInt(due, 10)
	if err := clearScript.Run(ctx, s.rdb, []string{timersKey}, claimed, plain, due).Err(); err != nil {
		return fail(fmt.Sprintf("clear timer of %s", t.Session), err)
	}
	return nil
}

// parseClaim reads a claimed member, "<delivery>␀<session>␀<due ms>".
func parseClaim(m string) (dialog.Timer, bool) {
	parts := strings.SplitN(m, sep, 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return dialog.Timer{}, false
	}
	ms, err := parseMilli(parts[2])
	if err != nil {
		return dialog.Timer{}, false
	}
	return dialog.Timer{
		Delivery: signoff.DeliveryID(parts[0]),
		Session:  signoff.SessionID(parts[1]),
		Due:      time.UnixMilli(ms).UTC(),
	}, true
}
