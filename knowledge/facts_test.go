package knowledge

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/signoff/signoff"
)

var t0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

// at returns t0 plus min minutes.
func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

// event returns an order event of type typ at minute min carrying d's fields
// named in fields.
func event(typ signoff.EventType, min int, d signoff.Delivery, fields ...string) signoff.OrderEvent {
	if d.ID == "" {
		d.ID = "D1"
	}
	present := signoff.Fields{}
	for _, f := range fields {
		present[f] = true
	}
	return signoff.OrderEvent{WebhookID: "wh-" + string(typ), Type: typ, Timestamp: at(min), Delivery: d, Present: present}
}

func track(min int, status, location string) signoff.TrackingEvent {
	return signoff.TrackingEvent{At: at(min), Status: status, Location: location}
}

// asJSON renders d for comparison and for readable failures.
func asJSON(t *testing.T, d signoff.Delivery) string {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// stamps returns a Stamps map from pairs of field name and minute.
func stamps(pairs ...any) map[string]time.Time {
	m := make(map[string]time.Time, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		m[pairs[i].(string)] = at(pairs[i+1].(int))
	}
	return m
}

// recipientStamps and courierStamps are the stamps of every sub-field of
// alice and bob.
func recipientStamps(min int) []any {
	return []any{"recipient.name", min, "recipient.phone", min, "recipient.locale", min}
}

func courierStamps(min int) []any {
	return []any{"courier.id", min, "courier.name", min, "courier.phone", min}
}

// with returns the pairs of all the lists.
func with(lists ...[]any) []any {
	var all []any
	for _, l := range lists {
		all = append(all, l...)
	}
	return all
}

var utc8 = time.FixedZone("UTC+8", 8*3600)

var (
	alice   = signoff.Recipient{Name: "Alice", Phone: "13900000000", Locale: signoff.LocaleZH}
	bob     = signoff.Courier{ID: "c-7", Name: "Bob", Phone: "13811112222"}
	station = &signoff.Station{Name: "Station A", Address: "1 Road", Hours: "08:00-21:00"}
)

func TestMerge(t *testing.T) {
	tests := []struct {
		name        string
		cur         signoff.Delivery
		ev          signoff.OrderEvent
		want        signoff.Delivery
		wantChanged bool
	}{{
		name: "empty cur takes everything",
		ev: event(signoff.EventOutForDelivery, 1, signoff.Delivery{
			Recipient: alice, Courier: bob, Address: "9 Lane", ETA: at(60), DeclaredValueCents: 5000,
			RequiresSignature: true, LastLocation: "Hub", Events: []signoff.TrackingEvent{track(1, "out", "Hub")},
		}, "recipient", "courier", "address", "eta", "declared_value_cents", "requires_signature", "last_location", "events"),
		want: signoff.Delivery{
			ID: "D1", Recipient: alice, Courier: bob, Address: "9 Lane", ETA: at(60), Status: "out_for_delivery",
			DeclaredValueCents: 5000, RequiresSignature: true, LastLocation: "Hub",
			Events: []signoff.TrackingEvent{track(1, "out", "Hub")}, AsOf: at(1),
			Stamps: stamps(with(recipientStamps(1), courierStamps(1), []any{"address", 1, "eta", 1,
				"declared_value_cents", 1, "requires_signature", 1, "last_location", 1, "status", 1, "failure_reason", 1})...),
		},
		wantChanged: true,
	}, {
		name: "newer event overwrites only what it carries",
		cur:  signoff.Delivery{ID: "D1", Address: "9 Lane", ETA: at(60), LastLocation: "Hub", Status: "out_for_delivery", AsOf: at(1), Version: 3},
		ev:   event(signoff.EventUpdated, 2, signoff.Delivery{ETA: at(90), LastLocation: "Ignored"}, "eta"),
		want: signoff.Delivery{ID: "D1", Address: "9 Lane", ETA: at(90), LastLocation: "Hub", Status: "out_for_delivery", AsOf: at(2), Version: 3,
			Stamps: stamps("address", 1, "eta", 2, "last_location", 1, "status", 1, "failure_reason", 1)},
		wantChanged: true,
	}, {
		name: "older event fills only empty fields and adds history",
		cur: signoff.Delivery{ID: "D1", ETA: at(90), Status: "arriving", AsOf: at(5),
			Events: []signoff.TrackingEvent{track(5, "arriving", "Gate")}},
		ev: event(signoff.EventOutForDelivery, 1, signoff.Delivery{ETA: at(60), Courier: bob, Address: "9 Lane",
			Events: []signoff.TrackingEvent{track(1, "out", "Hub")}}, "eta", "courier", "address", "events"),
		want: signoff.Delivery{ID: "D1", ETA: at(90), Courier: bob, Address: "9 Lane", Status: "arriving", AsOf: at(5),
			Events: []signoff.TrackingEvent{track(1, "out", "Hub"), track(5, "arriving", "Gate")},
			Stamps: stamps(with(courierStamps(1), []any{"address", 1, "eta", 5, "status", 5, "failure_reason", 5})...)},
		wantChanged: true,
	}, {
		name: "older event with only known facts and history changes nothing",
		cur: signoff.Delivery{ID: "D1", Address: "9 Lane", Status: "arriving", AsOf: at(5),
			Events: []signoff.TrackingEvent{track(1, "out", "Hub")}},
		ev: event(signoff.EventOutForDelivery, 1, signoff.Delivery{Address: "Old Lane",
			Events: []signoff.TrackingEvent{track(1, "out", "Hub")}}, "address", "events"),
		want: signoff.Delivery{ID: "D1", Address: "9 Lane", Status: "arriving", AsOf: at(5),
			Events: []signoff.TrackingEvent{track(1, "out", "Hub")},
			Stamps: stamps("address", 5, "status", 5, "failure_reason", 5)},
	}, {
		name: "newer event repeating the facts moves AsOf and stamps but changes nothing observable",
		cur:  signoff.Delivery{ID: "D1", Address: "9 Lane", Status: "arriving", AsOf: at(5)},
		ev:   event(signoff.EventArriving, 6, signoff.Delivery{Address: "9 Lane"}, "address"),
		want: signoff.Delivery{ID: "D1", Address: "9 Lane", Status: "arriving", AsOf: at(6),
			Stamps: stamps("address", 6, "status", 6, "failure_reason", 6)},
	}, {
		name:        "updated implies no status",
		cur:         signoff.Delivery{ID: "D1", Status: "arriving", AsOf: at(5)},
		ev:          event(signoff.EventUpdated, 6, signoff.Delivery{LastLocation: "Gate"}, "last_location"),
		want:        signoff.Delivery{ID: "D1", Status: "arriving", LastLocation: "Gate", AsOf: at(6), Stamps: stamps("status", 5, "failure_reason", 5, "last_location", 6)},
		wantChanged: true,
	}, {
		name:        "explicit status beats the one the type implies",
		cur:         signoff.Delivery{ID: "D1", Status: "out_for_delivery", AsOf: at(1)},
		ev:          event(signoff.EventArriving, 6, signoff.Delivery{Status: "customs_hold"}, "status"),
		want:        signoff.Delivery{ID: "D1", Status: "customs_hold", AsOf: at(6), Stamps: stamps("status", 6, "failure_reason", 6)},
		wantChanged: true,
	}, {
		name:        "empty explicit status falls back to the implied one",
		ev:          event(signoff.EventArriving, 6, signoff.Delivery{Status: ""}, "status"),
		want:        signoff.Delivery{ID: "D1", Status: "arriving", AsOf: at(6), Stamps: stamps("status", 6, "failure_reason", 6)},
		wantChanged: true,
	}, {
		name: "delivered is not replaced by an older arriving",
		cur:  signoff.Delivery{ID: "D1", Status: "delivered", AsOf: at(9)},
		ev:   event(signoff.EventArriving, 5, signoff.Delivery{}),
		want: signoff.Delivery{ID: "D1", Status: "delivered", AsOf: at(9), Stamps: stamps("status", 9, "failure_reason", 9)},
	}, {
		name: "delivered is not replaced by an older failed",
		cur:  signoff.Delivery{ID: "D1", Status: "delivered", AsOf: at(9)},
		ev:   event(signoff.EventFailed, 8, signoff.Delivery{Status: "failed", FailureReason: "nobody home"}, "status", "failure_reason"),
		want: signoff.Delivery{ID: "D1", Status: "delivered", AsOf: at(9), Stamps: stamps("status", 9, "failure_reason", 9)},
	}, {
		name: "failed is not replaced by an older out_for_delivery",
		cur:  signoff.Delivery{ID: "D1", Status: "failed", FailureReason: "nobody home", AsOf: at(9)},
		ev:   event(signoff.EventOutForDelivery, 1, signoff.Delivery{}),
		want: signoff.Delivery{ID: "D1", Status: "failed", FailureReason: "nobody home", AsOf: at(9), Stamps: stamps("status", 9, "failure_reason", 9)},
	}, {
		name: "a terminal status survives a newer update without status",
		cur:  signoff.Delivery{ID: "D1", Status: "delivered", AsOf: at(9)},
		ev:   event(signoff.EventUpdated, 10, signoff.Delivery{}),
		want: signoff.Delivery{ID: "D1", Status: "delivered", AsOf: at(10), Stamps: stamps("status", 9, "failure_reason", 9)},
	}, {
		name:        "a newer out_for_delivery after failed is a second attempt",
		cur:         signoff.Delivery{ID: "D1", Status: "failed", FailureReason: "nobody home", AsOf: at(9)},
		ev:          event(signoff.EventOutForDelivery, 20, signoff.Delivery{}),
		want:        signoff.Delivery{ID: "D1", Status: "out_for_delivery", AsOf: at(20), Stamps: stamps("status", 20, "failure_reason", 20)},
		wantChanged: true,
	}, {
		name:        "at equal timestamps delivered beats arriving",
		cur:         signoff.Delivery{ID: "D1", Status: "arriving", AsOf: at(9)},
		ev:          event(signoff.EventDelivered, 9, signoff.Delivery{}),
		want:        signoff.Delivery{ID: "D1", Status: "delivered", AsOf: at(9), Stamps: stamps("status", 9, "failure_reason", 9)},
		wantChanged: true,
	}, {
		name: "at equal timestamps arriving does not beat delivered",
		cur:  signoff.Delivery{ID: "D1", Status: "delivered", AsOf: at(9)},
		ev:   event(signoff.EventArriving, 9, signoff.Delivery{}),
		want: signoff.Delivery{ID: "D1", Status: "delivered", AsOf: at(9), Stamps: stamps("status", 9, "failure_reason", 9)},
	}, {
		name:        "a newer event clears with an empty value",
		cur:         signoff.Delivery{ID: "D1", Address: "9 Lane", RequiresSignature: true, DeclaredValueCents: 100, AsOf: at(1)},
		ev:          event(signoff.EventUpdated, 2, signoff.Delivery{}, "address", "requires_signature", "declared_value_cents"),
		want:        signoff.Delivery{ID: "D1", AsOf: at(2), Stamps: stamps("address", 2, "requires_signature", 2, "declared_value_cents", 2)},
		wantChanged: true,
	}, {
		name:        "an older event fills fields no event has set",
		cur:         signoff.Delivery{ID: "D1", AsOf: at(5)},
		ev:          event(signoff.EventUpdated, 2, signoff.Delivery{RequiresSignature: true, DeclaredValueCents: 90000}, "requires_signature", "declared_value_cents"),
		want:        signoff.Delivery{ID: "D1", RequiresSignature: true, DeclaredValueCents: 90000, AsOf: at(5), Stamps: stamps("requires_signature", 2, "declared_value_cents", 2)},
		wantChanged: true,
	}, {
		name: "an older event does not make the parcel more guarded than a newer one said",
		cur:  signoff.Delivery{ID: "D1", AsOf: at(5), Stamps: stamps("requires_signature", 5, "declared_value_cents", 5)},
		ev:   event(signoff.EventUpdated, 2, signoff.Delivery{RequiresSignature: true, DeclaredValueCents: 90000}, "requires_signature", "declared_value_cents"),
		want: signoff.Delivery{ID: "D1", AsOf: at(5), Stamps: stamps("requires_signature", 5, "declared_value_cents", 5)},
	}, {
		name:        "a newer event makes the parcel less guarded",
		cur:         signoff.Delivery{ID: "D1", RequiresSignature: true, DeclaredValueCents: 90000, AsOf: at(2), Stamps: stamps("requires_signature", 2, "declared_value_cents", 2)},
		ev:          event(signoff.EventUpdated, 5, signoff.Delivery{DeclaredValueCents: 100}, "requires_signature", "declared_value_cents"),
		want:        signoff.Delivery{ID: "D1", DeclaredValueCents: 100, AsOf: at(5), Stamps: stamps("requires_signature", 5, "declared_value_cents", 5)},
		wantChanged: true,
	}, {
		name: "recipient and courier merge field by field",
		cur:  signoff.Delivery{ID: "D1", Recipient: alice, Courier: bob, AsOf: at(1)},
		ev: event(signoff.EventUpdated, 2, signoff.Delivery{
			Recipient: signoff.Recipient{TimeZone: "Asia/Shanghai", Locale: signoff.LocaleEN},
			Courier:   signoff.Courier{Phone: "13733334444"},
		}, "recipient", "courier"),
		want: signoff.Delivery{ID: "D1", AsOf: at(2),
			Recipient: signoff.Recipient{Name: "Alice", Phone: "13900000000", Locale: signoff.LocaleEN, TimeZone: "Asia/Shanghai"},
			Courier:   signoff.Courier{ID: "c-7", Name: "Bob", Phone: "13733334444"},
			Stamps: stamps("recipient.name", 1, "recipient.phone", 1, "recipient.locale", 2, "recipient.time_zone", 2,
				"courier.id", 1, "courier.name", 1, "courier.phone", 2),
		},
		wantChanged: true,
	}, {
		name: "an older recipient fills only empty sub-fields",
		cur:  signoff.Delivery{ID: "D1", Recipient: signoff.Recipient{Phone: "13700000000"}, AsOf: at(5)},
		ev:   event(signoff.EventOutForDelivery, 1, signoff.Delivery{Recipient: alice}, "recipient"),
		want: signoff.Delivery{ID: "D1", Recipient: signoff.Recipient{Name: "Alice", Phone: "13700000000", Locale: signoff.LocaleZH}, Status: "out_for_delivery", AsOf: at(5),
			Stamps: stamps("recipient.name", 1, "recipient.phone", 5, "recipient.locale", 1, "status", 1, "failure_reason", 1)},
		wantChanged: true,
	}, {
		name: "an older recipient sub-field yields to a newer stamp only",
		cur: signoff.Delivery{ID: "D1", Recipient: signoff.Recipient{Phone: "13700000000", Locale: signoff.LocaleEN}, AsOf: at(5),
			Stamps: stamps("recipient.phone", 5, "recipient.locale", 1)},
		ev: event(signoff.EventUpdated, 3, signoff.Delivery{Recipient: alice}, "recipient"),
		want: signoff.Delivery{ID: "D1", Recipient: signoff.Recipient{Name: "Alice", Phone: "13700000000", Locale: signoff.LocaleZH}, AsOf: at(5),
			Stamps: stamps("recipient.name", 3, "recipient.phone", 5, "recipient.locale", 3)},
		wantChanged: true,
	}, {
		name: "pickup station merges field by field",
		cur:  signoff.Delivery{ID: "D1", PickupStation: &signoff.Station{Name: "Station A", Hours: "08:00-20:00"}, AsOf: at(1)},
		ev:   event(signoff.EventUpdated, 2, signoff.Delivery{PickupStation: &signoff.Station{Address: "1 Road", Hours: "08:00-21:00"}}, "pickup_station"),
		want: signoff.Delivery{ID: "D1", PickupStation: station, AsOf: at(2),
			Stamps: stamps("pickup_station.name", 1, "pickup_station.address", 2, "pickup_station.hours", 2)},
		wantChanged: true,
	}, {
		name: "history is a sorted union without duplicates",
		cur: signoff.Delivery{ID: "D1", AsOf: at(5), Events: []signoff.TrackingEvent{
			track(1, "out", "Hub"), track(5, "arriving", "Gate")}},
		ev: event(signoff.EventUpdated, 3, signoff.Delivery{Events: []signoff.TrackingEvent{
			track(5, "arriving", "Gate"), track(3, "sorted", "Station"), track(3, "sorted", "Station"),
			track(1, "out", "Hub"), track(1, "out", "Hub 2"),
			{At: at(5).In(utc8), Status: "arriving", Location: "Gate"},
		}}, "events"),
		want: signoff.Delivery{ID: "D1", AsOf: at(5), Events: []signoff.TrackingEvent{
			track(1, "out", "Hub"), track(1, "out", "Hub 2"), track(3, "sorted", "Station"), track(5, "arriving", "Gate")}},
		wantChanged: true,
	}, {
		name: "of duplicate tracking events the one in the smaller offset is kept, whichever came first",
		cur: signoff.Delivery{ID: "D1", AsOf: at(5), Events: []signoff.TrackingEvent{
			{At: at(5).In(utc8), Status: "arriving", Location: "Gate"}}},
		ev:   event(signoff.EventUpdated, 3, signoff.Delivery{Events: []signoff.TrackingEvent{track(5, "arriving", "Gate")}}, "events"),
		want: signoff.Delivery{ID: "D1", AsOf: at(5), Events: []signoff.TrackingEvent{track(5, "arriving", "Gate")}},
	}, {
		name:        "failed carries its reason",
		cur:         signoff.Delivery{ID: "D1", Status: "arriving", AsOf: at(5)},
		ev:          event(signoff.EventFailed, 6, signoff.Delivery{FailureReason: "address not found"}, "failure_reason"),
		want:        signoff.Delivery{ID: "D1", Status: "failed", FailureReason: "address not found", AsOf: at(6), Stamps: stamps("status", 6, "failure_reason", 6)},
		wantChanged: true,
	}, {
		name: "a failure restated without a reason keeps the reason",
		cur: signoff.Delivery{ID: "D1", Status: "failed", FailureReason: "nobody home", AsOf: at(3),
			Stamps: stamps("status", 3, "failure_reason", 3)},
		ev: event(signoff.EventUpdated, 6, signoff.Delivery{Status: "failed"}, "status"),
		want: signoff.Delivery{ID: "D1", Status: "failed", FailureReason: "nobody home", AsOf: at(6),
			Stamps: stamps("status", 6, "failure_reason", 3)},
	}, {
		name:        "a reason comes only with the failed status",
		cur:         signoff.Delivery{ID: "D1", Status: "arriving", AsOf: at(5), Stamps: stamps("status", 5, "failure_reason", 5)},
		ev:          event(signoff.EventFailed, 6, signoff.Delivery{Status: "returned", FailureReason: "refused"}, "status", "failure_reason"),
		want:        signoff.Delivery{ID: "D1", Status: "returned", AsOf: at(6), Stamps: stamps("status", 6, "failure_reason", 6)},
		wantChanged: true,
	}, {
		name: "an older failed event does not bring its reason back after a second attempt",
		cur: signoff.Delivery{ID: "D1", Status: "failed", AsOf: at(6),
			Stamps: stamps("status", 6, "failure_reason", 4)},
		ev: event(signoff.EventFailed, 3, signoff.Delivery{FailureReason: "nobody home"}, "failure_reason"),
		want: signoff.Delivery{ID: "D1", Status: "failed", AsOf: at(6),
			Stamps: stamps("status", 6, "failure_reason", 4)},
	}, {
		name: "at equal timestamps another status clears the failure reason",
		cur: signoff.Delivery{ID: "D1", Status: "failed", FailureReason: "nobody home", AsOf: at(6),
			Stamps: stamps("status", 6, "failure_reason", 6)},
		ev: event(signoff.EventArriving, 6, signoff.Delivery{}),
		want: signoff.Delivery{ID: "D1", Status: "failed", AsOf: at(6),
			Stamps: stamps("status", 6, "failure_reason", 6)},
		wantChanged: true,
	}, {
		name:        "an ETA in another offset is a change",
		cur:         signoff.Delivery{ID: "D1", ETA: at(60), AsOf: at(1)},
		ev:          event(signoff.EventUpdated, 2, signoff.Delivery{ETA: at(60).In(utc8)}, "eta"),
		want:        signoff.Delivery{ID: "D1", ETA: at(60).In(utc8), AsOf: at(2), Stamps: stamps("eta", 2)},
		wantChanged: true,
	}, {
		// The case the former single AsOf got wrong: eta set at 1 and at 2,
		// and an event at 3 without eta arrived first.
		name:        "an older event overwrites a field the newer events did not carry",
		cur:         signoff.Delivery{ID: "D1", ETA: at(60), LastLocation: "Gate", AsOf: at(3), Stamps: stamps("eta", 1, "last_location", 3)},
		ev:          event(signoff.EventUpdated, 2, signoff.Delivery{ETA: at(90), LastLocation: "Hub"}, "eta", "last_location"),
		want:        signoff.Delivery{ID: "D1", ETA: at(90), LastLocation: "Gate", AsOf: at(3), Stamps: stamps("eta", 2, "last_location", 3)},
		wantChanged: true,
	}, {
		name: "an older event does not overwrite a field a newer one set",
		cur:  signoff.Delivery{ID: "D1", ETA: at(90), AsOf: at(3), Stamps: stamps("eta", 2)},
		ev:   event(signoff.EventUpdated, 1, signoff.Delivery{ETA: at(60)}, "eta"),
		want: signoff.Delivery{ID: "D1", ETA: at(90), AsOf: at(3), Stamps: stamps("eta", 2)},
	}, {
		name: "at equal timestamps the greater value wins",
		cur: signoff.Delivery{ID: "D1", Address: "A Lane", ETA: at(60), DeclaredValueCents: 100, LastLocation: "Door", AsOf: at(2),
			Stamps: stamps("address", 2, "eta", 2, "declared_value_cents", 2, "requires_signature", 2, "last_location", 2)},
		ev: event(signoff.EventUpdated, 2, signoff.Delivery{Address: "B Lane", ETA: at(90), DeclaredValueCents: 200, RequiresSignature: true, LastLocation: "Gate"},
			"address", "eta", "declared_value_cents", "requires_signature", "last_location"),
		want: signoff.Delivery{ID: "D1", Address: "B Lane", ETA: at(90), DeclaredValueCents: 200, RequiresSignature: true, LastLocation: "Gate", AsOf: at(2),
			Stamps: stamps("address", 2, "eta", 2, "declared_value_cents", 2, "requires_signature", 2, "last_location", 2)},
		wantChanged: true,
	}, {
		name: "at equal timestamps the lesser value or a clear loses",
		cur: signoff.Delivery{ID: "D1", Address: "B Lane", ETA: at(90), DeclaredValueCents: 200, RequiresSignature: true, LastLocation: "Gate", AsOf: at(2),
			Stamps: stamps("address", 2, "eta", 2, "declared_value_cents", 2, "requires_signature", 2, "last_location", 2)},
		ev: event(signoff.EventUpdated, 2, signoff.Delivery{ETA: at(60), DeclaredValueCents: 100, LastLocation: "Door"},
			"address", "eta", "declared_value_cents", "requires_signature", "last_location"),
		want: signoff.Delivery{ID: "D1", Address: "B Lane", ETA: at(90), DeclaredValueCents: 200, RequiresSignature: true, LastLocation: "Gate", AsOf: at(2),
			Stamps: stamps("address", 2, "eta", 2, "declared_value_cents", 2, "requires_signature", 2, "last_location", 2)},
	}, {
		name:        "at equal timestamps the same ETA in the larger offset wins",
		cur:         signoff.Delivery{ID: "D1", ETA: at(60), AsOf: at(2), Stamps: stamps("eta", 2)},
		ev:          event(signoff.EventUpdated, 2, signoff.Delivery{ETA: at(60).In(utc8)}, "eta"),
		want:        signoff.Delivery{ID: "D1", ETA: at(60).In(utc8), AsOf: at(2), Stamps: stamps("eta", 2)},
		wantChanged: true,
	}, {
		name: "of two timestamps for the same instant AsOf keeps the one in the smaller offset",
		cur:  signoff.Delivery{ID: "D1", AsOf: at(2).In(utc8)},
		ev:   event(signoff.EventUpdated, 2, signoff.Delivery{}),
		want: signoff.Delivery{ID: "D1", AsOf: at(2)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := asJSON(t, tt.cur)
			got, changed := Merge(tt.cur, tt.ev)
			if g, w := asJSON(t, got), asJSON(t, tt.want); g != w {
				t.Errorf("facts:\n got %s\nwant %s", g, w)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("facts are not deeply equal (offsets, zones or nil against empty):\n got %#v\nwant %#v", got, tt.want)
			}
			if changed != tt.wantChanged {
				t.Errorf("changed: got %v, want %v", changed, tt.wantChanged)
			}
			if after := asJSON(t, tt.cur); after != before {
				t.Errorf("cur was modified:\n got %s\nwant %s", after, before)
			}
		})
	}
}

// TestMergeSharesNoMemory checks that changing the merged facts leaves the
// current facts alone, so a caller may keep both.
func TestMergeSharesNoMemory(t *testing.T) {
	cur := signoff.Delivery{ID: "D1", AsOf: at(1), PickupStation: &signoff.Station{Name: "A"},
		Events: make([]signoff.TrackingEvent, 1, 8), Stamps: stamps("pickup_station.name", 1)}
	cur.Events[0] = track(1, "out", "Hub")
	for _, ev := range []signoff.OrderEvent{
		event(signoff.EventUpdated, 2, signoff.Delivery{LastLocation: "x"}, "last_location"),
		event(signoff.EventUpdated, 2, signoff.Delivery{PickupStation: &signoff.Station{Hours: "9-5"},
			Events: []signoff.TrackingEvent{track(2, "sorted", "Station")}}, "pickup_station", "events"),
		// Stamps nothing and changes nothing.
		event(signoff.EventUpdated, 0, signoff.Delivery{}),
	} {
		next, _ := Merge(cur, ev)
		next.PickupStation.Name = "changed"
		next.Events[0].Status = "changed"
		next.Stamps["pickup_station.name"] = at(99)
		next.Stamps["added"] = at(99)
		if cur.PickupStation.Name != "A" || cur.Events[0].Status != "out" {
			t.Fatalf("Merge result shares memory with cur: station %q, event %q", cur.PickupStation.Name, cur.Events[0].Status)
		}
		if want := stamps("pickup_station.name", 1); !reflect.DeepEqual(cur.Stamps, want) {
			t.Fatalf("Merge result shares its stamps with cur: cur.Stamps = %v", cur.Stamps)
		}
	}
}

// TestMergeUnstampedFacts: facts stored before Stamps existed keep the
// former rules, judged against the AsOf they were stored with even after a
// newer event moved AsOf.
func TestMergeUnstampedFacts(t *testing.T) {
	cur := signoff.Delivery{ID: "D1", Address: "9 Lane", ETA: at(60), AsOf: at(5)}
	d, _ := Merge(cur, event(signoff.EventUpdated, 20, signoff.Delivery{ETA: at(90)}, "eta"))
	if want := stamps("address", 5, "eta", 20); !reflect.DeepEqual(d.Stamps, want) {
		t.Fatalf("stamps after a newer event: got %v, want %v", d.Stamps, want)
	}
	// Older than AsOf (20) but newer than when the address was last known
	// (5): it is the newest word on the address.
	d, changed := Merge(d, event(signoff.EventUpdated, 10, signoff.Delivery{Address: "10 Lane", ETA: at(70)}, "address", "eta"))
	if !changed || d.Address != "10 Lane" || !d.ETA.Equal(at(90)) {
		t.Errorf("got address %q, eta %v (changed %v); want 10 Lane, %v", d.Address, d.ETA, changed, at(90))
	}
	// Before the stored AsOf: only fills what is empty.
	d, _ = Merge(cur, event(signoff.EventOutForDelivery, 4, signoff.Delivery{Address: "Old Lane", LastLocation: "Hub"}, "address", "last_location"))
	if d.Address != "9 Lane" || d.LastLocation != "Hub" || d.Status != signoff.StatusOutForDelivery {
		t.Errorf("older event on unstamped facts: got address %q, location %q, status %q", d.Address, d.LastLocation, d.Status)
	}
}

// snapshotJourney is one delivery told in five events, each field that
// changes value carried by the newest event that speaks of it (what order
// systems that send snapshots do).
func snapshotJourney() []signoff.OrderEvent {
	return []signoff.OrderEvent{
		event(signoff.EventOutForDelivery, 1, signoff.Delivery{
			Recipient: alice, Courier: bob, Address: "9 Lane", ETA: at(60), DeclaredValueCents: 5000,
			RequiresSignature: true, LastLocation: "Hub",
			Events: []signoff.TrackingEvent{track(-30, "picked_up", "Depot"), track(1, "out_for_delivery", "Hub")},
		}, "recipient", "courier", "address", "eta", "declared_value_cents", "requires_signature", "last_location", "events"),
		event(signoff.EventUpdated, 10, signoff.Delivery{
			PickupStation: station,
			Events:        []signoff.TrackingEvent{track(10, "sorted", "Station A"), track(1, "out_for_delivery", "Hub")},
		}, "pickup_station", "events"),
		event(signoff.EventArriving, 40, signoff.Delivery{
			Recipient: signoff.Recipient{Phone: alice.Phone, TimeZone: "Asia/Shanghai"},
			Events:    []signoff.TrackingEvent{track(40, "arriving", "Gate")},
		}, "recipient", "events"),
		event(signoff.EventUpdated, 45, signoff.Delivery{
			Courier: signoff.Courier{ID: bob.ID},
			Events:  []signoff.TrackingEvent{track(40, "arriving", "Gate"), track(45, "at_door", "Door")},
		}, "courier", "events"),
		event(signoff.EventDelivered, 50, signoff.Delivery{
			LastLocation: "Door", Address: "9 Lane",
			Events: []signoff.TrackingEvent{track(50, "delivered", "Door")},
		}, "last_location", "address", "events"),
	}
}

// partialJourney is one delivery told in six events that each carry a
// different subset of the fields, so that a field's newest value is often
// not in the newest event: with a single AsOf per delivery the ETA of 10
// sticks when the event at 40 arrives first, then the one at 10, then the
// one at 30.
func partialJourney() []signoff.OrderEvent {
	carol := signoff.Courier{ID: "c-9", Name: "Carol", Phone: "13755556666"}
	return []signoff.OrderEvent{
		event(signoff.EventOutForDelivery, 1, signoff.Delivery{
			Recipient: alice, Courier: bob, Address: "9 Lane", ETA: at(60), DeclaredValueCents: 5000,
			RequiresSignature: true, LastLocation: "Hub",
			Events: []signoff.TrackingEvent{track(-30, "picked_up", "Depot"), track(1, "out_for_delivery", "Hub")},
		}, "recipient", "courier", "address", "eta", "declared_value_cents", "requires_signature", "last_location", "events"),
		// eta only
		event(signoff.EventUpdated, 10, signoff.Delivery{ETA: at(75)}, "eta"),
		// location only, with a station and history
		event(signoff.EventUpdated, 20, signoff.Delivery{LastLocation: "Station A", PickupStation: station,
			Events: []signoff.TrackingEvent{track(20, "sorted", "Station A")}}, "last_location", "pickup_station", "events"),
		// status and eta
		event(signoff.EventUpdated, 30, signoff.Delivery{Status: "arriving", ETA: at(50).In(utc8)}, "status", "eta"),
		// the recipient's locale and time zone
		event(signoff.EventUpdated, 35, signoff.Delivery{Recipient: signoff.Recipient{Locale: signoff.LocaleEN, TimeZone: "Asia/Shanghai"}}, "recipient"),
		// another courier; no signature needed after all; the courier's place
		event(signoff.EventUpdated, 40, signoff.Delivery{Courier: carol, LastLocation: "Gate"}, "courier", "requires_signature", "last_location"),
	}
}

// tiedJourney has events at the same instant with conflicting values, some
// told in another offset.
func tiedJourney() []signoff.OrderEvent {
	inUTC8 := func(ev signoff.OrderEvent) signoff.OrderEvent { ev.Timestamp = ev.Timestamp.In(utc8); return ev }
	return []signoff.OrderEvent{
		event(signoff.EventOutForDelivery, 1, signoff.Delivery{Recipient: alice, ETA: at(60), Address: "9 Lane", DeclaredValueCents: 100},
			"recipient", "eta", "address", "declared_value_cents", "requires_signature"),
		event(signoff.EventUpdated, 5, signoff.Delivery{ETA: at(90), Address: "10 Lane", DeclaredValueCents: 300, RequiresSignature: true,
			LastLocation: "Gate", Recipient: signoff.Recipient{Locale: signoff.LocaleZH},
			Events: []signoff.TrackingEvent{track(5, "arriving", "Gate")}},
			"eta", "address", "declared_value_cents", "requires_signature", "last_location", "recipient", "events"),
		inUTC8(event(signoff.EventUpdated, 5, signoff.Delivery{ETA: at(90).In(utc8), Address: "", DeclaredValueCents: 200,
			LastLocation: "Door", Recipient: signoff.Recipient{Locale: signoff.LocaleEN},
			Events: []signoff.TrackingEvent{{At: at(5).In(utc8), Status: "arriving", Location: "Gate"}}},
			"eta", "address", "declared_value_cents", "requires_signature", "last_location", "recipient", "events")),
		event(signoff.EventFailed, 7, signoff.Delivery{FailureReason: "nobody home"}, "failure_reason"),
		inUTC8(event(signoff.EventDelivered, 7, signoff.Delivery{})),
	}
}

// failureJourney fails, tries again, fails again without a reason and
// restates the failure.
func failureJourney() []signoff.OrderEvent {
	return []signoff.OrderEvent{
		event(signoff.EventOutForDelivery, 1, signoff.Delivery{Recipient: alice}, "recipient"),
		event(signoff.EventFailed, 3, signoff.Delivery{FailureReason: "nobody home"}, "failure_reason"),
		event(signoff.EventOutForDelivery, 4, signoff.Delivery{}),
		event(signoff.EventFailed, 6, signoff.Delivery{}),
		event(signoff.EventUpdated, 8, signoff.Delivery{Status: "failed", LastLocation: "Depot"}, "status", "last_location"),
	}
}

// sameInstantJourney fails and is delivered at the same instant, then fails
// again without a reason: the reason of the first failure, cleared by the
// delivery at its instant, must not come back whatever the order.
func sameInstantJourney() []signoff.OrderEvent {
	return []signoff.OrderEvent{
		event(signoff.EventOutForDelivery, 1, signoff.Delivery{Recipient: alice}, "recipient"),
		event(signoff.EventFailed, 7, signoff.Delivery{FailureReason: "nobody home"}, "failure_reason"),
		event(signoff.EventDelivered, 7, signoff.Delivery{}),
		event(signoff.EventFailed, 9, signoff.Delivery{}),
	}
}

// restatedJourney fails with a reason and restates the failure.
func restatedJourney() []signoff.OrderEvent {
	return []signoff.OrderEvent{
		event(signoff.EventOutForDelivery, 1, signoff.Delivery{Recipient: alice}, "recipient"),
		event(signoff.EventArriving, 2, signoff.Delivery{}),
		event(signoff.EventFailed, 3, signoff.Delivery{FailureReason: "nobody home"}, "failure_reason"),
		event(signoff.EventUpdated, 6, signoff.Delivery{Status: "failed"}, "status"),
	}
}

// permutations calls f with every ordering of 0..n-1 (Heap's algorithm).
func permutations(n int, f func([]int)) {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	var gen func(k int)
	gen = func(k int) {
		if k == 1 {
			f(p)
			return
		}
		for i := 0; i < k; i++ {
			gen(k - 1)
			if k%2 == 0 {
				p[i], p[k-1] = p[k-1], p[i]
			} else {
				p[0], p[k-1] = p[k-1], p[0]
			}
		}
	}
	gen(n)
}

// inAllOrders merges evs into empty facts in every order and fails unless
// each gives facts deeply equal to want, and replaying any event onto them
// is a no-op. It returns how many orders it tried.
func inAllOrders(t *testing.T, evs []signoff.OrderEvent, want signoff.Delivery) int {
	t.Helper()
	n, failures := 0, 0
	permutations(len(evs), func(order []int) {
		n++
		if failures > 3 {
			return
		}
		var d signoff.Delivery
		for _, i := range order {
			d, _ = Merge(d, evs[i])
		}
		if !reflect.DeepEqual(d, want) {
			failures++
			t.Errorf("order %v:\n got %s\nwant %s", order, asJSON(t, d), asJSON(t, want))
			return
		}
		for _, i := range order {
			again, changed := Merge(d, evs[i])
			if changed || !reflect.DeepEqual(again, want) {
				failures++
				t.Errorf("order %v: replaying event %d changed the facts (changed=%v):\n got %s", order, i, changed, asJSON(t, again))
			}
		}
	})
	return n
}

func TestMergeOrderIndependent(t *testing.T) {
	utc8 := utc8
	tests := []struct {
		name   string
		events []signoff.OrderEvent
		want   signoff.Delivery
	}{{
		name:   "snapshots",
		events: snapshotJourney(),
		want: signoff.Delivery{
			ID: "D1", Recipient: signoff.Recipient{Name: "Alice", Phone: "13900000000", Locale: signoff.LocaleZH, TimeZone: "Asia/Shanghai"},
			Courier: bob, Address: "9 Lane", ETA: at(60), Status: "delivered", DeclaredValueCents: 5000, RequiresSignature: true,
			PickupStation: station, LastLocation: "Door", AsOf: at(50),
			Events: []signoff.TrackingEvent{track(-30, "picked_up", "Depot"), track(1, "out_for_delivery", "Hub"),
				track(10, "sorted", "Station A"), track(40, "arriving", "Gate"), track(45, "at_door", "Door"), track(50, "delivered", "Door")},
			Stamps: stamps("recipient.name", 1, "recipient.phone", 40, "recipient.locale", 1, "recipient.time_zone", 40,
				"courier.id", 45, "courier.name", 1, "courier.phone", 1, "address", 50, "eta", 1, "declared_value_cents", 1,
				"requires_signature", 1, "last_location", 50, "pickup_station.name", 10, "pickup_station.address", 10,
				"pickup_station.hours", 10, "status", 50, "failure_reason", 50),
		},
	}, {
		name:   "each event a different subset of fields",
		events: partialJourney(),
		want: signoff.Delivery{
			ID: "D1", Recipient: signoff.Recipient{Name: "Alice", Phone: "13900000000", Locale: signoff.LocaleEN, TimeZone: "Asia/Shanghai"},
			Courier: signoff.Courier{ID: "c-9", Name: "Carol", Phone: "13755556666"}, Address: "9 Lane", ETA: at(50).In(utc8),
			Status: "arriving", DeclaredValueCents: 5000, RequiresSignature: false, PickupStation: station, LastLocation: "Gate", AsOf: at(40),
			Events: []signoff.TrackingEvent{track(-30, "picked_up", "Depot"), track(1, "out_for_delivery", "Hub"), track(20, "sorted", "Station A")},
			Stamps: stamps("recipient.name", 1, "recipient.phone", 1, "recipient.locale", 35, "recipient.time_zone", 35,
				"courier.id", 40, "courier.name", 40, "courier.phone", 40, "address", 1, "eta", 30, "declared_value_cents", 1,
				"requires_signature", 40, "last_location", 40, "pickup_station.name", 20, "pickup_station.address", 20,
				"pickup_station.hours", 20, "status", 30, "failure_reason", 30),
		},
	}, {
		name:   "conflicts at equal timestamps",
		events: tiedJourney(),
		want: signoff.Delivery{
			ID: "D1", Recipient: alice, ETA: at(90).In(utc8), Address: "10 Lane", Status: "delivered", DeclaredValueCents: 300,
			RequiresSignature: true, LastLocation: "Gate", AsOf: at(7),
			Events: []signoff.TrackingEvent{track(5, "arriving", "Gate")},
			Stamps: stamps("recipient.name", 1, "recipient.phone", 1, "recipient.locale", 5, "eta", 5, "address", 5,
				"declared_value_cents", 5, "requires_signature", 5, "last_location", 5, "status", 7, "failure_reason", 7),
		},
	}, {
		name:   "a failure, a second attempt and a failure without reason",
		events: failureJourney(),
		want: signoff.Delivery{ID: "D1", Recipient: alice, Status: "failed", LastLocation: "Depot", AsOf: at(8),
			Stamps: stamps(with(recipientStamps(1), []any{"status", 8, "failure_reason", 4, "last_location", 8})...)},
	}, {
		name:   "a failure and a delivery at the same instant, then a failure without reason",
		events: sameInstantJourney(),
		want: signoff.Delivery{ID: "D1", Recipient: alice, Status: "failed", AsOf: at(9),
			Stamps: stamps(with(recipientStamps(1), []any{"status", 9, "failure_reason", 7})...)},
	}, {
		name:   "a failure restated without reason",
		events: restatedJourney(),
		want: signoff.Delivery{ID: "D1", Recipient: alice, Status: "failed", FailureReason: "nobody home", AsOf: at(6),
			Stamps: stamps(with(recipientStamps(1), []any{"status", 6, "failure_reason", 3})...)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var inOrder signoff.Delivery
			for _, ev := range tt.events {
				inOrder, _ = Merge(inOrder, ev)
			}
			if !reflect.DeepEqual(inOrder, tt.want) {
				t.Fatalf("in order:\n got %s\nwant %s", asJSON(t, inOrder), asJSON(t, tt.want))
			}
			want := 1
			for i := 2; i <= len(tt.events); i++ {
				want *= i
			}
			if n := inAllOrders(t, tt.events, tt.want); n != want {
				t.Fatalf("ran %d orderings, want %d", n, want)
			}
		})
	}
}

// TestMergeOrderIndependentRandom checks the guarantee on random sets of
// events drawn from few values and few instants, so that ties, clears,
// offsets and statuses collide often: every order gives the same facts.
func TestMergeOrderIndependentRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(vals ...string) string { return vals[rng.IntN(len(vals))] }
	when := func() time.Time {
		t := at(rng.IntN(4))
		if rng.IntN(3) == 0 {
			t = t.In(utc8)
		}
		return t
	}
	types := []signoff.EventType{signoff.EventOutForDelivery, signoff.EventArriving, signoff.EventUpdated,
		signoff.EventDelivered, signoff.EventFailed}
	randomEvent := func() signoff.OrderEvent {
		var d signoff.Delivery
		present := signoff.Fields{}
		maybe := func(name string, set func()) {
			if rng.IntN(2) == 0 {
				present[name] = true
				set()
			}
		}
		maybe(FieldRecipient, func() {
			d.Recipient = signoff.Recipient{Name: signoff.Private(pick("", "Alice", "Bo")), Phone: signoff.Phone(pick("", "139", "138")),
				Locale: signoff.Locale(pick("", "zh-CN", "en")), TimeZone: pick("", "Asia/Shanghai")}
		})
		maybe(FieldCourier, func() { d.Courier = signoff.Courier{ID: pick("", "c-7", "c-9"), Phone: signoff.Phone(pick("", "137"))} })
		maybe(FieldPickupStation, func() {
			if rng.IntN(4) > 0 {
				d.PickupStation = &signoff.Station{Name: pick("", "A", "B"), Hours: pick("", "8-20")}
			}
		})
		maybe(FieldAddress, func() { d.Address = signoff.Private(pick("", "9 Lane", "10 Lane")) })
		maybe(FieldETA, func() {
			if rng.IntN(4) > 0 {
				d.ETA = when().Add(time.Hour)
			}
		})
		maybe(FieldStatus, func() { d.Status = pick("", "arriving", "failed", "delivered", "customs_hold") })
		maybe(FieldDeclaredValue, func() { d.DeclaredValueCents = int64(rng.IntN(3) * 100) })
		maybe(FieldRequiresSignature, func() { d.RequiresSignature = rng.IntN(2) == 0 })
		maybe(FieldLastLocation, func() { d.LastLocation = pick("", "Hub", "Gate") })
		maybe(FieldFailureReason, func() { d.FailureReason = pick("", "nobody home", "refused") })
		maybe(FieldEvents, func() {
			for range rng.IntN(3) {
				d.Events = append(d.Events, signoff.TrackingEvent{At: when(), Status: pick("out", "arriving"), Location: pick("", "Gate")})
			}
		})
		d.ID = "D1"
		return signoff.OrderEvent{Type: types[rng.IntN(len(types))], Timestamp: when(), Delivery: d, Present: present}
	}
	sets := 60
	if testing.Short() {
		sets = 10
	}
	for s := range sets {
		evs := make([]signoff.OrderEvent, 5)
		for i := range evs {
			evs[i] = randomEvent()
		}
		var want signoff.Delivery
		for _, ev := range evs {
			want, _ = Merge(want, ev)
		}
		inAllOrders(t, evs, want)
		if t.Failed() {
			for i, ev := range evs {
				t.Logf("set %d event %d: %s at %v present %v: %s", s, i, ev.Type, ev.Timestamp, ev.Present, asJSON(t, ev.Delivery))
			}
			t.FailNow()
		}
	}
}

func TestMergeReversedTerminal(t *testing.T) {
	// A delivered event overtaken by nothing: whatever arrives after it,
	// older, leaves it delivered.
	evs := []signoff.OrderEvent{
		event(signoff.EventOutForDelivery, 1, signoff.Delivery{Recipient: alice}, "recipient"),
		event(signoff.EventArriving, 2, signoff.Delivery{}),
		event(signoff.EventFailed, 3, signoff.Delivery{FailureReason: "nobody home"}, "failure_reason"),
		event(signoff.EventOutForDelivery, 4, signoff.Delivery{}),
		event(signoff.EventDelivered, 5, signoff.Delivery{}),
	}
	var d signoff.Delivery
	for i := len(evs) - 1; i >= 0; i-- {
		d, _ = Merge(d, evs[i])
		if d.Status != signoff.StatusDelivered {
			t.Fatalf("after event %d (%s): status %q, want delivered", i, evs[i].Type, d.Status)
		}
	}
	if d.FailureReason != "" {
		t.Errorf("FailureReason: got %q, want none once delivered", d.FailureReason)
	}
	if !d.AsOf.Equal(at(5)) {
		t.Errorf("AsOf: got %v, want %v", d.AsOf, at(5))
	}
}

func TestTerminal(t *testing.T) {
	for status, want := range map[string]bool{
		"delivered": true, "failed": true, "arriving": false, "out_for_delivery": false, "": false, "customs_hold": false,
	} {
		if got := Terminal(status); got != want {
			t.Errorf("Terminal(%q): got %v, want %v", status, got, want)
		}
	}
}
