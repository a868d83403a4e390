package knowledge

import (
	"cmp"
	"maps"
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
	FieldChannel           = "channel"
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
// history; AsOf, Version and Stamps alone do not count). It is pure: cur is
// not modified and next shares no memory with it, Stamps included.
//
// Each field is taken from the newest event that carried it. next.Stamps
// records, per field, the timestamp of the event its value came from, and an
// event older than that stamp leaves the field alone:
//   - An event carries the fields named in ev.Present, even with an empty
//     value ("address": "" clears the address). Recipient, Courier and
//     PickupStation are merged field by field, stamped as "recipient.phone",
//     "courier.id", "pickup_station.hours" and so on, and an empty sub-field
//     there means "not said", not "clear".
//   - The status is ev's own, or the one its type implies (ImpliedStatus);
//     an event that implies none carries no status. So a terminal status is
//     never replaced by an older event's, and a newer out_for_delivery after
//     failed is a second attempt.
//   - requires_signature and declared_value_cents follow the same rule: the
//     newest event to mention them decides, and may lower them. (The former
//     rule that a late event could still make the parcel more guarded is
//     gone: mixed with "newest wins" it made the result depend on arrival
//     order, and it let a stale event overrule the order system's latest
//     word.)
//   - FailureReason belongs to the failed status. It is taken only from an
//     event whose status is failed; any event with another status clears it
//     as of its timestamp. A second attempt therefore clears the reason,
//     while a failure restated without a reason keeps it.
//   - At equal timestamps the values themselves decide, so that it does not
//     matter which event came first: the further status (delivered, failed,
//     arriving, out_for_delivery, others by name); true and the larger
//     amount for requires_signature and declared_value_cents; the later ETA
//     (then the larger offset, then the zone's name); the clear for
//     failure_reason (so a failed event's reason is lost only to an event
//     with another status at the very same instant); the greater string for
//     every other field, so that a value beats a clear.
//   - Tracking events are a union, whatever the event's age, de-duplicated
//     by (at, status, location) and sorted by time. Of duplicates told in
//     different offsets the one with the smaller offset is kept.
//   - next.AsOf is the later of cur.AsOf and ev.Timestamp (of two
//     timestamps for the same instant, the one with the smaller offset);
//     next.ID is cur.ID, or ev's when cur has none; next.Version is
//     cur.Version.
//
// Hence the final facts are the same for every arrival order of the same set
// of events: every field ends up as the greatest, by (timestamp, the tie
// order above), of the values the events carried for it, and a greatest
// element does not depend on the order it is looked for in. (For
// failure_reason the clear that comes with every status other than failed,
// winning ties, makes the reason already empty whenever the status is not
// failed, so tying it to the status discards nothing a later event could
// need.) Replaying an event changes nothing. Two caveats. The guarantee covers what Merge
// returns, so a caller must keep next whenever its AsOf or Stamps moved,
// even when changed is false: dropping it forgets that a newer event
// repeated a value, and an older event arriving later then wins. And facts
// stored before Stamps existed give each field that holds a value but has
// no stamp the stamp cur.AsOf, which is what the former rules assumed (an
// event before AsOf only fills empty fields); from then on the rules above
// apply.
func Merge(cur signoff.Delivery, ev signoff.OrderEvent) (next signoff.Delivery, changed bool) {
	in := ev.Delivery
	has := func(name string) bool { return ev.Present[name] }

	next = cur
	if next.ID == "" {
		next.ID = in.ID
	}
	next.AsOf = latest(cur.AsOf, ev.Timestamp)
	m := merger{at: ev.Timestamp, stamps: maps.Clone(cur.Stamps)}
	if m.stamps == nil {
		m.stamps = make(map[string]time.Time)
	}
	unstamped(cur, m.stamps)

	if has(FieldRecipient) {
		r, c := &next.Recipient, in.Recipient
		part(&m, FieldRecipient+".name", &r.Name, c.Name)
		part(&m, FieldRecipient+".phone", &r.Phone, c.Phone)
		part(&m, FieldRecipient+".locale", &r.Locale, c.Locale)
		part(&m, FieldRecipient+".time_zone", &r.TimeZone, c.TimeZone)
		part(&m, FieldRecipient+".wechat_openid", &r.WeChatOpenID, c.WeChatOpenID)
	}
	if has(FieldCourier) {
		r, c := &next.Courier, in.Courier
		part(&m, FieldCourier+".id", &r.ID, c.ID)
		part(&m, FieldCourier+".name", &r.Name, c.Name)
		part(&m, FieldCourier+".phone", &r.Phone, c.Phone)
	}
	if cur.PickupStation != nil {
		s := *cur.PickupStation
		next.PickupStation = &s
	}
	if has(FieldPickupStation) && in.PickupStation != nil {
		if next.PickupStation == nil {
			next.PickupStation = new(signoff.Station)
		}
		s, c := next.PickupStation, in.PickupStation
		part(&m, FieldPickupStation+".name", &s.Name, c.Name)
		part(&m, FieldPickupStation+".address", &s.Address, c.Address)
		part(&m, FieldPickupStation+".hours", &s.Hours, c.Hours)
	}

	if has(FieldAddress) {
		set(&m, FieldAddress, &next.Address, in.Address, greater)
	}
	if has(FieldETA) {
		set(&m, FieldETA, &next.ETA, in.ETA, laterTime)
	}
	if has(FieldDeclaredValue) {
		set(&m, FieldDeclaredValue, &next.DeclaredValueCents, in.DeclaredValueCents, greater)
	}
	if has(FieldRequiresSignature) {
		set(&m, FieldRequiresSignature, &next.RequiresSignature, in.RequiresSignature, func(cur, ev bool) bool { return ev && !cur })
	}
	if has(FieldChannel) {
		set(&m, FieldChannel, &next.Channel, in.Channel, greater)
	}
	if has(FieldLastLocation) {
		set(&m, FieldLastLocation, &next.LastLocation, in.LastLocation, greater)
	}

	status := ImpliedStatus(ev.Type)
	if has(FieldStatus) && in.Status != "" {
		status = in.Status
	}
	if status != "" {
		set(&m, FieldStatus, &next.Status, status, func(cur, ev string) bool { return further(ev, cur) })
		switch {
		case status != signoff.StatusFailed:
			set(&m, FieldFailureReason, &next.FailureReason, "", clearFirst)
		case has(FieldFailureReason):
			set(&m, FieldFailureReason, &next.FailureReason, in.FailureReason, clearFirst)
		}
	}
	if next.Status != signoff.StatusFailed {
		// Already so for facts built by Merge; this covers facts stored
		// before Stamps.
		next.FailureReason = ""
	}

	next.Stamps = m.stamps
	if len(next.Stamps) == 0 {
		next.Stamps = nil
	}
	next.Events = history(cur.Events, in.Events, has(FieldEvents))
	return next, !same(cur, next)
}

// merger applies the fields of one event, stamped at, to facts whose field
// stamps are stamps.
type merger struct {
	at     time.Time
	stamps map[string]time.Time
}

// set stores the event's value ev for the field called name in *dst, and
// stamps the field, when the event is newer than the field's stamp, or just
// as new and wins(*dst, ev). wins is the tie order: it must be a strict total
// order on the values for the result not to depend on arrival order. A field
// without a stamp takes any value.
func set[T any](m *merger, name string, dst *T, ev T, wins func(cur, ev T) bool) {
	stamp, ok := m.stamps[name]
	switch {
	case !ok, m.at.After(stamp):
	case m.at.Equal(stamp) && wins(*dst, ev):
	default:
		return
	}
	*dst = ev
	// UTC, without a monotonic reading: the same instant is stored the same
	// way whichever event stamped it.
	m.stamps[name] = m.at.UTC()
}

// part is set for a sub-field of Recipient, Courier or PickupStation, where
// an empty value in the event means the event did not say.
func part[T ~string](m *merger, name string, dst *T, ev T) {
	if ev != "" {
		set(m, name, dst, ev, greater)
	}
}

// unstamped gives every field of d that holds a value but has no stamp —
// facts stored before Stamps existed — the stamp d.AsOf in stamps, as does
// failure_reason when a status other than failed is set. Fields without a
// value stay unstamped: any event fills them.
func unstamped(d signoff.Delivery, stamps map[string]time.Time) {
	stamp := func(name string, empty bool) {
		if _, ok := stamps[name]; !ok && !empty {
			stamps[name] = d.AsOf.UTC()
		}
	}
	r, c := d.Recipient, d.Courier
	stamp(FieldRecipient+".name", r.Name == "")
	stamp(FieldRecipient+".phone", r.Phone == "")
	stamp(FieldRecipient+".locale", r.Locale == "")
	stamp(FieldRecipient+".time_zone", r.TimeZone == "")
	stamp(FieldRecipient+".wechat_openid", r.WeChatOpenID == "")
	stamp(FieldCourier+".id", c.ID == "")
	stamp(FieldCourier+".name", c.Name == "")
	stamp(FieldCourier+".phone", c.Phone == "")
	if s := d.PickupStation; s != nil {
		stamp(FieldPickupStation+".name", s.Name == "")
		stamp(FieldPickupStation+".address", s.Address == "")
		stamp(FieldPickupStation+".hours", s.Hours == "")
	}
	stamp(FieldAddress, d.Address == "")
	stamp(FieldETA, d.ETA.IsZero())
	stamp(FieldStatus, d.Status == "")
	stamp(FieldDeclaredValue, d.DeclaredValueCents == 0)
	stamp(FieldRequiresSignature, !d.RequiresSignature)
	stamp(FieldLastLocation, d.LastLocation == "")
	stamp(FieldChannel, d.Channel == "")
	// A status other than failed cleared the reason when it was set.
	stamp(FieldFailureReason, d.FailureReason == "" && (d.Status == "" || d.Status == signoff.StatusFailed))
}

// greater is the tie order of most fields: the greater value wins, so a
// value beats a clear ("" or 0).
func greater[T cmp.Ordered](cur, ev T) bool { return ev > cur }

// clearFirst is the tie order of failure_reason: a clear wins, so that a
// status other than failed at the same instant leaves no reason behind;
// between two reasons the greater wins.
func clearFirst(cur, ev string) bool {
	if cur == "" || ev == "" {
		return ev == "" && cur != ""
	}
	return ev > cur
}

// laterTime is the tie order of the ETA: the later instant wins, then the
// larger offset, then the zone's name.
func laterTime(cur, ev time.Time) bool { return compareTime(ev, cur) > 0 }

// compareTime orders instants, then, for the same instant, offsets and zone
// names.
func compareTime(a, b time.Time) int {
	na, oa := a.Zone()
	nb, ob := b.Zone()
	return cmp.Or(a.Compare(b), cmp.Compare(oa, ob), cmp.Compare(na, nb))
}

// latest returns the later of a and b; of two times for the same instant,
// the one with the smaller offset (then zone name).
func latest(a, b time.Time) time.Time {
	if c := a.Compare(b); c > 0 || c == 0 && compareTime(a, b) <= 0 {
		return a
	}
	return b
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
// (at, status, location) and sorted by time. Of duplicates it keeps the one
// first by compareTime, whichever list it came from. It never returns cur's
// backing array.
func history(cur, add []signoff.TrackingEvent, present bool) []signoff.TrackingEvent {
	if !present || len(add) == 0 {
		return slices.Clone(cur)
	}
	all := make([]signoff.TrackingEvent, 0, len(cur)+len(add))
	all = append(all, cur...)
	all = append(all, add...)
	slices.SortFunc(all, func(a, b signoff.TrackingEvent) int {
		return cmp.Or(compareEvents(a, b), compareTime(a.At, b.At))
	})
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
		a.Channel == b.Channel &&
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
