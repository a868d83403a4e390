package dialog

import (
	"context"
	"time"

	"github.com/signoff/signoff"
)

// Store keeps sessions, delivery facts, the per-delivery event log and the
// timers. Implementations: dialog/redisstore (Redis, and the embedded
// in-process Redis). All methods are safe for concurrent use.
type Store interface {
	// SessionDelivery returns the delivery a session belongs to, or an
	// error of kind signoff.ErrNotFound.
	SessionDelivery(ctx context.Context, id signoff.SessionID) (signoff.DeliveryID, error)

	// Load returns the facts of a delivery and its open session, if any.
	// A delivery never stored gives a zero Delivery (Version 0) and no
	// error; no open session gives a nil *Session.
	Load(ctx context.Context, id signoff.DeliveryID) (signoff.Delivery, *signoff.Session, error)

	// LoadSession returns one session by id (open or not) with its
	// delivery's facts, or signoff.ErrNotFound. The session's Transcript
	// is left empty; Transcript reads it.
	LoadSession(ctx context.Context, id signoff.SessionID) (signoff.Session, signoff.Delivery, error)

	// Transcript returns lines [from, to) of a session's transcript, as
	// committed through Change.Publish; lines not stored are left out.
	Transcript(ctx context.Context, d signoff.DeliveryID, id signoff.SessionID, from, to int) ([]signoff.Message, error)

	// Commit applies a Change atomically: all of it or none of it. See
	// Change for the checks it makes. It returns an error of kind
	// signoff.ErrConflict when a version check fails (reload and retry),
	// *Duplicate when the webhook id was already processed, and
	// signoff.ErrUnavailable when the store cannot be reached.
	Commit(ctx context.Context, c Change) error

	// DueTimers claims up to max sessions whose timer is due at now. A claim
	// holds for lease; a claimed timer that is neither rescheduled nor
	// cleared by then is handed out again, so a node that dies mid-way
	// loses nothing. Each due timer is handed to one caller at a time.
	DueTimers(ctx context.Context, now time.Time, lease time.Duration, max int) ([]Timer, error)

	// ClearTimer removes a session's timer if it is still the one claimed
	// (same Due); a rescheduled timer stays.
	ClearTimer(ctx context.Context, t Timer) error
}

// Timer is a session's pending timeout.
type Timer struct {
	Session  signoff.SessionID
	Delivery signoff.DeliveryID
	Due      time.Time
}

// Change is one atomic write of a delivery's state.
type Change struct {
	Delivery signoff.DeliveryID

	// Facts, when set, replaces the delivery's facts. Its Version must be
	// one more than the stored version (1 for a new delivery).
	Facts *signoff.Delivery

	// FactsVersion, when positive and Facts is nil, is the version the
	// stored facts must still have: a decision taken on facts that have
	// changed since is a conflict.
	FactsVersion int64

	// Session, when set, replaces (or, with Version 1, creates) a session.
	// Its Version must be one more than the stored version. A new session
	// becomes the delivery's open session; creating one while another is
	// open is a conflict.
	Session *signoff.Session

	// CloseSession marks Session as no longer the delivery's open session.
	CloseSession bool

	// Log is appended to the delivery's event log, in order.
	Log []LogEntry

	// Publish holds the session's new transcript lines: each is stored at
	// its Seq and sent to live listeners of Session (SSE streams on any
	// node) once the change is stored.
	Publish []Posted

	// Timer, when not zero, (re)schedules Session's timer; a zero Timer
	// with a Session whose Deadline is zero cancels it.
	Timer time.Time

	// WebhookID, when set, makes the change idempotent: if the id was
	// already committed the change is dropped and Commit returns
	// *Duplicate carrying Answer as it was first stored.
	WebhookID string
	// Answer is stored with WebhookID, to answer repeats.
	Answer []byte

	// TTL, when positive, makes every key of the delivery expire after it
	// (the conversation ended). Webhook answers keep their own idempotency
	// window, so that a retry after the TTL is still recognised.
	TTL time.Duration
}

// LogEntry is one record of a delivery's append-only event log.
type LogEntry struct {
	Kind string            // "webhook", "reply", "bot", "outcome", "state", ...
	At   time.Time         // when it happened
	Data map[string]string // its fields
}

// Duplicate is returned by Store.Commit for a webhook id seen before.
type Duplicate struct {
	Answer []byte // the answer stored with the first commit
}

func (d *Duplicate) Error() string { return "duplicate webhook id" }

// Posted is a transcript line announced to live listeners. Seq is its index
// in Session.Transcript, so a listener that reconnects can resume after the
// last Seq it saw.
type Posted struct {
	Seq     int             `json:"seq"`
	Message signoff.Message `json:"message"`
}
