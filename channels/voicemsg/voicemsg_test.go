package voicemsg

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/prompts"
	"github.com/signoff/signoff/speech"
)

const (
	testSession = "s1"
	testToken   = "tok"
)

var menu = []signoff.Option{{Key: "1", Label: "Leave at my door"}, {Key: "2", Label: "Hand it to me"}}

// fakeConv is a session that answers every reply with one bot line.
type fakeConv struct {
	mu      sync.Mutex
	replies []signoff.Input
	records []map[string]string
}

func (f *fakeConv) Session(_ context.Context, id signoff.SessionID, token string) (signoff.Session, signoff.Delivery, error) {
	if id != testSession {
		return signoff.Session{}, signoff.Delivery{}, signoff.Errorf(signoff.ErrNotFound, "not_found", "no such session")
	}
	if token != testToken {
		return signoff.Session{}, signoff.Delivery{}, signoff.Errorf(signoff.ErrUnauthorized, "bad_token", "wrong token")
	}
	return signoff.Session{ID: id, Locale: signoff.LocaleEN, State: signoff.StateAwaitingChoice, Offered: menu}, signoff.Delivery{}, nil
}

func (f *fakeConv) Reply(ctx context.Context, id signoff.SessionID, token string, in signoff.Input) (dialog.Turn, error) {
	if _, _, err := f.Session(ctx, id, token); err != nil {
		return dialog.Turn{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies = append(f.replies, in)
	return dialog.Turn{
		Replies: []signoff.Message{{From: signoff.FromRecipient, Text: in.Text}, {From: signoff.FromBot, Text: "Thanks, we'll hand it to you."}},
		Session: signoff.Session{ID: id, State: signoff.StateArranged, Outcome: signoff.OutcomeDeliverNow},
	}, nil
}

func (f *fakeConv) Record(_ context.Context, id signoff.SessionID, kind string, data map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if kind != "voice_message" || id != testSession {
		return signoff.Errorf(signoff.ErrInvalid, "bad_record", "unexpected record %s for %s", kind, id)
	}
	f.records = append(f.records, data)
	return nil
}

// fakeASR hears what it is told to and keeps what it was given.
type fakeASR struct {
	res     speech.Result
	mu      sync.Mutex
	samples []int
	grammar speech.Grammar
}

func (f *fakeASR) Recognize(_ context.Context, pcm []int16, g speech.Grammar) (speech.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.samples = append(f.samples, len(pcm))
	f.grammar = g
	return f.res, nil
}

type fixture struct {
	h    http.Handler
	conv *fakeConv
	asr  *fakeASR
	dir  string
}

// newFixture serves a Handler over a fake session and, withASR, a fake
// recogniser that hears "two".
func newFixture(t *testing.T, cfg Config, withASR bool) *fixture {
	t.Helper()
	fake := &fakeASR{res: speech.Result{Key: "2", Text: "two", Confidence: 0.9}}
	var asr Recognizer
	if withASR {
		asr = fake
	}
	f := newFixtureASR(t, cfg, asr)
	f.asr = fake
	return f
}

// newFixtureASR serves a Handler over a fake session and asr.
func newFixtureASR(t *testing.T, cfg Config, asr Recognizer) *fixture {
	t.Helper()
	gin.SetMode(gin.TestMode)
	f := &fixture{conv: &fakeConv{}, dir: t.TempDir()}
	cfg.BlobDir = f.dir
	h, err := New(cfg, f.conv, asr, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	r := gin.New()
	h.Register(r)
	f.h = r
	return f
}

func (f *fixture) post(t *testing.T, path, ctype, auth string, body []byte) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, w.Body)
	}
	return w, m
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func multipartBody(t *testing.T, field, ctype string, data []byte) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	hd := textproto.MIMEHeader{}
	hd.Set("Content-Disposition", `form-data; name="`+field+`"; filename="msg"`)
	if ctype != "" {
		hd.Set("Content-Type", ctype)
	}
	p, err := mw.CreatePart(hd)
	if err != nil {
		t.Fatal(err)
	}
	p.Write(data)
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

const msgPath = "/v1/sessions/" + testSession + "/voice-messages"

func TestErrors(t *testing.T) {
	wav := pcmWAV(16000, tone(16000, 1))
	mpType, mpBody := multipartBody(t, "file", "audio/wav", wav)
	mpBigType, mpBig := multipartBody(t, "audio", "audio/wav", pcmWAV(16000, tone(16000, 3)))
	mpTextType, mpText := multipartBody(t, "audio", "text/plain", []byte("hello"))
	for _, tc := range []struct {
		name        string
		noASR       bool
		path, ctype string
		auth        string
		body        []byte
		status      int
		code        string
	}{
		{"no recogniser", true, msgPath, "audio/wav", "Bearer " + testToken, wav, 503, "speech_unavailable"},
		{"no token", false, msgPath, "audio/wav", "", wav, 401, "missing_token"},
		{"wrong token", false, msgPath, "audio/wav", "Bearer nope", wav, 401, "bad_token"},
		{"no session", false, "/v1/sessions/zz/voice-messages", "audio/wav", "Bearer " + testToken, wav, 404, "not_found"},
		{"no content type", false, msgPath, "", "Bearer " + testToken, wav, 415, "unsupported_media_type"},
		{"mp3", false, msgPath, "audio/mpeg", "Bearer " + testToken, wav, 415, "unsupported_media_type"},
		{"text part", false, msgPath, mpTextType, "Bearer " + testToken, mpText, 415, "unsupported_media_type"},
		{"too large", false, msgPath, "audio/wav", "Bearer " + testToken, pcmWAV(16000, tone(16000, 3)), 413, "body_too_large"},
		{"too large multipart", false, msgPath, mpBigType, "Bearer " + testToken, mpBig, 413, "body_too_large"},
		{"no audio field", false, msgPath, mpType, "Bearer " + testToken, mpBody, 400, "missing_field"},
		{"garbage wav", false, msgPath, "audio/wav", "Bearer " + testToken, []byte("RIFF....WAVEjunk"), 400, "bad_audio"},
		{"wav as ogg", false, msgPath, "audio/ogg", "Bearer " + testToken, wav, 400, "bad_audio"},
		{"garbage webm", false, msgPath, "audio/webm;codecs=opus", "Bearer " + testToken, []byte{0x1A, 0x45, 0xDF, 0xA3, 0xFF}, 400, "bad_audio"},
		{"too long", false, msgPath, "audio/wav", "Bearer " + testToken, pcmWAV(8000, tone(8000, 2)), 400, "audio_too_long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// 2 s of 8 kHz WAV is 32 KB; 3 s of 16 kHz is 96 KB.
			f := newFixture(t, Config{MaxBytes: 64 << 10, MaxDuration: 1500 * 1e6}, !tc.noASR)
			w, m := f.post(t, tc.path, tc.ctype, tc.auth, tc.body)
			if w.Code != tc.status || errCode(m) != tc.code {
				t.Errorf("got %d %s, want %d %s (%s)", w.Code, errCode(m), tc.status, tc.code, w.Body)
			}
			if tc.code == "speech_unavailable" {
				if msg := m["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "apt-get install pocketsphinx-en-us") {
					t.Errorf("got message %q, want it to name apt-get install pocketsphinx-en-us", msg)
				}
			}
			if len(f.conv.replies) != 0 || len(f.conv.records) != 0 {
				t.Errorf("got %d replies and %d records, want none", len(f.conv.replies), len(f.conv.records))
			}
			if files, _ := os.ReadDir(f.dir); len(files) != 0 {
				t.Errorf("got %d files in the blob dir, want none", len(files))
			}
		})
	}
}

func TestHeard(t *testing.T) {
	packets := opusPackets(t, tone(48000, 1))
	wav := pcmWAV(22050, tone(22050, 1))
	mpType, mpBody := multipartBody(t, "audio", "application/octet-stream", webmOpus(packets))
	for _, tc := range []struct {
		name, ctype string
		body        []byte
		upload      []byte // what is stored
		ext, stored string
	}{
		{"wav", "audio/x-wav", wav, wav, "wav", "audio/x-wav"},
		{"ogg", "audio/ogg; codecs=opus", oggOpus(packets), oggOpus(packets), "ogg", "audio/ogg"},
		{"webm", "audio/webm;codecs=opus", webmOpus(packets), webmOpus(packets), "webm", "audio/webm"},
		{"multipart webm", mpType, mpBody, webmOpus(packets), "webm", "audio/webm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Config{}, true)
			w, m := f.post(t, msgPath, tc.ctype, "Bearer "+testToken, tc.body)
			if w.Code != 200 {
				t.Fatalf("got %d %s, want 200", w.Code, w.Body)
			}
			if m["heard"] != "two" || m["outcome"] != string(signoff.OutcomeDeliverNow) || m["state"] != string(signoff.StateArranged) {
				t.Errorf("got %s, want heard two, the outcome and state of the turn", w.Body)
			}
			if r, _ := m["replies"].([]any); len(r) != 1 {
				t.Errorf("got replies %v, want the bot's one line", m["replies"])
			}
			want := signoff.Input{Kind: signoff.InputText, Text: "two", Channel: signoff.ChannelVoice}
			if len(f.conv.replies) != 1 || f.conv.replies[0] != want {
				t.Errorf("got replies %+v, want one %+v", f.conv.replies, want)
			}
			if n := f.asr.samples; len(n) != 1 || n[0] < 15800 || n[0] > 16100 { // Opus drops its 312-sample pre-skip
				t.Errorf("the recogniser got %v samples, want about one second (16000)", n)
			}
			if g := f.asr.grammar; g.Lang != "en" || len(g.Phrases) != 4 || g.Phrases[1].Key != "2" ||
				strings.Join(g.Phrases[1].Say, ",") != "two,number two,option two" {
				t.Errorf("got grammar %+v, want 1, 2, repeat and agent in English", g)
			}
			sum := sha256.Sum256(tc.upload)
			hexSum := hex.EncodeToString(sum[:])
			if len(f.conv.records) != 1 {
				t.Fatalf("got %d records, want 1", len(f.conv.records))
			}
			rec := f.conv.records[0]
			if rec["sha256"] != hexSum || rec["content_type"] != tc.stored || rec["heard"] != "two" || !near(rec["duration_ms"], 1000, 10) {
				t.Errorf("got record %v, want sha256 %s, %s, heard two, about 1000 ms", rec, hexSum, tc.stored)
			}
			got, err := os.ReadFile(filepath.Join(f.dir, hexSum+"."+tc.ext))
			if err != nil || !bytes.Equal(got, tc.upload) {
				t.Errorf("the stored upload: %v (%d bytes), want the %d bytes uploaded", err, len(got), len(tc.upload))
			}
		})
	}
}

func TestRejected(t *testing.T) {
	f := newFixture(t, Config{}, true)
	f.asr.res = speech.Result{Rejected: true}
	w, m := f.post(t, msgPath, "audio/wav", "Bearer "+testToken, pcmWAV(16000, tone(16000, 1)))
	if w.Code != 200 {
		t.Fatalf("got %d %s, want 200", w.Code, w.Body)
	}
	var resp Response
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	want := Response{Heard: "", Replies: []Reply{{Text: prompts.For(signoff.LocaleEN).Text("unclear"), Options: menu}}, State: signoff.StateAwaitingChoice}
	if g, _ := json.Marshal(resp); string(g) != string(must(json.Marshal(want))) {
		t.Errorf("got %s, want %s", g, must(json.Marshal(want)))
	}
	if m["outcome"] != nil {
		t.Errorf("got outcome %v, want null", m["outcome"])
	}
	if len(f.conv.replies) != 0 {
		t.Errorf("got replies %+v, want none", f.conv.replies)
	}
	if len(f.conv.records) != 1 || f.conv.records[0]["heard"] != "" {
		t.Errorf("got records %v, want the evidence with heard empty", f.conv.records)
	}
}

// near reports whether s is a number within tol of want.
func near(s string, want, tol int) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= want-tol && n <= want+tol
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestLongMessage: a message longer than the recogniser takes is cut to its
// speech; if the speech itself is too long, it is refused.
func TestLongMessage(t *testing.T) {
	quiet := make([]int16, 5*8000)
	copy(quiet[2*8000:], tone(8000, 1))
	for _, tc := range []struct {
		name    string
		pcm     []int16
		status  int
		samples int // given to the recogniser
	}{
		{"answer in silence", quiet, 200, 16000 + 2*4800},
		{"silence", make([]int16, 5*8000), 200, 0},
		{"all speech", tone(8000, 5), 400, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Config{MaxSpeech: 2 * 16000}, true)
			w, m := f.post(t, msgPath, "audio/wav", "Bearer "+testToken, pcmWAV(8000, tc.pcm))
			if w.Code != tc.status {
				t.Fatalf("got %d %s, want %d", w.Code, w.Body, tc.status)
			}
			if tc.status != 200 {
				if errCode(m) != "audio_too_long" || len(f.conv.records) != 0 || len(f.asr.samples) != 0 {
					t.Errorf("got %s, %d records, recogniser called %d times; want audio_too_long and nothing done", w.Body, len(f.conv.records), len(f.asr.samples))
				}
				return
			}
			var got int
			if len(f.asr.samples) > 0 {
				got = f.asr.samples[0]
			}
			if got < tc.samples-400 || got > tc.samples+400 {
				t.Errorf("the recogniser got %v samples, want about %d", f.asr.samples, tc.samples)
			}
			if len(f.conv.records) != 1 || !near(f.conv.records[0]["duration_ms"], 5000, 5) {
				t.Errorf("got records %v, want one of the whole 5000 ms", f.conv.records)
			}
		})
	}
}
