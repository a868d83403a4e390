package voice

import (
	"context"
	"crypto/sha256"
	"errors"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/prompts"
	"github.com/signoff/signoff/speech"
)

// Timings of the conversation.
const (
	// jitterDepth is how long a gap in the caller's packets is waited for
	// before it is given up (and concealed with silence).
	jitterDepth = 60 * time.Millisecond
	// optionPace is the time one spoken option takes at least, pause
	// included: a menu is read at about one option a second and a half.
	optionPace = 1500 * time.Millisecond
	// sentencePause is the silence after each sentence.
	sentencePause = 250 * time.Millisecond
	// preRoll is how much audio before the VAD's onset an utterance keeps,
	// and postRoll how much after its end: soft consonants at the edges.
	// While the bot's voice may still be echoing the pre-roll is short:
	// the echo before a "yes" makes the recogniser reject it.
	preRoll     = 200 * time.Millisecond
	echoPreRoll = 40 * time.Millisecond
	postRoll    = 150 * time.Millisecond
	// maxUtterance is the longest utterance recognised; an answer is a word
	// or three.
	maxUtterance = 8 * time.Second
	// maxConceal is how many lost packets in a row are concealed with
	// silence; a longer gap is a pause in sending (DTX, a keypad event).
	maxConceal = 3
	// recordTimeout bounds each evidence write.
	recordTimeout = 5 * time.Second
)

// The events a call's owner goroutine takes from pion's callbacks, the HTTP
// handlers and its own workers.
type (
	connEvent struct{ state webrtc.PeerConnectionState }
	ttsDone   struct {
		gen  int
		s    *sentence
		clip *clip
		err  error
	}
	// asrDone is what the recogniser heard: in one stretch of speech of
	// turn ts (seg), heard early in the pause numbered pause after it, or
	// in the whole of an ended turn (seg -1).
	asrDone struct {
		ts    *turnState
		seg   int
		pause int
		res   speech.Result
		into  speech.Intonation
		err   error
	}
	replyDone struct {
		turn dialog.Turn
		err  error
	}
	// sentenceEvent is a finished sentence of reply n, handed on while the
	// engine is still writing the rest: it is spoken at once.
	sentenceEvent struct {
		n    int
		text string
	}
	candEvent struct {
		cands []webrtc.ICECandidateInit
		res   chan error
	}
)

// rtpPacket is one packet from the caller, tagged with what its payload
// type carries.
type rtpPacket struct {
	kind    payloadKind
	seq     uint16
	ts      uint32
	payload []byte
}

// utterance is one bot message as it is spoken, for the evidence of a
// barge-in: what was played of it before the caller cut in.
type utterance struct {
	heard    []string // sentences at least partly played
	playedMs int
}

// sentence is one short sentence of an utterance.
type sentence struct {
	text   string
	utt    *utterance
	minDur time.Duration // padded with silence to last at least this
	pause  time.Duration // silence after
	heard  bool
}

// playFrame is 20 ms of the bot's voice, frame i of clip, or silence when
// clip is nil.
type playFrame struct {
	clip *clip
	i    int
	s    *sentence
}

// turnState is one turn of the caller's: the results of its stretches of
// speech, recognised one by one early in the pauses after them. A turn
// that has ended waits here for the results still out, while the next
// turn may already have begun.
type turnState struct {
	prefix  string // words of an early-ended number this turn continues
	segs    []speech.Result
	pending int     // stretches being recognised
	ended   bool    // no more speech belongs to it
	pcm     []int16 // the whole turn, once ended: for one more try as a whole
}

// record is one piece of evidence for the delivery's log.
type record struct {
	kind string
	data map[string]string
}

// call is one live call. Its run goroutine owns everything below the
// "owned" line; pion callbacks, HTTP handlers and workers post events to it.
type call struct {
	h         *Handler
	id        string
	sid       signoff.SessionID
	token     string
	tokenHash [32]byte
	pc        *webrtc.PeerConnection
	out       *webrtc.TrackLocalStaticRTP
	ctx       context.Context
	cancel    context.CancelFunc

	events  chan any
	packets chan rtpPacket
	records chan record

	hangupOnce sync.Once
	hangupC    chan struct{}
	reasonMu   sync.Mutex
	reason     string
	done       chan struct{} // closed when the call has ended and filed its evidence

	pionMu sync.Mutex
	ended  bool
	pionWG sync.WaitGroup // pion's goroutines that post to the call: readers, RTCP drain
	wg     sync.WaitGroup // the call's own workers: synthesis, recognition, replies

	// owned by run

	cat       *prompts.Catalog
	lang      string
	offered   []signoff.Option
	spoken    int // seq of the first transcript line not yet spoken (or skipped)
	connected bool
	started   time.Time
	codecIn   payloadKind

	// speaking
	gen       int // bumped by every barge-in; results of older ones are dropped
	sayCtx    context.Context
	sayCancel context.CancelFunc
	script    []*sentence // to synthesise, in order
	synthBusy bool
	queue     []playFrame
	playing   *utterance // of the frame last played
	opusOut   bool       // the bot speaks Opus; else PCMU
	outPkt    rtp.Packet // the next packet out; pion sets its SSRC and payload type
	playRMS   float64    // of the frame last played: the VAD's echo reference
	rejected  int        // utterances rejected in a row

	// listening
	jb        *jitterBuffer
	items     []jitterItem
	dec       decoder
	lostRun   int
	inPCM     []int16
	dedup     speech.EventDeduper
	dtmf      *speech.DTMFDetector
	vad       *speech.VAD
	ring      [][]int16 // the last frames heard, for the pre-roll
	capturing bool
	utt       []int16
	uttStart  time.Duration // on the VAD's time line
	inbandKey time.Duration // when an in-band key was last heard, on that line
	lastPlay  time.Duration // when the bot last made a sound, on that line

	// the caller's turn (see turn.go)
	cur        *turnState    // the turn being spoken, nil between turns
	pauses     int           // counts pauses: a result from before speech resumed decides nothing
	pausing    bool          // the caller paused; the turn has not ended
	deciding   bool          // the stretch before the pause is being recognised
	speechEnd  time.Duration // where the last speech ended, on the VAD's time line
	endAt      time.Duration // when the turn ends if nothing more is said, on that line
	segStart   int           // sample of utt where the current stretch of speech begins
	joinText   string        // a number that ended its turn early, which speech until joinUntil continues
	joinUntil  time.Duration // on the VAD's time line
	joinPlayed time.Duration // of the bot's voice since

	// replying
	inputs   []signoff.Input
	replying bool
	held     []dialog.Posted
	replyN   int        // numbers replies, so a sentence is spoken only with its own
	replyGen int        // gen when the reply began: a barge-in since drops its sentences
	streamed []string   // sentences of the reply handed on early, spoken or cut off
	streamU  *utterance // the utterance they are spoken as

	// recording
	rec       *recorder
	callerBuf []int16

	// counts for call_ended
	keys, utterances, bargeIns, lateFrames int
	lastTick                               time.Time
}

func newCall(ctx context.Context, cancel context.CancelFunc, h *Handler, pc *webrtc.PeerConnection, sid signoff.SessionID, token string) (*call, error) {
	vad, err := speech.NewVAD(h.cfg.VAD)
	if err != nil {
		return nil, err
	}
	dtmf, err := speech.NewDTMFDetector(speech.SampleRate)
	if err != nil {
		return nil, err
	}
	c := &call{
		h: h, id: newCallID(), sid: sid, token: token, tokenHash: sha256.Sum256([]byte(token)),
		pc: pc, ctx: ctx, cancel: cancel,
		events:  make(chan any, 16),
		packets: make(chan rtpPacket, 128),
		records: make(chan record, 256),
		hangupC: make(chan struct{}),
		done:    make(chan struct{}),
		vad:     vad, dtmf: dtmf,
		jb:        newJitterBuffer(jitterDepth),
		inbandKey: -time.Hour,
		lastPlay:  -time.Hour,
	}
	c.sayCtx, c.sayCancel = context.WithCancel(ctx)
	c.outPkt.Version = 2
	c.outPkt.SequenceNumber = uint16(mrand.Uint32())
	c.outPkt.Timestamp = mrand.Uint32()
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) { c.post(connEvent{s}) })
	pc.OnTrack(c.readTrack)
	return c, nil
}

// post hands ev to the owner, or drops it once the call is over.
func (c *call) post(ev any) {
	select {
	case c.events <- ev:
	case <-c.ctx.Done():
	}
}

// goPion runs f as one of pion's goroutines of the call, unless the call
// has ended.
func (c *call) goPion(f func()) {
	c.pionMu.Lock()
	defer c.pionMu.Unlock()
	if c.ended {
		return
	}
	c.pionWG.Add(1)
	go func() {
		defer c.pionWG.Done()
		f()
	}()
}

// spawn runs f as a worker of the call. Only the owner calls it.
func (c *call) spawn(f func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
}

// readTrack reads the caller's RTP until the connection closes and hands
// it to the owner, each packet tagged with what its payload type carries.
// It runs on pion's OnTrack goroutine.
func (c *call) readTrack(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	c.pionMu.Lock()
	if c.ended {
		c.pionMu.Unlock()
		return
	}
	c.pionWG.Add(1)
	c.pionMu.Unlock()
	defer c.pionWG.Done()
	kinds := map[uint8]payloadKind{}
	for _, p := range r.GetParameters().Codecs {
		kinds[uint8(p.PayloadType)] = kindOf(p.MimeType)
	}
	for {
		p, _, err := t.ReadRTP()
		if err != nil {
			return
		}
		k := kinds[p.PayloadType]
		if k == kindUnknown {
			continue
		}
		select {
		case c.packets <- rtpPacket{kind: k, seq: p.SequenceNumber, ts: p.Timestamp, payload: p.Payload}:
		case <-c.ctx.Done():
			return
		}
	}
}

// addOutput adds the bot's voice: Opus when the offer has it (browsers
// offer it first), else PCMU, which every offer has; and drains the RTCP that
// comes back for it. It runs before run starts, which then owns the encoder.
func (c *call) addOutput(opus bool) error {
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}
	if opus {
		if _, err := newOpusEncoder(); err != nil {
			c.h.log.Warn("voice: no Opus encoder, speaking PCMU", "call", c.id, "err", err)
		} else {
			c.opusOut = true
			codec = opusCapability
		}
	}
	track, err := webrtc.NewTrackLocalStaticRTP(codec, "audio", "signoff")
	if err != nil {
		return err
	}
	sender, err := c.pc.AddTrack(track)
	if err != nil {
		return signoff.Wrap(signoff.ErrInvalid, "bad_sdp", "the offer has no audio the bot can answer on", err)
	}
	c.out = track
	c.goPion(func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	})
	return nil
}

// abort undoes a call that never started.
func (c *call) abort() {
	c.cancel()
	c.pionMu.Lock()
	c.ended = true
	c.pionMu.Unlock()
	c.pc.Close()
	c.pionWG.Wait()
}

// hangUp asks the owner to end the call. The first reason given is kept.
func (c *call) hangUp(reason string) {
	c.hangupOnce.Do(func() {
		c.reasonMu.Lock()
		c.reason = reason
		c.reasonMu.Unlock()
		close(c.hangupC)
	})
}

// addCandidates gives trickled candidates to the owner to add.
func (c *call) addCandidates(ctx context.Context, cands []webrtc.ICECandidateInit) error {
	ev := candEvent{cands: cands, res: make(chan error, 1)}
	select {
	case c.events <- ev:
	case <-c.done:
		return signoff.Errorf(signoff.ErrNotFound, "no_call", "the call has ended")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-ev.res:
		return err
	case <-c.done:
		return signoff.Errorf(signoff.ErrNotFound, "no_call", "the call has ended")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// record files evidence, in order, from the records goroutine.
func (c *call) record(kind string, data map[string]string) {
	data["call"] = c.id
	c.records <- record{kind, data}
}

// fileRecords writes the call's evidence until the channel closes. It
// outlives the call's context, so that the last entries are filed after a
// hang-up.
func (c *call) fileRecords(done chan<- struct{}) {
	defer close(done)
	base := context.WithoutCancel(c.ctx)
	for r := range c.records {
		ctx, cancel := context.WithTimeout(base, recordTimeout)
		if err := c.h.conv.Record(ctx, c.sid, r.kind, r.data); err != nil {
			c.h.log.Warn("voice: evidence not filed", "session", c.sid, "call", c.id, "kind", r.kind, "code", signoff.ErrorCode(err))
		}
		cancel()
	}
}

// run is the call's owner: it greets, then takes events until the call
// ends, then files the evidence.
func (c *call) run(s signoff.Session, posted <-chan dialog.Posted) {
	recordsDone := make(chan struct{})
	go c.fileRecords(recordsDone)
	reason := "hangup"
	defer func() { c.finish(reason, recordsDone) }()
	c.begin(s)

	next := time.Now().Add(speech.FrameDuration)
	tick := time.NewTimer(speech.FrameDuration)
	defer tick.Stop()
	connect := time.NewTimer(c.h.cfg.ConnectTimeout)
	defer connect.Stop()
	for {
		select {
		case <-c.hangupC:
			c.reasonMu.Lock()
			reason = c.reason
			c.reasonMu.Unlock()
			return
		case <-connect.C:
			if !c.connected {
				reason = "connect_timeout"
				return
			}
		case p := <-c.packets:
			c.onPacket(p, time.Now())
		case <-tick.C:
			next = c.pace(next, time.Now())
			tick.Reset(time.Until(next))
		case p, ok := <-posted:
			if !ok {
				posted = nil
				continue
			}
			c.onPosted(p)
		case ev := <-c.events:
			switch ev := ev.(type) {
			case connEvent:
				switch ev.state {
				case webrtc.PeerConnectionStateConnected:
					c.onConnected()
				case webrtc.PeerConnectionStateFailed:
					reason = "connection_failed"
					return
				case webrtc.PeerConnectionStateClosed:
					reason = "connection_closed"
					return
				}
			case ttsDone:
				c.onSynth(ev)
			case asrDone:
				c.onRecognized(ev)
			case sentenceEvent:
				c.onSentence(ev)
			case replyDone:
				if !c.onReply(ev) {
					reason = "session_gone"
					return
				}
			case candEvent:
				var err error
				for _, cand := range ev.cands {
					if e := c.pc.AddICECandidate(cand); e != nil {
						err = signoff.Wrap(signoff.ErrInvalid, "bad_candidate", "an ICE candidate was refused", e)
					}
				}
				ev.res <- err
			}
		}
	}
}

// begin sets the call up from the session and queues the greeting: the
// last thing the bot said, with the options on offer now. Synthesis starts
// at once, so the greeting is ready when the connection is.
func (c *call) begin(s signoff.Session) {
	c.started = time.Now()
	c.cat = prompts.For(s.Locale)
	c.lang = language(s.Locale)
	c.offered = s.Offered
	c.spoken = max(len(s.Transcript), s.Lines)
	if dir := c.h.cfg.BlobDir; dir != "" {
		rec, err := startRecorder(dir)
		if err != nil {
			c.h.log.Warn("voice: the call is not recorded", "call", c.id, "err", err)
		} else {
			c.rec = rec
		}
	}
	c.record("call_started", map[string]string{"at": c.h.cfg.Now().UTC().Format(time.RFC3339Nano)})
	text := ""
	for i := len(s.Transcript) - 1; i >= 0; i-- {
		if m := s.Transcript[i]; m.From != signoff.FromRecipient {
			text = m.Text
			break
		}
	}
	if text == "" && len(s.Offered) > 0 {
		text = c.cat.Text("menu.head")
	}
	c.say(text, s.Offered)
}

func (c *call) onConnected() {
	if c.connected {
		return
	}
	c.connected = true
	c.h.log.Debug("voice: call connected", "call", c.id, "after", time.Since(c.started))
}

// say queues a bot message: its sentences, then each option.
func (c *call) say(text string, opts []signoff.Option) {
	u := &utterance{}
	for _, t := range splitSentences(text) {
		c.script = append(c.script, &sentence{text: t, utt: u, pause: c.pause(sentencePause)})
	}
	for _, o := range opts {
		c.script = append(c.script, &sentence{text: optionSentence(c.cat, o), utt: u, minDur: c.pause(optionPace), pause: c.pause(sentencePause)})
	}
	c.synthNext()
}

// pause lengthens d by half in elderly mode.
func (c *call) pause(d time.Duration) time.Duration {
	if c.h.cfg.Slow {
		return d * 3 / 2
	}
	return d
}

// speaking reports whether the bot is saying something or about to.
func (c *call) speaking() bool {
	return len(c.queue) > 0 || c.synthBusy || len(c.script) > 0
}

// synthNext starts synthesising the next sentence of the script, one at a
// time: the next is made while the one before plays.
func (c *call) synthNext() {
	if c.synthBusy || len(c.script) == 0 {
		return
	}
	s := c.script[0]
	c.script = c.script[1:]
	c.synthBusy = true
	gen, ctx, lang, slow := c.gen, c.sayCtx, c.lang, c.h.cfg.Slow
	c.spawn(func() {
		t0 := time.Now()
		cl, err := c.h.synthesize(ctx, s.text, lang, slow)
		c.h.log.Debug("voice: synthesised", "call", c.id, "chars", len(s.text), "took", time.Since(t0))
		c.post(ttsDone{gen: gen, s: s, clip: cl, err: err})
	})
}

func (c *call) onSynth(ev ttsDone) {
	if ev.gen != c.gen {
		return // cut off meanwhile
	}
	c.synthBusy = false
	if ev.err != nil {
		c.h.logErr("voice: synthesis failed", ev.err, "call", c.id)
	} else {
		c.enqueue(ev.s, ev.clip)
	}
	c.synthNext()
}

// enqueue queues a synthesised sentence's frames, padded to its minimum
// length, with its pause after.
func (c *call) enqueue(s *sentence, cl *clip) {
	for i := range cl.frames {
		c.queue = append(c.queue, playFrame{clip: cl, i: i, s: s})
	}
	frames := len(cl.frames)
	want := max(int(s.minDur/speech.FrameDuration), frames+int(s.pause/speech.FrameDuration))
	for ; frames < want; frames++ {
		c.queue = append(c.queue, playFrame{s: s})
	}
}

// nextFrame takes the next 20 ms to play (a clip and its frame, nil for
// silence) and whether it begins a message: the start of a talkspurt,
// which the RTP marker bit flags (RFC 3551).
func (c *call) nextFrame() (*clip, int, bool) {
	if len(c.queue) == 0 {
		c.playing = nil
		return nil, 0, false
	}
	f := c.queue[0]
	c.queue[0] = playFrame{}
	c.queue = c.queue[1:]
	start := false
	if f.s != nil {
		u := f.s.utt
		start = u != c.playing
		if f.clip != nil && !f.s.heard {
			f.s.heard = true
			u.heard = append(u.heard, f.s.text)
		}
		u.playedMs += int(speech.FrameDuration / time.Millisecond)
		c.playing = u
	}
	return f.clip, f.i, start
}

// bargeIn cuts the bot off: the utterance's context is cancelled and every
// queued frame dropped, so the next frame out is silence.
func (c *call) bargeIn(cause string) {
	if !c.speaking() {
		return
	}
	u := c.playing
	c.sayCancel()
	c.sayCtx, c.sayCancel = context.WithCancel(c.ctx)
	c.gen++
	c.script, c.synthBusy = nil, false
	clear(c.queue)
	c.queue = c.queue[:0]
	c.playing = nil
	if u == nil || u.playedMs == 0 {
		return // nothing was heard yet
	}
	c.bargeIns++
	c.record("barge_in", map[string]string{
		"played_ms": strconv.Itoa(u.playedMs),
		"text":      strings.Join(u.heard, " "),
		"cause":     cause,
	})
}

// pace plays every frame that has fallen due by now, on the schedule next
// (a frame every 20 ms), and returns the schedule's next time. A late
// wake-up sends every frame that fell due, so that one late tick does not
// put every later frame of the call behind; after a stall of more than
// maxCatchUp the schedule starts afresh instead of bursting.
func (c *call) pace(next, now time.Time) time.Time {
	c.items = c.jb.Expire(now, c.items[:0])
	c.consume(c.items)
	if behind := now.Sub(next); behind > maxCatchUp {
		if c.connected {
			c.lateFrames += int(behind / speech.FrameDuration)
		}
		next = now
	}
	for !next.After(now) {
		c.onTick(next, now)
		next = next.Add(speech.FrameDuration)
	}
	return next
}

// maxCatchUp is the longest stall whose frames are all sent at once. It is
// long: a schedule started afresh leaves every later frame of the call
// behind at the receiver (and its RTP clock behind the wall clock), where a
// burst costs only the stall's own frames; a receiver's jitter buffer
// absorbs a burst of this size.
const maxCatchUp = 2 * time.Second

// onTick plays the frame due at due: the only place audio is sent. The
// frames' payloads are made once per sentence (clip), so a tick encodes
// nothing. It also hands both directions to the recording.
func (c *call) onTick(due, now time.Time) {
	if !c.connected {
		return
	}
	if now.Sub(due) > 2*speech.FrameDuration {
		c.lateFrames++
	}
	if f := c.h.cfg.FrameLateness; f != nil {
		f(now.Sub(due))
	}
	cl, i, start := c.nextFrame()
	var frame []int16
	c.playRMS = 0
	if cl != nil {
		frame, c.playRMS = cl.frames[i], cl.rms[i]
		c.joinPlayed += speech.FrameDuration
	}
	c.outPkt.Marker = start
	var step uint32
	if c.opusOut {
		c.outPkt.Payload = opusSilence()
		if cl != nil {
			c.outPkt.Payload = cl.opusPackets()[i]
		}
		step = opusFrameTicks
	} else {
		c.outPkt.Payload = silentPCMU
		if cl != nil {
			c.outPkt.Payload = cl.pcmu[i]
		}
		step = speech.FrameSamples / 2
	}
	if len(c.outPkt.Payload) > 0 {
		if err := c.out.WriteRTP(&c.outPkt); err != nil {
			c.h.log.Debug("voice: write failed", "call", c.id, "err", err)
		}
		c.outPkt.SequenceNumber++
	}
	c.outPkt.Timestamp += step
	if c.rec != nil {
		n := min(len(c.callerBuf), speech.FrameSamples)
		c.rec.write(c.callerBuf[:n], frame)
		c.callerBuf = c.callerBuf[:copy(c.callerBuf, c.callerBuf[n:])]
	}
}

// onPacket takes one packet from the caller: keypad events at once, audio
// through the jitter buffer.
func (c *call) onPacket(p rtpPacket, now time.Time) {
	if p.kind == kindEvent {
		if ev, err := speech.ParseTelephoneEvent(p.payload); err == nil {
			if key, ok := c.dedup.Push(p.ts, ev); ok {
				c.onKey(key)
			}
		}
		p.payload = nil // it keeps its place in the sequence, without audio
	}
	c.items = c.jb.Push(jitterItem{seq: p.seq, kind: p.kind, ts: p.ts, payload: p.payload}, now, c.items[:0])
	c.consume(c.items)
}

// consume decodes what the jitter buffer released and feeds it on in 20 ms
// frames.
func (c *call) consume(items []jitterItem) {
	for _, it := range items {
		switch {
		case it.lost:
			if c.lostRun < maxConceal && c.dec.last > 0 {
				c.inPCM = append(c.inPCM, make([]int16, c.dec.last)...)
			}
			c.lostRun++
		case it.kind == kindEvent:
			c.lostRun = 0
		default:
			c.lostRun = 0
			pcm, err := c.dec.decode(c.inPCM, it.kind, it.payload)
			if err != nil {
				continue
			}
			c.inPCM, c.codecIn = pcm, it.kind
		}
	}
	n := 0
	for ; n+speech.FrameSamples <= len(c.inPCM); n += speech.FrameSamples {
		c.onAudio(c.inPCM[n : n+speech.FrameSamples])
	}
	c.inPCM = c.inPCM[:copy(c.inPCM, c.inPCM[n:])]
}

// ringFrames is the pre-roll kept, in frames.
const ringFrames = 20

// onAudio takes 20 ms of the caller's voice: recording, in-band keypad
// tones, and the VAD, whose onset cuts the bot off and whose end hands the
// utterance to the recogniser.
func (c *call) onAudio(frame []int16) {
	if c.rec != nil && len(c.callerBuf) < 10*speech.FrameSamples {
		c.callerBuf = append(c.callerBuf, frame...)
	}
	if ev := c.dtmf.Process(frame); ev.Key != 0 {
		c.inbandKey = c.vad.Elapsed()
		c.onKey(ev.Key)
	}
	var f []int16
	if len(c.ring) == ringFrames {
		f = c.ring[0][:0]
		c.ring = c.ring[:copy(c.ring, c.ring[1:])]
	}
	c.ring = append(c.ring, append(f, frame...))
	if c.playRMS > 0 {
		c.lastPlay = c.vad.Elapsed() + speech.FrameDuration
	}
	ev := c.vad.Process(frame, c.playRMS)
	switch ev.Kind {
	case speech.VADOnset:
		c.bargeIn("speech")
		if c.capturing && c.pausing {
			c.resume(ev.At)
			c.utt = append(c.utt, frame...)
			return
		}
		pre := preRoll
		if c.lastPlay > ev.At-c.vad.Config().EchoTail {
			pre = echoPreRoll
		}
		back := c.vad.Elapsed() - ev.At + pre
		k := min(len(c.ring), int((back+speech.FrameDuration-1)/speech.FrameDuration))
		c.utt = c.utt[:0]
		for _, f := range c.ring[len(c.ring)-k:] {
			c.utt = append(c.utt, f...)
		}
		c.uttStart = c.vad.Elapsed() - speech.Duration(len(c.utt), speech.SampleRate)
		c.capturing = true
		c.beginTurn(ev.At)
	case speech.VADEnd:
		if !c.capturing {
			return
		}
		c.utt = append(c.utt, frame...)
		c.onPause(ev.At)
	default:
		if !c.capturing {
			return
		}
		c.utt = append(c.utt, frame...)
		switch {
		case c.turnOver():
			c.endTurn()
		case speech.Duration(len(c.utt), speech.SampleRate) >= maxUtterance:
			c.endTurn() // the rest, until the VAD's end, is ignored
		}
	}
}

// deliver takes what the recogniser heard in turn ts: an answer goes to
// the engine as the words heard (after those of the number it continues);
// anything else (off-list words, noise) is asked again here, and never
// reaches the engine.
func (c *call) deliver(ts *turnState, res speech.Result, err error) {
	if !res.Rejected && ts.prefix != "" {
		res.Text = ts.prefix + " " + res.Text
	}
	c.h.log.Debug("voice: recognised", "call", c.id, "key", res.Key, "rejected", res.Rejected,
		"silence", res.Silence, "confidence", res.Confidence)
	switch {
	case err != nil:
		c.h.logErr("voice: recognition failed", err, "call", c.id, "code", signoff.ErrorCode(err))
		c.reask()
	case res.Rejected:
		c.record("speech_rejected", map[string]string{
			"silence":    strconv.FormatBool(res.Silence),
			"confidence": strconv.FormatFloat(res.Confidence, 'f', 2, 64),
		})
		c.reask()
	default:
		c.rejected = 0
		c.input(signoff.Input{Kind: signoff.InputText, Text: res.Text, Channel: signoff.ChannelVoice})
	}
}

// reask says that the answer was not understood and offers the options
// again; after three in a row it points to a person.
func (c *call) reask() {
	c.rejected++
	key := "voice.unclear"
	if c.rejected >= 3 {
		key = "voice.unclear.person"
	}
	c.say(c.cat.Text(key), c.offered)
}

// onKey takes a keypad press, in-band or RFC 4733: it cuts the bot off and
// goes to the engine at once.
func (c *call) onKey(key byte) {
	c.h.log.Debug("voice: key", "call", c.id, "speaking", c.speaking(), "queued", len(c.queue))
	c.keys++
	c.bargeIn("keypad")
	if key < '0' || key > '9' {
		return
	}
	c.rejected = 0
	c.input(signoff.Input{Kind: signoff.InputText, Text: string(key), Channel: signoff.ChannelDTMF})
}

// input queues the recipient's answer for the engine; answers go one at a
// time, in order.
func (c *call) input(in signoff.Input) {
	c.inputs = append(c.inputs, in)
	c.nextInput()
}

func (c *call) nextInput() {
	if c.replying || len(c.inputs) == 0 {
		return
	}
	in := c.inputs[0]
	c.inputs = c.inputs[1:]
	c.replying = true
	c.replyN++
	n := c.replyN
	c.replyGen, c.streamed, c.streamU = c.gen, nil, &utterance{}
	ctx := dialog.WithSentences(c.ctx, func(s string) { c.post(sentenceEvent{n: n, text: s}) })
	c.spawn(func() {
		t0 := time.Now()
		turn, err := c.h.conv.Reply(ctx, c.sid, c.token, in)
		c.h.log.Debug("voice: replied", "call", c.id, "took", time.Since(t0), "lines", len(turn.Replies))
		c.post(replyDone{turn: turn, err: err})
	})
}

// onSentence queues a sentence of the reply being written, so the caller
// hears an answer's first sentence while the rest is still coming. After a
// barge-in the reply's sentences are dropped: the caller cut them off.
func (c *call) onSentence(ev sentenceEvent) {
	if !c.replying || ev.n != c.replyN {
		return
	}
	c.streamed = append(c.streamed, ev.text)
	if c.gen != c.replyGen {
		return
	}
	for _, t := range splitSentences(ev.text) {
		c.script = append(c.script, &sentence{text: t, utt: c.streamU, pause: c.pause(sentencePause)})
	}
	c.synthNext()
}

// onReply speaks the engine's answer, less the sentences already spoken
// while it was written, and then what the feed brought meanwhile. It
// returns false when the session is gone.
func (c *call) onReply(ev replyDone) bool {
	c.replying = false
	said := c.streamed
	c.streamed, c.streamU = nil, nil
	if ev.err != nil {
		if errors.Is(ev.err, signoff.ErrNotFound) || errors.Is(ev.err, signoff.ErrUnauthorized) {
			return false
		}
		c.h.logErr("voice: reply failed", ev.err, "call", c.id, "code", signoff.ErrorCode(ev.err))
	} else {
		s := ev.turn.Session
		first := s.Lines - len(ev.turn.Replies) // Turn.Session.Transcript holds only the new lines
		for i, m := range ev.turn.Replies {
			if first+i >= c.spoken && m.From != signoff.FromRecipient {
				var text string
				text, said = unsaid(m.Text, said)
				c.say(text, m.Options)
			}
		}
		c.spoken = max(c.spoken, s.Lines)
		c.offered = s.Offered
	}
	held := c.held
	c.held = nil
	for _, p := range held {
		c.onPosted(p)
	}
	c.nextInput()
	return true
}

// onPosted speaks a line another channel added (an order update, staff),
// once: lines this call has spoken already are skipped by their Seq. While
// a reply is on its way, lines wait for it, as they may be its own.
func (c *call) onPosted(p dialog.Posted) {
	if c.replying {
		c.held = append(c.held, p)
		return
	}
	if p.Seq < c.spoken {
		return
	}
	c.spoken = p.Seq + 1
	m := p.Message
	if m.From == signoff.FromRecipient {
		return
	}
	if len(m.Options) > 0 {
		c.offered = m.Options
	}
	c.say(m.Text, m.Options)
}

// finish ends the call: pion and the workers stop, the recording is filed,
// and the last evidence written.
func (c *call) finish(reason string, recordsDone <-chan struct{}) {
	c.sayCancel()
	c.cancel()
	c.pionMu.Lock()
	c.ended = true
	c.pionMu.Unlock()
	if err := c.pc.Close(); err != nil {
		c.h.log.Debug("voice: close", "call", c.id, "err", err)
	}
	c.pionWG.Wait()
	c.wg.Wait()
	dur := time.Since(c.started)
	if c.rec != nil {
		codec := c.codecIn.String()
		if c.codecIn == kindUnknown {
			codec = "none"
		}
		r := c.rec.close()
		sum, d, err := r.sum, r.d, r.err
		if c.rec.dropped > 0 {
			c.h.log.Warn("voice: recording has gaps: the disk fell behind", "call", c.id, "frames", c.rec.dropped)
		}
		switch {
		case err != nil:
			c.h.log.Warn("voice: recording lost", "call", c.id, "err", err)
		case d > 0:
			c.record("call_recording", map[string]string{
				"sha256": sum, "duration_ms": strconv.FormatInt(d.Milliseconds(), 10),
				"codec": codec, "format": "wav; 16 kHz; 16-bit; channel 1 caller, channel 2 bot",
			})
		}
	}
	c.record("call_ended", map[string]string{
		"reason": reason, "duration_ms": strconv.FormatInt(dur.Milliseconds(), 10),
		"connected": strconv.FormatBool(c.connected), "keys": strconv.Itoa(c.keys),
		"utterances": strconv.Itoa(c.utterances), "barge_ins": strconv.Itoa(c.bargeIns),
		"late_frames": strconv.Itoa(c.lateFrames), "lost_packets": strconv.Itoa(c.jb.lost),
	})
	close(c.records)
	<-recordsDone
	c.h.remove(c)
	c.h.log.Info("voice: call ended", "session", c.sid, "call", c.id, "reason", reason, "duration", dur.Round(time.Millisecond))
	close(c.done)
}
