// Package openai is speech recognition and synthesis through any
// OpenAI-compatible audio endpoint (/audio/transcriptions, /audio/speech):
// OpenAI itself, or a self-hosted server that speaks the same wire format.
// It is the engine for free speech and for Chinese, which the embedded
// PocketSphinx grammar does not cover.
package openai

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/speech"
)

// Config says which server and models to use.
type Config struct {
	BaseURL         string // e.g. https://api.openai.com/v1; empty means OpenAI's
	APIKey          string
	TranscribeModel string // default "whisper-1"
	SpeechModel     string // default "tts-1"
	Voice           string // default "alloy"
	HTTPClient      *http.Client
}

// Engine recognises and synthesises speech through the configured server.
// It is safe for concurrent use.
type Engine struct {
	client *goopenai.Client
	cfg    Config
}

// New returns an Engine for cfg.
func New(cfg Config) *Engine {
	if cfg.TranscribeModel == "" {
		cfg.TranscribeModel = "whisper-1"
	}
	if cfg.SpeechModel == "" {
		cfg.SpeechModel = string(goopenai.TTSModel1)
	}
	if cfg.Voice == "" {
		cfg.Voice = string(goopenai.VoiceAlloy)
	}
	oc := goopenai.DefaultConfig(cfg.APIKey)
	if cfg.BaseURL != "" {
		oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	}
	if cfg.HTTPClient != nil {
		oc.HTTPClient = cfg.HTTPClient
	}
	return &Engine{client: goopenai.NewClientWithConfig(oc), cfg: cfg}
}

// language maps a conversation language onto the ISO-639-1 code the
// transcription endpoint takes.
func language(lang string) string {
	if strings.HasPrefix(strings.ToLower(lang), "zh") {
		return "zh"
	}
	return "en"
}

// Recognize transcribes one utterance (16 kHz mono). The grammar's phrases
// go into the prompt as a hint; the words heard come back in Text, and Key
// is set when they are exactly one of the phrases. Free speech is not
// rejected here: the dialog's reply parser decides what it means. Silence
// (an empty transcription) is Rejected with Silence set. Errors reaching the
// server are of kind signoff.ErrUnavailable.
func (e *Engine) Recognize(ctx context.Context, pcm []int16, g speech.Grammar) (speech.Result, error) {
	wav, err := speech.EncodeWAV(pcm, speech.SampleRate)
	if err != nil {
		return speech.Result{}, err
	}
	var hint []string
	for _, p := range g.Phrases {
		hint = append(hint, p.Say...)
	}
	resp, err := e.client.CreateTranscription(ctx, goopenai.AudioRequest{
		Model:    e.cfg.TranscribeModel,
		FilePath: "utterance.wav",
		Reader:   bytes.NewReader(wav),
		Language: language(g.Lang),
		Prompt:   strings.Join(hint, ", "),
		Format:   goopenai.AudioResponseFormatJSON,
	})
	if err != nil {
		return speech.Result{}, unavailable("transcription", err)
	}
	text := strings.TrimSpace(resp.Text)
	if text == "" {
		return speech.Result{Rejected: true, Silence: true}, nil
	}
	r := speech.Result{Text: text, Confidence: 0.5}
	norm := normalize(text)
	for _, p := range g.Phrases {
		for _, say := range p.Say {
			if normalize(say) == norm {
				r.Key, r.Confidence = p.Key, 1
			}
		}
	}
	return r, nil
}

// normalize lowers case and drops punctuation and spaces at the edges:
// "Two." and "two" are the same answer.
func normalize(s string) string {
	return strings.ToLower(strings.TrimFunc(s, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) }))
}

// Synthesize speaks text in lang and returns 16 kHz mono PCM. slow asks for
// a slower voice for elderly listeners.
func (e *Engine) Synthesize(ctx context.Context, text, lang string, slow bool) ([]int16, error) {
	speed := 1.0
	if slow {
		speed = 0.85
	}
	resp, err := e.client.CreateSpeech(ctx, goopenai.CreateSpeechRequest{
		Model:          goopenai.SpeechModel(e.cfg.SpeechModel),
		Input:          text,
		Voice:          goopenai.SpeechVoice(e.cfg.Voice),
		ResponseFormat: goopenai.SpeechResponseFormatWav,
		Speed:          speed,
	})
	if err != nil {
		return nil, unavailable("speech", err)
	}
	defer resp.Close()
	body, err := io.ReadAll(io.LimitReader(resp, speech.MaxWAVSize+1))
	if err != nil {
		return nil, unavailable("speech", err)
	}
	pcm, rate, err := speech.ReadWAV(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("openai speech: the server's audio: %w", err)
	}
	if rate == speech.SampleRate {
		return pcm, nil
	}
	rs, err := speech.NewResampler(rate, speech.SampleRate)
	if err != nil {
		return nil, err
	}
	return rs.Resample(nil, pcm), nil
}

func unavailable(what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return signoff.Wrap(signoff.ErrUnavailable, "speech_unavailable", "the "+what+" service did not answer", err)
}
