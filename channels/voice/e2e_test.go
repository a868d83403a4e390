package voice

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/redis/go-redis/v9"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/redisstore"
	"github.com/signoff/signoff/internal/redistest"
	"github.com/signoff/signoff/knowledge"
	"github.com/signoff/signoff/speech"
	"github.com/signoff/signoff/speech/espeak"
	"github.com/signoff/signoff/speech/sphinx"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// The end-to-end tests run the real pieces: the dialog engine on a real
// redis-server, espeak-ng's voice for the bot and the caller, PocketSphinx
// for recognition, and a pion caller over loopback.

// sphinxASR adapts the PocketSphinx recogniser to Recognizer.
type sphinxASR struct{ r *sphinx.Recognizer }

func (a sphinxASR) Recognize(ctx context.Context, pcm []int16, g speech.Grammar) (speech.Result, error) {
	var sg sphinx.Grammar
	for _, p := range g.Phrases {
		sg.Phrases = append(sg.Phrases, sphinx.Phrase{Key: p.Key, Say: p.Say})
	}
	r, err := a.r.Recognize(ctx, pcm, sg)
	return speech.Result{Key: r.Key, Text: r.Text, Score: r.Score, Confidence: r.Confidence, Rejected: r.Rejected, Silence: r.Silence}, err
}

var (
	asrOnce sync.Once
	asr     *sphinx.Recognizer
	asrErr  error
)

// recogniser returns the binary's one PocketSphinx recogniser; a missing
// model fails the test with the packages to install.
func recogniser(t *testing.T) Recognizer {
	t.Helper()
	asrOnce.Do(func() { asr, asrErr = sphinx.New(sphinx.Options{}) })
	if asrErr != nil {
		t.Fatalf("PocketSphinx: %v", asrErr)
	}
	return sphinxASR{asr}
}

// needEspeak fails, not skips, without espeak-ng: the tests mean nothing
// without real speech.
func needEspeak(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Fatal("espeak-ng is not installed: run `make deps` or `sudo apt-get install espeak-ng`")
	}
}

var (
	ttsOnce sync.Once
	tts     *espeak.Synth
	ttsErr  error
)

// synthesiser returns the binary's one espeak-ng synthesiser; a missing
// espeak-ng fails the test with the package to install.
func synthesiser(t *testing.T) Synthesizer {
	t.Helper()
	ttsOnce.Do(func() { tts, ttsErr = espeak.New(espeak.Options{}) })
	if ttsErr != nil {
		t.Fatalf("espeak-ng: %v", ttsErr)
	}
	return tts
}

// say returns the caller's words as espeak-ng speaks them (a US voice),
// 16 kHz, the way the issue asks: espeak-ng -w, read with ReadWAV.
func say(t *testing.T, text string) []int16 {
	t.Helper()
	needEspeak(t)
	f := filepath.Join(t.TempDir(), "say.wav")
	if out, err := exec.Command("espeak-ng", "-v", "en-us", "-w", f, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng %q: %v\n%s", text, err, out)
	}
	r, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pcm, sr, err := speech.ReadWAV(r)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := speech.NewResampler(sr, speech.SampleRate)
	if err != nil {
		t.Fatal(err)
	}
	return rs.Resample(nil, pcm)
}

// noiseBurst is d of white noise at db dBFS: a cough, a knock, a rustle.
func noiseBurst(d time.Duration, db float64) []int16 {
	rng := rand.New(rand.NewPCG(3, 4))
	pcm := make([]int16, speech.Samples(d, speech.SampleRate))
	sd := speech.DBFSToRMS(db)
	for i := range pcm {
		pcm[i] = sat16(rng.NormFloat64() * sd)
	}
	return pcm
}

// world is a real engine on a real redis-server with one open conversation
// in English, and the call endpoint over it.
type world struct {
	engine *dialog.Engine
	store  *redisstore.Store
	h      *Handler
	base   string
	dir    string
	did    signoff.DeliveryID
	n      dialog.Notice
}

func newWorld(t *testing.T) *world {
	t.Helper()
	needEspeak(t)
	asr := recogniser(t)
	addr, db := redistest.DB(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	t.Cleanup(func() { rdb.Close() })
	log := testLog(t)
	store := redisstore.New(rdb, log)
	t.Cleanup(func() { store.Close() })
	engine := dialog.New(store, dialog.MergeFunc(knowledge.Merge), dialog.Config{}, log)
	w := &world{engine: engine, store: store, dir: t.TempDir()}
	w.did, w.n = w.open(t, "D-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	w.h, w.base = server(t, Config{BlobDir: w.dir}, engine, store, synthesiser(t), asr)
	return w
}

// open opens a conversation about a new delivery, as the order webhook does.
func (w *world) open(t *testing.T, id string) (signoff.DeliveryID, dialog.Notice) {
	t.Helper()
	now := time.Now()
	n, err := w.engine.Notify(context.Background(), signoff.OrderEvent{
		WebhookID: "wh-" + id, Type: signoff.EventOutForDelivery, Timestamp: now,
		Delivery: signoff.Delivery{
			ID:        signoff.DeliveryID(id),
			Recipient: signoff.Recipient{Phone: "13912345678", Locale: signoff.LocaleEN, TimeZone: "Asia/Shanghai"},
			Status:    signoff.StatusOutForDelivery,
			ETA:       now.Add(2 * time.Hour),
		},
		Present: signoff.Fields{"recipient": true, "status": true, "eta": true},
	})
	if err != nil || !n.Opened {
		t.Fatalf("Notify = %+v, %v; want an opened session", n, err)
	}
	return signoff.DeliveryID(id), n
}

func (w *world) session(t *testing.T) signoff.Session {
	t.Helper()
	s, _, err := w.engine.Session(context.Background(), w.n.SessionID, w.n.Token)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (w *world) log(t *testing.T, kind string) []dialog.LogEntry {
	t.Helper()
	all, err := w.store.Log(context.Background(), w.did)
	if err != nil {
		t.Fatal(err)
	}
	var out []dialog.LogEntry
	for _, e := range all {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// TestE2EKeypad: a keypad 3 is one reply on dtmf and sets pickup_station
// at once; the bot's answer is heard.
func TestE2EKeypad(t *testing.T) {
	w := newWorld(t)
	start := time.Now()
	c, connected := dial(t, w.base, w.n.SessionID, w.n.Token, CallerOptions{NoiseDBFS: -60})
	var greeted time.Time
	waitFor(t, time.Second, "no greeting within 1 s of connecting", func() bool {
		var ok bool
		greeted, ok = firstLoud(c.Heard(), start)
		return ok
	})
	t.Logf("offer → first greeting audio %v (connected → audio %v)", greeted.Sub(start).Round(time.Millisecond), greeted.Sub(connected).Round(time.Millisecond))
	loudFor(t, c, 200*time.Millisecond, 3*time.Second)
	sent, err := c.Press('3')
	if err != nil {
		t.Fatal(err)
	}
	pressed := <-sent
	waitFor(t, 3*time.Second, "outcome not pickup_station", func() bool {
		return w.session(t).Outcome == signoff.OutcomePickupStation
	})
	var answered time.Time
	waitFor(t, 3*time.Second, "the bot's answer was not heard", func() bool {
		answered = firstStart(c.Heard(), pressed)
		return !answered.IsZero()
	})
	heardAnswer := false
	for _, f := range c.Heard() {
		heardAnswer = heardAnswer || (!f.At.Before(answered) && f.RMS > loud)
	}
	if !heardAnswer {
		t.Error("the answer is silent")
	}
	t.Logf("keypad → first reply audio at the caller %v", answered.Sub(pressed).Round(time.Millisecond))
	replies := w.log(t, "reply")
	if len(replies) != 1 || replies[0].Data["channel"] != "dtmf" || replies[0].Data["text"] != "3" {
		t.Errorf("reply log %v, want exactly one: 3 on dtmf", replies)
	}
	s := w.session(t)
	if s.Consent == nil || s.Consent.Channel != signoff.ChannelDTMF || s.Consent.Text != "3" {
		t.Errorf("consent %+v, want the keypad's 3", s.Consent)
	}
}

// TestE2ESpeech: the caller cuts into the menu with the spoken word "two"
// (espeak-ng over a faint noise floor, the bot's own voice echoed back at
// -20 dB): the bot falls silent at once, PocketSphinx hears "two", the
// engine reads it back, the caller says "yes", and the outcome is
// leave_at_door, as a chat reply "2" gives. The call's recording is filed
// with its hash in the delivery's log.
func TestE2ESpeech(t *testing.T) {
	w := newWorld(t)
	two, yes := say(t, "two"), say(t, "yes")
	c, _ := dial(t, w.base, w.n.SessionID, w.n.Token, CallerOptions{NoiseDBFS: -60, EchoDB: -20})

	// A second into the menu, with the echo, the bot is still talking.
	loudFor(t, c, 300*time.Millisecond, 3*time.Second)
	if time.Sleep(700 * time.Millisecond); len(w.log(t, "barge_in")) != 0 {
		t.Fatal("the bot's own echo cut it off")
	}
	var onset time.Time
	for range 50 { // start speaking while the bot is audible
		loudFor(t, c, 60*time.Millisecond, 3*time.Second)
		onset = <-c.Say(two)
		if loudBefore(c.Heard(), onset, 40*time.Millisecond) {
			break
		}
	}
	var silent time.Time
	waitFor(t, 2*time.Second, "the bot did not fall silent", func() bool {
		var ok bool
		silent, ok = silenceFrom(c.Heard(), onset, 10)
		return ok
	})
	lat := silent.Sub(onset)
	t.Logf("barge-in (espeak-ng voice, -20 dB echo): caller onset → bot silent at the caller %v", lat.Round(time.Millisecond))
	if lat > 150*time.Millisecond {
		t.Errorf("barge-in took %v, want well under 150 ms", lat)
	}
	waitFor(t, 5*time.Second, "\"two\" was not read back", func() bool {
		s := w.session(t)
		return s.State == signoff.StateConfirming && s.PendingText == "two"
	})
	loudFor(t, c, 300*time.Millisecond, 3*time.Second) // the read-back is being spoken
	<-c.Say(yes)
	waitFor(t, 5*time.Second, "outcome not leave_at_door", func() bool {
		return w.session(t).Outcome == signoff.OutcomeLeaveAtDoor
	})
	s := w.session(t)
	if s.Consent == nil || s.Consent.Channel != signoff.ChannelVoice || s.Consent.Text != "two / yes" {
		t.Errorf("consent %+v, want the voice's \"two / yes\"", s.Consent)
	}
	for _, r := range w.log(t, "reply") {
		if r.Data["channel"] != "voice" {
			t.Errorf("reply %v, want only voice replies", r.Data)
		}
	}
	if b := w.log(t, "barge_in"); len(b) == 0 || b[0].Data["cause"] != "speech" || b[0].Data["text"] == "" {
		t.Errorf("barge_in log %v: want the speech's cut-off with the text played", b)
	}

	// The same choice by chat.
	_, n := w.open(t, string(w.did)+"-chat")
	turn, err := w.engine.Reply(context.Background(), n.SessionID, n.Token, signoff.Input{Kind: signoff.InputText, Text: "2", Channel: signoff.ChannelChat})
	if err != nil {
		t.Fatal(err)
	}
	if turn.Session.Outcome != s.Outcome {
		t.Errorf("chat \"2\" gives %q, the call %q", turn.Session.Outcome, s.Outcome)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	recs := w.log(t, "call_recording")
	if len(recs) != 1 {
		t.Fatalf("call_recording log %v, want 1", recs)
	}
	b, err := os.ReadFile(filepath.Join(w.dir, recs[0].Data["sha256"]+".wav"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != recs[0].Data["sha256"] {
		t.Errorf("recording hashes to %s, the log says %s", got, recs[0].Data["sha256"])
	}
	checkStereoWAV(t, b)
	for _, k := range []string{"call_started", "call_ended"} {
		if len(w.log(t, k)) != 1 {
			t.Errorf("log has %d %s, want 1", len(w.log(t, k)), k)
		}
	}
}

// TestE2EOffList: a word off the menu ("banana") and a burst of noise are
// asked again and never reach the engine: no reply, no outcome.
func TestE2EOffList(t *testing.T) {
	w := newWorld(t)
	banana := say(t, "banana")
	c, _ := dial(t, w.base, w.n.SessionID, w.n.Token, CallerOptions{NoiseDBFS: -60})
	before := len(w.session(t).Transcript)
	loudFor(t, c, 300*time.Millisecond, 3*time.Second)
	<-c.Say(banana)
	waitFor(t, 5*time.Second, "\"banana\" was not rejected", func() bool { return len(w.log(t, "speech_rejected")) == 1 })
	time.Sleep(300 * time.Millisecond)
	<-c.Say(noiseBurst(250*time.Millisecond, -25))
	waitFor(t, 5*time.Second, "the noise was not rejected", func() bool { return len(w.log(t, "speech_rejected")) == 2 })
	rejectedAt := time.Now()
	waitFor(t, 3*time.Second, "not asked again", func() bool {
		_, ok := firstLoud(c.Heard(), rejectedAt)
		return ok
	})
	s := w.session(t)
	if s.Outcome != signoff.OutcomeNone || len(s.Transcript) != before || len(w.log(t, "reply")) != 0 {
		t.Errorf("off-list speech reached the engine: outcome %q, %d lines (was %d), replies %v", s.Outcome, len(s.Transcript), before, w.log(t, "reply"))
	}
}

// TestE2EOpus: a caller that sends Opus, as browsers do (libopus's packets
// of espeak-ng's "two", hybrid mode), is decoded in pure Go and understood:
// the engine reads "two" back. The recording says the codec.
func TestE2EOpus(t *testing.T) {
	w := newWorld(t)
	packets := opusPackets(t, "two-voip.opus")
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
	defer pc.Close()
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "opus-caller")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(track); err != nil {
		t.Fatal(err)
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
		}
	})
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	<-g
	resp, answer := do(t, http.MethodPost, w.base+"/v1/sessions/"+string(w.n.SessionID)+"/call", "application/sdp", w.n.Token, pc.LocalDescription().SDP)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST = %d %s", resp.StatusCode, answer)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("not connected")
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for _, p := range packets {
		<-tick.C
		if err := track.WriteSample(media.Sample{Data: p, Duration: 20 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "\"two\" in Opus was not read back", func() bool {
		s := w.session(t)
		return s.State == signoff.StateConfirming && s.PendingText == "two"
	})
	if resp, body := do(t, http.MethodDelete, w.base+resp.Header.Get("Location"), "", w.n.Token, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", resp.StatusCode, body)
	}
	if recs := w.log(t, "call_recording"); len(recs) != 1 || recs[0].Data["codec"] != "opus" {
		t.Errorf("call_recording %v, want codec opus", recs)
	}
}

// TestBench runs Bench against the real engine and logs the figures:
// VOICE_BENCH_CALLS calls (default 3; the issue asks for 20 or more).
func TestBench(t *testing.T) {
	w := newWorld(t)
	calls := 3
	if n, err := strconv.Atoi(os.Getenv("VOICE_BENCH_CALLS")); err == nil && n > 0 {
		calls = n
	}
	i := 0
	r, err := Bench(context.Background(), w.base, BenchOptions{
		Calls:  calls,
		Caller: CallerOptions{Loopback: true, NoiseDBFS: -60},
		Open: func(context.Context) (signoff.SessionID, string, error) {
			i++
			_, n := w.open(t, string(w.did)+"-bench-"+strconv.Itoa(i))
			return n.SessionID, n.Token, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("offer → first greeting audio: %v", r.Greeting)
	t.Logf("keypad → first reply audio:   %v", r.Keypad)
	t.Logf("speech onset → bot silent:    %v", r.BargeIn)
	for _, s := range []Stats{r.Greeting, r.Keypad, r.BargeIn} {
		if s.N != calls {
			t.Errorf("%d of %d calls measured: %v", s.N, calls, s)
		}
	}
	if r.BargeIn.P95 > 150*time.Millisecond {
		t.Errorf("barge-in p95 %v, want ≤ 150 ms", r.BargeIn.P95)
	}
}
