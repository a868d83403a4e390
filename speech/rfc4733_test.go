package speech

import (
	"bytes"
	"errors"
	"testing"

	"github.com/signoff/signoff"
)

func TestParseTelephoneEvent(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    TelephoneEvent
		key     byte
		wantErr bool
	}{
		// RFC 4733 section 2.3 layout: event, E|R|volume, duration.
		{"key 5 start", []byte{5, 10, 0, 0}, TelephoneEvent{Event: 5, Volume: 10}, '5', false},
		{"key # end", []byte{11, 0x80 | 7, 0x03, 0x20}, TelephoneEvent{Event: 11, End: true, Volume: 7, Duration: 800}, '#', false},
		{"key * ", []byte{10, 63, 0xFF, 0xFF}, TelephoneEvent{Event: 10, Volume: 63, Duration: 0xFFFF}, '*', false},
		{"key D, reserved bit ignored", []byte{15, 0x40 | 0x80, 0, 160}, TelephoneEvent{Event: 15, End: true, Duration: 160}, 'D', false},
		{"flash", []byte{16, 0, 1, 0}, TelephoneEvent{Event: 16, Duration: 256}, 0, false},
		{"RTP padding left in", []byte{0, 10, 0, 160, 0, 0, 0, 4}, TelephoneEvent{Event: 0, Volume: 10, Duration: 160}, '0', false},
		{"empty", nil, TelephoneEvent{}, 0, true},
		{"3 bytes", []byte{1, 2, 3}, TelephoneEvent{}, 0, true},
		{"event 17", []byte{17, 0, 0, 0}, TelephoneEvent{}, 0, true},
		{"fax tone (RFC 4734)", []byte{32, 0, 0, 0}, TelephoneEvent{}, 0, true},
		{"event 255", []byte{255, 0, 0, 0}, TelephoneEvent{}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTelephoneEvent(tt.payload)
			if tt.wantErr {
				if !errors.Is(err, signoff.ErrInvalid) {
					t.Fatalf("got %+v, %v; want an error of kind ErrInvalid", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
			key, ok := got.Key()
			if key != tt.key || ok != (tt.key != 0) {
				t.Errorf("Key: got %q, %v; want %q", key, ok, tt.key)
			}
			b, err := got.Marshal()
			if err != nil || !bytes.Equal(b, []byte{tt.payload[0], tt.payload[1] &^ 0x40, tt.payload[2], tt.payload[3]}) {
				t.Errorf("Marshal: got % x, %v; want % x without the reserved bit", b, err, tt.payload[:4])
			}
		})
	}
}

func TestTelephoneEventMarshalErrors(t *testing.T) {
	for _, ev := range []TelephoneEvent{{Event: 17}, {Event: 5, Volume: 64}} {
		if _, err := ev.Marshal(); !errors.Is(err, signoff.ErrInvalid) {
			t.Errorf("Marshal(%+v): got %v, want ErrInvalid", ev, err)
		}
	}
	if _, err := (TelephoneEvent{Event: 1}).MarshalTo(make([]byte, 3)); !errors.Is(err, signoff.ErrInvalid) {
		t.Errorf("MarshalTo(3 bytes): got %v, want ErrInvalid", err)
	}
}

func TestEventForKey(t *testing.T) {
	for i, k := range []byte(eventKeys) {
		if ev, ok := EventForKey(k); !ok || int(ev) != i {
			t.Errorf("EventForKey(%q): got %d, %v; want %d", k, ev, ok, i)
		}
	}
	if ev, ok := EventForKey('c'); !ok || ev != 14 {
		t.Errorf("EventForKey('c'): got %d, %v; want 14", ev, ok)
	}
	for _, k := range []byte{'E', 'x', 0, '+'} {
		if _, ok := EventForKey(k); ok {
			t.Errorf("EventForKey(%q): got ok", k)
		}
	}
}

// pkt is one RTP packet of a telephone event: its timestamp and payload.
type pkt struct {
	ts uint32
	ev TelephoneEvent
}

// press returns the packets a browser sends for one key press starting at
// ts and lasting dur units: one every 20 ms (160 units), then three end
// packets.
func press(key byte, ts uint32, dur uint16) []pkt {
	code, _ := EventForKey(key)
	var ps []pkt
	for d := 0; d < int(dur); d += 160 {
		ps = append(ps, pkt{ts, TelephoneEvent{Event: code, Volume: 10, Duration: uint16(d)}})
	}
	ps = append(ps, pkt{ts, TelephoneEvent{Event: code, Volume: 10, Duration: dur}})
	for range 3 {
		ps = append(ps, pkt{ts, TelephoneEvent{Event: code, End: true, Volume: 10, Duration: dur}})
	}
	return ps
}

func TestEventDeduper(t *testing.T) {
	p1 := press('1', 8000, 800)
	p2 := press('2', 16000, 800)
	p1b := press('1', 24000, 800)
	long1 := press('5', 40000, 0xFFFF)
	long1 = long1[:len(long1)-3] // no end: it goes on
	long2 := press('5', 40000+0xFFFF, 4000)
	tests := []struct {
		name string
		pkts []pkt
		want string
	}{
		{"one press", p1, "1"},
		{"three presses, the same key twice", cat2(p1, p2, p1b), "121"},
		{"only the end packets arrive", p1[len(p1)-3:], "1"},
		{"everything twice (retransmits)", cat2(p1, p1, p2, p2), "12"},
		{"a late retransmit of an earlier event", cat2(p1, p2, p1[len(p1)-1:]), "12"},
		{"reordered", cat2(p2[:2], p1, p2[2:]), "21"},
		{"a press held past 0xFFFF units is one press", cat2(long1, long2), "5"},
		{"flash is not a key", []pkt{{100, TelephoneEvent{Event: EventFlash}}}, ""},
		{"the same key again without its end seen", cat2(p1[:2], press('1', 9600, 800)), "11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d EventDeduper
			var got []byte
			for _, p := range tt.pkts {
				if k, ok := d.Push(p.ts, p.ev); ok {
					got = append(got, k)
				}
			}
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func cat2(ps ...[]pkt) []pkt {
	var out []pkt
	for _, p := range ps {
		out = append(out, p...)
	}
	return out
}

func FuzzParseTelephoneEvent(f *testing.F) {
	for _, seed := range [][]byte{{5, 10, 0, 0}, {11, 0x87, 3, 32}, {16, 0, 0, 0}, {17, 0, 0, 0}, {1, 2, 3}, {}, {0, 0xFF, 0xFF, 0xFF, 0xFF}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := ParseTelephoneEvent(payload)
		if err != nil {
			if !errors.Is(err, signoff.ErrInvalid) {
				t.Fatalf("error %v is not of kind ErrInvalid", err)
			}
			return
		}
		b, err := ev.Marshal()
		if err != nil {
			t.Fatalf("Marshal(%+v) of a parsed payload: %v", ev, err)
		}
		if want := []byte{payload[0], payload[1] &^ 0x40, payload[2], payload[3]}; !bytes.Equal(b, want) {
			t.Fatalf("round trip: got % x, want % x", b, want)
		}
		back, err := ParseTelephoneEvent(b)
		if err != nil || back != ev {
			t.Fatalf("reparse: got %+v, %v; want %+v", back, err, ev)
		}
		var d EventDeduper
		k1, ok1 := d.Push(1, ev)
		if _, ok := d.Push(1, ev); ok {
			t.Fatalf("a second packet of the same event was reported")
		}
		if key, isKey := ev.Key(); ok1 != isKey || k1 != key {
			t.Fatalf("first packet: got %q, %v; want %q, %v", k1, ok1, key, isKey)
		}
	})
}
