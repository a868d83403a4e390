package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/channels/video"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/redisstore"
)

// videoWiring is the video channel's part of the server: its settings
// (read from the environment here, so that config.go stays small), the
// ringing callback and the rooms.
type videoWiring struct {
	nodeURL  string // SIGNOFF_NODE_URL; default the public URL
	callback string // SIGNOFF_ORDER_CALLBACK_URL; empty: no ringing callback
	ringer   *video.Ringer
	rooms    *video.Handler
}

// newVideoWiring reads the video settings into cfg (the ring timeout is
// the engine's) and makes the ringer.
func newVideoWiring(ctx context.Context, cfg *Config, getenv func(string) string, log *slog.Logger) (*videoWiring, error) {
	w := &videoWiring{nodeURL: strings.TrimRight(getenv("SIGNOFF_NODE_URL"), "/"), callback: getenv("SIGNOFF_ORDER_CALLBACK_URL")}
	if v := getenv("SIGNOFF_VIDEO_RING_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("SIGNOFF_VIDEO_RING_TIMEOUT: %q is not a positive duration such as 60s", v)
		}
		cfg.Dialog.VideoRingTimeout = d
	}
	if w.nodeURL == "" {
		w.nodeURL = cfg.PublicURL
	} else if u, err := url.Parse(w.nodeURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("SIGNOFF_NODE_URL: %q is not an http(s) URL", w.nodeURL)
	}
	if w.callback != "" {
		r, err := video.NewRinger(ctx, w.callback, cfg.WebhookSecrets[0], cfg.PublicURL, nil, log)
		if err != nil {
			return nil, fmt.Errorf("SIGNOFF_ORDER_CALLBACK_URL: %w", err)
		}
		w.ringer = r
	}
	return w, nil
}

// engineOptions are the engine options the video channel needs.
func (w *videoWiring) engineOptions() []dialog.EngineOption {
	if w.ringer == nil {
		return nil
	}
	return []dialog.EngineOption{dialog.WithVideoRinger(w.ringer)}
}

// route makes the rooms and returns next with the video routes in front of
// it.
func (w *videoWiring) route(next http.Handler, cfg Config, engine *dialog.Engine, store *redisstore.Store, couriers *channels.CourierTokens, staff video.StaffAuth, log *slog.Logger) (http.Handler, error) {
	rooms, err := video.New(video.Config{NodeURL: w.nodeURL, ICEServers: cfg.ICEServers, Loopback: cfg.ICELoopback, BlobDir: cfg.BlobDir},
		engine, store, store, couriers, staff, log)
	if err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	w.rooms = rooms
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.ContextWithFallback = true
	r.Use(recovery(log), accessLog(log))
	rooms.Register(r)
	rooms.RegisterPage(r)
	return http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		p := req.URL.Path
		if strings.HasPrefix(p, "/v1/rooms/") || strings.HasPrefix(p, "/v/") || strings.HasPrefix(p, "/v-assets/") ||
			(strings.HasPrefix(p, "/v1/deliveries/") && strings.HasSuffix(p, "/video")) {
			r.ServeHTTP(rw, req)
			return
		}
		next.ServeHTTP(rw, req)
	}), nil
}

// close ends the rooms and the ringer's posts.
func (w *videoWiring) close(ctx context.Context) error {
	var errs []error
	if w.rooms != nil {
		errs = append(errs, w.rooms.Close(ctx))
	}
	if w.ringer != nil {
		errs = append(errs, w.ringer.Close(ctx))
	}
	return errors.Join(errs...)
}
