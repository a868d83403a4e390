package knowledge

import (
	"testing"
	"time"

	"github.com/signoff/signoff"
)

// TestMergeChannel: the channel and the OpenID are facts like the others:
// the newest event that carried them wins, whatever the arrival order, and
// an event without them leaves them alone.
func TestMergeChannel(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	ev := func(min int, ch signoff.DeliveryChannel, openID string) signoff.OrderEvent {
		e := signoff.OrderEvent{Type: signoff.EventUpdated, Timestamp: t0.Add(time.Duration(min) * time.Minute),
			Delivery: signoff.Delivery{ID: "D1", Channel: ch, Recipient: signoff.Recipient{WeChatOpenID: signoff.Private(openID)}},
			Present:  signoff.Fields{}}
		if ch != "" {
			e.Present[FieldChannel] = true
		}
		if openID != "" {
			e.Present[FieldRecipient] = true
		}
		return e
	}
	events := []signoff.OrderEvent{ev(1, signoff.DeliverySMS, ""), ev(3, signoff.DeliveryWeChat, "oNew"), ev(2, signoff.DeliveryWeb, "oOld"), ev(4, "", "")}
	for _, order := range [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 0, 3, 2}, {2, 3, 0, 1}} {
		var d signoff.Delivery
		for _, i := range order {
			d, _ = Merge(d, events[i])
		}
		if d.Channel != signoff.DeliveryWeChat || d.Recipient.WeChatOpenID != "oNew" {
			t.Errorf("order %v: channel %q OpenID %q, want wechat oNew", order, d.Channel, d.Recipient.WeChatOpenID)
		}
	}
	d, changed := Merge(signoff.Delivery{}, ev(1, signoff.DeliverySMS, ""))
	if !changed || d.Stamps[FieldChannel].IsZero() {
		t.Errorf("a new channel: changed %v, stamp %v; want a change and a stamp", changed, d.Stamps[FieldChannel])
	}
	if _, changed := Merge(d, ev(0, signoff.DeliveryWeb, "")); changed {
		t.Error("an older event changed the channel")
	}
}
