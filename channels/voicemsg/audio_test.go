package voicemsg

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/speech"
	"github.com/signoff/signoff/speech/sphinx"
)

// sphinxASR adapts the real PocketSphinx recogniser to Recognizer, as main
// does.
type sphinxASR struct{ r *sphinx.Recognizer }

func (a sphinxASR) Recognize(ctx context.Context, pcm []int16, g speech.Grammar) (speech.Result, error) {
	sg := sphinx.Grammar{Phrases: make([]sphinx.Phrase, 0, len(g.Phrases))}
	for _, p := range g.Phrases {
		sg.Phrases = append(sg.Phrases, sphinx.Phrase{Key: p.Key, Say: p.Say})
	}
	r, err := a.r.Recognize(ctx, pcm, sg)
	return speech.Result{Key: r.Key, Text: r.Text, Score: r.Score, Confidence: r.Confidence, Rejected: r.Rejected, Silence: r.Silence}, err
}

var (
	sphinxOnce sync.Once
	sphinxRec  *sphinx.Recognizer
	sphinxErr  error
)

func realRecognizer(t *testing.T) Recognizer {
	t.Helper()
	sphinxOnce.Do(func() { sphinxRec, sphinxErr = sphinx.New(sphinx.Options{Decoders: 1}) })
	if sphinxErr != nil {
		t.Fatalf("the PocketSphinx model is missing: sudo apt-get install pocketsphinx-en-us libpocketsphinx-dev: %v", sphinxErr)
	}
	return sphinxASR{sphinxRec}
}

// espeak returns espeak-ng's WAV file of text.
func espeak(t *testing.T, text string) []byte {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Fatal("espeak-ng is not installed; the test speaks with it: sudo apt-get install espeak-ng")
	}
	f := filepath.Join(t.TempDir(), "say.wav")
	if out, err := exec.Command("espeak-ng", "-v", "en-us", "-w", f, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng %q: %v\n%s", text, err, out)
	}
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSpokenTwo posts espeak-ng saying "two" through the real recogniser, as
// WAV and, encoded with libopus, as WebM: the session gets the text "two"
// from the voice channel.
func TestSpokenTwo(t *testing.T) {
	asr := realRecognizer(t)
	wav := espeak(t, "two")
	raw, rate, err := speech.ReadWAV(bytes.NewReader(wav))
	if err != nil {
		t.Fatalf("espeak-ng's WAV: %v", err)
	}
	r, err := speech.NewResampler(rate, 48000)
	if err != nil {
		t.Fatal(err)
	}
	pcm48 := r.Resample(nil, append(raw, make([]int16, rate/5)...)) // flush the filter
	packets := opusPackets(t, pcm48)
	for _, tc := range []struct {
		name, ctype string
		body        []byte
		ms          int // the duration recorded
	}{
		{"wav", "audio/wav", wav, len(raw) * 1000 / rate},
		{"webm", "audio/webm;codecs=opus", webmOpus(packets), (len(packets)*960 - testPreSkip) / 48},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixtureASR(t, Config{}, asr)
			w, m := f.post(t, msgPath, tc.ctype, "Bearer "+testToken, tc.body)
			if w.Code != 200 || m["heard"] != "two" {
				t.Fatalf("got %d %s, want 200 and heard two", w.Code, w.Body)
			}
			want := signoff.Input{Kind: signoff.InputText, Text: "two", Channel: signoff.ChannelVoice}
			if len(f.conv.replies) != 1 || f.conv.replies[0] != want {
				t.Errorf("got replies %+v, want one %+v", f.conv.replies, want)
			}
			if len(f.conv.records) != 1 || !near(f.conv.records[0]["duration_ms"], tc.ms, 2) {
				t.Errorf("got records %v, want one of %d ms", f.conv.records, tc.ms)
			}
		})
	}
}
