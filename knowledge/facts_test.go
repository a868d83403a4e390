package knowledge

import (
	"encoding/json"
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
		},
		wantChanged: true,
	}, {
		name:        "newer event overwrites only what it carries",
		cur:         signoff.Delivery{ID: "D1", Address: "9 Lane", ETA: at(60), LastLocation: "Hub", Status: "out_for_delivery", AsOf: at(1), Version: 3},
		ev:          event(signoff.EventUpdated, 2, signoff.Delivery{ETA: at(90), LastLocation: "Ignored"}, "eta"),
		want:        signoff.Delivery{ID: "D1", Address: "9 Lane", ETA: at(90), LastLocation: "Hub", Status: "out_for_delivery", AsOf: at(2), Version: 3},
		wantChanged: true,
	}, {
		name: "older event fills only empty fields and adds history",
		cur: signoff.Delivery{ID: "D1", ETA: at(90), Status: "arriving", AsOf: at(5),
			Events: []signoff.TrackingEvent{track(5, "arriving", "Gate")}},
		ev: event(signoff.EventOutForDelivery, 1, signoff.Delivery{ETA: at(60), Courier: bob, Address: "9 Lane",
			Events: []signoff.TrackingEvent{track(1, "out", "Hub")}}, "eta", "courier", "address", "events"),
		want: signoff.Delivery{ID: "D1", ETA: at(90), Courier: bob, Address: "9 Lane", Status: "arriving", AsOf: at(5),
			Events: []signoff.TrackingEvent{track(1, "out", "Hub"), track(5, "arriving", "Gate")}},
		wantChanged: true,
	}, {
		name: "older event with only known facts and history changes nothing",
		cur: signoff.Delivery{ID: "D1", Address: "9 Lane", Status: "arriving", AsOf: at(5),
			Events: []signoff.TrackingEvent{track(1, "out", "Hub")}},
		ev: event(signoff.EventOutForDelivery, 1, signoff.Delivery{Address: "Old Lane",
			Events: []signoff.TrackingEvent{track(1, "out", "Hub")}}, "address", "events"),
		want: signoff.Delivery{ID: "D1", Address: "9 Lane", Status: "arriving", AsOf: at(5),
			Events: []signoff.TrackingEvent{track(1, "out", "Hub")}},
	}, {
		name: "newer event repeating the facts moves AsOf but changes nothing observable",
		cur:  signoff.Delivery{ID: "D1", Address: "9 Lane", Status: "arriving", AsOf: at(5)},
		ev:   event(signoff.EventArriving, 6, signoff.Delivery{Address: "9 Lane"}, "address"),
		want: signoff.Delivery{ID: "D1", Address: "9 Lane", Status: "arriving", AsOf: at(6)},
	}, {
		name:        "updated implies no status",
		cur:         signoff.Delivery{ID: "D1", Status: "arriving", AsOf: at(5)},
		ev:          event(signoff.EventUpdated, 6, signoff.Delivery{LastLocation: "Gate"}, "last_location"),
		want:        signoff.Delivery{ID: "D1", Status: "arriving", LastLocation: "Gate", AsOf: at(6)},
		wantChanged: true,
	}, {
		name:        "explicit status beats the one the type implies",
		cur:         signoff.Delivery{ID: "D1", Status: "out_for_delivery", AsOf: at(1)},
		ev:          event(signoff.EventArriving, 6, signoff.Delivery{Status: "customs_hold"}, "status"),
		want:        signoff.Delivery{ID: "D1", Status: "customs_hold", AsOf: at(6)},
		wantChanged: true,
	}, {
		name:        "empty explicit status falls back to the implied one",
		ev:          event(signoff.EventArriving, 6, signoff.Delivery{Status: ""}, "status"),
		want:        signoff.Delivery{ID: "D1", Status: "arriving", AsOf: at(6)},
		wantChanged: true,
	}, {
		name: "delivered is not replaced by an older arriving",
		cur:  signoff.Delivery{ID: "D1", Status: "delivered", AsOf: at(9)},
		ev:   event(signoff.EventArriving, 5, signoff.Delivery{}),
		want: signoff.Delivery{ID: "D1", Status: "delivered", AsOf: at(9)},
	}, {
		name: "delivered is not replaced by an older failed",
		cur:  signoff.Delivery{ID: "D1", Status: "delivered", AsOf: at(9)},
		ev:   event(signoff.EventFailed, 8, signoff.Delivery{Status: "failed"}, "status"),
		want: signoff.Delivery{ID: "D1", Status: "delivered", AsOf: at(9)},
	}, {
		name: "failed is not replaced by an older out_for_delivery",
		cur:  signoff.Delivery{ID: "D1", Status: "failed", FailureReason: "nobody home", AsOf: at(9)},
		ev:   event(signoff.EventOutForDelivery, 1, signoff.Delivery{}),
		want: signoff.Delivery{ID: "D1", Status: "failed", FailureReason: "nobody home", AsOf: at(9)},
	}, {
		name: "a terminal status survives a newer update without status",
		cur:  signoff.Delivery{ID: "D1", Status: "delivered", AsOf: at(9)},
		ev:   event(signoff.EventUpdated, 10, signoff.Delivery{}),
		want: signoff.Delivery{ID: "D1", Status: "delivered", AsOf: at(10)},
	}, {
		name:        "a newer out_for_delivery after failed is a second attempt",
		cur:         signoff.Delivery{ID: "D1", Status: "failed", FailureReason: "nobody home", AsOf: at(9)},
		ev:          event(signoff.EventOutForDelivery, 20, signoff.Delivery{}),
		want:        signoff.Delivery{ID: "D1", Status: "out_for_delivery", AsOf: at(20)},
		wantChanged: true,
	}, {
		name:        "at equal timestamps delivered beats arriving",
		cur:         signoff.Delivery{ID: "D1", Status: "arriving", AsOf: at(9)},
		ev:          event(signoff.EventDelivered, 9, signoff.Delivery{}),
		want:        signoff.Delivery{ID: "D1", Status: "delivered", AsOf: at(9)},
		wantChanged: true,
	}, {
		name: "at equal timestamps arriving does not beat delivered",
		cur:  signoff.Delivery{ID: "D1", Status: "delivered", AsOf: at(9)},
		ev:   event(signoff.EventArriving, 9, signoff.Delivery{}),
		want: signoff.Delivery{ID: "D1", Status: "delivered", AsOf: at(9)},
	}, {
		name:        "a newer event clears with an empty value",
		cur:         signoff.Delivery{ID: "D1", Address: "9 Lane", RequiresSignature: true, DeclaredValueCents: 100, AsOf: at(1)},
		ev:          event(signoff.EventUpdated, 2, signoff.Delivery{}, "address", "requires_signature", "declared_value_cents"),
		want:        signoff.Delivery{ID: "D1", AsOf: at(2)},
		wantChanged: true,
	}, {
		name:        "an older event can only make the parcel more guarded",
		cur:         signoff.Delivery{ID: "D1", AsOf: at(5)},
		ev:          event(signoff.EventUpdated, 2, signoff.Delivery{RequiresSignature: true, DeclaredValueCents: 90000}, "requires_signature", "declared_value_cents"),
		want:        signoff.Delivery{ID: "D1", RequiresSignature: true, DeclaredValueCents: 90000, AsOf: at(5)},
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
		},
		wantChanged: true,
	}, {
		name:        "an older recipient fills only empty sub-fields",
		cur:         signoff.Delivery{ID: "D1", Recipient: signoff.Recipient{Phone: "13700000000"}, AsOf: at(5)},
		ev:          event(signoff.EventOutForDelivery, 1, signoff.Delivery{Recipient: alice}, "recipient"),
		want:        signoff.Delivery{ID: "D1", Recipient: signoff.Recipient{Name: "Alice", Phone: "13700000000", Locale: signoff.LocaleZH}, Status: "out_for_delivery", AsOf: at(5)},
		wantChanged: true,
	}, {
		name:        "pickup station merges field by field",
		cur:         signoff.Delivery{ID: "D1", PickupStation: &signoff.Station{Name: "Station A", Hours: "08:00-20:00"}, AsOf: at(1)},
		ev:          event(signoff.EventUpdated, 2, signoff.Delivery{PickupStation: &signoff.Station{Address: "1 Road", Hours: "08:00-21:00"}}, "pickup_station"),
		want:        signoff.Delivery{ID: "D1", PickupStation: station, AsOf: at(2)},
		wantChanged: true,
	}, {
		name: "history is a sorted union without duplicates",
		cur: signoff.Delivery{ID: "D1", AsOf: at(5), Events: []signoff.TrackingEvent{
			track(1, "out", "Hub"), track(5, "arriving", "Gate")}},
		ev: event(signoff.EventUpdated, 3, signoff.Delivery{Events: []signoff.TrackingEvent{
			track(5, "arriving", "Gate"), track(3, "sorted", "Station"), track(3, "sorted", "Station"),
			track(1, "out", "Hub"), track(1, "out", "Hub 2"),
			{At: at(5).In(time.FixedZone("UTC+8", 8*3600)), Status: "arriving", Location: "Gate"},
		}}, "events"),
		want: signoff.Delivery{ID: "D1", AsOf: at(5), Events: []signoff.TrackingEvent{
			track(1, "out", "Hub"), track(1, "out", "Hub 2"), track(3, "sorted", "Station"), track(5, "arriving", "Gate")}},
		wantChanged: true,
	}, {
		name:        "failed carries its reason",
		cur:         signoff.Delivery{ID: "D1", Status: "arriving", AsOf: at(5)},
		ev:          event(signoff.EventFailed, 6, signoff.Delivery{FailureReason: "address not found"}, "failure_reason"),
		want:        signoff.Delivery{ID: "D1", Status: "failed", FailureReason: "address not found", AsOf: at(6)},
		wantChanged: true,
	}, {
		name:        "an ETA in another offset is a change",
		cur:         signoff.Delivery{ID: "D1", ETA: at(60), AsOf: at(1)},
		ev:          event(signoff.EventUpdated, 2, signoff.Delivery{ETA: at(60).In(time.FixedZone("UTC+8", 8*3600))}, "eta"),
		want:        signoff.Delivery{ID: "D1", ETA: at(60).In(time.FixedZone("UTC+8", 8*3600)), AsOf: at(2)},
		wantChanged: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := asJSON(t, tt.cur)
			got, changed := Merge(tt.cur, tt.ev)
			if g, w := asJSON(t, got), asJSON(t, tt.want); g != w {
				t.Errorf("facts:\n got %s\nwant %s", g, w)
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
		Events: make([]signoff.TrackingEvent, 1, 8)}
	cur.Events[0] = track(1, "out", "Hub")
	for _, ev := range []signoff.OrderEvent{
		event(signoff.EventUpdated, 2, signoff.Delivery{LastLocation: "x"}, "last_location"),
		event(signoff.EventUpdated, 2, signoff.Delivery{PickupStation: &signoff.Station{Hours: "9-5"},
			Events: []signoff.TrackingEvent{track(2, "sorted", "Station")}}, "pickup_station", "events"),
	} {
		next, _ := Merge(cur, ev)
		next.PickupStation.Name = "changed"
		next.Events[0].Status = "changed"
		if cur.PickupStation.Name != "A" || cur.Events[0].Status != "out" {
			t.Fatalf("Merge result shares memory with cur: station %q, event %q", cur.PickupStation.Name, cur.Events[0].Status)
		}
	}
}

// journey is one delivery told in five events, each field that changes
// value carried by the newest event that speaks of it (see Merge).
func journey() []signoff.OrderEvent {
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

func TestMergeOrderIndependent(t *testing.T) {
	evs := journey()
	var inOrder signoff.Delivery
	for _, ev := range evs {
		inOrder, _ = Merge(inOrder, ev)
	}
	want := asJSON(t, inOrder)
	wantFacts := signoff.Delivery{
		ID: "D1", Recipient: signoff.Recipient{Name: "Alice", Phone: "13900000000", Locale: signoff.LocaleZH, TimeZone: "Asia/Shanghai"},
		Courier: bob, Address: "9 Lane", ETA: at(60), Status: "delivered", DeclaredValueCents: 5000, RequiresSignature: true,
		PickupStation: station, LastLocation: "Door", AsOf: at(50),
		Events: []signoff.TrackingEvent{track(-30, "picked_up", "Depot"), track(1, "out_for_delivery", "Hub"),
			track(10, "sorted", "Station A"), track(40, "arriving", "Gate"), track(45, "at_door", "Door"), track(50, "delivered", "Door")},
	}
	if w := asJSON(t, wantFacts); want != w {
		t.Fatalf("in order:\n got %s\nwant %s", want, w)
	}

	n := 0
	permutations(len(evs), func(order []int) {
		n++
		var d signoff.Delivery
		for _, i := range order {
			d, _ = Merge(d, evs[i])
		}
		if got := asJSON(t, d); got != want {
			t.Errorf("order %v:\n got %s\nwant %s", order, got, want)
		}
		// Every event replayed onto the final facts is a no-op.
		for _, i := range order {
			again, changed := Merge(d, evs[i])
			if changed || asJSON(t, again) != want {
				t.Errorf("order %v: replaying event %d changed the facts (changed=%v)", order, i, changed)
			}
		}
	})
	if n != 120 {
		t.Fatalf("ran %d orderings, want 120", n)
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
