package speech

import (
	"encoding/binary"

	"github.com/signoff/signoff"
)

// RFC 4733 telephone events ("telephone-event/8000" in SDP): keypad presses
// sent as RTP packets beside the audio rather than as tones inside it, which
// is how browsers (RTCDTMFSender) and SIP gateways send them.

// EventFlash is the event code of a hook flash, the only event besides the
// 16 keys that ParseTelephoneEvent accepts.
const EventFlash = 16

// eventKeys maps event codes 0-15 to keys (RFC 4733, section 3.2).
const eventKeys = "0123456789*#ABCD"

// A TelephoneEvent is the 4-byte payload of an RFC 4733 packet (section 2.3).
// Every packet of one event carries the RTP timestamp of its start; Duration
// grows from packet to packet and the last ones, usually sent three times,
// have End set.
type TelephoneEvent struct {
	Event    uint8  // 0-9, 10 '*', 11 '#', 12-15 'A'-'D', 16 flash
	End      bool   // the E bit: the event is over
	Volume   uint8  // power in -dBm0, 0 (loud) to 63 (quiet)
	Duration uint16 // so far, in RTP timestamp units (1/8000 s)
}

// ParseTelephoneEvent decodes an RFC 4733 payload: its first 4 bytes (a
// payload is not padded further, but RTP padding left in is ignored). A
// payload shorter than 4 bytes, or an event code above 16 (the modem, fax and
// line tones of RFC 4734, which Signoff has no use for), is an error of kind
// signoff.ErrInvalid. The reserved bit is ignored, as the RFC asks.
func ParseTelephoneEvent(payload []byte) (TelephoneEvent, error) {
	if len(payload) < 4 {
		return TelephoneEvent{}, signoff.Errorf(signoff.ErrInvalid, "short_telephone_event", "telephone-event payload of %d bytes, want 4", len(payload))
	}
	ev := TelephoneEvent{
		Event:    payload[0],
		End:      payload[1]&0x80 != 0,
		Volume:   payload[1] & 0x3F,
		Duration: binary.BigEndian.Uint16(payload[2:4]),
	}
	if ev.Event > EventFlash {
		return TelephoneEvent{}, signoff.Errorf(signoff.ErrInvalid, "unknown_telephone_event", "telephone-event %d is not a key", ev.Event)
	}
	return ev, nil
}

// Marshal returns the 4-byte payload of e. An event above 16 or a volume
// above 63 is an error of kind signoff.ErrInvalid.
func (e TelephoneEvent) Marshal() ([]byte, error) {
	b := make([]byte, 4)
	if _, err := e.MarshalTo(b); err != nil {
		return nil, err
	}
	return b, nil
}

// MarshalTo writes the 4-byte payload of e to buf and returns 4, without
// allocating; buf shorter than 4 bytes, an event above 16 or a volume above
// 63 is an error of kind signoff.ErrInvalid.
func (e TelephoneEvent) MarshalTo(buf []byte) (int, error) {
	switch {
	case len(buf) < 4:
		return 0, signoff.Errorf(signoff.ErrInvalid, "short_buffer", "telephone-event needs 4 bytes, got %d", len(buf))
	case e.Event > EventFlash:
		return 0, signoff.Errorf(signoff.ErrInvalid, "unknown_telephone_event", "telephone-event %d is not a key", e.Event)
	case e.Volume > 63:
		return 0, signoff.Errorf(signoff.ErrInvalid, "bad_telephone_event_volume", "telephone-event volume %d, want 0 to 63", e.Volume)
	}
	buf[0] = e.Event
	buf[1] = e.Volume
	if e.End {
		buf[1] |= 0x80
	}
	binary.BigEndian.PutUint16(buf[2:4], e.Duration)
	return 4, nil
}

// Key returns the keypad key of e ('0'-'9', '*', '#', 'A'-'D'), or false for
// a flash.
func (e TelephoneEvent) Key() (byte, bool) {
	if int(e.Event) < len(eventKeys) {
		return eventKeys[e.Event], true
	}
	return 0, false
}

// EventForKey returns the event code of a keypad key ('0'-'9', '*', '#',
// 'A'-'D' or 'a'-'d'), or false for any other byte.
func EventForKey(key byte) (uint8, bool) {
	if key >= 'a' && key <= 'd' {
		key -= 'a' - 'A'
	}
	for i := 0; i < len(eventKeys); i++ {
		if eventKeys[i] == key {
			return uint8(i), true
		}
	}
	return 0, false
}

// An EventDeduper turns the packets of RFC 4733 events into key presses, one
// per event. An event is sent as many packets sharing the RTP timestamp of
// its start, ending with three copies of the end packet, and any of them may
// be lost, reordered or retransmitted; a key is reported on the first packet
// seen of a timestamp, so that it cuts the bot off at once, and never again
// for that timestamp while it is among the last 16 events. A key held so
// long (8 s at 8 kHz) that its duration field overflows continues under a
// new timestamp (RFC 4733, section 2.5.1.3); that is not a new press.
//
// The zero value is ready to use. An EventDeduper is for one RTP stream and
// one goroutine.
type EventDeduper struct {
	seen [16]uint32 // timestamps of recent events, a ring
	n    int        // how many of seen are set
	next int        // where the next goes
	// The latest event, to tell a long one's next segment from a new press.
	last      uint32
	lastEvent uint8
	lastDur   uint16
	lastEnded bool
}

// Push takes the RTP timestamp and payload of the next packet and returns the
// key pressed, if the packet begins a press. Flash events are tracked but not
// reported.
func (d *EventDeduper) Push(timestamp uint32, ev TelephoneEvent) (key byte, ok bool) {
	for i := 0; i < d.n; i++ {
		if d.seen[i] == timestamp {
			if timestamp == d.last {
				d.lastDur = max(d.lastDur, ev.Duration)
				d.lastEnded = d.lastEnded || ev.End
			}
			return 0, false
		}
	}
	// A long event's next segment starts where the last one ran out of
	// duration, with the same code and no end in between. (Its last
	// packets may be lost: allow a second of them, and of jitter.)
	continued := d.n > 0 && ev.Event == d.lastEvent && !d.lastEnded &&
		d.lastDur >= 0xFFFF-8000 && timestamp-d.last >= uint32(d.lastDur) && timestamp-d.last <= 0xFFFF+8000
	d.seen[d.next] = timestamp
	d.next = (d.next + 1) % len(d.seen)
	d.n = min(d.n+1, len(d.seen))
	d.last, d.lastEvent, d.lastDur, d.lastEnded = timestamp, ev.Event, ev.Duration, ev.End
	if continued {
		return 0, false
	}
	return ev.Key()
}
