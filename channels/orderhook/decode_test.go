package orderhook

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signoff/signoff"
)

const fullBody = `{
  "type": "delivery.out_for_delivery",
  "timestamp": "2025-03-01T09:00:00+08:00",
  "id": "evt_1", "future_top_level": {"x": 1},
  "data": {
    "delivery_id": "D-1001",
    "recipient": {"name": "王芳", "phone": "+86 139-0000-0000", "locale": "zh-Hans-CN", "time_zone": "Asia/Shanghai", "nickname": "ignored"},
    "courier": {"id": "c-7", "name": "李师傅", "phone": "13811112222"},
    "address": "幸福路 9 号",
    "eta": "2025-03-01T10:30:00+08:00",
    "status": "out_for_delivery",
    "declared_value_cents": 129900,
    "requires_signature": true,
    "pickup_station": {"name": "菜鸟驿站", "address": "幸福路 1 号", "hours": "08:00-21:00"},
    "last_location": "Hub",
    "events": [{"at": "2025-03-01T08:50:00+08:00", "status": "out_for_delivery", "location": "Hub"},
               {"at": "2025-03-01T07:00:00+08:00", "status": "picked_up"}],
    "reason": "ignored unless failed",
    "future_field": [1, 2, 3]
  }
}`

func TestDecodeFull(t *testing.T) {
	ev, err := Decode([]byte(fullBody))
	if err != nil {
		t.Fatal(err)
	}
	cst := time.FixedZone("", 8*3600)
	want := signoff.OrderEvent{
		Type:      signoff.EventOutForDelivery,
		Timestamp: time.Date(2025, 3, 1, 9, 0, 0, 0, cst),
		Delivery: signoff.Delivery{
			ID:                 "D-1001",
			Recipient:          signoff.Recipient{Name: "王芳", Phone: "+86 139-0000-0000", Locale: signoff.LocaleZH, TimeZone: "Asia/Shanghai"},
			Courier:            signoff.Courier{ID: "c-7", Name: "李师傅", Phone: "13811112222"},
			Address:            "幸福路 9 号",
			ETA:                time.Date(2025, 3, 1, 10, 30, 0, 0, cst),
			Status:             "out_for_delivery",
			DeclaredValueCents: 129900,
			RequiresSignature:  true,
			PickupStation:      &signoff.Station{Name: "菜鸟驿站", Address: "幸福路 1 号", Hours: "08:00-21:00"},
			LastLocation:       "Hub",
			Events: []signoff.TrackingEvent{
				{At: time.Date(2025, 3, 1, 8, 50, 0, 0, cst), Status: "out_for_delivery", Location: "Hub"},
				{At: time.Date(2025, 3, 1, 7, 0, 0, 0, cst), Status: "picked_up"},
			},
		},
		Present: signoff.Fields{"recipient": true, "courier": true, "address": true, "eta": true, "status": true,
			"declared_value_cents": true, "requires_signature": true, "pickup_station": true, "last_location": true, "events": true},
	}
	if !ev.Timestamp.Equal(want.Timestamp) || !ev.Delivery.ETA.Equal(want.Delivery.ETA) {
		t.Errorf("times: got %v, %v, want %v, %v", ev.Timestamp, ev.Delivery.ETA, want.Timestamp, want.Delivery.ETA)
	}
	if g, w := jsonOf(t, ev), jsonOf(t, want); g != w {
		t.Errorf("event:\n got %s\nwant %s", g, w)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// body builds a webhook body of type typ whose data is the JSON object data.
func body(typ, data string) []byte {
	return []byte(`{"type":"` + typ + `","timestamp":"2025-03-01T09:00:00Z","data":` + data + `}`)
}

func TestDecodePresent(t *testing.T) {
	tests := []struct {
		name    string
		body    []byte
		present []string
		check   func(t *testing.T, ev signoff.OrderEvent)
	}{{
		name: "only the delivery id",
		body: body("delivery.updated", `{"delivery_id":"D1"}`),
	}, {
		name:    "empty values are present, null ones absent",
		body:    body("delivery.updated", `{"delivery_id":"D1","address":"","last_location":null,"declared_value_cents":0,"requires_signature":false,"eta":null,"events":[]}`),
		present: []string{"address", "declared_value_cents", "requires_signature", "events"},
	}, {
		name:    "opening event with only a phone",
		body:    body("delivery.arriving", `{"delivery_id":"D1","recipient":{"phone":"13900000000"}}`),
		present: []string{"recipient"},
		check: func(t *testing.T, ev signoff.OrderEvent) {
			if ev.Delivery.Recipient != (signoff.Recipient{Phone: "13900000000"}) {
				t.Errorf("recipient: got %+v, want only the phone", ev.Delivery.Recipient)
			}
		},
	}, {
		name:    "locale is mapped onto a spoken one",
		body:    body("delivery.updated", `{"delivery_id":"D1","recipient":{"locale":"en-GB"}}`),
		present: []string{"recipient"},
		check: func(t *testing.T, ev signoff.OrderEvent) {
			if got := ev.Delivery.Recipient.Locale; got != signoff.LocaleEN {
				t.Errorf("locale: got %q, want %q", got, signoff.LocaleEN)
			}
		},
	}, {
		name:    "failed carries its reason",
		body:    body("delivery.failed", `{"delivery_id":"D1","reason":"address not found"}`),
		present: []string{"failure_reason"},
		check: func(t *testing.T, ev signoff.OrderEvent) {
			if got := ev.Delivery.FailureReason; got != "address not found" {
				t.Errorf("reason: got %q, want %q", got, "address not found")
			}
		},
	}, {
		name: "reason is ignored on other types",
		body: body("delivery.updated", `{"delivery_id":"D1","reason":"x"}`),
	}, {
		name:    "delivered with an explicit status",
		body:    body("delivery.delivered", `{"delivery_id":"D1","status":"delivered_to_neighbour"}`),
		present: []string{"status"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Decode(tt.body)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if ev.Delivery.ID != "D1" {
				t.Errorf("delivery id: got %q, want D1", ev.Delivery.ID)
			}
			if got := slices.Sorted(maps.Keys(ev.Present)); !slices.Equal(got, slices.Sorted(slices.Values(tt.present))) {
				t.Errorf("present: got %v, want %v", got, tt.present)
			}
			if tt.check != nil {
				tt.check(t, ev)
			}
		})
	}
}

// invalid are bodies Decode refuses, with the code and a part of the message
// that names the field. secret is a value that must not be echoed.
var invalid = []struct {
	name, body, code, field, secret string
}{
	{"not JSON", `{"type":`, "bad_json", "body", ""},
	{"an array", `[1,2]`, "bad_json", "body", ""},
	{"null", `null`, "bad_json", "body", ""},
	{"trailing garbage", `{"type":"delivery.updated"} x`, "bad_json", "body", ""},
	{"no type", `{"timestamp":"2025-03-01T09:00:00Z","data":{"delivery_id":"D1"}}`, "missing_field", "type", ""},
	{"type not a string", `{"type":7,"timestamp":"2025-03-01T09:00:00Z","data":{"delivery_id":"D1"}}`, "bad_field", "type", ""},
	{"unknown type", `{"type":"delivery.teleported","timestamp":"2025-03-01T09:00:00Z","data":{"delivery_id":"D1"}}`, "unknown_type", "type", "teleported"},
	{"no timestamp", `{"type":"delivery.updated","data":{"delivery_id":"D1"}}`, "missing_field", "timestamp", ""},
	{"bad timestamp", `{"type":"delivery.updated","timestamp":"yesterday-ish","data":{"delivery_id":"D1"}}`, "bad_field", "timestamp", "yesterday-ish"},
	{"no data", `{"type":"delivery.updated","timestamp":"2025-03-01T09:00:00Z"}`, "missing_field", "data", ""},
	{"data not an object", `{"type":"delivery.updated","timestamp":"2025-03-01T09:00:00Z","data":"D1"}`, "bad_field", "data", ""},
	{"no delivery id", string(body("delivery.updated", `{"address":"x"}`)), "missing_field", "data.delivery_id", ""},
	{"empty delivery id", string(body("delivery.updated", `{"delivery_id":""}`)), "missing_field", "data.delivery_id", ""},
	{"delivery id a number", string(body("delivery.updated", `{"delivery_id":42}`)), "bad_field", "data.delivery_id", ""},
	{"delivery id too long", string(body("delivery.updated", `{"delivery_id":"`+strings.Repeat("x", 129)+`"}`)), "bad_field", "data.delivery_id", "xxxx"},
	{"opening without recipient", string(body("delivery.out_for_delivery", `{"delivery_id":"D1"}`)), "missing_field", "data.recipient", ""},
	{"opening without phone", string(body("delivery.arriving", `{"delivery_id":"D1","recipient":{"name":"Wang Fang"}}`)), "missing_field", "data.recipient.phone", "Wang Fang"},
	{"opening with empty phone", string(body("delivery.arriving", `{"delivery_id":"D1","recipient":{"phone":""}}`)), "missing_field", "data.recipient.phone", ""},
	{"recipient not an object", string(body("delivery.updated", `{"delivery_id":"D1","recipient":"Wang Fang"}`)), "bad_field", "data.recipient", "Wang Fang"},
	{"phone not a number", string(body("delivery.arriving", `{"delivery_id":"D1","recipient":{"phone":"call me maybe"}}`)), "bad_field", "data.recipient.phone", "call me maybe"},
	{"courier phone not a number", string(body("delivery.updated", `{"delivery_id":"D1","courier":{"phone":"x1390000000"}}`)), "bad_field", "data.courier.phone", "x1390000000"},
	{"bad time zone", string(body("delivery.updated", `{"delivery_id":"D1","recipient":{"time_zone":"Mars/Olympus_Mons"}}`)), "bad_field", "data.recipient.time_zone", "Mars"},
	{"Local time zone", string(body("delivery.updated", `{"delivery_id":"D1","recipient":{"time_zone":"Local"}}`)), "bad_field", "data.recipient.time_zone", ""},
	{"bad eta", string(body("delivery.updated", `{"delivery_id":"D1","eta":"2025-03-01 10:30"}`)), "bad_field", "data.eta", "10:30"},
	{"eta a number", string(body("delivery.updated", `{"delivery_id":"D1","eta":1740000000}`)), "bad_field", "data.eta", "1740000000"},
	{"address a number", string(body("delivery.updated", `{"delivery_id":"D1","address":12}`)), "bad_field", "data.address", ""},
	{"negative value", string(body("delivery.updated", `{"delivery_id":"D1","declared_value_cents":-1}`)), "bad_field", "data.declared_value_cents", ""},
	{"fractional value", string(body("delivery.updated", `{"delivery_id":"D1","declared_value_cents":12.5}`)), "bad_field", "data.declared_value_cents", "12.5"},
	{"value as a string", string(body("delivery.updated", `{"delivery_id":"D1","declared_value_cents":"100"}`)), "bad_field", "data.declared_value_cents", ""},
	{"signature as a string", string(body("delivery.updated", `{"delivery_id":"D1","requires_signature":"yes"}`)), "bad_field", "data.requires_signature", "yes"},
	{"station not an object", string(body("delivery.updated", `{"delivery_id":"D1","pickup_station":[]}`)), "bad_field", "data.pickup_station", ""},
	{"events not a list", string(body("delivery.updated", `{"delivery_id":"D1","events":{}}`)), "bad_field", "data.events", ""},
	{"event without time", string(body("delivery.updated", `{"delivery_id":"D1","events":[{"status":"x"}]}`)), "missing_field", "data.events[0].at", ""},
	{"event with bad time", string(body("delivery.updated", `{"delivery_id":"D1","events":[{"at":"2025-03-01T09:00:00Z","status":"a"},{"at":"noon","status":"b"}]}`)), "bad_field", "data.events[1].at", "noon"},
	{"event without status", string(body("delivery.updated", `{"delivery_id":"D1","events":[{"at":"2025-03-01T09:00:00Z"}]}`)), "missing_field", "data.events[0].status", ""},
	{"event not an object", string(body("delivery.updated", `{"delivery_id":"D1","events":["scan"]}`)), "bad_field", "data.events[0]", "scan"},
}

func TestDecodeInvalid(t *testing.T) {
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Decode([]byte(tt.body))
			if err == nil {
				t.Fatalf("Decode: got %+v, want error %s", ev, tt.code)
			}
			var e *signoff.Error
			if !errors.As(err, &e) {
				t.Fatalf("error: got %T %v, want *signoff.Error", err, err)
			}
			if !errors.Is(err, signoff.ErrInvalid) {
				t.Errorf("kind: got %v, want ErrInvalid", e.Kind)
			}
			if e.Code != tt.code {
				t.Errorf("code: got %q, want %q (message %q)", e.Code, tt.code, e.Message)
			}
			if !strings.Contains(e.Message, tt.field) {
				t.Errorf("message: got %q, want it to name %q", e.Message, tt.field)
			}
			if tt.secret != "" && strings.Contains(e.Message, tt.secret) {
				t.Errorf("message %q repeats the value %q", e.Message, tt.secret)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(fullBody))
	f.Add(body("delivery.updated", `{"delivery_id":"D1","address":"","eta":null}`))
	f.Add(body("delivery.failed", `{"delivery_id":"D1","reason":"x","events":[{"at":"2025-03-01T09:00:00Z","status":"failed"}]}`))
	for _, tt := range invalid {
		f.Add([]byte(tt.body))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := Decode(b)
		if err != nil {
			var e *signoff.Error
			if !errors.As(err, &e) || !errors.Is(err, signoff.ErrInvalid) || e.Code == "" || e.Message == "" {
				t.Fatalf("error %v: want a *signoff.Error of kind ErrInvalid with a code and a message", err)
			}
			return
		}
		if !ev.Type.Valid() {
			t.Fatalf("decoded type %q is not valid", ev.Type)
		}
		if ev.Delivery.ID == "" {
			t.Fatal("decoded an event without a delivery id")
		}
		if ev.Type.Opens() && ev.Delivery.Recipient.Phone == "" {
			t.Fatal("decoded an opening event without a recipient phone")
		}
		if ev.Delivery.DeclaredValueCents < 0 {
			t.Fatalf("decoded a negative declared value %d", ev.Delivery.DeclaredValueCents)
		}
		if ev.WebhookID != "" {
			t.Fatalf("Decode set WebhookID %q", ev.WebhookID)
		}
	})
}
