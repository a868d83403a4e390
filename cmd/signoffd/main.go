// Command signoffd is the Signoff server: order webhooks in, conversations
// with recipients out, state in Redis.
//
// Configuration comes from the environment, and flags override it; run
// `signoffd -h` for the list. With nothing set it runs on an embedded
// in-process Redis and a development webhook secret, and says so loudly.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served only on SIGNOFF_DEBUG_ADDR
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
	_ "time/tzdata" // recipients' IANA time zones, even where the system has none

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/errgroup"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/channels/orderhook"
	"github.com/signoff/signoff/channels/voice"
	"github.com/signoff/signoff/channels/voicemsg"
	"github.com/signoff/signoff/channels/webchat"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/redisstore"
	"github.com/signoff/signoff/knowledge"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "signoffd:", err)
		os.Exit(1)
	}
}

// run starts the server and blocks until ctx ends or it fails.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		return err
	}
	log := newLogger(stdout, cfg)
	log.Info("starting", "config", cfg)

	var store *redisstore.Store
	if cfg.RedisURL == "" {
		var closeStore func()
		store, closeStore, err = redisstore.Embedded(log)
		if err != nil {
			return fmt.Errorf("embedded store: %w", err)
		}
		defer closeStore()
	} else {
		store, err = redisstore.Open(ctx, cfg.RedisURL, log)
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		defer store.Close()
		if err := store.Ping(ctx); err != nil {
			log.Warn("redis is not reachable yet; readiness stays false until it is", "err", err)
		}
	}
	if cfg.devSecret {
		log.Warn("SIGNOFF_WEBHOOK_SECRET is not set: using the development secret; never use it in production",
			"secret", devWebhookSecret)
	}

	if cfg.devCourierSecret {
		log.Warn("SIGNOFF_COURIER_SECRET is not set: courier tokens use the public development secret; never use it in production")
	}
	couriers, err := channels.NewCourierTokens([]byte(cfg.CourierSecret))
	if err != nil {
		return err
	}

	vids, err := newVideoWiring(ctx, &cfg, getenv, log)
	if err != nil {
		return err
	}
	prod, err := newProduction(ctx, cfg, getenv, store, log)
	if err != nil {
		return err
	}
	defer prod.close(context.WithoutCancel(ctx))
	helpers, err := knowledgeOptions(ctx, getenv, log, prod.metrics.Model)
	if err != nil {
		return err
	}
	engine := dialog.New(prod.engineStore(), dialog.MergeFunc(knowledge.Merge), cfg.Dialog, log, append(helpers, vids.engineOptions()...)...)
	text, err := wireText(cfg.Text, engine, store, log)
	if err != nil {
		return err
	}
	hooks, err := orderhook.New(orderhook.Config{Secrets: cfg.WebhookSecrets, PublicURL: cfg.PublicURL, Couriers: &couriers}, text.notifier(), log)
	if err != nil {
		return err
	}
	tts, asr, closeSpeech := speechEngines(cfg, log)
	defer closeSpeech()
	calls, err := voice.New(voice.Config{ICEServers: cfg.ICEServers, Loopback: cfg.ICELoopback, BlobDir: cfg.BlobDir, Slow: cfg.SlowSpeech, MaxCalls: cfg.Prod.MaxCalls,
		FrameLateness: prod.metrics.FrameLateness, EndSilence: cfg.VADSilence, Hold: cfg.VADHold, EarlyAfter: earlyAfter(cfg)},
		engine, store, tts, asr, log)
	if err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	msgs, err := voicemsg.New(voicemsg.Config{BlobDir: filepath.Join(cfg.BlobDir, "voice-messages")}, engine, asr, log)
	if err != nil {
		return fmt.Errorf("voice messages: %w", err)
	}
	chat := webchat.New(tracedEngine{engine}, store, log)
	var router http.Handler = newRouter(log, prod, hooks, chat, calls, msgs)
	con, err := wirePages(router, engine, store, &couriers, cfg, getenv, prod.metrics.QueueWait, log)
	if err != nil {
		return err
	}
	staff, err := newStaffAuth(con, getenv)
	if err != nil {
		return err
	}
	if err := wireEvidence(router, cfg, getenv, store, engine, &couriers, staff, log); err != nil {
		return err
	}
	if router, err = vids.route(router, cfg, engine, store, &couriers, staff, log); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           text.handler(router),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error { return engine.RunTimers(gctx, cfg.TimerPoll) })
	g.Go(func() error { return text.run(gctx) })
	if cfg.DebugAddr != "" {
		dbg := &http.Server{Addr: cfg.DebugAddr, Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
		log.Info("pprof listening", "addr", cfg.DebugAddr)
		g.Go(func() error {
			go func() { <-gctx.Done(); dbg.Close() }()
			if err := dbg.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.WithoutCancel(gctx), cfg.ShutdownTimeout)
		defer cancel()
		prod.drain(sctx, chat)
		if err := calls.Close(sctx); err != nil {
			log.Warn("calls did not all end cleanly", "err", err)
		}
		if err := vids.close(sctx); err != nil {
			log.Warn("video calls did not all end cleanly", "err", err)
		}
		return srv.Shutdown(sctx)
	})
	err = g.Wait()
	log.Info("stopped")
	return err
}

// newRouter builds the HTTP handler tree.
func newRouter(log *slog.Logger, prod *production, hooks *orderhook.Handler, chat *webchat.Handler, calls *voice.Handler, msgs *voicemsg.Handler) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.ContextWithFallback = true
	r.Use(recovery(log))
	r.Use(prod.middleware()...)
	r.Use(accessLog(log))
	prod.routes(r)
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", prod.readyz)
	hooks.Register(r)
	chat.Register(r)
	chat.RegisterPage(r)
	calls.Register(r)
	msgs.Register(r)
	r.NoRoute(func(c *gin.Context) {
		channels.WriteError(c, log, signoff.Errorf(signoff.ErrNotFound, "no_route", "no such endpoint: %s %s", c.Request.Method, c.Request.URL.Path))
	})
	return r
}

func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				channels.WriteError(c, log, fmt.Errorf("panic in %s: %v", c.FullPath(), v))
			}
		}()
		c.Next()
	}
}

// accessLog logs each request's route, status and duration: never its query
// (tokens ride there for EventSource) nor its body.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		log.LogAttrs(c.Request.Context(), slog.LevelDebug, "http",
			slog.String("method", c.Request.Method), slog.String("route", c.FullPath()),
			slog.Int("status", c.Writer.Status()), slog.Duration("took", time.Since(start)))
	}
}
