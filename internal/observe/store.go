package observe

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
)

// Store wraps a dialog.Store: each read and commit becomes a span "store
// <op>" (the parent of its Redis spans), and each commit is counted by
// result, with what it did read from its log entries (Metrics.Committed).
type Store struct {
	dialog.Store
	m *Metrics
}

var _ dialog.Store = (*Store)(nil)

// NewStore returns s observed into m.
func NewStore(s dialog.Store, m *Metrics) *Store { return &Store{Store: s, m: m} }

// Commit implements dialog.Store.
func (s *Store) Commit(ctx context.Context, c dialog.Change) error {
	ctx, span := StartSpan(ctx, "store commit", attribute.String("signoff.delivery", string(c.Delivery)),
		attribute.Int("signoff.log_entries", len(c.Log)))
	err := s.Store.Commit(ctx, c)
	var dup *dialog.Duplicate
	switch {
	case err == nil:
		s.m.Commit("ok")
		s.m.Committed(c)
	case errors.As(err, &dup):
		s.m.Commit("duplicate")
	case errors.Is(err, signoff.ErrConflict):
		s.m.Commit("conflict")
	case errors.Is(err, signoff.ErrUnavailable):
		s.m.Commit("unavailable")
	default:
		s.m.Commit("error")
	}
	if dup != nil || errors.Is(err, signoff.ErrConflict) {
		span.SetAttributes(attribute.String("signoff.commit", "not applied"))
		EndSpan(span, nil)
	} else {
		EndSpan(span, err)
	}
	return err
}

// LoadSession implements dialog.Store.
func (s *Store) LoadSession(ctx context.Context, id signoff.SessionID) (signoff.Session, signoff.Delivery, error) {
	ctx, span := StartSpan(ctx, "store load_session")
	ss, d, err := s.Store.LoadSession(ctx, id)
	EndSpan(span, err)
	return ss, d, err
}

// Load implements dialog.Store.
func (s *Store) Load(ctx context.Context, id signoff.DeliveryID) (signoff.Delivery, *signoff.Session, error) {
	ctx, span := StartSpan(ctx, "store load", attribute.String("signoff.delivery", string(id)))
	d, ss, err := s.Store.Load(ctx, id)
	EndSpan(span, err)
	return d, ss, err
}

// Transcript implements dialog.Store.
func (s *Store) Transcript(ctx context.Context, d signoff.DeliveryID, id signoff.SessionID, from, to int) ([]signoff.Message, error) {
	ctx, span := StartSpan(ctx, "store transcript")
	lines, err := s.Store.Transcript(ctx, d, id, from, to)
	EndSpan(span, err)
	return lines, err
}

// DueTimers implements dialog.Store without a span: it polls several times
// a second on every node.
func (s *Store) DueTimers(ctx context.Context, now time.Time, lease time.Duration, n int) ([]dialog.Timer, error) {
	return s.Store.DueTimers(ctx, now, lease, n)
}
