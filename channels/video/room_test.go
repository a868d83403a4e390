package video

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
)

// TestRoom runs a whole call with Go pion peers on a real engine and Redis:
// the recipient rings and joins, the courier answers, each receives the
// other's video and audio (through renegotiation), staff watch, picture
// loss reaches the publisher, and leaving files the recordings by hash.
func TestRoom(t *testing.T) {
	w := newWorld(t, dialog.Config{})
	h, base := w.node(t)
	ctx := context.Background()
	const d = signoff.DeliveryID("D-room")
	token := w.open(t, d)
	_, open, _ := w.store.Load(ctx, d)
	if _, err := w.engine.Reply(ctx, open.ID, token, signoff.Input{Kind: signoff.InputText, Text: "6", Channel: signoff.ChannelChat}); err != nil {
		t.Fatal(err)
	}
	if _, s, _ := w.store.Load(ctx, d); s.State != signoff.StateVideo {
		t.Fatalf("after 6: state %s, want video", s.State)
	}

	rec := join(t, base, d, RoleRecipient, token)
	cour := join(t, base, d, RoleCourier, w.couriers.Issue(courierID))
	both := func() bool {
		r, c := rec.got(), cour.got()
		return r["signoff-courier/video"] > 10 && r["signoff-courier/audio"] > 10 &&
			c["signoff-recipient/video"] > 10 && c["signoff-recipient/audio"] > 10
	}
	eventually(t, 20*time.Second, "recipient and courier receive each other's video and audio", both)
	if n := rec.answers.Load(); n != 0 {
		t.Errorf("the recipient, who joined first, answered %d offers: the courier's slots belong in its first answer", n)
	}
	// The courier's connection answered the ring.
	eventually(t, 10*time.Second, "the conversation hears that the courier answered", func() bool {
		_, s, _ := w.store.Load(ctx, d)
		return s != nil && s.State == signoff.StateVideo && len(s.Offered) > 0 && s.Offered[0].Key == "1" && s.Deadline.IsZero()
	})

	// A viewer that offers to send is refused, and nothing is joined.
	_, sendSDP := offer(t, RoleStaff, true)
	resp := post(t, base+"/v1/rooms/"+string(d)+"/join?role=staff", staffSecret, sendSDP)
	checkError(t, resp, http.StatusBadRequest, "viewer_cannot_send")
	staff := join(t, base, d, RoleStaff, staffSecret)
	eventually(t, 20*time.Second, "staff receive both sides", func() bool {
		g := staff.got()
		return g["signoff-courier/video"] > 5 && g["signoff-recipient/video"] > 5 && g["signoff-courier/audio"] > 5 && g["signoff-recipient/audio"] > 5
	})
	if staff.answers.Load() == 0 {
		t.Error("staff offered one video and one audio section: the other two tracks must follow in a server offer")
	}
	st, err := h.rooms[d].status(ctx)
	if err != nil || len(st.Peers) != 3 || st.Publications != 4 {
		t.Fatalf("status %+v %v: want 3 peers, 4 publications", st, err)
	}

	// Picture loss at the recipient reaches the courier's camera.
	tr := rec.track("signoff-courier", webrtc.RTPCodecTypeVideo)
	time.Sleep(300 * time.Millisecond) // past the keyframe requests of joining
	before := cour.plisIn.Load()
	rec.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(tr.ssrc)}})
	eventually(t, 5*time.Second, "the recipient's PLI is forwarded to the courier", func() bool { return cour.plisIn.Load() > before })
	time.Sleep(300 * time.Millisecond)
	before = cour.plisIn.Load()
	rec.pc.WriteRTCP([]rtcp.Packet{&rtcp.FullIntraRequest{MediaSSRC: uint32(tr.ssrc), FIR: []rtcp.FIREntry{{SSRC: uint32(tr.ssrc)}}}})
	eventually(t, 5*time.Second, "the recipient's FIR is forwarded to the courier", func() bool { return cour.plisIn.Load() > before })

	// The courier leaves and comes back: the recipient is offered the new
	// tracks again.
	cour.leave(t)
	answers := rec.answers.Load()
	eventually(t, 10*time.Second, "the recipient is offered the courier's departure", func() bool { return rec.answers.Load() > answers })
	cour2 := join(t, base, d, RoleCourier, w.couriers.Issue(courierID))
	eventually(t, 20*time.Second, "the returning courier is seen again", func() bool {
		n := int64(0)
		for _, r := range rec.tracks2("signoff-courier", webrtc.RTPCodecTypeVideo) {
			n = max(n, r.packets.Load())
		}
		return cour2.got()["signoff-recipient/video"] > 5 && n > 5 && rec.answers.Load() > answers+1
	})

	staff.leave(t)
	cour2.leave(t)
	rec.leave(t)
	eventually(t, 20*time.Second, "the room closes", func() bool { return h.Rooms() == 0 })
	var log []dialog.LogEntry
	eventually(t, 20*time.Second, "the room files its end", func() bool {
		log, _ = w.store.Log(ctx, d)
		return log[len(log)-1].Kind == "video_ended" // video_closed, then the conversation hears of it
	})
	kinds := map[string]int{}
	recs := map[string]int{} // role/kind → recordings with frames
	for _, e := range log {
		kinds[e.Kind]++
		if e.Kind != "video_recording" {
			continue
		}
		path := filepath.Join(w.blobs, e.Data["file"])
		b, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("recording %s: %v", e.Data["file"], err)
			continue
		}
		if n, _ := strconv.Atoi(e.Data["bytes"]); n != len(b) || e.Data["file"] != e.Data["hash"]+extOf(e.Data["kind"]) {
			t.Errorf("recording entry %v does not match its file (%d bytes)", e.Data, len(b))
		}
		if sum := sha256Hex(b); sum != e.Data["hash"] {
			t.Errorf("recording %s hashes to %s", e.Data["file"], sum)
		}
		if f, _ := strconv.Atoi(e.Data["frames"]); f > 0 {
			recs[e.Data["role"]+"/"+e.Data["kind"]]++
		}
	}
	for _, k := range []string{"recipient/video", "recipient/audio", "courier/video", "courier/audio"} {
		if recs[k] == 0 {
			t.Errorf("no %s recording with frames in the log (%v)", k, recs)
		}
	}
	for _, k := range []string{"video_requested", "video_joined", "video_left", "video_answered", "video_closed", "video_ended"} {
		if kinds[k] == 0 {
			t.Errorf("no %s entry in the log: %v", k, kinds)
		}
	}
	// The call is over: the recipient is asked for a verdict, and 1 is the
	// consent of outcome video.
	turn, err := w.engine.Reply(ctx, open.ID, token, signoff.Input{Kind: signoff.InputText, Text: "1 确认收货", Channel: signoff.ChannelChat})
	if err != nil {
		t.Fatal(err)
	}
	if s := turn.Session; s.State != signoff.StateSigned || s.Outcome != signoff.OutcomeVideo || s.Consent == nil || s.Consent.Text != "1 确认收货" {
		t.Fatalf("after 1: %s %s %+v", s.State, s.Outcome, s.Consent)
	}
}

func extOf(kind string) string {
	if kind == "video" {
		return ".ivf"
	}
	return ".ogg"
}

func (c *client) tracks2(stream string, kind webrtc.RTPCodecType) []*received {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*received
	for _, r := range c.tracks {
		if r.stream == stream && r.kind == kind {
			out = append(out, r)
		}
	}
	return out
}

func checkError(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body struct {
		Error struct{ Code, Message string }
	}
	if resp.StatusCode != status || json.Unmarshal(b, &body) != nil || body.Error.Code != code {
		t.Errorf("got %d %s, want %d with code %s", resp.StatusCode, b, status, code)
	}
}

// TestAuthorization: only the delivery's recipient, its courier and staff
// join, each with their own credential.
func TestAuthorization(t *testing.T) {
	w := newWorld(t, dialog.Config{})
	_, base := w.node(t)
	const d = signoff.DeliveryID("D-auth")
	token := w.open(t, d)
	_, sdp := offer(t, RoleRecipient, true)
	url := base + "/v1/rooms/" + string(d) + "/join?role="
	for _, tt := range []struct {
		name, role, token string
		status            int
		code              string
	}{
		{"no token", RoleRecipient, "", 401, "missing_token"},
		{"wrong recipient token", RoleRecipient, "nope", 401, "bad_token"},
		{"recipient token as courier", RoleCourier, token, 401, "bad_token"},
		{"another courier", RoleCourier, w.couriers.Issue("C-8"), 401, "not_your_delivery"},
		{"recipient token as staff", RoleStaff, token, 401, "bad_staff_token"},
		{"bad role", "boss", token, 400, "bad_role"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, post(t, url+tt.role, tt.token, sdp), tt.status, tt.code)
		})
	}
	checkError(t, post(t, base+"/v1/rooms/D-none/join?role=recipient", token, sdp), 404, "no_session")
	checkError(t, post(t, url+RoleRecipient, token, "v=0 nonsense"), 400, "bad_sdp")
	if n, _ := w.store.ClaimRoom(context.Background(), d, "probe", time.Second); n != "probe" {
		t.Errorf("refused joins left the room claimed by %q", n)
	}
}

// TestRedirect: two nodes on one Redis; the node that does not hold the
// room answers a join with 307 to the one that does.
func TestRedirect(t *testing.T) {
	w := newWorld(t, dialog.Config{})
	_, a := w.node(t)
	_, b := w.node(t)
	const d = signoff.DeliveryID("D-two-nodes")
	token := w.open(t, d)
	rec := join(t, a, d, RoleRecipient, token)
	_, sdp := offer(t, RoleCourier, true)
	resp := post(t, b+"/v1/rooms/"+string(d)+"/join?role=courier", w.couriers.Issue(courierID), sdp)
	resp.Body.Close()
	if want := a + "/v1/rooms/" + string(d) + "/join?role=courier"; resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != want {
		t.Fatalf("join at the other node: %d Location %q, want 307 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	cour := join(t, a, d, RoleCourier, w.couriers.Issue(courierID))
	eventually(t, 20*time.Second, "both sides meet on the holding node", func() bool {
		return rec.got()["signoff-courier/video"] > 5 && cour.got()["signoff-recipient/video"] > 5
	})
	rec.leave(t)
	cour.leave(t)
	eventually(t, 10*time.Second, "the room is released", func() bool {
		n, _ := w.store.ClaimRoom(context.Background(), d, b, time.Second)
		return n == b
	})
}

// TestStaffStart: staff ring the courier from the console's endpoint.
func TestStaffStart(t *testing.T) {
	w := newWorld(t, dialog.Config{})
	_, base := w.node(t)
	const d = signoff.DeliveryID("D-staff")
	w.open(t, d)
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/deliveries/"+string(d)+"/video", nil)
	resp, _ := http.DefaultClient.Do(req)
	checkError(t, resp, 401, "bad_staff_token")
	req, _ = http.NewRequest(http.MethodPost, base+"/v1/deliveries/"+string(d)+"/video", nil)
	req.Header.Set("Authorization", "Bearer "+staffSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, s, _ := w.store.Load(context.Background(), d); resp.StatusCode != 200 || s.State != signoff.StateVideo {
		t.Fatalf("staff start: %d, state %v", resp.StatusCode, s.State)
	}
	log, _ := w.store.Log(context.Background(), d)
	found := false
	for _, e := range log {
		found = found || (e.Kind == "video_start" && e.Data["by"] == "staff:ana")
	}
	if !found {
		t.Error("no video_start entry by staff:ana in the log")
	}
}
