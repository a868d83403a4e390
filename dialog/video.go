package dialog

import (
	"context"
	"time"

	"github.com/signoff/signoff"
)

// VideoEvent is something that happened to a delivery's video call, told to
// the conversation by the room that runs it or by staff.
type VideoEvent string

// The video events.
const (
	VideoStart    VideoEvent = "start"    // staff (or the delivery) ask for a call: ring the courier
	VideoAnswered VideoEvent = "answered" // the courier joined the room
	VideoEnded    VideoEvent = "ended"    // the room closed
)

// Valid reports whether ev is one of the video events.
func (ev VideoEvent) Valid() bool {
	return ev == VideoStart || ev == VideoAnswered || ev == VideoEnded
}

// ReasonVideo is the handoff reason when the recipient reports a problem
// after a video check.
const ReasonVideo = "video_problem"

// Pending values of a session in StateVideo.
const (
	pendingRinging = "video:ringing" // the courier is being rung
	pendingLive    = "video:live"    // the courier answered; the call runs
	pendingEnded   = "video:ended"   // the call ended; the recipient's verdict is awaited
)

// VideoRinger is told that a video call was asked for, once across nodes:
// right after the change that asked for it is stored. It must not block for
// long; the order-system callback of channels/video provides one.
type VideoRinger interface {
	Ring(ctx context.Context, s signoff.Session, d signoff.Delivery)
}

// WithVideoRinger makes the engine tell r of every video call asked for.
func WithVideoRinger(r VideoRinger) EngineOption { return func(e *Engine) { e.ringer = r } }

// videoRequired reports whether d asks for a video check before it is
// signed for: a high-value parcel that needs a signature.
func videoRequired(cfg Config, d *signoff.Delivery) bool {
	return d.RequiresSignature && d.DeclaredValueCents > cfg.HighValueCents
}

// VideoRequired reports whether the receipt question of d offers a video
// check (6 视频验货): a high-value parcel that needs a signature.
func VideoRequired(cfg Config, d signoff.Delivery) bool { return videoRequired(cfg.withDefaults(), &d) }

// VideoStep is the conversation's decision on a video event. Pure, like
// Step. A session returned unchanged needs no storing.
func VideoStep(cfg Config, s signoff.Session, d signoff.Delivery, ev VideoEvent, now time.Time) (signoff.Session, []signoff.Action) {
	if s.State.Ended() {
		return s, nil
	}
	t := newTurn(cfg, s, &d, now)
	switch ev {
	case VideoStart:
		if s.State == signoff.StateVideo && s.Pending != pendingEnded {
			return s, nil // already ringing or live
		}
		t.startVideo()
	case VideoAnswered:
		if s.State != signoff.StateVideo || s.Pending == pendingLive {
			return s, nil
		}
		t.s.Pending = pendingLive
		t.stopWaiting()
		t.say(t.cat.Text("video.answered"), t.videoOptions())
	case VideoEnded:
		if s.State != signoff.StateVideo || s.Pending != pendingLive {
			return s, nil // ringing: the ring timer tells the recipient
		}
		t.s.Pending = pendingEnded
		t.say(t.cat.Text("video.ended"), t.videoOptions())
		t.wait(t.cfg.ReplyTimeout)
	default:
		return s, nil
	}
	return t.result()
}

// startVideo moves the conversation to StateVideo and rings the courier.
func (t *turn) startVideo() {
	t.s.State = signoff.StateVideo
	t.s.Pending, t.s.PendingText = pendingRinging, ""
	t.s.SlotOffer = nil
	t.s.HandoffReason = ""
	t.acts = append(t.acts, signoff.Action{Kind: signoff.ActVideo})
	t.say(t.cat.Text("chosen.video"), nil)
	t.wait(t.cfg.VideoRingTimeout)
}

// videoOptions is the question asked during and after a call.
func (t *turn) videoOptions() []signoff.Option {
	return []signoff.Option{
		{Key: "1", Label: t.cat.Text("video.1")},
		{Key: "2", Label: t.cat.Text("video.2")},
		{Key: "0", Label: t.cat.Text("menu.0")},
		{Key: "9", Label: t.cat.Text("menu.9")},
	}
}

// video reads r while a call is ringing, running or just over.
func (t *turn) video(r Reply, raw string, ch signoff.Channel) {
	key := ""
	switch r.Kind {
	case ReplyKey:
		key = r.Key
	case ReplyYes:
		key = "1"
	case ReplyNo:
		key = "2"
	case ReplyQuestion:
		t.say(t.answer(r.Topic), nil)
		if t.s.Pending == pendingRinging {
			t.say(t.cat.Text("video.wait"), nil)
			return
		}
		t.offerWith(t.cat.Text("video.ask"), t.videoOptions())
		return
	}
	switch {
	case key == "0":
		t.handoff(ReasonAsked, "handoff")
	case key == "9":
		t.repeat()
	case t.s.Pending == pendingRinging:
		t.say(t.cat.Text("video.wait"), nil)
	case key == "1":
		t.s.Outcome = signoff.OutcomeVideo
		t.s.Consent = &signoff.Consent{Text: raw, Channel: ch, Offer: "1", At: t.now}
		t.s.Pending = ""
		t.s.State = signoff.StateSigned
		t.stopWaiting()
		t.acts = append(t.acts, signoff.Action{Kind: signoff.ActRecord, Outcome: signoff.OutcomeVideo},
			signoff.Action{Kind: signoff.ActClose})
		t.say(t.cat.Text("video.confirmed"), nil)
	case key == "2":
		t.s.Pending = ""
		t.handoff(ReasonVideo, "video.problem")
	default:
		t.unclear(r)
	}
}

// videoTimeout handles the session's timer in StateVideo: nobody answered
// the ring, or the recipient gave no verdict after the call.
func (t *turn) videoTimeout() {
	switch t.s.Pending {
	case pendingRinging:
		t.s.Pending = ""
		t.s.State = t.restState()
		t.offer("video.no_answer")
	case pendingEnded:
		if t.s.Reprompts < t.cfg.MaxReprompts {
			t.s.Reprompts++
			t.offerWith(t.cat.Text("reprompt"), t.videoOptions())
			return
		}
		t.s.Reprompts = 0
		t.s.Pending = ""
		t.handoff(ReasonNoReply, "no_reply")
	default:
		t.stopWaiting()
	}
}

// Video gives a video event to the open conversation of delivery d and
// returns the session after it. A delivery with no open conversation is
// signoff.ErrNotFound; an event the conversation has no use for (a second
// answer, the end of a call that never rang) changes nothing. The change
// carries a "video_<event>" log entry, with by (who caused it: "staff:<name>",
// "courier", "room") when not empty.
func (e *Engine) Video(ctx context.Context, d signoff.DeliveryID, ev VideoEvent, by string) (signoff.Session, error) {
	if !ev.Valid() {
		return signoff.Session{}, signoff.Errorf(signoff.ErrInvalid, "bad_video_event", "unknown video event %q", ev)
	}
	_, open, err := e.store.Load(ctx, d)
	if err != nil {
		return signoff.Session{}, err
	}
	if open == nil {
		return signoff.Session{}, signoff.Errorf(signoff.ErrNotFound, "no_session", "the delivery has no open conversation")
	}
	turn, err := e.apply(ctx, open.ID, func(s signoff.Session, dv signoff.Delivery, now time.Time) (signoff.Session, []signoff.Action, []LogEntry, error) {
		next, acts := VideoStep(e.cfg, s, dv, ev, now)
		if !changed(&s, &next) {
			return next, nil, nil, nil
		}
		data := map[string]string{"session": string(s.ID)}
		if by != "" {
			data["by"] = by
		}
		return next, acts, []LogEntry{{Kind: "video_" + string(ev), At: now, Data: data}}, nil
	})
	return turn.Session, err
}
