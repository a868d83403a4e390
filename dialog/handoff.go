package dialog

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/signoff/signoff"
)

// Human handoff: a support agent claims a conversation, writes to the
// recipient, and hands it back to the bot (or releases it to the queue).
// Claim, Say, Release and HandBack are pure, like Step; the Engine methods
// of the same names commit them under the session's version, so two agents
// claiming at once on any nodes get exactly one owner.

// ReasonStaff is the handoff reason of a conversation an agent took over
// without the recipient asking.
const ReasonStaff = "staff"

// MaxStaffRunes bounds one agent message.
const MaxStaffRunes = 2000

// Staff action log kinds, each with data "session" and "staff".
const (
	LogClaim    = "staff_claim"
	LogRelease  = "staff_release"
	LogHandBack = "staff_handback"
	LogNote     = "staff_note"
)

// ErrNotClaimer is the code of the error (kind signoff.ErrConflict) for an
// agent acting on a conversation another agent holds.
const ErrNotClaimer = "not_claimer"

func errClaimed(by string) error {
	return signoff.Errorf(signoff.ErrConflict, "claimed", "the conversation is held by %s", by)
}

func errEnded() error {
	return signoff.Errorf(signoff.ErrConflict, "ended", "the conversation has ended")
}

// Claim gives conversation s to agent staff: the bot falls silent, its
// timer is cancelled, and the recipient is told a person has joined (a line
// from staff, which every channel delivers). A conversation another agent
// holds is an error of kind signoff.ErrConflict, code "claimed"; claiming
// one's own again changes nothing.
func Claim(cfg Config, s signoff.Session, d signoff.Delivery, staff string, now time.Time) (signoff.Session, error) {
	switch {
	case s.State.Ended():
		return s, errEnded()
	case s.Staff == staff:
		return s, nil
	case s.Staff != "":
		return s, errClaimed(s.Staff)
	}
	t := newTurn(cfg, s, &d, now)
	if t.s.State != signoff.StateHandoff {
		t.s.State = signoff.StateHandoff
		t.s.HandoffReason = ReasonStaff
		t.s.HandoffAt = now
	}
	t.s.Pending, t.s.PendingText, t.s.SlotOffer = "", "", nil
	t.s.Staff = staff
	t.stopWaiting()
	t.s.Transcript = append(t.s.Transcript, signoff.Message{From: signoff.FromStaff, Text: t.cat.Text("handoff.joined"),
		Channel: signoff.ChannelStaff, At: now, Staff: staff})
	return t.s, nil
}

// Say adds agent staff's text to conversation s, which staff must hold.
// Errors: kind signoff.ErrInvalid for empty or over-long text, kind
// signoff.ErrConflict (code not_claimer) when staff does not hold it.
func Say(s signoff.Session, staff, text string, now time.Time) (signoff.Session, error) {
	text = strings.TrimSpace(text)
	switch {
	case text == "" || !utf8.ValidString(text):
		return s, signoff.Errorf(signoff.ErrInvalid, "missing_field", "text is required")
	case utf8.RuneCountInString(text) > MaxStaffRunes:
		return s, signoff.Errorf(signoff.ErrInvalid, "text_too_long", "text is over %d characters", MaxStaffRunes)
	case s.State.Ended():
		return s, errEnded()
	case s.Staff != staff:
		return s, signoff.Errorf(signoff.ErrConflict, ErrNotClaimer, "take the conversation over first")
	}
	s.Transcript = append(append([]signoff.Message(nil), s.Transcript...),
		signoff.Message{From: signoff.FromStaff, Text: text, Channel: signoff.ChannelStaff, At: now, Staff: staff})
	s.UpdatedAt = now
	return s, nil
}

// holder checks that staff may let go of s: its holder, or anyone when
// anyClaim (a supervisor).
func holder(s signoff.Session, staff string, anyClaim bool) error {
	switch {
	case s.Staff == "":
		return signoff.Errorf(signoff.ErrConflict, "not_claimed", "nobody holds the conversation")
	case s.Staff != staff && !anyClaim:
		return signoff.Errorf(signoff.ErrConflict, ErrNotClaimer, "the conversation is held by another agent")
	}
	return nil
}

// Release puts conversation s back in the handoff queue, unheld: the bot
// stays silent and, if nobody claims it within Config.HandoffTimeout, the
// recipient is told and offered the menu again. Only its holder may
// release it, or anyone when anyClaim (a supervisor).
func Release(cfg Config, s signoff.Session, d signoff.Delivery, staff string, anyClaim bool, now time.Time) (signoff.Session, error) {
	if err := holder(s, staff, anyClaim); err != nil {
		return s, err
	}
	t := newTurn(cfg, s, &d, now)
	t.s.Staff = ""
	if !t.s.State.Ended() {
		t.s.State = signoff.StateHandoff
		t.s.HandoffAt = now
		t.wait(t.cfg.HandoffTimeout)
	}
	return t.s, nil
}

// HandBack returns conversation s to the bot, which offers the menu (or the
// open question) again. Only its holder may, or anyone when anyClaim.
func HandBack(cfg Config, s signoff.Session, d signoff.Delivery, staff string, anyClaim bool, now time.Time) (signoff.Session, []signoff.Action, error) {
	if err := holder(s, staff, anyClaim); err != nil {
		return s, nil, err
	}
	t := newTurn(cfg, s, &d, now)
	t.s.Staff = ""
	if t.s.State.Ended() {
		return t.s, nil, nil
	}
	if t.s.Outcome == signoff.OutcomeHandoff {
		t.s.Outcome = signoff.OutcomeNone
	}
	t.s.HandoffReason = ""
	t.s.HandoffAt = time.Time{}
	t.s.Unclear, t.s.Reprompts = 0, 0
	t.s.State = t.restState()
	t.offerWith(t.cat.Text("handoff.back"), t.current())
	s2, acts := t.result()
	return s2, acts, nil
}

func staffLog(kind string, s signoff.Session, staff string, now time.Time, more ...string) LogEntry {
	data := map[string]string{"session": string(s.ID), "staff": staff}
	for i := 0; i+1 < len(more); i += 2 {
		data[more[i]] = more[i+1]
	}
	return LogEntry{Kind: kind, At: now, Data: data}
}

// Claim lets agent staff take session id over (see Claim). Errors: kind
// signoff.ErrConflict with code "claimed" when another agent holds it,
// "ended" when it ended; signoff.ErrNotFound; the store's.
func (e *Engine) Claim(ctx context.Context, id signoff.SessionID, staff string) (Turn, error) {
	return e.apply(ctx, id, func(s signoff.Session, d signoff.Delivery, now time.Time) (signoff.Session, []signoff.Action, []LogEntry, error) {
		if s.Staff == staff {
			return s, nil, nil, nil
		}
		next, err := Claim(e.cfg, s, d, staff, now)
		if err != nil {
			return s, nil, nil, err
		}
		return next, nil, []LogEntry{staffLog(LogClaim, s, staff, now, "reason", next.HandoffReason)}, nil
	})
}

// Say sends agent staff's text to the recipient of session id, which staff
// must hold (see Say). The line is published like a bot line, so the
// recipient's channel delivers it.
func (e *Engine) Say(ctx context.Context, id signoff.SessionID, staff, text string) (Turn, error) {
	return e.apply(ctx, id, func(s signoff.Session, d signoff.Delivery, now time.Time) (signoff.Session, []signoff.Action, []LogEntry, error) {
		next, err := Say(s, staff, text, now)
		return next, nil, nil, err
	})
}

// Release puts session id back in the handoff queue (see Release).
func (e *Engine) Release(ctx context.Context, id signoff.SessionID, staff string, anyClaim bool) (Turn, error) {
	return e.apply(ctx, id, func(s signoff.Session, d signoff.Delivery, now time.Time) (signoff.Session, []signoff.Action, []LogEntry, error) {
		next, err := Release(e.cfg, s, d, staff, anyClaim, now)
		if err != nil {
			return s, nil, nil, err
		}
		return next, nil, []LogEntry{staffLog(LogRelease, s, staff, now, "holder", s.Staff)}, nil
	})
}

// HandBack returns session id to the bot (see HandBack).
func (e *Engine) HandBack(ctx context.Context, id signoff.SessionID, staff string, anyClaim bool) (Turn, error) {
	return e.apply(ctx, id, func(s signoff.Session, d signoff.Delivery, now time.Time) (signoff.Session, []signoff.Action, []LogEntry, error) {
		next, acts, err := HandBack(e.cfg, s, d, staff, anyClaim, now)
		if err != nil {
			return s, nil, nil, err
		}
		return next, acts, []LogEntry{staffLog(LogHandBack, s, staff, now, "holder", s.Staff)}, nil
	})
}

// Note adds agent staff's note on session id to its delivery's log. Notes
// are evidence for staff only; the recipient never sees them.
func (e *Engine) Note(ctx context.Context, id signoff.SessionID, staff, text string) error {
	text = strings.TrimSpace(text)
	switch {
	case text == "" || !utf8.ValidString(text):
		return signoff.Errorf(signoff.ErrInvalid, "missing_field", "text is required")
	case utf8.RuneCountInString(text) > MaxStaffRunes:
		return signoff.Errorf(signoff.ErrInvalid, "text_too_long", "text is over %d characters", MaxStaffRunes)
	}
	return e.Record(ctx, id, LogNote, map[string]string{"staff": staff, "text": text})
}

// Inspect returns session id with its whole transcript and its delivery's
// facts, for staff: no recipient token is checked, so only a caller that
// authenticated staff may call it. Errors: signoff.ErrNotFound, the store's.
func (e *Engine) Inspect(ctx context.Context, id signoff.SessionID) (signoff.Session, signoff.Delivery, error) {
	s, d, err := e.store.LoadSession(ctx, id)
	if err != nil {
		return s, d, err
	}
	if s.Transcript, err = e.store.Transcript(ctx, s.DeliveryID, id, 0, s.Lines); err != nil {
		return signoff.Session{}, signoff.Delivery{}, err
	}
	return s, d, nil
}

// Summary is one conversation as the staff console lists it: published by
// the store on every commit of the session, on whichever node.
type Summary struct {
	Session       signoff.SessionID  `json:"session"`
	Delivery      signoff.DeliveryID `json:"delivery"`
	Locale        signoff.Locale     `json:"locale"`
	State         signoff.State      `json:"state"`
	Outcome       signoff.Outcome    `json:"outcome,omitempty"`
	Channel       signoff.Channel    `json:"channel,omitempty"` // of the recipient's last reply; "" when none in this change
	HandoffReason string             `json:"handoff_reason,omitempty"`
	HandoffAt     time.Time          `json:"handoff_at,omitzero"`
	Staff         string             `json:"staff,omitempty"`
	Lines         int                `json:"lines"`
	CreatedAt     time.Time          `json:"created_at"`
	UpdatedAt     time.Time          `json:"updated_at"`
	// Last is the newest line of this change, if any, so that a list can
	// show it without reading the transcript.
	Last *signoff.Message `json:"last,omitempty"`
}

// Summarize returns the summary of session s after a commit that posted
// lines.
func Summarize(s *signoff.Session, posted []Posted) Summary {
	sum := Summary{Session: s.ID, Delivery: s.DeliveryID, Locale: s.Locale, State: s.State, Outcome: s.Outcome,
		HandoffReason: s.HandoffReason, HandoffAt: s.HandoffAt, Staff: s.Staff, Lines: s.Lines,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
	for i := len(posted) - 1; i >= 0; i-- {
		if m := posted[i].Message; m.From == signoff.FromRecipient {
			sum.Channel = m.Channel
			break
		}
	}
	if n := len(posted); n > 0 {
		m := posted[n-1].Message
		m.Options = nil
		sum.Last = &m
	}
	return sum
}
