package video

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/redis/go-redis/v9"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/channels/rtc"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/redisstore"
	"github.com/signoff/signoff/internal/redistest"
	"github.com/signoff/signoff/knowledge"
)

func TestMain(m *testing.M) { redistest.Main(m) }

func testLog(t testing.TB) *slog.Logger {
	t.Helper()
	if testing.Verbose() && os.Getenv("VIDEO_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

const (
	staffSecret = "staff-secret-0123456789"
	courierID   = "C-7"
)

// fakeStaff is the console's sign-in, reduced to one bearer token.
type fakeStaff struct{}

func (fakeStaff) StaffFromRequest(r *http.Request) (string, string, error) {
	if r.Header.Get("Authorization") == "Bearer "+staffSecret || r.URL.Query().Get("t") == staffSecret {
		return "ana", "agent", nil
	}
	return "", "", signoff.Errorf(signoff.ErrUnauthorized, "bad_staff_token", "no")
}

// world is a real engine on a real redis-server, with one or more nodes of
// rooms served over HTTP.
type world struct {
	store    *redisstore.Store
	engine   *dialog.Engine
	couriers channels.CourierTokens
	blobs    string
}

func newWorld(t *testing.T, cfg dialog.Config) *world {
	t.Helper()
	addr, db := redistest.DB(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	t.Cleanup(func() { rdb.Close() })
	store := redisstore.New(rdb, testLog(t))
	couriers, err := channels.NewCourierTokens([]byte("courier-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	return &world{store: store, engine: dialog.New(store, dialog.MergeFunc(knowledge.Merge), cfg, testLog(t)),
		couriers: couriers, blobs: t.TempDir()}
}

// node starts one node's rooms behind an httptest server.
func (w *world) node(t *testing.T) (*Handler, string) {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	h, err := New(Config{NodeURL: srv.URL, Loopback: true, BlobDir: w.blobs}, w.engine, w.store, w.store, w.couriers, fakeStaff{}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	h.Register(r)
	h.RegisterPage(r)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := h.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return h, srv.URL
}

// open opens the conversation of delivery d and returns the recipient's
// token.
func (w *world) open(t *testing.T, d signoff.DeliveryID) string {
	t.Helper()
	n, err := w.engine.Notify(context.Background(), signoff.OrderEvent{
		WebhookID: "msg_" + string(d), Type: signoff.EventOutForDelivery, Timestamp: time.Now(),
		Delivery: signoff.Delivery{ID: d, Status: signoff.StatusOutForDelivery, Courier: signoff.Courier{ID: courierID},
			Recipient: signoff.Recipient{Locale: signoff.LocaleZH}},
		Present: signoff.Fields{"status": true, "courier": true, "recipient": true},
	})
	if err != nil || !n.Opened {
		t.Fatalf("open %s: %+v %v", d, n, err)
	}
	return n.Token
}

// received counts what a client got of one remote track.
type received struct {
	kind    webrtc.RTPCodecType
	stream  string
	ssrc    webrtc.SSRC
	packets atomic.Int64
}

// client is a participant made of a Go pion peer: it publishes a VP8 and an
// Opus track made of dummy frames (or, as staff, only receives), and
// answers the room's renegotiation offers.
type client struct {
	t       *testing.T
	base    string
	role    string
	token   string
	pc      *webrtc.PeerConnection
	loc     string
	plisIn  atomic.Int64 // keyframe requests the room sent this publisher
	gone    atomic.Bool  // left the room
	answers atomic.Int64

	mu     sync.Mutex
	tracks []*received
}

func newPeer(t *testing.T) *webrtc.PeerConnection {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	rtc.LoopbackOnly(&se)
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)).
		NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// offer makes a client's peer and its offer, without joining.
func offer(t *testing.T, role string, publish bool) (*client, string) {
	t.Helper()
	c := &client{t: t, role: role, pc: newPeer(t)}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if publish {
		v, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "cam-"+role)
		if err != nil {
			t.Fatal(err)
		}
		a, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "cam-"+role)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range []webrtc.TrackLocal{v, a} {
			tx, err := c.pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv})
			if err != nil {
				t.Fatal(err)
			}
			go c.drainRTCP(tx.Sender())
		}
		go pump(ctx, v, 33*time.Millisecond, func(i int) []byte {
			// A VP8 payload whose first byte marks a keyframe every 30
			// frames; the bytes need not decode for forwarding.
			b := make([]byte, 600)
			if i%30 != 0 {
				b[0] = 1
			}
			return b
		})
		go pump(ctx, a, 20*time.Millisecond, func(int) []byte { return []byte{0xf8, 0xff, 0xfe} }) // Opus silence
	} else {
		for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
			if _, err := c.pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		rc := &received{kind: tr.Kind(), stream: tr.StreamID(), ssrc: tr.SSRC()}
		c.mu.Lock()
		c.tracks = append(c.tracks, rc)
		c.mu.Unlock()
		buf := make([]byte, 1500)
		for {
			if _, _, err := tr.Read(buf); err != nil {
				return
			}
			rc.packets.Add(1)
		}
	})
	o, err := c.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	<-gathered
	return c, c.pc.LocalDescription().SDP
}

func pump(ctx context.Context, tr *webrtc.TrackLocalStaticSample, every time.Duration, frame func(i int) []byte) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := tr.WriteSample(media.Sample{Data: frame(i), Duration: every}); err != nil {
			return
		}
	}
}

func (c *client) drainRTCP(s *webrtc.RTPSender) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				c.plisIn.Add(1)
			}
		}
	}
}

// post sends an SDP body and returns the response.
func post(t *testing.T, url, token, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/sdp")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// join makes a client and joins delivery d's room at base.
func join(t *testing.T, base string, d signoff.DeliveryID, role, token string) *client {
	t.Helper()
	c, sdp := offer(t, role, role != RoleStaff)
	c.base, c.token = base, token
	resp := post(t, base+"/v1/rooms/"+string(d)+"/join?role="+role, token, sdp)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("join as %s: %d %s", role, resp.StatusCode, body)
	}
	c.loc = resp.Header.Get("Location")
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		t.Fatal(err)
	}
	go c.events()
	return c
}

// events reads the room's offers and answers them.
func (c *client) events() {
	req, _ := http.NewRequest(http.MethodGet, c.base+c.loc+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 256<<10)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && event == "offer":
			var o struct {
				Rev int    `json:"rev"`
				SDP string `json:"sdp"`
			}
			if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &o) != nil {
				return
			}
			if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: o.SDP}); err != nil {
				if !c.gone.Load() {
					c.t.Errorf("%s: server offer: %v", c.role, err)
				}
				return
			}
			a, err := c.pc.CreateAnswer(nil)
			if err != nil {
				if !c.gone.Load() {
					c.t.Errorf("%s: answer: %v", c.role, err)
				}
				return
			}
			c.pc.SetLocalDescription(a)
			r := post(c.t, c.base+c.loc+"/answer?rev="+strconv.Itoa(o.Rev), c.token, c.pc.LocalDescription().SDP)
			r.Body.Close()
			if r.StatusCode != http.StatusNoContent && !c.gone.Load() {
				c.t.Errorf("%s: answer rev %d: %d", c.role, o.Rev, r.StatusCode)
				return
			}
			c.answers.Add(1)
		case strings.HasPrefix(line, "event: closed"):
			return
		}
	}
}

// got returns, per "stream/kind", the packets received.
func (c *client) got() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string]int64{}
	for _, r := range c.tracks {
		m[r.stream+"/"+r.kind.String()] += r.packets.Load()
	}
	return m
}

// track returns the received track of a stream and kind.
func (c *client) track(stream string, kind webrtc.RTPCodecType) *received {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.tracks {
		if r.stream == stream && r.kind == kind {
			return r
		}
	}
	return nil
}

func (c *client) leave(t *testing.T) {
	t.Helper()
	c.gone.Store(true)
	req, _ := http.NewRequest(http.MethodDelete, c.base+c.loc, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("leave %s: %d", c.role, resp.StatusCode)
	}
}

// eventually polls ok until it holds or limit passes.
func eventually(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
