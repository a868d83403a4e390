package video

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
)

// room is one delivery's live call on this node. Its goroutine (run) owns
// the participants and the publications; HTTP handlers and pion callbacks
// post typed events to it. Media is forwarded by one goroutine per
// published track (forward), which also records it.
type room struct {
	h        *Handler
	delivery signoff.DeliveryID
	sid      signoff.SessionID
	ctx      context.Context // for evidence writes; ends when the room has ended
	cancel   context.CancelFunc
	events   chan any
	done     chan struct{} // closed when run has returned

	// Owned by run.
	peers    map[string]*peer
	slots    []*slot
	pubs     []*publication
	answered bool
	joined   int
	wg       sync.WaitGroup // forwarders, RTCP readers, evidence writes
}

// peer is one participant's connection.
type peer struct {
	id       string
	p        participant
	pc       *webrtc.PeerConnection
	senders  map[*slot]*webrtc.RTPSender
	rev      int       // the number of the server's last offer
	awaiting bool      // an offer is out, not yet answered
	dirty    bool      // another offer is needed once this one is answered
	pending  *sseEvent // the unanswered offer, resent to a new event stream
	sink     chan sseEvent
	up       bool // connected at least once
	at       time.Time
}

// slot is what one role publishes of one kind, as the others receive it:
// one local track that outlives its publishers. A participant who joins
// before the other side is bound to the other side's slots in its answer,
// so the other side's media reaches it without a renegotiation.
type slot struct {
	role  string
	kind  webrtc.RTPCodecType
	local *webrtc.TrackLocalStaticRTP
	cur   atomic.Pointer[publication] // the publisher now, if any
}

func (s *slot) keyframe(minGap time.Duration) {
	if p := s.cur.Load(); p != nil {
		p.keyframe(minGap)
	}
}

func (s *slot) remb(bitrate float32) {
	if p := s.cur.Load(); p != nil {
		p.remb(bitrate)
	}
}

// newSlots makes the slots of a room: the recipient's and the courier's
// video and audio.
func newSlots() ([]*slot, error) {
	var out []*slot
	for _, role := range []string{RoleRecipient, RoleCourier} {
		for _, k := range []struct {
			kind webrtc.RTPCodecType
			c    webrtc.RTPCodecCapability
		}{{webrtc.RTPCodecTypeVideo, vp8Codec}, {webrtc.RTPCodecTypeAudio, opusCodec}} {
			c := k.c
			c.RTCPFeedback = nil
			local, err := webrtc.NewTrackLocalStaticRTP(c, k.kind.String(), "signoff-"+role)
			if err != nil {
				return nil, signoff.Wrap(signoff.ErrUnavailable, "webrtc", "the call could not be set up", err)
			}
			out = append(out, &slot{role: role, kind: k.kind, local: local})
		}
	}
	return out, nil
}

// publication is one track a participant publishes, forwarded to the
// others through its slot while it is the slot's publisher.
type publication struct {
	owner  string // peer id
	role   string
	remote *webrtc.TrackRemote
	slot   *slot
	pc     *webrtc.PeerConnection // the publisher's

	lastPLI  atomic.Int64 // unix nanoseconds of the last keyframe request
	lastREMB atomic.Int64
	plis     atomic.Int64 // keyframe requests sent to the publisher
}

func (p *publication) video() bool { return p.remote.Kind() == webrtc.RTPCodecTypeVideo }

type sseEvent struct {
	name string
	data string
}

// Events of a room.
type (
	evJoin struct {
		p     participant
		offer string
		reply chan joinResult
	}
	joinResult struct {
		id, answer string
		err        error
	}
	evTrack struct {
		peer   string
		remote *webrtc.TrackRemote
	}
	evAnswer struct {
		peer, rev, sdp string
		reply          chan error
	}
	evCandidates struct {
		peer  string
		cands []webrtc.ICECandidateInit
		reply chan error
	}
	evLeave struct {
		peer, reason string
		reply        chan error
	}
	evConn struct {
		peer  string
		state webrtc.PeerConnectionState
	}
	evCheck struct {
		peer  string
		token [32]byte
		reply chan error
	}
	evSubscribe struct {
		peer  string
		sink  chan sseEvent
		reply chan error
	}
	evUnsubscribe struct {
		peer string
		sink chan sseEvent
	}
	evShut   struct{}
	evStatus struct{ reply chan Status }
)

// Status is a snapshot of a room, for tests and the console.
type Status struct {
	Peers        map[string]string // peer id → role
	Publications int
	Keyframes    int64 // keyframe requests sent to publishers
}

var errGone = signoff.Errorf(signoff.ErrUnavailable, "room_closed", "the call has ended; join again")

func newRoom(ctx context.Context, h *Handler, d signoff.DeliveryID, sid signoff.SessionID) (*room, error) {
	slots, err := newSlots()
	if err != nil {
		return nil, err
	}
	// The room outlives the request that made it, so its context does not
	// end with it.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	return &room{h: h, delivery: d, sid: sid, ctx: ctx, cancel: cancel, events: make(chan any, 64),
		done: make(chan struct{}), peers: make(map[string]*peer), slots: slots}, nil
}

// post hands ev to the room's goroutine; false when the room has ended.
func (r *room) post(ev any) bool {
	select {
	case r.events <- ev:
		return true
	case <-r.done:
		return false
	}
}

// ask posts ev and waits for its reply on ch.
func ask[T any](ctx context.Context, r *room, ev any, ch chan T) (T, error) {
	var zero T
	if !r.post(ev) {
		return zero, errGone
	}
	select {
	case v := <-ch:
		return v, nil
	case <-r.done:
		return zero, errGone
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

func (r *room) join(ctx context.Context, p participant, offer string) (string, string, error) {
	ch := make(chan joinResult, 1)
	res, err := ask(ctx, r, evJoin{p: p, offer: offer, reply: ch}, ch)
	if err != nil {
		return "", "", err
	}
	return res.id, res.answer, res.err
}

func (r *room) answer(ctx context.Context, id, rev, sdp string) error {
	ch := make(chan error, 1)
	err, aerr := ask(ctx, r, evAnswer{peer: id, rev: rev, sdp: sdp, reply: ch}, ch)
	return errors.Join(err, aerr)
}

func (r *room) candidates(ctx context.Context, id string, cands []webrtc.ICECandidateInit) error {
	ch := make(chan error, 1)
	err, aerr := ask(ctx, r, evCandidates{peer: id, cands: cands, reply: ch}, ch)
	return errors.Join(err, aerr)
}

func (r *room) leave(ctx context.Context, id, reason string) error {
	ch := make(chan error, 1)
	err, aerr := ask(ctx, r, evLeave{peer: id, reason: reason, reply: ch}, ch)
	return errors.Join(err, aerr)
}

func (r *room) check(ctx context.Context, id, token string) error {
	ch := make(chan error, 1)
	err, aerr := ask(ctx, r, evCheck{peer: id, token: sha256Sum(token), reply: ch}, ch)
	if errors.Is(aerr, errGone) {
		return signoff.Errorf(signoff.ErrNotFound, "no_peer", "no such participant")
	}
	return errors.Join(err, aerr)
}

func (r *room) subscribe(ctx context.Context, id string, sink chan sseEvent) error {
	ch := make(chan error, 1)
	err, aerr := ask(ctx, r, evSubscribe{peer: id, sink: sink, reply: ch}, ch)
	return errors.Join(err, aerr)
}

func (r *room) unsubscribe(id string, sink chan sseEvent) {
	r.post(evUnsubscribe{peer: id, sink: sink})
}

func (r *room) shut() { r.post(evShut{}) }

// status returns a snapshot of the room.
func (r *room) status(ctx context.Context) (Status, error) {
	ch := make(chan Status, 1)
	return ask(ctx, r, evStatus{reply: ch}, ch)
}

// run is the room's goroutine: it handles events until the last
// participant has left, then files the evidence and releases the room.
func (r *room) run() {
	defer close(r.done)
	defer r.cancel()
	refresh := time.NewTicker(r.h.cfg.Lease / 3)
	defer refresh.Stop()
	idle := time.NewTimer(30 * time.Second) // a room nobody manages to join
	defer idle.Stop()
	for {
		select {
		case ev := <-r.events:
			if r.handle(ev) {
				r.end()
				return
			}
		case <-refresh.C:
			holder, err := r.h.place.ClaimRoom(r.ctx, r.delivery, r.h.cfg.NodeURL, r.h.cfg.Lease)
			if err != nil || holder != r.h.cfg.NodeURL {
				r.h.log.Warn("video: room lease not refreshed", "delivery", r.delivery, "holder", holder, "err", err)
			}
		case <-idle.C:
			if len(r.peers) == 0 {
				r.end()
				return
			}
		}
	}
}

// handle acts on one event and reports whether the room is over.
func (r *room) handle(ev any) bool {
	switch ev := ev.(type) {
	case evJoin:
		id, answer, err := r.onJoin(ev.p, ev.offer)
		ev.reply <- joinResult{id: id, answer: answer, err: err}
		return err != nil && len(r.peers) == 0
	case evTrack:
		r.onTrack(ev)
	case evAnswer:
		ev.reply <- r.onAnswer(ev)
	case evCandidates:
		pr := r.peers[ev.peer]
		if pr == nil {
			ev.reply <- errNoPeer
			return false
		}
		var err error
		for _, c := range ev.cands {
			if e := pr.pc.AddICECandidate(c); e != nil {
				err = signoff.Wrap(signoff.ErrInvalid, "bad_candidate", "an ICE candidate was refused", e)
			}
		}
		ev.reply <- err
	case evLeave:
		if r.peers[ev.peer] == nil {
			ev.reply <- errNoPeer
			return false
		}
		r.onLeave(ev.peer, ev.reason)
		ev.reply <- nil
		return len(r.peers) == 0
	case evConn:
		return r.onConn(ev)
	case evCheck:
		pr := r.peers[ev.peer]
		switch {
		case pr == nil:
			ev.reply <- errNoPeer
		case pr.p.token != ev.token:
			ev.reply <- signoff.Errorf(signoff.ErrUnauthorized, "bad_token", "the token does not open this participant")
		default:
			ev.reply <- nil
		}
	case evSubscribe:
		pr := r.peers[ev.peer]
		if pr == nil {
			ev.reply <- errNoPeer
			return false
		}
		pr.sink = ev.sink
		if pr.pending != nil {
			select {
			case pr.sink <- *pr.pending:
			default:
			}
		}
		ev.reply <- nil
	case evUnsubscribe:
		if pr := r.peers[ev.peer]; pr != nil && pr.sink == ev.sink {
			pr.sink = nil
		}
	case evStatus:
		st := Status{Peers: map[string]string{}, Publications: len(r.pubs)}
		for id, pr := range r.peers {
			st.Peers[id] = pr.p.role
		}
		for _, p := range r.pubs {
			st.Keyframes += p.plis.Load()
		}
		ev.reply <- st
	case evShut:
		for id := range r.peers {
			r.onLeave(id, "server_shutdown")
		}
		return true
	}
	return false
}

var errNoPeer = signoff.Errorf(signoff.ErrNotFound, "no_peer", "no such participant")

// wants reports whether pr receives s: the other side's slots, and for
// staff, everyone's.
func (pr *peer) wants(s *slot) bool { return s.role != pr.p.role }

func (r *room) onJoin(p participant, offer string) (string, string, error) {
	api, err := r.h.newAPI()
	if err != nil {
		return "", "", err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: r.h.ice})
	if err != nil {
		return "", "", signoff.Wrap(signoff.ErrUnavailable, "webrtc", "the call could not be set up", err)
	}
	pr := &peer{id: newPeerID(), p: p, pc: pc, senders: make(map[*slot]*webrtc.RTPSender), at: r.h.cfg.Now()}
	fail := func(err error) (string, string, error) {
		pc.Close()
		return "", "", err
	}
	id := pr.id
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { r.post(evTrack{peer: id, remote: t}) })
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) { r.post(evConn{peer: id, state: s}) })
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fail(signoff.Wrap(signoff.ErrInvalid, "bad_sdp", "the SDP offer cannot be answered", err))
	}
	// The other side's slots that fit the offer's sections go into the
	// answer, published yet or not; the rest, once published, follow in
	// the server's first offer.
	var later []*slot
	for _, sl := range r.slots {
		if !pr.wants(sl) {
			continue
		}
		if !free(pc, sl.kind) {
			if sl.cur.Load() != nil {
				later = append(later, sl)
			}
			continue
		}
		if err := r.attach(pr, sl); err != nil {
			return fail(err)
		}
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return fail(signoff.Wrap(signoff.ErrInvalid, "bad_sdp", "the SDP offer cannot be answered", err))
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return fail(signoff.Wrap(signoff.ErrInvalid, "bad_sdp", "the SDP offer cannot be answered", err))
	}
	select {
	case <-gathered:
	case <-time.After(10 * time.Second):
		return fail(signoff.Errorf(signoff.ErrUnavailable, "ice_gathering", "ICE gathering did not complete"))
	}
	// The answer as sent: pion's LocalDescription would also describe
	// the tracks attached next, which the offer has no section for.
	sdp := pc.LocalDescription().SDP
	for _, sl := range later {
		if err := r.attach(pr, sl); err != nil {
			return fail(err)
		}
	}
	r.peers[pr.id] = pr
	r.joined++
	r.evidence("video_joined", map[string]string{"role": p.role, "who": p.who, "peer": pr.id})
	if unnegotiated(pc) {
		r.renegotiate(pr)
	}
	return pr.id, sdp, nil
}

// attach makes pr receive sl.
func (r *room) attach(pr *peer, sl *slot) error {
	sender, err := pr.pc.AddTrack(sl.local)
	if err != nil {
		return signoff.Wrap(signoff.ErrUnavailable, "webrtc", "a track could not be forwarded", err)
	}
	pr.senders[sl] = sender
	r.wg.Add(1)
	go r.readRTCP(sender, sl)
	return nil
}

// free reports whether the remote offer has a section of kind that sends
// nothing yet.
func free(pc *webrtc.PeerConnection, kind webrtc.RTPCodecType) bool {
	for _, t := range pc.GetTransceivers() {
		if t.Kind() == kind && t.Mid() != "" && (t.Sender() == nil || t.Sender().Track() == nil) {
			return true
		}
	}
	return false
}

// unnegotiated reports whether pc sends a track on a transceiver that no
// offer and answer have yet covered.
func unnegotiated(pc *webrtc.PeerConnection) bool {
	for _, t := range pc.GetTransceivers() {
		if t.Mid() == "" && t.Sender() != nil && t.Sender().Track() != nil {
			return true
		}
	}
	return false
}

// renegotiate sends pr a new offer over its event stream, or marks one
// needed when an offer is already out.
func (r *room) renegotiate(pr *peer) {
	if pr.awaiting || pr.pc.SignalingState() != webrtc.SignalingStateStable {
		pr.dirty = true
		return
	}
	pr.dirty = false
	offer, err := pr.pc.CreateOffer(nil)
	if err != nil {
		r.h.logErr("video: offer", err, "delivery", r.delivery)
		return
	}
	gathered := webrtc.GatheringCompletePromise(pr.pc)
	if err := pr.pc.SetLocalDescription(offer); err != nil {
		r.h.logErr("video: offer", err, "delivery", r.delivery)
		return
	}
	select {
	case <-gathered:
	case <-time.After(5 * time.Second):
	}
	pr.rev++
	pr.awaiting = true
	b, _ := json.Marshal(map[string]any{"rev": pr.rev, "sdp": pr.pc.LocalDescription().SDP})
	pr.pending = &sseEvent{name: "offer", data: string(b)}
	if pr.sink != nil {
		select {
		case pr.sink <- *pr.pending:
		default:
		}
	}
}

func (r *room) onAnswer(ev evAnswer) error {
	pr := r.peers[ev.peer]
	if pr == nil {
		return errNoPeer
	}
	if !pr.awaiting || ev.rev != strconv.Itoa(pr.rev) {
		return signoff.Errorf(signoff.ErrConflict, "stale_answer", "this answer is not for the server's current offer (rev %d)", pr.rev)
	}
	if err := pr.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ev.sdp}); err != nil {
		return signoff.Wrap(signoff.ErrInvalid, "bad_sdp", "the SDP answer does not fit the offer", err)
	}
	pr.awaiting, pr.pending = false, nil
	for sl := range pr.senders {
		sl.keyframe(0)
	}
	if pr.dirty || unnegotiated(pr.pc) {
		r.renegotiate(pr)
	}
	return nil
}

func (r *room) onTrack(ev evTrack) {
	pr := r.peers[ev.peer]
	if pr == nil || pr.p.role == RoleStaff {
		return
	}
	t := ev.remote
	var sl *slot
	for _, s := range r.slots {
		if s.role == pr.p.role && s.kind == t.Kind() {
			sl = s
		}
	}
	if sl == nil {
		return
	}
	pub := &publication{owner: pr.id, role: pr.p.role, remote: t, slot: sl, pc: pr.pc}
	sl.cur.Store(pub) // a second publisher of the same role takes over
	r.pubs = append(r.pubs, pub)
	rec := r.h.newRecorder(pub, r.h.cfg.Now())
	r.wg.Add(1)
	go r.forward(pub, rec)
	for _, other := range r.peers {
		if other.wants(sl) && other.senders[sl] == nil {
			if err := r.attach(other, sl); err != nil {
				r.h.logErr("video: forward", err, "delivery", r.delivery)
				continue
			}
			r.renegotiate(other)
		}
	}
	pub.keyframe(0)
}

func (r *room) onConn(ev evConn) bool {
	pr := r.peers[ev.peer]
	if pr == nil {
		return false
	}
	switch ev.state {
	case webrtc.PeerConnectionStateConnected:
		if pr.up {
			return false
		}
		pr.up = true
		for sl := range pr.senders {
			sl.keyframe(0)
		}
		if pr.p.role == RoleCourier && !r.answered {
			r.answered = true
			r.background(func(ctx context.Context) error {
				_, err := r.h.conv.Video(ctx, r.delivery, dialog.VideoAnswered, "courier")
				if errors.Is(err, signoff.ErrNotFound) {
					return nil // the conversation ended meanwhile
				}
				return err
			})
		}
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		r.onLeave(pr.id, "connection_"+ev.state.String())
		return len(r.peers) == 0
	}
	return false
}

// onLeave removes a participant: its connection closes, its tracks stop
// being forwarded, and the others are offered the change.
func (r *room) onLeave(id, reason string) {
	pr := r.peers[id]
	if pr == nil {
		return
	}
	delete(r.peers, id)
	if pr.sink != nil {
		b, _ := json.Marshal(map[string]string{"reason": reason})
		select {
		case pr.sink <- sseEvent{name: "closed", data: string(b)}:
		default:
		}
	}
	pr.pc.Close()
	kept := r.pubs[:0]
	for _, pub := range r.pubs {
		if pub.owner != id {
			kept = append(kept, pub)
			continue
		}
		if !pub.slot.cur.CompareAndSwap(pub, nil) {
			continue // another publisher took the slot over
		}
		for _, other := range r.peers {
			if s := other.senders[pub.slot]; s != nil {
				delete(other.senders, pub.slot)
				if err := other.pc.RemoveTrack(s); err == nil {
					r.renegotiate(other)
				}
			}
		}
	}
	clear(r.pubs[len(kept):])
	r.pubs = kept
	r.evidence("video_left", map[string]string{"role": pr.p.role, "who": pr.p.who, "peer": id, "reason": reason,
		"seconds": strconv.FormatFloat(r.h.cfg.Now().Sub(pr.at).Seconds(), 'f', 1, 64)})
}

// end closes what is left, waits for the recordings, and files the end of
// the call.
func (r *room) end() {
	for id := range r.peers {
		r.onLeave(id, "room_closed")
	}
	r.h.removeRoom(r)
	r.wg.Wait()
	ctx := r.ctx
	if r.joined > 0 {
		if err := r.h.conv.Record(ctx, r.sid, "video_closed", map[string]string{"delivery": string(r.delivery)}); err != nil {
			r.h.logErr("video: evidence", err, "delivery", r.delivery)
		}
	}
	if r.answered {
		if _, err := r.h.conv.Video(ctx, r.delivery, dialog.VideoEnded, "room"); err != nil && !errors.Is(err, signoff.ErrNotFound) {
			r.h.logErr("video: end", err, "delivery", r.delivery)
		}
	}
	if err := r.h.place.ReleaseRoom(ctx, r.delivery, r.h.cfg.NodeURL); err != nil {
		r.h.logErr("video: release", err, "delivery", r.delivery)
	}
}

// background runs an evidence write or engine call off the room's
// goroutine; end waits for it.
func (r *room) background(f func(ctx context.Context) error) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := f(r.ctx); err != nil {
			r.h.logErr("video: write", err, "delivery", r.delivery)
		}
	}()
}

// evidence appends an entry to the delivery's log.
func (r *room) evidence(kind string, data map[string]string) {
	r.background(func(ctx context.Context) error { return r.h.conv.Record(ctx, r.sid, kind, data) })
}

// forward copies one published track to its subscribers and the
// recording, until the publisher's connection closes.
func (r *room) forward(pub *publication, rec *recorder) {
	defer r.wg.Done()
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	var last uint16
	first := true
	for {
		n, _, err := pub.remote.Read(buf)
		if err != nil {
			break
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue
		}
		if pub.video() && !first {
			// A gap the NACKs did not fill in time: ask for a keyframe so
			// that the picture recovers.
			if d := int16(pkt.SequenceNumber - last); d > 1 {
				pub.keyframe(time.Second)
			}
		}
		if first || int16(pkt.SequenceNumber-last) > 0 {
			last = pkt.SequenceNumber
		}
		first = false
		if rec != nil {
			rec.write(&pkt)
		}
		if pub.slot.cur.Load() == pub {
			pub.slot.local.WriteRTP(&pkt) // fails only when no subscriber is bound yet
		}
	}
	if rec != nil {
		data, err := rec.finish()
		if err != nil {
			r.h.logErr("video: recording", err, "delivery", r.delivery)
			return
		}
		if err := r.h.conv.Record(r.ctx, r.sid, "video_recording", data); err != nil {
			r.h.logErr("video: evidence", err, "delivery", r.delivery)
		}
	}
}

// readRTCP reads a subscriber's feedback on one forwarded track: picture
// loss goes to the publisher as a keyframe request, bandwidth estimates
// (REMB) cap the publisher.
func (r *room) readRTCP(s *webrtc.RTPSender, sl *slot) {
	defer r.wg.Done()
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				sl.keyframe(0)
			case *rtcp.ReceiverEstimatedMaximumBitrate:
				sl.remb(p.Bitrate)
			}
		}
	}
}

// keyframe asks the publisher of a video track for a keyframe, at most one
// request per minGap (and per 100 ms).
func (p *publication) keyframe(minGap time.Duration) {
	if !p.video() {
		return
	}
	minGap = max(minGap, 100*time.Millisecond)
	now := time.Now().UnixNano()
	last := p.lastPLI.Load()
	if now-last < int64(minGap) || !p.lastPLI.CompareAndSwap(last, now) {
		return
	}
	p.plis.Add(1)
	p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(p.remote.SSRC())}})
}

// remb passes a subscriber's bandwidth estimate to the publisher, at most
// four a second.
func (p *publication) remb(bitrate float32) {
	if !p.video() {
		return
	}
	now := time.Now().UnixNano()
	last := p.lastREMB.Load()
	if now-last < int64(250*time.Millisecond) || !p.lastREMB.CompareAndSwap(last, now) {
		return
	}
	p.pc.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: bitrate, SSRCs: []uint32{uint32(p.remote.SSRC())}}})
}
