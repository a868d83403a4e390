package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/internal/observe"
)

// devWebhookSecret is used when SIGNOFF_WEBHOOK_SECRET is unset, so that a
// fresh checkout runs and the README's walk-through works. It is public.
const devWebhookSecret = "whsec_c2lnbm9mZi1kZXZlbG9wbWVudC1zZWNyZXQ="

// devCourierSecret keys courier tokens when SIGNOFF_COURIER_SECRET is unset.
// It is public: set your own in production.
const devCourierSecret = "signoff-development-courier-secret"

// Config is everything signoffd is told.
type Config struct {
	Addr            string        // SIGNOFF_ADDR
	RedisURL        string        // REDIS_URL; empty runs the embedded store
	WebhookSecrets  []string      // SIGNOFF_WEBHOOK_SECRET, space- or comma-separated for rotation
	PublicURL       string        // SIGNOFF_PUBLIC_URL
	LogLevel        slog.Level    // SIGNOFF_LOG_LEVEL
	LogFormat       string        // SIGNOFF_LOG_FORMAT: json or text
	TimerPoll       time.Duration // SIGNOFF_TIMER_POLL
	ShutdownTimeout time.Duration // SIGNOFF_SHUTDOWN_TIMEOUT
	DebugAddr       string        // SIGNOFF_DEBUG_ADDR: pprof, off when empty
	Dialog          dialog.Config
	Prod            ProdConfig // limits, guards, drain: see wire_observe.go

	// The voice channel.
	ICEServers    []string // SIGNOFF_ICE_SERVERS, comma-separated stun:/turn: URLs
	ICELoopback   bool     // SIGNOFF_ICE_LOOPBACK=1: only 127.0.0.1 candidates
	BlobDir       string   // SIGNOFF_BLOB_DIR: call recordings and other evidence files
	TTS           string   // SIGNOFF_TTS: espeak, openai or none
	ASR           string   // SIGNOFF_ASR: sphinx, openai or none
	SlowSpeech    bool     // SIGNOFF_SLOW_SPEECH=1: slower voice for elderly recipients
	OpenAIBaseURL string   // OPENAI_BASE_URL
	OpenAIKey     string   // OPENAI_API_KEY

	// A caller's turn ends after SIGNOFF_VAD_SILENCE (500ms), or after
	// SIGNOFF_VAD_HOLD (1s) while the caller may be saying a number.
	VADSilence, VADHold time.Duration

	// CourierSecret keys courier tokens (SIGNOFF_COURIER_SECRET, at least
	// 16 bytes); unset uses a public development secret, logged loudly.
	CourierSecret    string
	devCourierSecret bool

	devSecret bool

	Text textConfig // SIGNOFF_SMS_*, SIGNOFF_WECHAT_*: see wire_text.go
}

// LogValue masks the secrets and the Redis password.
func (c Config) LogValue() slog.Value {
	redis := "embedded"
	if c.RedisURL != "" {
		redis = maskURL(c.RedisURL)
	}
	return slog.GroupValue(
		slog.String("addr", c.Addr), slog.String("redis", redis),
		slog.Int("webhook_secrets", len(c.WebhookSecrets)), slog.String("public_url", c.PublicURL),
		slog.Int64("high_value_cents", c.Dialog.HighValueCents),
		slog.Duration("reply_timeout", c.Dialog.ReplyTimeout), slog.Duration("handoff_timeout", c.Dialog.HandoffTimeout),
		slog.Int("ice_servers", len(c.ICEServers)), slog.Bool("ice_loopback", c.ICELoopback),
		slog.String("blob_dir", c.BlobDir), slog.String("tts", c.TTS), slog.String("asr", c.ASR),
		slog.Bool("openai_key", c.OpenAIKey != ""),
	)
}

func maskURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if err != nil {
			return "(unparsable)"
		}
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func loadConfig(args []string, getenv func(string) string) (Config, error) {
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("signoffd", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", env("SIGNOFF_ADDR", ":8080"), "listen address (SIGNOFF_ADDR)")
	redisURL := fs.String("redis", env("REDIS_URL", ""), "Redis URL; empty runs an embedded in-memory store (REDIS_URL)")
	secrets := fs.String("webhook-secret", env("SIGNOFF_WEBHOOK_SECRET", ""), "whsec_... webhook secrets, space- or comma-separated (SIGNOFF_WEBHOOK_SECRET)")
	public := fs.String("public-url", env("SIGNOFF_PUBLIC_URL", ""), "base URL of recipient links (SIGNOFF_PUBLIC_URL)")
	highValue := fs.Int64("high-value-cents", 0, "declared value above which door and locker are refused (SIGNOFF_HIGH_VALUE_CENTS, default 50000)")
	replyTimeout := fs.Duration("reply-timeout", 0, "wait for a reply before asking again (SIGNOFF_REPLY_TIMEOUT, default 3m)")
	handoffTimeout := fs.Duration("handoff-timeout", 0, "wait for a person before offering the menu again (SIGNOFF_HANDOFF_TIMEOUT, default 5m)")
	logLevel := fs.String("log-level", env("SIGNOFF_LOG_LEVEL", "info"), "debug, info, warn or error (SIGNOFF_LOG_LEVEL)")
	logFormat := fs.String("log-format", env("SIGNOFF_LOG_FORMAT", "json"), "json or text (SIGNOFF_LOG_FORMAT)")
	debugAddr := fs.String("debug-addr", env("SIGNOFF_DEBUG_ADDR", ""), "serve pprof on this address, e.g. 127.0.0.1:6060 (SIGNOFF_DEBUG_ADDR)")
	iceServers := fs.String("ice-servers", env("SIGNOFF_ICE_SERVERS", ""), "STUN/TURN URLs, comma-separated (SIGNOFF_ICE_SERVERS)")
	iceLoopback := fs.Bool("ice-loopback", truthy(getenv("SIGNOFF_ICE_LOOPBACK")), "gather and accept only 127.0.0.1 ICE candidates (SIGNOFF_ICE_LOOPBACK)")
	blobDir := fs.String("blob-dir", env("SIGNOFF_BLOB_DIR", "data/blobs"), "directory for call recordings (SIGNOFF_BLOB_DIR)")
	tts := fs.String("tts", env("SIGNOFF_TTS", "espeak"), "speech synthesis: espeak, openai or none (SIGNOFF_TTS)")
	asr := fs.String("asr", env("SIGNOFF_ASR", "sphinx"), "speech recognition: sphinx, openai or none (SIGNOFF_ASR)")
	slow := fs.Bool("slow-speech", truthy(getenv("SIGNOFF_SLOW_SPEECH")), "speak slower, for elderly recipients (SIGNOFF_SLOW_SPEECH)")
	poll := fs.Duration("timer-poll", 0, "how often timers are polled (SIGNOFF_TIMER_POLL, default 250ms)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			var b strings.Builder
			fs.SetOutput(&b)
			fs.PrintDefaults()
			return Config{}, fmt.Errorf("usage:\n%s", b.String())
		}
		return Config{}, err
	}
	c := Config{ICELoopback: *iceLoopback, BlobDir: *blobDir, TTS: *tts, ASR: *asr, SlowSpeech: *slow,
		OpenAIBaseURL: getenv("OPENAI_BASE_URL"), OpenAIKey: getenv("OPENAI_API_KEY"),
		Addr: *addr, RedisURL: *redisURL, PublicURL: strings.TrimRight(*public, "/"), LogFormat: *logFormat, DebugAddr: *debugAddr, ShutdownTimeout: 10 * time.Second}
	var err error
	num := func(flagVal int64, key string) int64 {
		if flagVal != 0 || err != nil {
			return flagVal
		}
		if v := getenv(key); v != "" {
			n, perr := strconv.ParseInt(v, 10, 64)
			if perr != nil || n < 0 {
				err = fmt.Errorf("%s: %q is not a non-negative whole number", key, v)
			}
			return n
		}
		return 0
	}
	dur := func(flagVal time.Duration, key string, def time.Duration) time.Duration {
		if flagVal != 0 || err != nil {
			return flagVal
		}
		if v := getenv(key); v != "" {
			d, perr := time.ParseDuration(v)
			if perr != nil || d <= 0 {
				err = fmt.Errorf("%s: %q is not a positive duration such as 90s or 3m", key, v)
			}
			return d
		}
		return def
	}
	c.Dialog.HighValueCents = num(*highValue, "SIGNOFF_HIGH_VALUE_CENTS")
	c.Dialog.ReplyTimeout = dur(*replyTimeout, "SIGNOFF_REPLY_TIMEOUT", 3*time.Minute)
	c.Dialog.HandoffTimeout = dur(*handoffTimeout, "SIGNOFF_HANDOFF_TIMEOUT", 5*time.Minute)
	c.TimerPoll = dur(*poll, "SIGNOFF_TIMER_POLL", 250*time.Millisecond)
	c.ShutdownTimeout = dur(0, "SIGNOFF_SHUTDOWN_TIMEOUT", 10*time.Second)
	c.VADSilence, c.VADHold = dur(0, "SIGNOFF_VAD_SILENCE", 500*time.Millisecond), dur(0, "SIGNOFF_VAD_HOLD", time.Second)
	if err != nil {
		return Config{}, err
	}
	for _, s := range strings.FieldsFunc(*secrets, func(r rune) bool { return r == ' ' || r == ',' }) {
		c.WebhookSecrets = append(c.WebhookSecrets, s)
	}
	if len(c.WebhookSecrets) == 0 {
		c.WebhookSecrets, c.devSecret = []string{devWebhookSecret}, true
	}
	for _, s := range c.WebhookSecrets {
		if !strings.HasPrefix(s, "whsec_") {
			return Config{}, errors.New("SIGNOFF_WEBHOOK_SECRET: each secret must look like whsec_<base64 key>")
		}
	}
	c.CourierSecret = getenv("SIGNOFF_COURIER_SECRET")
	if c.CourierSecret == "" {
		c.CourierSecret, c.devCourierSecret = devCourierSecret, true
	} else if len(c.CourierSecret) < 16 {
		return Config{}, errors.New("SIGNOFF_COURIER_SECRET: must be at least 16 bytes")
	}
	for _, u := range strings.Split(*iceServers, ",") {
		if u = strings.TrimSpace(u); u != "" {
			c.ICEServers = append(c.ICEServers, u)
		}
	}
	if c.TTS != "espeak" && c.TTS != "openai" && c.TTS != "none" {
		return Config{}, fmt.Errorf("SIGNOFF_TTS: %q is not espeak, openai or none", c.TTS)
	}
	if c.ASR != "sphinx" && c.ASR != "openai" && c.ASR != "none" {
		return Config{}, fmt.Errorf("SIGNOFF_ASR: %q is not sphinx, openai or none", c.ASR)
	}
	if err := c.LogLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return Config{}, fmt.Errorf("SIGNOFF_LOG_LEVEL: %w", err)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return Config{}, fmt.Errorf("SIGNOFF_LOG_FORMAT: %q is neither json nor text", c.LogFormat)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return Config{}, fmt.Errorf("SIGNOFF_ADDR: %w", err)
	}
	if c.Prod, err = loadProdConfig(getenv); err != nil {
		return Config{}, err
	}
	if c.PublicURL == "" {
		host, port, _ := net.SplitHostPort(c.Addr)
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.PublicURL = "http://" + net.JoinHostPort(host, port)
	} else if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Config{}, fmt.Errorf("SIGNOFF_PUBLIC_URL: %q is not an http(s) URL", c.PublicURL)
	}
	if c.Text, err = loadTextConfig(getenv, c.PublicURL); err != nil {
		return Config{}, err
	}
	return c, nil
}

// truthy reads a boolean environment variable: 1, true, yes, on.
func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

func newLogger(w io.Writer, c Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "text" {
		return slog.New(observe.LogHandler(slog.NewTextHandler(w, opts)))
	}
	return slog.New(observe.LogHandler(slog.NewJSONHandler(w, opts)))
}
