package voice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/speech"
)

// CallerOptions configure Dial.
type CallerOptions struct {
	// HTTPClient makes the requests; default http.DefaultClient.
	HTTPClient *http.Client
	// Loopback gathers and accepts only 127.0.0.1 candidates, mDNS off.
	Loopback bool
	// NoiseDBFS, when below zero (-60, say), is the level of a white noise
	// floor sent under everything, as a real line has.
	NoiseDBFS float64
	// EchoDB, when below zero (-20, say), sends what the caller hears back
	// at that level, as a phone without echo cancellation would.
	EchoDB float64
}

// HeardFrame is 20 ms of what a Caller heard: when it arrived and how loud
// it was (RMS in 16-bit sample units).
type HeardFrame struct {
	At  time.Time
	RMS float64
	// Start is the RTP marker bit: the frame begins a talkspurt, which
	// the bot sets on the first frame of each message it speaks.
	Start bool
}

// Caller is a WebRTC client of the call endpoint, in Go: it offers PCMU and
// telephone-event, sends audio and keypad presses on one RTP stream as a
// browser does, and keeps the level of everything it hears with its time of
// arrival. It is for tests, benchmarks and signoffctl; a Caller is safe for
// concurrent use.
type Caller struct {
	// Location is the call's URL, for DELETE and PATCH.
	Location string

	client    *http.Client
	token     string
	pc        *webrtc.PeerConnection
	track     *callerTrack
	opts      CallerOptions
	connected chan struct{}
	connOnce  sync.Once
	stop      chan struct{}
	stopOnce  sync.Once
	wg        sync.WaitGroup

	mu     sync.Mutex
	heard  []HeardFrame
	pcm    []int16 // everything heard, 8 kHz
	echo   []int16 // heard and not yet sent back
	sendQ  []outgoing
	keys   []keyPress
	rng    *rand.Rand
	closed bool
}

// outgoing is one stretch of audio queued by Say, 8 kHz.
type outgoing struct {
	pcm   []int16
	onset chan time.Time
	sent  bool
}

// keyPress is one queued keypad press.
type keyPress struct {
	event uint8
	sent  chan time.Time
}

// HTTPError is an answer of the call endpoint other than the one expected.
type HTTPError struct {
	Status int
	Body   string
}

func (e *HTTPError) Error() string { return fmt.Sprintf("voice: HTTP %d: %s", e.Status, e.Body) }

// Dial calls session id at baseURL ("http://127.0.0.1:8080") with the
// recipient's token: it makes an offer, gathers ICE, posts it and applies
// the answer. The call is connecting when Dial returns; Connected says when
// media flows.
func Dial(ctx context.Context, baseURL string, id signoff.SessionID, token string, opts CallerOptions) (*Caller, error) {
	m := &webrtc.MediaEngine{}
	for _, c := range []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: ptPCMU},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: MimeTelephoneEvent, ClockRate: 8000, SDPFmtpLine: "0-15"}, PayloadType: ptEvent8},
	} {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, err
		}
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil { // as the server: see newAPI
		return nil, err
	}
	se := webrtc.SettingEngine{}
	if opts.Loopback {
		loopbackOnly(&se)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	c := &Caller{
		client: opts.HTTPClient, token: token, pc: pc, opts: opts,
		track:     &callerTrack{},
		connected: make(chan struct{}),
		stop:      make(chan struct{}),
		rng:       rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)),
	}
	if c.client == nil {
		c.client = http.DefaultClient
	}
	fail := func(err error) (*Caller, error) {
		c.Close()
		return nil, err
	}
	sender, err := pc.AddTrack(c.track)
	if err != nil {
		return fail(err)
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { c.listen(t) })
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			c.connOnce.Do(func() { close(c.connected) })
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fail(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return fail(err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	base, err := url.Parse(baseURL)
	if err != nil {
		return fail(err)
	}
	endpoint := base.JoinPath("v1", "sessions", string(id), "call")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint.String(), strings.NewReader(pc.LocalDescription().SDP))
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.client.Do(req)
	if err != nil {
		return fail(err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxOffer))
	resp.Body.Close()
	if err != nil {
		return fail(err)
	}
	if resp.StatusCode != http.StatusCreated {
		return fail(&HTTPError{Status: resp.StatusCode, Body: string(body)})
	}
	loc, err := base.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return fail(fmt.Errorf("voice: answer without a usable Location"))
	}
	c.Location = loc.String()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		return fail(err)
	}
	c.wg.Add(1)
	go c.send()
	return c, nil
}

// Connected is closed once media flows.
func (c *Caller) Connected() <-chan struct{} { return c.connected }

// Say queues pcm (16 kHz) to be sent after what is queued already. The
// channel gets the time the first frame of it louder than -45 dBFS went
// out: the speech's onset at the caller.
func (c *Caller) Say(pcm []int16) <-chan time.Time {
	r, err := speech.NewResampler(speech.SampleRate, 8000)
	if err != nil {
		panic(err) // fixed rates
	}
	o := outgoing{pcm: r.Resample(nil, pcm), onset: make(chan time.Time, 1)}
	c.mu.Lock()
	c.sendQ = append(c.sendQ, o)
	c.mu.Unlock()
	return o.onset
}

// Press queues a keypad press, sent as RFC 4733 events in place of audio:
// two packets as the key is held, then three end packets, all with the
// timestamp of its start. The channel gets the time the first went out.
func (c *Caller) Press(key byte) (<-chan time.Time, error) {
	ev, ok := speech.EventForKey(key)
	if !ok {
		return nil, fmt.Errorf("voice: %q is not a key", key)
	}
	k := keyPress{event: ev, sent: make(chan time.Time, 1)}
	c.mu.Lock()
	c.keys = append(c.keys, k)
	c.mu.Unlock()
	return k.sent, nil
}

// Heard returns the frames heard so far.
func (c *Caller) Heard() []HeardFrame {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]HeardFrame(nil), c.heard...)
}

// Audio returns everything heard so far as 8 kHz PCM.
func (c *Caller) Audio() []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int16(nil), c.pcm...)
}

// Hangup ends the call with DELETE on its Location and closes the Caller.
func (c *Caller) Hangup(ctx context.Context) error {
	defer c.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.Location, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return &HTTPError{Status: resp.StatusCode, Body: string(body)}
	}
	return nil
}

// Close drops the connection without hanging up over HTTP and waits for
// the Caller's goroutines.
func (c *Caller) Close() error {
	c.stopOnce.Do(func() { close(c.stop) })
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	err := c.pc.Close()
	c.wg.Wait()
	return err
}

// listen decodes what the bot says, frame by frame.
func (c *Caller) listen(t *webrtc.TrackRemote) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.wg.Add(1)
	c.mu.Unlock()
	defer c.wg.Done()
	for {
		p, _, err := t.ReadRTP()
		if err != nil {
			return
		}
		if p.PayloadType != ptPCMU && !strings.EqualFold(t.Codec().MimeType, webrtc.MimeTypePCMU) {
			continue
		}
		now := time.Now()
		pcm := speech.AppendMulawPCM(nil, p.Payload)
		c.mu.Lock()
		c.heard = append(c.heard, HeardFrame{At: now, RMS: speech.RMS(pcm), Start: p.Marker})
		c.pcm = append(c.pcm, pcm...)
		if c.opts.EchoDB < 0 {
			c.echo = append(c.echo, pcm...)
			if over := len(c.echo) - 5*160; over > 0 {
				c.echo = c.echo[:copy(c.echo, c.echo[over:])]
			}
		}
		c.mu.Unlock()
	}
}

// send is the Caller's sender: every 20 ms one packet, of keypad events
// while a press is going out, else of audio (what Say queued, or silence,
// with the noise floor and the echo mixed in).
func (c *Caller) send() {
	defer c.wg.Done()
	select {
	case <-c.connected:
	case <-c.stop:
		return
	}
	tick := time.NewTicker(speech.FrameDuration)
	defer tick.Stop()
	var (
		seq   = uint16(c.rng.UintN(1 << 16))
		ts    = c.rng.Uint32()
		frame = make([]int16, 160)
		press *keyPress
		pkts  int
		pts   uint32
	)
	// The noise floor is made once, a second of it, and played in a loop:
	// a bench runs a hundred callers on the server's cores.
	var noise []float64
	if c.opts.NoiseDBFS < 0 {
		sd := speech.DBFSToRMS(c.opts.NoiseDBFS)
		noise = make([]float64, speech.SampleRate/2)
		for i := range noise {
			noise[i] = c.rng.NormFloat64() * sd
		}
	}
	noiseAt := 0
	echo := speech.Gain(c.opts.EchoDB)
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		c.mu.Lock()
		if press == nil && len(c.keys) > 0 {
			press, pkts, pts = &c.keys[0], 0, ts
			c.keys = c.keys[1:]
		}
		if press != nil {
			c.mu.Unlock()
			dur := uint16(160 * (min(pkts, 2) + 1))
			n := 1
			if pkts == 2 {
				n = 3
			}
			for range n {
				payload, _ := speech.TelephoneEvent{Event: press.event, End: pkts == 2, Volume: 10, Duration: dur}.Marshal()
				c.track.write(&rtp.Header{Marker: pkts == 0, SequenceNumber: seq, Timestamp: pts}, payload, true)
				seq++
			}
			if pkts == 0 {
				press.sent <- time.Now()
			}
			pkts++
			if pkts == 3 {
				press = nil
			}
			ts += 160
			continue
		}
		clear(frame)
		var onset chan time.Time
		for i := 0; i < len(frame) && len(c.sendQ) > 0; {
			o := &c.sendQ[0]
			n := copy(frame[i:], o.pcm)
			if !o.sent && speech.DBFS(o.pcm[:n]) > -45 {
				o.sent, onset = true, o.onset
			}
			o.pcm = o.pcm[n:]
			i += n
			if len(o.pcm) == 0 {
				if !o.sent {
					o.sent = true
					close(o.onset)
				}
				c.sendQ = c.sendQ[1:]
			}
		}
		if c.opts.EchoDB < 0 && len(c.echo) >= 160 {
			e := c.echo[:160]
			for i := range frame {
				frame[i] = sat16(float64(frame[i]) + echo*float64(e[i]))
			}
			c.echo = c.echo[:copy(c.echo, c.echo[160:])]
		}
		if noise != nil {
			for i := range frame {
				frame[i] = sat16(float64(frame[i]) + noise[noiseAt])
				noiseAt = (noiseAt + 1) % len(noise)
			}
		}
		c.mu.Unlock()
		c.track.write(&rtp.Header{SequenceNumber: seq, Timestamp: ts}, speech.AppendMulaw(nil, frame), false)
		if onset != nil {
			onset <- time.Now()
		}
		seq++
		ts += 160
	}
}

func sat16(v float64) int16 {
	return int16(max(-32768, min(32767, v)))
}

// callerTrack is a TrackLocal that writes raw RTP with the payload type of
// its choice, PCMU or telephone-event, on one SSRC, as browsers send them.
// (pion's static tracks rewrite every packet's payload type to the codec
// they bound.)
type callerTrack struct {
	mu      sync.Mutex
	w       webrtc.TrackLocalWriter
	ssrc    webrtc.SSRC
	pcmu    uint8
	event   uint8
	hasEvt  bool
	unbound bool
}

var errNoPCMU = errors.New("voice: the answer has no PCMU")

func (t *callerTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var pcmu *webrtc.RTPCodecParameters
	for _, p := range ctx.CodecParameters() {
		switch {
		case strings.EqualFold(p.MimeType, webrtc.MimeTypePCMU) && pcmu == nil:
			pcmu = &p
		case strings.EqualFold(p.MimeType, MimeTelephoneEvent) && p.ClockRate == 8000:
			t.event, t.hasEvt = uint8(p.PayloadType), true
		}
	}
	if pcmu == nil {
		return webrtc.RTPCodecParameters{}, errNoPCMU
	}
	t.w, t.ssrc, t.pcmu = ctx.WriteStream(), ctx.SSRC(), uint8(pcmu.PayloadType)
	return *pcmu, nil
}

func (t *callerTrack) Unbind(webrtc.TrackLocalContext) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.unbound = true
	return nil
}

func (t *callerTrack) ID() string                { return "audio" }
func (t *callerTrack) RID() string               { return "" }
func (t *callerTrack) StreamID() string          { return "caller" }
func (t *callerTrack) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeAudio }

// write sends one packet, of telephone-event if event is set, else PCMU.
func (t *callerTrack) write(h *rtp.Header, payload []byte, event bool) {
	t.mu.Lock()
	w, ssrc, pt, ok := t.w, t.ssrc, t.pcmu, t.w != nil && !t.unbound
	if event {
		pt, ok = t.event, ok && t.hasEvt
	}
	t.mu.Unlock()
	if !ok {
		return
	}
	h.Version, h.SSRC, h.PayloadType = 2, uint32(ssrc), pt
	w.WriteRTP(h, payload)
}
