package voice_test

import (
	"context"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff/channels/voice"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/redisstore"
	"github.com/signoff/signoff/speech/espeak"
)

// The wiring of cmd/signoffd: the dialog engine holds the conversations, the
// Redis store feeds the transcript, espeak-ng speaks. (A recogniser, such
// as speech/sphinx, goes where nil is; without one callers use the keypad.)
func Example() {
	var (
		engine *dialog.Engine    // dialog.New(store, ...)
		store  *redisstore.Store // redisstore.New(client, log)
		log    = slog.Default()
	)
	var tts voice.Synthesizer // nil: the bot beeps
	if s, err := espeak.New(espeak.Options{}); err != nil {
		log.Error("no speech synthesis", "err", err) // names the package to install
	} else {
		tts = s
	}
	h, err := voice.New(voice.Config{
		ICEServers: []string{"stun:stun.example.org:3478"},
		BlobDir:    "/var/lib/signoff/blobs",
	}, engine, store, tts, nil, log)
	if err != nil {
		log.Error("voice", "err", err)
		return
	}
	r := gin.New()
	h.Register(r) // POST /v1/sessions/:id/call, DELETE and PATCH on its Location

	// On shutdown: every call ends, silently, and files its evidence.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h.Close(ctx)
}
