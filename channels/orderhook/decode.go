package orderhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/knowledge"
)

// maxDeliveryID bounds data.delivery_id, which becomes part of store keys.
const maxDeliveryID = 128

// Decode parses a webhook body, {"type": ..., "timestamp": RFC 3339,
// "data": {...}}, into an order event. WebhookID is left empty for the caller
// to fill in from the webhook-id header.
//
// Present holds the JSON name of every Delivery field the body carried; a
// field that is null counts as absent. data.reason (only with
// delivery.failed) becomes FailureReason, present as "failure_reason".
// recipient.locale is mapped onto a spoken locale (signoff.ParseLocale).
// data.channel (web, sms or wechat) chooses the delivery's channel; an
// opening event on wechat must carry data.recipient.wechat_openid.
// Unknown fields are ignored, for forward compatibility.
//
// Every error is a *signoff.Error of kind signoff.ErrInvalid with code
// bad_json, unknown_type, missing_field or bad_field. Its message names the
// offending field and never quotes a value, which may be personal data.
func Decode(body []byte) (signoff.OrderEvent, error) {
	var ev signoff.OrderEvent
	top, err := parseObject(body)
	if err != nil {
		return signoff.OrderEvent{}, signoff.Wrap(signoff.ErrInvalid, "bad_json", "the body must be a JSON object", err)
	}
	d := decoder{present: signoff.Fields{}}

	typ, ok := d.str(top, "type", "type")
	switch {
	case d.err != nil:
		return signoff.OrderEvent{}, d.err
	case !ok:
		return signoff.OrderEvent{}, signoff.Errorf(signoff.ErrInvalid, "missing_field", "type is required")
	case !signoff.EventType(typ).Valid():
		return signoff.OrderEvent{}, signoff.Errorf(signoff.ErrInvalid, "unknown_type",
			"type must be one of %s, %s, %s, %s, %s", signoff.EventOutForDelivery, signoff.EventArriving,
			signoff.EventUpdated, signoff.EventDelivered, signoff.EventFailed)
	}
	ev.Type = signoff.EventType(typ)
	if ev.Timestamp, ok = d.time(top, "timestamp", "timestamp"); d.err == nil && !ok {
		d.missing("timestamp")
	}
	data, ok := d.object(top, "data", "data")
	if d.err == nil && !ok {
		d.missing("data")
	}
	if d.err != nil {
		return signoff.OrderEvent{}, d.err
	}
	ev.Delivery, ev.Present = d.delivery(data, ev.Type)
	if d.err != nil {
		return signoff.OrderEvent{}, d.err
	}
	return ev, nil
}

// decoder reads fields off JSON objects, keeping the first error.
type decoder struct {
	present signoff.Fields
	err     error
}

func (d *decoder) delivery(data map[string]json.RawMessage, typ signoff.EventType) (signoff.Delivery, signoff.Fields) {
	var del signoff.Delivery
	id, ok := d.str(data, "delivery_id", "data.delivery_id")
	switch {
	case d.err != nil:
		return del, nil
	case !ok || id == "":
		d.missing("data.delivery_id")
		return del, nil
	case len(id) > maxDeliveryID || strings.ContainsFunc(id, isControl):
		d.bad("data.delivery_id", fmt.Sprintf("must be at most %d bytes without control characters", maxDeliveryID))
		return del, nil
	}
	del.ID = signoff.DeliveryID(id)

	if r, ok := d.object(data, "recipient", "data.recipient"); ok {
		d.present[knowledge.FieldRecipient] = true
		name, _ := d.str(r, "name", "data.recipient.name")
		phone, hasPhone := d.str(r, "phone", "data.recipient.phone")
		locale, _ := d.str(r, "locale", "data.recipient.locale")
		tz, _ := d.str(r, "time_zone", "data.recipient.time_zone")
		openID, _ := d.str(r, "wechat_openid", "data.recipient.wechat_openid")
		del.Recipient = signoff.Recipient{Name: signoff.Private(name), Phone: signoff.Phone(phone), TimeZone: tz,
			WeChatOpenID: signoff.Private(openID)}
		if locale != "" {
			del.Recipient.Locale = signoff.ParseLocale(locale)
		}
		switch {
		case d.err != nil:
		case typ.Opens() && (!hasPhone || phone == ""):
			d.missing("data.recipient.phone")
		case hasPhone && !validPhone(phone):
			d.bad("data.recipient.phone", "must be a telephone number: digits, with an optional leading +, spaces, - or ()")
		case tz != "" && !validZone(tz):
			d.bad("data.recipient.time_zone", "must be an IANA time zone name such as Asia/Shanghai")
		case openID != "" && !validOpenID(openID):
			d.bad("data.recipient.wechat_openid", "must be 1 to 64 letters, digits, - or _")
		}
	} else if d.err == nil && typ.Opens() {
		d.missing("data.recipient")
	}

	if s, ok := d.str(data, "channel", "data.channel"); ok {
		del.Channel = signoff.DeliveryChannel(s)
		if d.err == nil && !del.Channel.Valid() {
			d.bad("data.channel", "must be web, sms or wechat")
		}
		d.present[knowledge.FieldChannel] = true
	}
	if d.err == nil && typ.Opens() && del.Channel == signoff.DeliveryWeChat && del.Recipient.WeChatOpenID == "" {
		d.missing("data.recipient.wechat_openid")
	}

	if c, ok := d.object(data, "courier", "data.courier"); ok {
		d.present[knowledge.FieldCourier] = true
		id, _ := d.str(c, "id", "data.courier.id")
		name, _ := d.str(c, "name", "data.courier.name")
		phone, hasPhone := d.str(c, "phone", "data.courier.phone")
		del.Courier = signoff.Courier{ID: id, Name: signoff.Private(name), Phone: signoff.Phone(phone)}
		if d.err == nil && hasPhone && phone != "" && !validPhone(phone) {
			d.bad("data.courier.phone", "must be a telephone number: digits, with an optional leading +, spaces, - or ()")
		}
	}

	if s, ok := d.str(data, "address", "data.address"); ok {
		d.present[knowledge.FieldAddress] = true
		del.Address = signoff.Private(s)
	}
	if t, ok := d.time(data, "eta", "data.eta"); ok {
		d.present[knowledge.FieldETA] = true
		del.ETA = t
	}
	if s, ok := d.str(data, "status", "data.status"); ok {
		d.present[knowledge.FieldStatus] = true
		del.Status = s
	}
	if raw, ok := field(data, "declared_value_cents"); ok && d.err == nil {
		if err := json.Unmarshal(raw, &del.DeclaredValueCents); err != nil || del.DeclaredValueCents < 0 {
			d.bad("data.declared_value_cents", "must be a whole number of cents, 0 or more")
		}
		d.present[knowledge.FieldDeclaredValue] = true
	}
	if raw, ok := field(data, "requires_signature"); ok && d.err == nil {
		if err := json.Unmarshal(raw, &del.RequiresSignature); err != nil {
			d.bad("data.requires_signature", "must be true or false")
		}
		d.present[knowledge.FieldRequiresSignature] = true
	}
	if s, ok := d.object(data, "pickup_station", "data.pickup_station"); ok {
		d.present[knowledge.FieldPickupStation] = true
		name, _ := d.str(s, "name", "data.pickup_station.name")
		addr, _ := d.str(s, "address", "data.pickup_station.address")
		hours, _ := d.str(s, "hours", "data.pickup_station.hours")
		del.PickupStation = &signoff.Station{Name: name, Address: addr, Hours: hours}
	}
	if s, ok := d.str(data, "last_location", "data.last_location"); ok {
		d.present[knowledge.FieldLastLocation] = true
		del.LastLocation = s
	}
	if raw, ok := field(data, "events"); ok && d.err == nil {
		d.present[knowledge.FieldEvents] = true
		del.Events = d.events(raw)
	}
	if typ == signoff.EventFailed {
		if s, ok := d.str(data, "reason", "data.reason"); ok {
			d.present[knowledge.FieldFailureReason] = true
			del.FailureReason = s
		}
	}
	return del, d.present
}

func (d *decoder) events(raw json.RawMessage) []signoff.TrackingEvent {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		d.bad("data.events", "must be a list of {at, status, location}")
		return nil
	}
	out := make([]signoff.TrackingEvent, 0, len(list))
	for i, item := range list {
		name := fmt.Sprintf("data.events[%d]", i)
		obj, err := parseObject(item)
		if err != nil {
			d.bad(name, "must be an object {at, status, location}")
			return nil
		}
		at, hasAt := d.time(obj, "at", name+".at")
		status, hasStatus := d.str(obj, "status", name+".status")
		location, _ := d.str(obj, "location", name+".location")
		switch {
		case d.err != nil:
			return nil
		case !hasAt:
			d.missing(name + ".at")
			return nil
		case !hasStatus || status == "":
			d.missing(name + ".status")
			return nil
		}
		out = append(out, signoff.TrackingEvent{At: at, Status: status, Location: location})
	}
	return out
}

// str reads a string field. ok is false when the field is absent or null,
// or after an error.
func (d *decoder) str(obj map[string]json.RawMessage, key, name string) (s string, ok bool) {
	raw, ok := field(obj, key)
	if !ok || d.err != nil {
		return "", false
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		d.bad(name, "must be a string")
		return "", false
	}
	return s, true
}

// time reads an RFC 3339 time field.
func (d *decoder) time(obj map[string]json.RawMessage, key, name string) (time.Time, bool) {
	raw, ok := field(obj, key)
	if !ok || d.err != nil {
		return time.Time{}, false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		d.bad(name, "must be an RFC 3339 time such as 2025-03-01T09:30:00+08:00")
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		d.bad(name, "must be an RFC 3339 time such as 2025-03-01T09:30:00+08:00")
		return time.Time{}, false
	}
	return t, true
}

// object reads a field that holds a JSON object.
func (d *decoder) object(obj map[string]json.RawMessage, key, name string) (map[string]json.RawMessage, bool) {
	raw, ok := field(obj, key)
	if !ok || d.err != nil {
		return nil, false
	}
	o, err := parseObject(raw)
	if err != nil {
		d.bad(name, "must be an object")
		return nil, false
	}
	return o, true
}

func (d *decoder) missing(name string) {
	if d.err == nil {
		d.err = signoff.Errorf(signoff.ErrInvalid, "missing_field", "%s is required", name)
	}
}

func (d *decoder) bad(name, what string) {
	if d.err == nil {
		d.err = signoff.Errorf(signoff.ErrInvalid, "bad_field", "%s %s", name, what)
	}
}

// field returns obj[key] unless it is absent or null.
func field(obj map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	raw, ok := obj[key]
	if !ok || bytes.Equal(raw, []byte("null")) {
		return nil, false
	}
	return raw, true
}

// parseObject decodes a JSON object into its raw members. null, arrays and
// scalars are errors.
func parseObject(b []byte) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, fmt.Errorf("null, not an object")
	}
	return obj, nil
}

// validPhone accepts what a dialler can use: digits, an optional leading +,
// and the separators people write (spaces, -, parentheses); 5 to 20 digits.
func validPhone(s string) bool {
	if len(s) > 32 {
		return false
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '(' || r == ')':
		default:
			return false
		}
	}
	return digits >= 5 && digits <= 20
}

// validZone reports whether name is an IANA zone that loads. "Local" (the
// server's own zone) is refused: it means nothing to the order system.
func validZone(name string) bool {
	if name == "Local" || len(name) > 64 {
		return false
	}
	_, err := time.LoadLocation(name)
	return err == nil
}

// validOpenID accepts what WeChat issues as an OpenID: letters, digits, -
// and _, at most 64 bytes.
func validOpenID(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
