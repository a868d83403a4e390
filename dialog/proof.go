package dialog

import (
	"context"
	"errors"
	"time"

	"github.com/signoff/signoff"
)

// Proof is a courier's proof of delivery: a photo already stored by its
// SHA-256, and where it was taken.
type Proof struct {
	Courier string // the courier who took it: must be the delivery's
	Photo   string // hex SHA-256 of the photo
	Type    string // its media type, image/jpeg or image/png
	Image   string // the path the recipient's page fetches it from
	Lat     string // where, as sent; may be empty
	Lng     string
	Note    string // the courier's note
}

// AddProof records a courier's proof in the delivery's evidence log and,
// when a conversation is open and the bot holds it, shows the recipient the
// photo and asks whether they have the parcel (the delivered question:
// 1 I have it, 2 I can't find it). Errors: signoff.ErrNotFound for an
// unknown delivery, signoff.ErrUnauthorized (code wrong_courier) when
// p.Courier does not carry it, and the store's.
func (e *Engine) AddProof(ctx context.Context, id signoff.DeliveryID, p Proof) error {
	defer e.lock("d:" + string(id))()
	for attempt := 1; ; attempt++ {
		err := e.addProof(ctx, id, p)
		if err == nil || !errors.Is(err, signoff.ErrConflict) || attempt == maxAttempts {
			return err
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

func (e *Engine) addProof(ctx context.Context, id signoff.DeliveryID, p Proof) error {
	d, open, err := e.store.Load(ctx, id)
	if err != nil {
		return err
	}
	if d.Version == 0 {
		return signoff.Errorf(signoff.ErrNotFound, "no_delivery", "no such delivery")
	}
	if p.Courier == "" || d.Courier.ID != p.Courier {
		return signoff.Errorf(signoff.ErrUnauthorized, "wrong_courier", "this delivery is not carried by this courier")
	}
	now := e.now()
	c := Change{Delivery: id, FactsVersion: d.Version, Log: []LogEntry{{Kind: "proof", At: now, Data: map[string]string{
		"courier": p.Courier, "photo": p.Photo, "type": p.Type, "lat": p.Lat, "lng": p.Lng, "note": p.Note}}}}
	if open != nil {
		s, acts := ShowProof(e.cfg, *open, d, p.Image, now)
		if changed(open, &s) {
			sc := e.change(*open, s, acts)
			c.Session, c.Log, c.Publish, c.Timer = sc.Session, append(c.Log, sc.Log...), sc.Publish, sc.Timer
			c.CloseSession, c.TTL = sc.CloseSession, sc.TTL
		}
		e.cache.drop(open.ID)
	}
	return e.store.Commit(ctx, c)
}

// ShowProof shows the recipient the courier's photo (image, a path) and asks
// whether they have the parcel. A conversation that ended, or that a person
// holds, is left as it is. Pure, like Step.
func ShowProof(cfg Config, s signoff.Session, d signoff.Delivery, image string, now time.Time) (signoff.Session, []signoff.Action) {
	if s.State.Ended() || s.State == signoff.StateHandoff || s.State == signoff.StateVideo {
		return s, nil
	}
	t := newTurn(cfg, s, &d, now)
	t.say(t.cat.Text("proof.photo"), nil)
	t.s.Transcript[len(t.s.Transcript)-1].Image = image
	t.s.State = signoff.StateAwaitingReceipt
	t.s.Pending = ""
	t.s.Reprompts = 0
	t.offerReceipt()
	return t.result()
}

// partiesEvidence adds to a webhook's log entry who the event names: the
// recipient and the courier. Names, phone numbers and the address are
// sealed in the evidence log (see dialog/evidence), so they can be erased.
func partiesEvidence(data map[string]string, ev signoff.OrderEvent) {
	d := ev.Delivery
	for k, v := range map[string]string{
		"recipient_name": string(d.Recipient.Name), "recipient_phone": string(d.Recipient.Phone),
		"courier": d.Courier.ID, "courier_name": string(d.Courier.Name), "courier_phone": string(d.Courier.Phone),
		"address": string(d.Address),
	} {
		if v != "" {
			data[k] = v
		}
	}
}
