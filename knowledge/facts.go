package knowledge

import (
	"cmp"
	"slices"
	"time"

	"github.com/signoff/signoff"
)

// The names of the Delivery fields an order event may carry, as they appear
// in OrderEvent.Present (the JSON names of signoff.Delivery).
const (
	FieldRecipient         = "recipient"
	FieldCourier           = "courier"
	FieldAddress           = "address"
	FieldETA               = "eta"
	FieldStatus            = "status"
	FieldDeclaredValue     = "declared_value_cents"
	FieldRequiresSignature = "requires_signature"
	FieldPickupStation     = "pickup_station"
	FieldLastLocation      = "last_location"
	FieldEvents            = "events"
	FieldFailureReason     = "failure_reason"
)

// ImpliedStatus returns the delivery status an event of type t implies when
// it carries no status of its own: out_for_delivery, arriving, delivered or
// failed. delivery.updated, and any unknown type, imply none ("").
func ImpliedStatus(t signoff.EventType) string {
	switch t {
	case signoff.EventOutForDelivery:
		return signoff.StatusOutForDelivery
	case signoff.EventArriving:
		return signoff.StatusArriving
	case signoff.EventDelivered:
		return signoff.StatusDelivered
	case signoff.EventFailed:
		return signoff.StatusFailed
	}
	return ""
}

// Terminal reports whether a delivery in status s is over: delivered or
// failed.
func Terminal(status string) bool {
	return status == signoff.StatusDelivered || status == signoff.StatusFailed
}

// Merge returns the facts cur updated with the order event ev, and whether
// anything a recipient could observe changed (any fact or the tracking
// history; AsOf and Version alone do not count). It is pure: cur is not
// modified and next shares no memory with it.
//
// Facts never roll back:
//   - An event newer than cur.AsOf overwrites the fields it carries
//     (ev.Present), even with an empty value ("address": "" clears the
//     address). Recipient, Courier and PickupStation are merged field by
//     field, and an empty sub-field there means "not said", not "clear".
//   - An event at or before cur.AsOf only fills fields that are still empty.
//     For requires_signature and declared_value_cents "empty" is false and
//     0, so a late event can only make the parcel more guarded, never less.
//   - Tracking events are a union, whatever the event's age, de-duplicated
//     by (at, status, location) and sorted by time.
//   - The status is ev's own, or the one its type implies (ImpliedStatus).
//     Being a field, it follows the rules above, so a terminal status is
//     never replaced by an older event's; at equal timestamps the further
//     status wins (delivered, failed, arriving, out_for_delivery, others).
//   - FailureReason is kept only while the status is failed: a second attempt
//     clears it.
//   - next.AsOf is the later of cur.AsOf and ev.Timestamp; next.ID is cur.ID,
//     or ev's when cur has none; next.Version is cur.Version.
//
// Without a timestamp per field, the final facts are independent of arrival
// order when every field that takes different values across events is
// carried by the newest of them (as with order systems that send snapshots).
// Otherwise a late event can leave a field at an older value: for instance
// eta changed at t2, arriving after an event at t3 that did not mention eta
// and after the eta of t1, keeps the eta of t1.
func Merge(cur signoff.Delivery, ev signoff.OrderEvent) (next signoff.Delivery, changed bool) {
	newer := ev.Timestamp.After(cur.AsOf)
	in := ev.Delivery
	has := func(name string) bool { return ev.Present[name] }

	next = cur
	if next.ID == "" {
		next.ID = in.ID
	}
	if newer {
		next.AsOf = ev.Timestamp
	}

	if has(FieldRecipient) {
		r, c := &next.Recipient, in.Recipient
		r.Name = part(r.Name, c.Name, newer)
		r.Phone = part(r.Phone, c.Phone, newer)
		r.Locale = part(r.Locale, c.Locale, newer)
		r.TimeZone = part(r.TimeZone, c.TimeZone, newer)
	}
	if has(FieldCourier) {
		r, c := &next.Courier, in.Courier
		r.ID = part(r.ID, c.ID, newer)
		r.Name = part(r.Name, c.Name, newer)
		r.Phone = part(r.Phone, c.Phone, newer)
	}
	if has(FieldPickupStation) && in.PickupStation != nil {
		var s signoff.Station
		if cur.PickupStation != nil {
			s = *cur.PickupStation
		}
		c := in.PickupStation
		s.Name = part(s.Name, c.Name, newer)
		s.Address = part(s.Address, c.Address, newer)
		s.Hours = part(s.Hours, c.Hours, newer)
		next.PickupStation = &s
	} else if cur.PickupStation != nil {
		s := *cur.PickupStation
		next.PickupStation = &s
	}

	next.Address = field(cur.Address, in.Address, has(FieldAddress), newer)
	next.DeclaredValueCents = field(cur.DeclaredValueCents, in.DeclaredValueCents, has(FieldDeclaredValue), newer)
	next.RequiresSignature = field(cur.RequiresSignature, in.RequiresSignature, has(FieldRequiresSignature), newer)
	next.LastLocation = field(cur.LastLocation, in.LastLocation, has(FieldLastLocation), newer)
	next.FailureReason = field(cur.FailureReason, in.FailureReason, has(FieldFailureReason), newer)
	if has(FieldETA) && (newer || cur.ETA.IsZero()) {
		next.ETA = in.ETA
	}

	status := ImpliedStatus(ev.Type)
	if has(FieldStatus) && in.Status != "" {
		status = in.Status
	}
	if status != "" {
		switch {
		case newer, cur.Status == "":
			next.Status = status
		case ev.Timestamp.Equal(cur.AsOf) && further(status, cur.Status):
			next.Status = status
		}
	}

	if next.Status != signoff.StatusFailed {
		next.FailureReason = ""
	}
	next.Events = history(cur.Events, in.Events, has(FieldEvents))
	return next, !same(cur, next)
}

// field returns the value of a top-level field after an event that carries
// it (present) with value ev: ev when the event is newer, else cur unless cur
// is empty.
func field[T comparable](cur, ev T, present, newer bool) T {
	var zero T
	if present && (newer || cur == zero) {
		return ev
	}
	return cur
}

// part is field for a sub-field of a nested fact, where an empty value in
// the event means the event did not say.
func part[T comparable](cur, ev T, newer bool) T {
	var zero T
	return field(cur, ev, ev != zero, newer)
}

// further reports whether status a is further along than b, for events with
// equal timestamps. The order is total, so the result does not depend on
// which of the two arrived first.
func further(a, b string) bool {
	rank := func(s string) int {
		switch s {
		case signoff.StatusDelivered:
			return 4
		case signoff.StatusFailed:
			return 3
		case signoff.StatusArriving:
			return 2
		case signoff.StatusOutForDelivery:
			return 1
		}
		return 0
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return ra > rb
	}
	return a > b
}

// history returns the union of cur and, when present, add: de-duplicated by
// (at, status, location) and sorted by time. It never returns cur's backing
// array.
func history(cur, add []signoff.TrackingEvent, present bool) []signoff.TrackingEvent {
	if !present || len(add) == 0 {
		return slices.Clone(cur)
	}
	all := make([]signoff.TrackingEvent, 0, len(cur)+len(add))
	all = append(all, cur...)
	all = append(all, add...)
	slices.SortStableFunc(all, compareEvents)
	return slices.CompactFunc(all, func(a, b signoff.TrackingEvent) bool { return compareEvents(a, b) == 0 })
}

func compareEvents(a, b signoff.TrackingEvent) int {
	return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Status, b.Status), cmp.Compare(a.Location, b.Location))
}

// same reports whether a and b hold the same facts and history, ignoring
// AsOf and Version.
func same(a, b signoff.Delivery) bool {
	return a.ID == b.ID &&
		a.Recipient == b.Recipient &&
		a.Courier == b.Courier &&
		a.Address == b.Address &&
		sameTime(a.ETA, b.ETA) &&
		a.Status == b.Status &&
		a.DeclaredValueCents == b.DeclaredValueCents &&
		a.RequiresSignature == b.RequiresSignature &&
		(a.PickupStation == nil) == (b.PickupStation == nil) &&
		(a.PickupStation == nil || *a.PickupStation == *b.PickupStation) &&
		a.LastLocation == b.LastLocation &&
		a.FailureReason == b.FailureReason &&
		slices.EqualFunc(a.Events, b.Events, func(x, y signoff.TrackingEvent) bool {
			return compareEvents(x, y) == 0
		})
}

// sameTime reports whether a and b are the same instant told in the same
// offset, since an ETA is read out in its own offset when the recipient has
// no time zone.
func sameTime(a, b time.Time) bool {
	_, oa := a.Zone()
	_, ob := b.Zone()
	return a.Equal(b) && oa == ob
}
