package voice

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/pion/webrtc/v4"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/channels/rtc"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/speech"
)

// Conversations is what a call needs of the dialog engine.
type Conversations interface {
	// Reply gives the recipient's input to session id, authorised by token.
	Reply(ctx context.Context, id signoff.SessionID, token string, in signoff.Input) (dialog.Turn, error)
	// Session returns session id if token opens it (signoff.ErrNotFound,
	// signoff.ErrUnauthorized).
	Session(ctx context.Context, id signoff.SessionID, token string) (signoff.Session, signoff.Delivery, error)
	// Record appends evidence to the log of the session's delivery.
	Record(ctx context.Context, id signoff.SessionID, kind string, data map[string]string) error
}

// Feed delivers transcript lines posted to a session on any node, so that a
// call speaks what other channels (order updates, staff) add.
type Feed interface {
	// Subscribe returns lines posted to id until ctx ends. Lines may be
	// dropped for a slow reader; Seq shows the gap.
	Subscribe(ctx context.Context, id signoff.SessionID) (<-chan dialog.Posted, error)
}

// Synthesizer turns a sentence into 16 kHz mono PCM. lang is "en" or
// "zh-CN"; slow asks for the slower, clearer speech of elderly mode.
// Package speech/espeak provides one.
type Synthesizer interface {
	Synthesize(ctx context.Context, text, lang string, slow bool) ([]int16, error)
}

// Recognizer decides which phrase of g, if any, was said in one utterance
// of 16 kHz mono PCM. Package speech/sphinx provides one.
type Recognizer interface {
	Recognize(ctx context.Context, pcm []int16, g speech.Grammar) (speech.Result, error)
}

// Config tunes a Handler. The zero value works: no ICE servers (host
// candidates only), no recordings.
type Config struct {
	// ICEServers are STUN and TURN URLs: "stun:host:3478",
	// "turn:user:password@host:3478?transport=udp".
	ICEServers []string
	// Loopback gathers and accepts only 127.0.0.1 candidates, over UDP,
	// with mDNS off: for tests and single-machine demos.
	Loopback bool
	// BlobDir is where call recordings go, as <sha256>.wav. Empty: calls
	// are not recorded (New logs a warning).
	BlobDir string
	// Now is the clock of the evidence; default time.Now.
	Now func() time.Time
	// VAD tunes the voice activity detector; its SampleRate and Hangover
	// are set by the call (Hangover from EarlyAfter or EndSilence).
	VAD speech.VADConfig
	// EndSilence is the silence that ends the caller's turn; default
	// 500 ms.
	EndSilence time.Duration
	// Hold is the silence that ends the turn instead while the caller
	// may be saying a number: a digit heard with a level or rising voice
	// ("two, …"); default 1 s.
	Hold time.Duration
	// EarlyAfter is the pause after which the speech so far is
	// recognised, before the turn ends, so that a whole answer ends it at
	// once; default 200 ms. Negative: each turn is recognised once, after
	// EndSilence (for recognisers that charge per request).
	EarlyAfter time.Duration
	// Slow makes the bot speak slower and pause longer: elderly mode.
	Slow bool
	// MaxCalls bounds the calls at once on this node; default 200.
	// Further offers get 503.
	MaxCalls int
	// ConnectTimeout is how long a call may take from its answer to a
	// working connection before it is given up; default 30 s.
	ConnectTimeout time.Duration
	// FrameLateness, when set, is told how far behind its 20 ms tick each
	// bot frame of a connected call was sent (metrics). It runs on the
	// call's goroutine and must not block.
	FrameLateness func(time.Duration)
}

func (c Config) withDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.EndSilence <= 0 {
		c.EndSilence = 500 * time.Millisecond
	}
	if c.MaxCalls <= 0 {
		c.MaxCalls = 200
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 30 * time.Second
	}
	if c.Hold <= 0 {
		c.Hold = time.Second
	}
	if c.EarlyAfter == 0 {
		c.EarlyAfter = 200 * time.Millisecond
	}
	c.VAD.SampleRate = speech.SampleRate
	c.VAD.Hangover = c.EndSilence
	if c.EarlyAfter > 0 {
		c.VAD.Hangover = min(c.EarlyAfter, c.EndSilence)
	}
	return c
}

// Limits on what a client may send.
const (
	MaxOffer   = 64 << 10 // bytes of an SDP offer
	MaxSDPFrag = 16 << 10 // bytes of a trickle-ICE fragment
)

// Handler serves the call endpoint and runs the calls. Construct it with
// New; Close it on shutdown.
type Handler struct {
	cfg  Config
	ice  []webrtc.ICEServer
	conv Conversations
	feed Feed
	tts  Synthesizer
	asr  Recognizer
	log  *slog.Logger
	tc   *ttsCache

	mu     sync.Mutex
	calls  map[string]*call
	closed bool
	wg     sync.WaitGroup // one per call
}

// New returns a Handler over conv and feed that speaks with tts and listens
// with asr. Either engine may be nil: without tts the bot beeps instead of
// speaking; without asr speech still cuts the bot off but only the keypad
// answers. A bad Config is an error of kind signoff.ErrInvalid; a BlobDir
// that cannot be made, of kind signoff.ErrUnavailable.
func New(cfg Config, conv Conversations, feed Feed, tts Synthesizer, asr Recognizer, log *slog.Logger) (*Handler, error) {
	if conv == nil || feed == nil || log == nil {
		return nil, signoff.Errorf(signoff.ErrInvalid, "bad_voice_config", "voice.New needs conversations, a feed and a logger")
	}
	cfg = cfg.withDefaults()
	if _, err := speech.NewVAD(cfg.VAD); err != nil {
		return nil, err
	}
	ice, err := iceServers(cfg.ICEServers)
	if err != nil {
		return nil, err
	}
	if cfg.BlobDir != "" {
		if err := os.MkdirAll(cfg.BlobDir, 0o750); err != nil {
			return nil, signoff.Wrap(signoff.ErrUnavailable, "blob_dir", "the recordings directory cannot be made", err)
		}
	} else {
		log.Warn("voice: no blob directory configured; calls are not recorded")
	}
	if tts == nil {
		log.Warn("voice: no speech synthesiser; the bot beeps instead of speaking (install espeak-ng)")
	}
	if asr == nil {
		log.Warn("voice: no speech recogniser; callers answer with the keypad only (install pocketsphinx-en-us)")
	}
	return &Handler{cfg: cfg, ice: ice, conv: conv, feed: feed, tts: tts, asr: asr, log: log,
		tc: newTTSCache(256), calls: make(map[string]*call)}, nil
}

// Register adds the call routes to r: POST /v1/sessions/{id}/call makes a
// call (WHIP style, RFC 9725), and DELETE and PATCH on the Location it
// returns hang up and add ICE candidates.
func (h *Handler) Register(r gin.IRoutes) {
	r.POST("/v1/sessions/:id/call", h.post)
	r.DELETE("/v1/sessions/:id/call/:call", h.delete)
	r.PATCH("/v1/sessions/:id/call/:call", h.patch)
}

// Close hangs up every call without a word and waits until each has ended
// and filed its evidence, or until ctx ends. Offers made after Close get
// 503.
func (h *Handler) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	calls := make([]*call, 0, len(h.calls))
	for _, c := range h.calls {
		calls = append(calls, c)
	}
	h.mu.Unlock()
	for _, c := range calls {
		c.hangUp("server_shutdown")
	}
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Calls returns how many calls are running.
func (h *Handler) Calls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.calls)
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func newCallID() string {
	var b [15]byte
	rand.Read(b[:]) // crypto/rand.Read never fails
	return "c_" + strings.ToLower(idEncoding.EncodeToString(b[:]))
}

// post answers an SDP offer: 201 with the answer (ICE gathered) and the
// call's Location.
func (h *Handler) post(c *gin.Context) {
	id, token, err := channels.Credentials(c, false)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	if !channels.HasType(c, "application/sdp") {
		channels.Unsupported(c, h.log, "application/sdp")
		return
	}
	body, err := channels.ReadBody(c, MaxOffer)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	ctx := c.Request.Context()
	if _, _, err := h.conv.Session(ctx, id, token); err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	offer := string(body)
	if err := checkOffer(offer); err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	cl, answer, err := h.dial(ctx, id, token, offer)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	c.Header("Location", "/v1/sessions/"+string(id)+"/call/"+cl.id)
	c.Data(http.StatusCreated, "application/sdp", []byte(answer))
}

// lookup finds the call named in the path and checks the bearer token
// against the one that made it.
func (h *Handler) lookup(c *gin.Context) (*call, error) {
	id, token, err := channels.Credentials(c, false)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	cl := h.calls[c.Param("call")]
	h.mu.Unlock()
	if cl == nil || cl.sid != id {
		return nil, signoff.Errorf(signoff.ErrNotFound, "no_call", "no such call")
	}
	sum := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(sum[:], cl.tokenHash[:]) != 1 {
		return nil, signoff.Errorf(signoff.ErrUnauthorized, "bad_token", "the token does not open this call")
	}
	return cl, nil
}

// delete hangs up: 204 once the call has ended.
func (h *Handler) delete(c *gin.Context) {
	cl, err := h.lookup(c)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	cl.hangUp("hangup")
	select {
	case <-cl.done:
	case <-c.Request.Context().Done():
	case <-time.After(10 * time.Second):
	}
	c.Status(http.StatusNoContent)
}

// patch adds trickled ICE candidates (RFC 8840 fragment): 204.
func (h *Handler) patch(c *gin.Context) {
	cl, err := h.lookup(c)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	if !channels.HasType(c, "application/trickle-ice-sdpfrag") {
		channels.Unsupported(c, h.log, "application/trickle-ice-sdpfrag")
		return
	}
	body, err := channels.ReadBody(c, MaxSDPFrag)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	cands, err := parseSDPFrag(string(body))
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	if err := cl.addCandidates(c.Request.Context(), cands); err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// parseSDPFrag returns the candidates of a trickle-ICE fragment, each with
// the mid of the media section it follows. Errors are signoff.ErrInvalid.
func parseSDPFrag(frag string) ([]webrtc.ICECandidateInit, error) { return rtc.ParseSDPFrag(frag) }

// dial makes the peer connection of a call, answers offer, and starts the
// call's goroutines.
func (h *Handler) dial(ctx context.Context, id signoff.SessionID, token, offer string) (*call, string, error) {
	h.mu.Lock()
	switch {
	case h.closed:
		h.mu.Unlock()
		return nil, "", signoff.Errorf(signoff.ErrUnavailable, "shutting_down", "the server is shutting down")
	case len(h.calls) >= h.cfg.MaxCalls:
		h.mu.Unlock()
		return nil, "", signoff.Errorf(signoff.ErrUnavailable, "too_many_calls", "too many calls at once; try again shortly")
	}
	h.mu.Unlock()

	api, err := newAPI(&h.cfg)
	if err != nil {
		return nil, "", err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: h.ice})
	if err != nil {
		return nil, "", signoff.Wrap(signoff.ErrUnavailable, "webrtc", "the call could not be set up", err)
	}
	// The call outlives this request, so its context does not end with it.
	callCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	cl, err := newCall(callCtx, cancel, h, pc, id, token)
	if err != nil {
		cancel()
		pc.Close()
		return nil, "", err
	}
	fail := func(err error) (*call, string, error) {
		cl.abort()
		return nil, "", err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fail(signoff.Wrap(signoff.ErrInvalid, "bad_sdp", "the SDP offer cannot be answered", err))
	}
	if err := cl.addOutput(offersOpus(offer)); err != nil {
		return fail(err)
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
	case <-ctx.Done():
		return fail(ctx.Err())
	case <-time.After(10 * time.Second):
		return fail(signoff.Errorf(signoff.ErrUnavailable, "ice_gathering", "ICE gathering did not complete"))
	}
	// Subscribe before reading the transcript, so that nothing posted in
	// between is lost.
	posted, err := h.feed.Subscribe(callCtx, id)
	if err != nil {
		return fail(err)
	}
	s, _, err := h.conv.Session(ctx, id, token)
	if err != nil {
		return fail(err)
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return fail(signoff.Errorf(signoff.ErrUnavailable, "shutting_down", "the server is shutting down"))
	}
	h.calls[cl.id] = cl
	h.wg.Add(1)
	h.mu.Unlock()
	go func() {
		defer h.wg.Done()
		cl.run(s, posted)
	}()
	return cl, pc.LocalDescription().SDP, nil
}

func (h *Handler) remove(cl *call) {
	h.mu.Lock()
	delete(h.calls, cl.id)
	h.mu.Unlock()
}

// logErr logs err unless it is the end of the call's context.
func (h *Handler) logErr(msg string, err error, attrs ...any) {
	if errors.Is(err, context.Canceled) {
		return
	}
	h.log.Warn(msg, append(attrs, "err", err)...)
}
