package openai

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/speech"
)

// server speaks the OpenAI audio wire format: multipart transcription
// requests and JSON speech requests answered with a 24 kHz WAV.
type server struct {
	text     string // what the transcription returns
	lastForm map[string]string
	lastWAV  int // samples of the uploaded file
	speech   map[string]any
	fail     bool
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer test-key" {
		http.Error(w, `{"error":{"message":"bad key"}}`, http.StatusUnauthorized)
		return
	}
	if s.fail {
		http.Error(w, `{"error":{"message":"overloaded","type":"server_error"}}`, http.StatusServiceUnavailable)
		return
	}
	switch r.URL.Path {
	case "/v1/audio/transcriptions":
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		s.lastForm = map[string]string{}
		for k, v := range r.MultipartForm.Value {
			s.lastForm[k] = v[0]
		}
		f, _, err := r.FormFile("file")
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		b, _ := io.ReadAll(f)
		pcm, _, err := speech.ReadWAV(strings.NewReader(string(b)))
		if err != nil {
			http.Error(w, "not a wav: "+err.Error(), 400)
			return
		}
		s.lastWAV = len(pcm)
		json.NewEncoder(w).Encode(map[string]any{"text": s.text})
	case "/v1/audio/speech":
		json.NewDecoder(r.Body).Decode(&s.speech)
		pcm := make([]int16, 24000) // 1 s of 440 Hz at 24 kHz
		for i := range pcm {
			pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/24000))
		}
		wav, _ := speech.EncodeWAV(pcm, 24000)
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(wav)
	default:
		http.NotFound(w, r)
	}
}

func newEngine(t *testing.T, s *server) *Engine {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return New(Config{BaseURL: srv.URL + "/v1", APIKey: "test-key"})
}

func TestRecognize(t *testing.T) {
	s := &server{}
	e := newEngine(t, s)
	g := speech.Grammar{Lang: "zh-CN", Phrases: []speech.Phrase{{Key: "2", Say: []string{"two", "二"}}, {Key: "yes", Say: []string{"yes"}}}}
	pcm := make([]int16, 16000)
	tests := []struct {
		heard    string
		key      string
		rejected bool
	}{
		{"Two.", "2", false},
		{"二", "2", false},
		{"放门口吧", "", false}, // free speech: the dialog decides
		{"  ", "", true},
	}
	for _, tt := range tests {
		s.text = tt.heard
		r, err := e.Recognize(context.Background(), pcm, g)
		if err != nil {
			t.Fatal(err)
		}
		if r.Key != tt.key || r.Rejected != tt.rejected || (!tt.rejected && r.Text != strings.TrimSpace(tt.heard)) {
			t.Errorf("heard %q: got %+v, want key %q rejected %v", tt.heard, r, tt.key, tt.rejected)
		}
	}
	if s.lastWAV != len(pcm) || s.lastForm["language"] != "zh" || s.lastForm["model"] != "whisper-1" || !strings.Contains(s.lastForm["prompt"], "two") {
		t.Errorf("request: %d samples, form %v", s.lastWAV, s.lastForm)
	}
}

func TestSynthesize(t *testing.T) {
	s := &server{}
	e := newEngine(t, s)
	pcm, err := e.Synthesize(context.Background(), "请回复数字", "zh-CN", true)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(pcm); n < 15800 || n > 16200 {
		t.Errorf("got %d samples, want about 16000 (1 s at 16 kHz)", n)
	}
	if rms := speech.RMS(pcm); rms < 4000 {
		t.Errorf("RMS %.0f: the tone did not survive resampling", rms)
	}
	if s.speech["input"] != "请回复数字" || s.speech["response_format"] != "wav" || s.speech["speed"] != 0.85 {
		t.Errorf("request %v", s.speech)
	}
}

func TestServerDown(t *testing.T) {
	e := newEngine(t, &server{fail: true})
	if _, err := e.Synthesize(context.Background(), "hi", "en", false); !errors.Is(err, signoff.ErrUnavailable) {
		t.Errorf("Synthesize: %v, want ErrUnavailable", err)
	}
	if _, err := e.Recognize(context.Background(), make([]int16, 320), speech.Grammar{}); !errors.Is(err, signoff.ErrUnavailable) {
		t.Errorf("Recognize: %v, want ErrUnavailable", err)
	}
}
