package video

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"io"
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
)

// Conversations is what rooms need of the dialog engine.
type Conversations interface {
	// Video gives a video event to delivery d's open conversation.
	Video(ctx context.Context, d signoff.DeliveryID, ev dialog.VideoEvent, by string) (signoff.Session, error)
	// Record appends evidence to the log of the session's delivery.
	Record(ctx context.Context, id signoff.SessionID, kind string, data map[string]string) error
}

// Deliveries reads a delivery's facts and its open session. The Redis
// store provides it.
type Deliveries interface {
	Load(ctx context.Context, d signoff.DeliveryID) (signoff.Delivery, *signoff.Session, error)
}

// Placement records which node holds a delivery's room, so that every
// participant reaches the same node. dialog/redisstore provides it.
type Placement interface {
	// ClaimRoom makes node the holder of d's room for lease, or extends
	// the lease when node holds it already, and returns the holder: node,
	// or the node that holds it.
	ClaimRoom(ctx context.Context, d signoff.DeliveryID, node string, lease time.Duration) (string, error)
	// ReleaseRoom gives up node's hold on d's room, if it still holds it.
	ReleaseRoom(ctx context.Context, d signoff.DeliveryID, node string) error
}

// StaffAuth names the support agent making a request (the console's
// sign-in). An error of kind signoff.ErrUnauthorized refuses it.
type StaffAuth interface {
	StaffFromRequest(r *http.Request) (name, role string, err error)
}

// CourierAuth returns the courier a token names; channels.CourierTokens
// provides it.
type CourierAuth interface {
	Verify(token string) (string, error)
}

// Roles of a room's participants.
const (
	RoleRecipient = "recipient" // publishes, and receives the courier
	RoleCourier   = "courier"   // publishes, and receives the recipient
	RoleStaff     = "staff"     // receives both, sends nothing
)

// Config tunes a Handler. NodeURL is required.
type Config struct {
	// NodeURL is this node's base URL as other nodes and browsers reach it
	// (SIGNOFF_NODE_URL): joins for a room held here are redirected to it.
	NodeURL string
	// ICEServers are STUN and TURN URLs (see rtc.ICEServers).
	ICEServers []string
	// Loopback gathers and accepts only 127.0.0.1 candidates.
	Loopback bool
	// BlobDir is where recordings go, as <sha256>.ivf and <sha256>.ogg.
	// Empty: calls are not recorded (New logs a warning).
	BlobDir string
	// Lease is how long a room's placement holds without a refresh;
	// default 15 s, refreshed every third of it.
	Lease time.Duration
	// MaxRooms bounds the rooms at once on this node; default 100.
	MaxRooms int
	// Now is the clock of the evidence; default time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.Lease <= 0 {
		c.Lease = 15 * time.Second
	}
	if c.MaxRooms <= 0 {
		c.MaxRooms = 100
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.NodeURL = strings.TrimRight(c.NodeURL, "/")
	return c
}

// Limits on what a client may send.
const (
	MaxOffer   = 64 << 10 // bytes of an SDP offer or answer
	MaxSDPFrag = 16 << 10 // bytes of a trickle-ICE fragment
)

// Handler serves the room endpoints and runs the rooms of this node.
// Construct it with New; Close it on shutdown.
type Handler struct {
	cfg        Config
	ice        []webrtc.ICEServer
	conv       Conversations
	deliveries Deliveries
	place      Placement
	couriers   CourierAuth
	staff      StaffAuth
	log        *slog.Logger

	mu     sync.Mutex
	rooms  map[signoff.DeliveryID]*room
	closed bool
	wg     sync.WaitGroup // one per room
}

// New returns a Handler. staff may be nil: then staff cannot join. A bad
// Config is an error of kind signoff.ErrInvalid.
func New(cfg Config, conv Conversations, deliveries Deliveries, place Placement, couriers CourierAuth, staff StaffAuth, log *slog.Logger) (*Handler, error) {
	if conv == nil || deliveries == nil || place == nil || couriers == nil || log == nil {
		return nil, signoff.Errorf(signoff.ErrInvalid, "bad_video_config", "video.New needs conversations, deliveries, placement, courier tokens and a logger")
	}
	cfg = cfg.withDefaults()
	if cfg.NodeURL == "" {
		return nil, signoff.Errorf(signoff.ErrInvalid, "bad_video_config", "video.New needs the node's URL")
	}
	ice, err := rtc.ICEServers(cfg.ICEServers)
	if err != nil {
		return nil, err
	}
	if cfg.BlobDir != "" {
		if err := os.MkdirAll(cfg.BlobDir, 0o750); err != nil {
			return nil, signoff.Wrap(signoff.ErrUnavailable, "blob_dir", "the recordings directory cannot be made", err)
		}
	} else {
		log.Warn("video: no blob directory configured; calls are not recorded")
	}
	return &Handler{cfg: cfg, ice: ice, conv: conv, deliveries: deliveries, place: place, couriers: couriers, staff: staff,
		log: log, rooms: make(map[signoff.DeliveryID]*room)}, nil
}

// Register adds the room routes to r: POST /v1/rooms/{delivery}/join joins
// (WHIP style); on the Location it returns, GET .../events streams the
// server's renegotiation offers (SSE), POST .../answer answers them, PATCH
// trickles ICE candidates and DELETE leaves. POST
// /v1/deliveries/{delivery}/video lets staff start a call.
func (h *Handler) Register(r gin.IRoutes) {
	r.POST("/v1/rooms/:delivery/join", h.join)
	r.GET("/v1/rooms/:delivery/peers/:peer/events", h.events)
	r.POST("/v1/rooms/:delivery/peers/:peer/answer", h.answer)
	r.PATCH("/v1/rooms/:delivery/peers/:peer", h.patch)
	r.DELETE("/v1/rooms/:delivery/peers/:peer", h.leave)
	r.POST("/v1/deliveries/:delivery/video", h.start)
}

// Close ends every room and waits until each has filed its evidence, or
// until ctx ends. Joins after Close get 503.
func (h *Handler) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	rooms := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	h.mu.Unlock()
	for _, r := range rooms {
		r.shut()
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

// Rooms returns how many rooms run on this node.
func (h *Handler) Rooms() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.rooms)
}

func deliveryID(c *gin.Context) (signoff.DeliveryID, error) {
	d := c.Param("delivery")
	if d == "" || len(d) > 128 || strings.ContainsAny(d, "{}\x00/") {
		return "", signoff.Errorf(signoff.ErrNotFound, "not_found", "no such delivery")
	}
	return signoff.DeliveryID(d), nil
}

// participant is who a request speaks for, once authorised.
type participant struct {
	role    string
	who     string // "recipient", "courier", "staff:<name>"
	session signoff.SessionID
	token   [32]byte // sha256 of the credential that joined
}

// authorize checks the request's credentials for role in delivery d, whose
// conversation must be open.
func (h *Handler) authorize(c *gin.Context, d signoff.DeliveryID, role string) (participant, error) {
	p := participant{role: role, who: role}
	var token string
	switch role {
	case RoleRecipient, RoleCourier:
		t, err := channels.Bearer(c, false)
		if err != nil {
			return p, err
		}
		token = t
	case RoleStaff:
		if h.staff == nil {
			return p, signoff.Errorf(signoff.ErrUnauthorized, "no_staff", "staff sign-in is not configured")
		}
		name, _, err := h.staff.StaffFromRequest(c.Request)
		if err != nil {
			return p, err
		}
		p.who = "staff:" + name
		token = bearerOrQuery(c, false)
	default:
		return p, signoff.Errorf(signoff.ErrInvalid, "bad_role", "role must be recipient, courier or staff")
	}
	fact, open, err := h.deliveries.Load(c.Request.Context(), d)
	if err != nil {
		return p, err
	}
	if open == nil || fact.Version == 0 {
		return p, signoff.Errorf(signoff.ErrNotFound, "no_session", "the delivery has no open conversation")
	}
	switch role {
	case RoleRecipient:
		if subtle.ConstantTimeCompare([]byte(dialog.HashToken(token)), []byte(open.TokenHash)) != 1 {
			return p, signoff.Errorf(signoff.ErrUnauthorized, "bad_token", "the token does not open this delivery's call")
		}
	case RoleCourier:
		id, err := h.couriers.Verify(token)
		if err != nil {
			return p, err
		}
		if fact.Courier.ID == "" || id != fact.Courier.ID {
			return p, signoff.Errorf(signoff.ErrUnauthorized, "not_your_delivery", "this delivery is not the courier's")
		}
	}
	p.session = open.ID
	p.token = sha256.Sum256([]byte(token))
	return p, nil
}

// join answers a participant's offer: 201 with the answer and the peer's
// Location; 307 to the node holding the room when it is not this one.
func (h *Handler) join(c *gin.Context) {
	d, err := deliveryID(c)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	role := c.Query("role")
	p, err := h.authorize(c, d, role)
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
	offer := string(body)
	if err := CheckOffer(offer, role); err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	ctx := c.Request.Context()
	r, redirect, err := h.room(ctx, d, p.session)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	if redirect != "" {
		c.Header("Location", redirect+c.Request.URL.RequestURI())
		c.Status(http.StatusTemporaryRedirect)
		return
	}
	peerID, answer, err := r.join(ctx, p, offer)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	c.Header("Location", "/v1/rooms/"+string(d)+"/peers/"+peerID)
	c.Data(http.StatusCreated, "application/sdp", []byte(answer))
}

// room returns d's room on this node, making it when this node may hold
// it, or the URL of the node that holds it.
func (h *Handler) room(ctx context.Context, d signoff.DeliveryID, sid signoff.SessionID) (*room, string, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, "", signoff.Errorf(signoff.ErrUnavailable, "shutting_down", "the server is shutting down")
	}
	if r := h.rooms[d]; r != nil && r.sid == sid {
		h.mu.Unlock()
		return r, "", nil
	}
	if len(h.rooms) >= h.cfg.MaxRooms {
		h.mu.Unlock()
		return nil, "", signoff.Errorf(signoff.ErrUnavailable, "too_many_rooms", "too many video calls at once; try again shortly")
	}
	h.mu.Unlock()
	holder, err := h.place.ClaimRoom(ctx, d, h.cfg.NodeURL, h.cfg.Lease)
	if err != nil {
		return nil, "", err
	}
	if holder != h.cfg.NodeURL {
		return nil, holder, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, "", signoff.Errorf(signoff.ErrUnavailable, "shutting_down", "the server is shutting down")
	}
	if r := h.rooms[d]; r != nil && r.sid == sid {
		return r, "", nil
	}
	r, err := newRoom(ctx, h, d, sid)
	if err != nil {
		return nil, "", err
	}
	h.rooms[d] = r
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		r.run()
	}()
	return r, "", nil
}

// removeRoom forgets r once it has ended.
func (h *Handler) removeRoom(r *room) {
	h.mu.Lock()
	if h.rooms[r.delivery] == r {
		delete(h.rooms, r.delivery)
	}
	h.mu.Unlock()
}

// lookup finds the peer named in the path and checks its credential.
func (h *Handler) lookup(c *gin.Context, allowQuery bool) (*room, string, error) {
	d, err := deliveryID(c)
	if err != nil {
		return nil, "", err
	}
	h.mu.Lock()
	r := h.rooms[d]
	h.mu.Unlock()
	id := c.Param("peer")
	if r == nil {
		return nil, "", signoff.Errorf(signoff.ErrNotFound, "no_peer", "no such participant")
	}
	tok := bearerOrQuery(c, allowQuery)
	if tok == "" {
		return nil, "", signoff.Errorf(signoff.ErrUnauthorized, "missing_token", "Authorization: Bearer <token> is required")
	}
	return r, id, r.check(c.Request.Context(), id, tok)
}

// bearerOrQuery returns the bearer token of the request, or with
// allowQuery (EventSource cannot set headers) its "t" parameter.
func bearerOrQuery(c *gin.Context, allowQuery bool) string {
	a := c.GetHeader("Authorization")
	if scheme, tok, ok := strings.Cut(a, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(tok)
	}
	if allowQuery {
		return c.Query("t")
	}
	return ""
}

// events streams the server's offers to one participant (SSE): "offer"
// events with {rev, sdp}, and "closed" when the room ends.
func (h *Handler) events(c *gin.Context) {
	r, id, err := h.lookup(c, true)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	ch := make(chan sseEvent, 16)
	if err := r.subscribe(c.Request.Context(), id, ch); err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	defer r.unsubscribe(id, ch)
	w := c.Writer
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, ": room\n\n")
	w.Flush()
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-c.Request.Context().Done():
			return
		case <-keep.C:
			io.WriteString(w, ": keep-alive\n\n")
		case ev, ok := <-ch:
			if !ok {
				return
			}
			io.WriteString(w, "event: "+ev.name+"\ndata: "+ev.data+"\n\n")
			if ev.name == "closed" {
				w.Flush()
				return
			}
		}
		w.Flush()
	}
}

// answer takes a participant's answer to the server's offer number ?rev=.
func (h *Handler) answer(c *gin.Context) {
	r, id, err := h.lookup(c, false)
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
	if err := checkSDP(string(body)); err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	if err := r.answer(c.Request.Context(), id, c.Query("rev"), string(body)); err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// patch adds trickled ICE candidates (RFC 8840 fragment): 204.
func (h *Handler) patch(c *gin.Context) {
	r, id, err := h.lookup(c, false)
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
	cands, err := rtc.ParseSDPFrag(string(body))
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	if err := r.candidates(c.Request.Context(), id, cands); err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// leave ends one participant's part: 204.
func (h *Handler) leave(c *gin.Context) {
	r, id, err := h.lookup(c, false)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	if err := r.leave(c.Request.Context(), id, "left"); err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// start lets staff ring the courier for a video call: 200 with the state.
func (h *Handler) start(c *gin.Context) {
	d, err := deliveryID(c)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	if h.staff == nil {
		channels.WriteError(c, h.log, signoff.Errorf(signoff.ErrUnauthorized, "no_staff", "staff sign-in is not configured"))
		return
	}
	name, _, err := h.staff.StaffFromRequest(c.Request)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	s, err := h.conv.Video(c.Request.Context(), d, dialog.VideoStart, "staff:"+name)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"session_id": s.ID, "state": s.State})
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func newPeerID() string {
	var b [15]byte
	rand.Read(b[:]) // crypto/rand.Read never fails
	return "p_" + strings.ToLower(idEncoding.EncodeToString(b[:]))
}

// logErr logs err unless it is the end of a context.
func (h *Handler) logErr(msg string, err error, attrs ...any) {
	if errors.Is(err, context.Canceled) {
		return
	}
	h.log.Warn(msg, append(attrs, "err", err)...)
}

func sha256Sum(s string) [32]byte { return sha256.Sum256([]byte(s)) }
