package voice

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/speech"
)

// offer returns a real SDP offer from a pion peer with PCMU and
// telephone-event, gathered on loopback.
func offer(t *testing.T) string {
	t.Helper()
	m, err := newMediaEngine()
	if err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	loopbackOnly(&se)
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	<-g
	return pc.LocalDescription().SDP
}

func do(t *testing.T, method, url, ctype, token, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// TestCallSetup: the WHIP-style exchange, its refusals, and a hang-up that
// ends the call and every goroutine it started.
func TestCallSetup(t *testing.T) {
	conv := newFakeConv()
	h, base := server(t, Config{BlobDir: t.TempDir()}, conv, conv, &toneTTS{}, nil)
	url := base + "/v1/sessions/s_test/call"
	sdp := offer(t)

	for _, tt := range []struct {
		name, url, ctype, token, body string
		status                        int
		code                          string
	}{
		{"no token", url, "application/sdp", "", sdp, 401, "missing_token"},
		{"wrong token", url, "application/sdp", "nope", sdp, 401, "bad_token"},
		{"unknown session", base + "/v1/sessions/s_other/call", "application/sdp", conv.token, sdp, 404, "not_found"},
		{"json body", url, "application/json", conv.token, `{"sdp":"x"}`, 415, "unsupported_media_type"},
		{"no content type", url, "", conv.token, sdp, 415, "unsupported_media_type"},
		{"not SDP", url, "application/sdp", conv.token, "hello", 400, "bad_sdp"},
		{"no PCMU", url, "application/sdp", conv.token, strings.ReplaceAll(strings.ReplaceAll(sdp, "PCMU", "G729"), " 0 ", " 18 "), 400, "no_common_codec"},
		{"too large", url, "application/sdp", conv.token, sdp + strings.Repeat("a=x\r\n", MaxOffer/5), 413, "body_too_large"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, http.MethodPost, tt.url, tt.ctype, tt.token, tt.body)
			var eb channels.ErrorBody
			if err := json.Unmarshal([]byte(body), &eb); err != nil {
				t.Fatalf("status %d, body %q: not a JSON error", resp.StatusCode, body)
			}
			if resp.StatusCode != tt.status || eb.Error.Code != tt.code {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, eb.Error.Code, tt.status, tt.code)
			}
		})
	}
	if n := h.Calls(); n != 0 {
		t.Fatalf("%d calls after refused offers, want 0", n)
	}
	baseline := runtime.NumGoroutine() // the HTTP connection's included

	resp, answer := do(t, http.MethodPost, url, "application/sdp", conv.token, sdp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST = %d %s, want 201", resp.StatusCode, answer)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/sdp" {
		t.Errorf("Content-Type %q, want application/sdp", ct)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/v1/sessions/s_test/call/c_") {
		t.Fatalf("Location %q, want /v1/sessions/s_test/call/{id}", loc)
	}
	cands := 0
	for line := range strings.Lines(answer) {
		if f := strings.Fields(strings.TrimPrefix(line, "a=")); strings.HasPrefix(line, "a=candidate:") {
			cands++
			if len(f) < 8 || f[4] != "127.0.0.1" || strings.ToLower(f[2]) != "udp" {
				t.Errorf("answer candidate %q: want UDP on 127.0.0.1 only", strings.TrimSpace(line))
			}
		}
	}
	if cands == 0 {
		t.Errorf("the answer has no candidates; ICE was not gathered:\n%s", answer)
	}
	if !strings.Contains(answer, "PCMU/8000") || !strings.Contains(answer, "telephone-event/8000") {
		t.Errorf("the answer lacks PCMU or telephone-event:\n%s", answer)
	}
	h.mu.Lock()
	cl := h.calls[loc[strings.LastIndex(loc, "/")+1:]]
	h.mu.Unlock()
	if cl == nil {
		t.Fatal("the call is not registered")
	}

	frag := "a=ice-ufrag:abcd\r\na=ice-pwd:efghijklmnopqrstuvwxyz12\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n" +
		"a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\na=end-of-candidates\r\n"
	for _, tt := range []struct {
		name, method, url, ctype, token, body string
		status                                int
	}{
		{"patch wrong type", http.MethodPatch, base + loc, "application/sdp", conv.token, frag, 415},
		{"patch unknown call", http.MethodPatch, url + "/c_nosuchcall", "application/trickle-ice-sdpfrag", conv.token, frag, 404},
		{"patch wrong token", http.MethodPatch, base + loc, "application/trickle-ice-sdpfrag", "nope", frag, 401},
		{"patch garbage", http.MethodPatch, base + loc, "application/trickle-ice-sdpfrag", conv.token, "hello\r\n", 400},
		{"patch", http.MethodPatch, base + loc, "application/trickle-ice-sdpfrag", conv.token, frag, 204},
		{"delete wrong token", http.MethodDelete, base + loc, "", "nope", "", 401},
		{"delete other session", http.MethodDelete, base + "/v1/sessions/s_other/call/" + cl.id, "", conv.token, "", 404},
		{"delete", http.MethodDelete, base + loc, "", conv.token, "", 204},
		{"delete again", http.MethodDelete, base + loc, "", conv.token, "", 404},
	} {
		resp, body := do(t, tt.method, tt.url, tt.ctype, tt.token, tt.body)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: got %d %s, want %d", tt.name, resp.StatusCode, body, tt.status)
		}
	}
	select {
	case <-cl.done:
	default:
		t.Fatal("DELETE answered before the call ended")
	}
	if n := h.Calls(); n != 0 {
		t.Errorf("%d calls after DELETE, want 0", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after the call, %d before it:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
	ended := conv.Records("call_ended")
	if len(ended) != 1 || ended[0].data["reason"] != "hangup" {
		t.Errorf("call_ended records %v, want one with reason hangup", ended)
	}
}

// TestGreetingAndKeypad: the caller hears the greeting within a second of
// connecting; a keypad 3 sent as RFC 4733 events (the end packet three
// times) is one reply, with channel dtmf, and the bot's answer is heard.
func TestGreetingAndKeypad(t *testing.T) {
	conv := newFakeConv()
	tts := &toneTTS{}
	var timed atomic.Int64 // frames whose lateness was reported
	_, base := server(t, Config{BlobDir: t.TempDir(), FrameLateness: func(time.Duration) { timed.Add(1) }}, conv, conv, tts, nil)
	start := time.Now()
	c, connected := dial(t, base, conv.s.ID, conv.token, CallerOptions{})
	var greeted time.Time
	waitFor(t, time.Second, "no greeting within 1 s of connecting", func() bool {
		var ok bool
		greeted, ok = firstLoud(c.Heard(), start)
		return ok
	})
	t.Logf("offer → first greeting audio %v (connected → audio %v)", greeted.Sub(start).Round(time.Millisecond), greeted.Sub(connected).Round(time.Millisecond))
	want := []string{"Hello!", "Your parcel is on its way.", "Choose:", "Press 1 for Deliver now."}
	// Sentences are synthesised one ahead of the one playing.
	waitFor(t, 3*time.Second, "the menu was not synthesised", func() bool { return len(tts.Texts()) >= len(want) })
	if got := tts.Texts(); strings.Join(got[:len(want)], "|") != strings.Join(want, "|") {
		t.Errorf("spoken %q, want it to begin %q", got, want)
	}

	sent, err := c.Press('3')
	if err != nil {
		t.Fatal(err)
	}
	pressed := <-sent
	waitFor(t, 2*time.Second, "no reply to the keypad", func() bool { return len(conv.Inputs()) > 0 })
	time.Sleep(200 * time.Millisecond) // room for a duplicate to show
	in := conv.Inputs()
	if len(in) != 1 || in[0].Text != "3" || in[0].Channel != signoff.ChannelDTMF || in[0].Kind != signoff.InputText {
		t.Fatalf("replies %+v, want exactly one: text 3 on dtmf", in)
	}
	// The fake speaks answers ("OK, ...") softer than the menu, so the
	// caller tells them apart: the menu must stop at once and the answer
	// follow, five frames of it in a row at least.
	inAnswer := func(f HeardFrame) bool { return f.RMS > loud && f.RMS < answerRMS*1.5 }
	// The answer begins at the first packet after the press that is marked
	// as a talkspurt's start; frames of the menu still in flight at the
	// press do not count.
	var answered, first time.Time
	waitFor(t, 2*time.Second, "the bot's answer was not heard", func() bool {
		fr := c.Heard()
		if first = firstStart(fr, pressed); first.IsZero() {
			return false
		}
		for i := 0; i+5 <= len(fr); i++ {
			if !fr[i].At.Before(first) && inAnswer(fr[i]) && inAnswer(fr[i+1]) && inAnswer(fr[i+2]) && inAnswer(fr[i+3]) && inAnswer(fr[i+4]) {
				answered = fr[i].At
				return true
			}
		}
		return false
	})
	time.Sleep(time.Second)
	for _, f := range c.Heard() {
		if f.At.After(pressed.Add(60*time.Millisecond)) && f.RMS > answerRMS*1.5 {
			t.Fatalf("the menu went on %v after the keypress", f.At.Sub(pressed))
		}
	}
	if answered.Sub(first) > 60*time.Millisecond {
		t.Errorf("the answer was heard %v after its marked start: the start is not marked on its first packet", answered.Sub(first))
	}
	t.Logf("keypad → first reply audio at the caller %v", answered.Sub(pressed).Round(time.Millisecond))
	if !strings.Contains(strings.Join(tts.Texts(), "|"), "OK, you pressed 3.") {
		t.Errorf("the reply was not spoken: %q", tts.Texts())
	}
	if b := conv.Records("barge_in"); len(b) != 1 || b[0].data["cause"] != "keypad" {
		t.Errorf("barge_in records %v, want one by keypad", b)
	}
	if n := timed.Load(); n < 50 {
		t.Errorf("frame lateness reported for %d frames over more than a second of call; want one per 20 ms frame", n)
	}
}

// TestBargeIn: the caller starts speaking 1 s into the menu; the bot falls
// silent at the caller well within 150 ms of the caller's onset, and the
// evidence says what was played. The bot's own voice echoed back at -20 dB
// does not cut it off.
func TestBargeIn(t *testing.T) {
	conv := newFakeConv()
	asr := &scriptASR{}
	_, base := server(t, Config{BlobDir: t.TempDir()}, conv, conv, &toneTTS{}, asr)
	c, _ := dial(t, base, conv.s.ID, conv.token, CallerOptions{NoiseDBFS: -65, EchoDB: -20})

	// A second of menu, echo and all, and the bot is still talking.
	heardAt := loudFor(t, c, time.Second, 3*time.Second)
	if b := conv.Records("barge_in"); len(b) != 0 {
		t.Fatalf("the echo cut the bot off: %v", b)
	}
	onset := <-c.Say(buzz(700*time.Millisecond, -20))
	if !loudBefore(c.Heard(), onset, 60*time.Millisecond) {
		t.Fatal("the bot was not speaking when the caller began")
	}
	var silent time.Time
	waitFor(t, 2*time.Second, "the bot did not fall silent", func() bool {
		var ok bool
		silent, ok = silenceFrom(c.Heard(), onset, 10)
		return ok
	})
	lat := silent.Sub(onset)
	t.Logf("barge-in: caller onset → bot silent at the caller: %v (menu heard from %v)", lat.Round(time.Millisecond), heardAt.Format("15:04:05.000"))
	if lat > 150*time.Millisecond {
		t.Errorf("barge-in took %v, want well under 150 ms", lat)
	}
	waitFor(t, 2*time.Second, "no barge_in evidence", func() bool { return len(conv.Records("barge_in")) == 1 })
	b := conv.Records("barge_in")[0]
	if b.data["cause"] != "speech" || b.data["played_ms"] == "" || b.data["played_ms"] == "0" || !strings.HasPrefix(b.data["text"], "Hello!") {
		t.Errorf("barge_in %v: want cause speech, the ms played and the sentences heard", b.data)
	}
	// The utterance goes to the recogniser, which rejects it: asked again,
	// nothing sent to the engine.
	waitFor(t, 6*time.Second, "the rejected utterance was not asked again", func() bool {
		return len(conv.Records("speech_rejected")) == 1
	})
	if in := conv.Inputs(); len(in) != 0 {
		t.Errorf("a rejected utterance reached the engine: %+v", in)
	}
	asr.mu.Lock()
	heard := asr.heard
	asr.mu.Unlock()
	if d := speech.Duration(len(heard[0]), speech.SampleRate); d < 700*time.Millisecond || d > 1200*time.Millisecond {
		t.Errorf("the recogniser got %v of audio for 700 ms of speech", d)
	}
}

// TestFeedLinesSpoken: a line another channel posts (an order update) is
// spoken once; the call's own replies are not spoken twice.
func TestFeedLinesSpoken(t *testing.T) {
	conv := newFakeConv()
	tts := &toneTTS{}
	_, base := server(t, Config{}, conv, conv, tts, nil)
	c, _ := dial(t, base, conv.s.ID, conv.token, CallerOptions{})
	if _, err := c.Press('1'); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "the reply was not spoken", func() bool {
		return strings.Contains(strings.Join(tts.Texts(), "|"), "OK, you pressed 1.")
	})
	conv.post(signoff.Message{From: signoff.FromBot, Text: "Update: your parcel is arriving soon."})
	waitFor(t, 2*time.Second, "the update was not spoken", func() bool {
		return strings.Contains(strings.Join(tts.Texts(), "|"), "Update:|your parcel is arriving soon.")
	})
	time.Sleep(100 * time.Millisecond)
	n := 0
	for _, s := range tts.Texts() {
		if s == "OK, you pressed 1." {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the reply was synthesised %d times, want 1", n)
	}
}

// TestRecording: the call is recorded as a two-channel WAV named by its
// SHA-256, and the hash is in the evidence.
func TestRecording(t *testing.T) {
	conv := newFakeConv()
	dir := t.TempDir()
	_, base := server(t, Config{BlobDir: dir}, conv, conv, &toneTTS{}, nil)
	c, _ := dial(t, base, conv.s.ID, conv.token, CallerOptions{})
	loudFor(t, c, 200*time.Millisecond, 2*time.Second)
	<-c.Say(buzz(300*time.Millisecond, -20))
	time.Sleep(500 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	recs := conv.Records("call_recording")
	if len(recs) != 1 {
		t.Fatalf("call_recording records %v, want 1", recs)
	}
	r := recs[0].data
	if r["codec"] != "pcmu" || r["duration_ms"] == "" {
		t.Errorf("call_recording %v: want codec pcmu and a duration", r)
	}
	b, err := os.ReadFile(filepath.Join(dir, r["sha256"]+".wav"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != r["sha256"] {
		t.Errorf("the file's SHA-256 is %x, the evidence says %s", sum, r["sha256"])
	}
	checkStereoWAV(t, b)
	if left, _ := filepath.Glob(filepath.Join(dir, ".call-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// checkStereoWAV checks a 16 kHz 16-bit two-channel WAV whose both
// channels carry sound.
func checkStereoWAV(t *testing.T, b []byte) {
	t.Helper()
	if len(b) < 44 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Fatal("the recording is not a WAV file")
	}
	ch, rate, bits := binary.LittleEndian.Uint16(b[22:]), binary.LittleEndian.Uint32(b[24:]), binary.LittleEndian.Uint16(b[34:])
	if ch != 2 || rate != speech.SampleRate || bits != 16 {
		t.Fatalf("recording is %d channels, %d Hz, %d bits; want 2, 16000, 16", ch, rate, bits)
	}
	if n := binary.LittleEndian.Uint32(b[40:]); int(n) != len(b)-44 {
		t.Errorf("data size %d in the header, %d in the file", n, len(b)-44)
	}
	var sq [2]float64
	for i := 44; i+4 <= len(b); i += 4 {
		for c := range 2 {
			v := float64(int16(binary.LittleEndian.Uint16(b[i+2*c:])))
			sq[c] += v * v
		}
	}
	if sq[0] == 0 || sq[1] == 0 {
		t.Errorf("channel energies %v: want the caller and the bot both heard", sq)
	}
	if _, _, err := speech.ReadWAV(bytes.NewReader(b)); err != nil {
		t.Errorf("ReadWAV: %v", err)
	}
}

// TestCloseHangsUpEveryCall: Close ends every call, silently, and refuses
// new offers.
func TestCloseHangsUpEveryCall(t *testing.T) {
	conv := newFakeConv()
	h, base := server(t, Config{}, conv, conv, &toneTTS{}, nil)
	dial(t, base, conv.s.ID, conv.token, CallerOptions{})
	dial(t, base, conv.s.ID, conv.token, CallerOptions{})
	if n := h.Calls(); n != 2 {
		t.Fatalf("%d calls, want 2", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := h.Calls(); n != 0 {
		t.Errorf("%d calls after Close, want 0", n)
	}
	ended := conv.Records("call_ended")
	if len(ended) != 2 || ended[0].data["reason"] != "server_shutdown" {
		t.Errorf("call_ended %v, want two by server_shutdown", ended)
	}
	resp, _ := do(t, http.MethodPost, base+"/v1/sessions/s_test/call", "application/sdp", conv.token, offer(t))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("an offer after Close got %d, want 503", resp.StatusCode)
	}
}

// TestInbandDTMF: a keypad tone inside the audio, as a gateway sends it, is
// one press; the tone never reaches the recogniser as speech.
func TestInbandDTMF(t *testing.T) {
	conv := newFakeConv()
	asr := &scriptASR{answers: []speech.Result{{Key: "2", Text: "two"}}}
	_, base := server(t, Config{}, conv, conv, &toneTTS{}, asr)
	c, _ := dial(t, base, conv.s.ID, conv.token, CallerOptions{NoiseDBFS: -60})
	loudFor(t, c, 200*time.Millisecond, 2*time.Second)
	<-c.Say(speech.GenerateDTMF('5', 120*time.Millisecond, speech.SampleRate))
	waitFor(t, 2*time.Second, "the tone was not taken as a press", func() bool { return len(conv.Inputs()) > 0 })
	time.Sleep(time.Second) // the VAD's end and more
	in := conv.Inputs()
	if len(in) != 1 || in[0].Text != "5" || in[0].Channel != signoff.ChannelDTMF {
		t.Errorf("replies %+v, want one: 5 on dtmf", in)
	}
	asr.mu.Lock()
	defer asr.mu.Unlock()
	if len(asr.heard) != 0 {
		t.Errorf("the tone went to the recogniser %d times", len(asr.heard))
	}
}
