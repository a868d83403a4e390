package voice

import "time"

// jitterSlots bounds how far ahead of the next expected sequence number a
// packet may arrive and still be held: 16 packets, 320 ms of 20 ms audio.
const jitterSlots = 16

// jitterItem is one RTP packet as the jitter buffer holds it. An item with
// Lost set stands for a packet that never came.
type jitterItem struct {
	seq     uint16
	kind    payloadKind
	ts      uint32
	payload []byte
	at      time.Time // arrival
	lost    bool
}

// jitterBuffer puts the packets of one RTP stream back in sequence order.
// A packet that is next in sequence goes out at once, so in-order audio
// gains no delay; one that arrives early is held until the gap before it is
// filled or until the oldest packet held has waited Depth (or Depth's worth
// of packets is held), when the missing packets are given up as lost. A
// packet older than what has gone out is late and dropped, as is a
// duplicate.
//
// It is for one stream and the call's owner goroutine.
type jitterBuffer struct {
	depth   time.Duration // how long a gap is waited for
	started bool
	next    uint16 // sequence number of the next packet out
	slots   [jitterSlots]jitterItem
	filled  [jitterSlots]bool
	held    int

	late, lost int // counters for the call's log
}

func newJitterBuffer(depth time.Duration) *jitterBuffer {
	return &jitterBuffer{depth: depth}
}

// heldPackets is how many packets past a gap make it lost without waiting
// for Depth: Depth in 20 ms packets.
func (j *jitterBuffer) heldPackets() int {
	return max(1, int(j.depth/(20*time.Millisecond)))
}

// Push takes a packet that arrived at now and appends to out what is ready
// to go out, in order, lost packets included.
func (j *jitterBuffer) Push(it jitterItem, now time.Time, out []jitterItem) []jitterItem {
	it.at = now
	if !j.started {
		j.started, j.next = true, it.seq
	}
	d := int16(it.seq - j.next)
	switch {
	case d < 0:
		j.late++
		return out
	case d >= jitterSlots:
		// Far ahead: a jump in the stream (or a long outage). Give up
		// what is held and start again from this packet.
		out = j.flush(out)
		j.next = it.seq
		j.lost++
	}
	i := it.seq % jitterSlots
	if j.filled[i] {
		return out // a duplicate
	}
	j.slots[i], j.filled[i] = it, true
	j.held++
	out = j.drain(out)
	if j.held >= j.heldPackets() {
		out = j.skip(out)
	}
	return j.Expire(now, out)
}

// Expire gives up the gap before the packets held once the oldest of them has
// waited Depth, and appends what that releases to out.
func (j *jitterBuffer) Expire(now time.Time, out []jitterItem) []jitterItem {
	for j.held > 0 {
		oldest := now
		for i := range j.slots {
			if j.filled[i] && j.slots[i].at.Before(oldest) {
				oldest = j.slots[i].at
			}
		}
		if now.Sub(oldest) < j.depth {
			return out
		}
		out = j.skip(out)
	}
	return out
}

// drain releases the packets that are next in sequence.
func (j *jitterBuffer) drain(out []jitterItem) []jitterItem {
	for {
		i := j.next % jitterSlots
		if !j.filled[i] {
			return out
		}
		out = append(out, j.slots[i])
		j.slots[i], j.filled[i] = jitterItem{}, false
		j.held--
		j.next++
	}
}

// skip declares the packets up to the first one held lost and releases
// from there.
func (j *jitterBuffer) skip(out []jitterItem) []jitterItem {
	if j.held == 0 {
		return out
	}
	for !j.filled[j.next%jitterSlots] {
		out = append(out, jitterItem{seq: j.next, lost: true})
		j.lost++
		j.next++
	}
	return j.drain(out)
}

// flush releases everything held, in order, with the gaps as lost packets.
func (j *jitterBuffer) flush(out []jitterItem) []jitterItem {
	for j.held > 0 {
		out = j.skip(out)
	}
	return out
}
