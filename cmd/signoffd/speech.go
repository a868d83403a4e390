package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/signoff/signoff/channels/voice"
	"github.com/signoff/signoff/speech"
	"github.com/signoff/signoff/speech/espeak"
	"github.com/signoff/signoff/speech/openai"
	"github.com/signoff/signoff/speech/sphinx"
)

// speechEngines builds the synthesiser and recogniser the configuration
// names. An engine that cannot start is reported with what to install and
// left out (nil): the voice channel then beeps or takes keypad digits only,
// and every other channel works as before.
func speechEngines(cfg Config, log *slog.Logger) (voice.Synthesizer, voice.Recognizer, func()) {
	var tts voice.Synthesizer
	var asr voice.Recognizer
	closers := []func(){}
	oai := func() *openai.Engine {
		return openai.New(openai.Config{BaseURL: cfg.OpenAIBaseURL, APIKey: cfg.OpenAIKey})
	}
	switch cfg.TTS {
	case "espeak":
		if s, err := espeak.New(espeak.Options{}); err != nil {
			log.Error("speech synthesis is off", "engine", "espeak-ng", "err", err)
		} else {
			tts = s
		}
	case "openai":
		tts = oai()
	}
	switch cfg.ASR {
	case "sphinx":
		if r, err := sphinx.New(sphinx.Options{}); err != nil {
			log.Error("speech recognition is off; callers can still use the keypad", "engine", "pocketsphinx", "err", err)
		} else {
			asr = sphinxASR{r}
			closers = append(closers, func() { r.Close() })
		}
	case "openai":
		asr = oai()
	}
	return tts, asr, func() {
		for _, c := range closers {
			c()
		}
	}
}

// sphinxASR adapts the PocketSphinx recogniser to the voice channel.
type sphinxASR struct{ r *sphinx.Recognizer }

func (a sphinxASR) Recognize(ctx context.Context, pcm []int16, g speech.Grammar) (speech.Result, error) {
	sg := sphinx.Grammar{Phrases: make([]sphinx.Phrase, 0, len(g.Phrases))}
	for _, p := range g.Phrases {
		sg.Phrases = append(sg.Phrases, sphinx.Phrase{Key: p.Key, Say: p.Say})
	}
	r, err := a.r.Recognize(ctx, pcm, sg)
	return speech.Result{Key: r.Key, Text: r.Text, Score: r.Score, Confidence: r.Confidence, Rejected: r.Rejected, Silence: r.Silence}, err
}

// earlyAfter is the voice channel's Config.EarlyAfter: recognition early in
// a caller's pauses (200 ms) with the embedded recogniser, which costs only
// CPU; off (-1) with a remote one, which is paid per request.
func earlyAfter(cfg Config) time.Duration {
	if cfg.ASR == "sphinx" {
		return 0 // the default, 200 ms
	}
	return -1
}
