package video

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels/orderhook"
	"github.com/signoff/signoff/dialog"
)

// EventRinging is the type of the callback that tells the order system a
// courier is being rung for a video call.
const EventRinging = "video.ringing"

// Ringer tells the order system that a courier is rung for a video call: a
// POST of a "video.ringing" event signed like Signoff's own webhooks
// (Standard Webhooks), to the order system's callback URL. The engine calls
// it once across nodes (dialog.WithVideoRinger); the POST runs in the
// background, with a few retries. Close waits for those in flight.
type Ringer struct {
	url, secret, public string
	client              *http.Client
	log                 *slog.Logger
	now                 func() time.Time

	mu     sync.Mutex
	closed bool
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ dialog.VideoRinger = (*Ringer)(nil)

// NewRinger returns a Ringer posting to callbackURL, signed with secret
// ("whsec_..."); publicURL is the base of the courier's join link. A nil
// client uses one with a 10-second timeout.
func NewRinger(ctx context.Context, callbackURL, secret, publicURL string, client *http.Client, log *slog.Logger) (*Ringer, error) {
	if u, err := url.Parse(callbackURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, signoff.Errorf(signoff.ErrInvalid, "bad_callback_url", "the order callback URL must be an http(s) URL")
	}
	if _, err := orderhook.Sign(secret, "probe", time.Unix(0, 0), nil); err != nil {
		return nil, signoff.Errorf(signoff.ErrInvalid, "bad_secret", "the callback signing secret must look like whsec_<base64 key>")
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	return &Ringer{url: callbackURL, secret: secret, public: publicURL, client: client, log: log, now: time.Now,
		ctx: rctx, cancel: cancel}, nil
}

// Ring posts the video.ringing event of s in the background.
func (r *Ringer) Ring(_ context.Context, s signoff.Session, d signoff.Delivery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := r.post(r.ctx, s, d); err != nil {
			r.log.Warn("video: ringing callback failed", "delivery", d.ID, "err", err)
		}
	}()
}

// Close stops retries and waits for posts in flight, or until ctx ends.
func (r *Ringer) Close(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		r.cancel()
		return nil
	case <-ctx.Done():
		r.cancel()
		return ctx.Err()
	}
}

func (r *Ringer) post(ctx context.Context, s signoff.Session, d signoff.Delivery) error {
	now := r.now()
	body, err := json.Marshal(map[string]any{
		"type":      EventRinging,
		"timestamp": now.UTC().Format(time.RFC3339),
		"data": map[string]any{
			"delivery_id": d.ID, "session_id": s.ID, "courier_id": d.Courier.ID,
			"join_url":   r.public + PagePath(d.ID) + "?role=courier",
			"ring_until": s.Deadline.UTC().Format(time.RFC3339),
		},
	})
	if err != nil {
		return err
	}
	// The same id on every retry: the order system may deduplicate.
	id := "msg_video_" + string(s.ID) + "_" + strconv.FormatInt(s.Version, 10)
	var last error
	for attempt := range 3 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * time.Second):
			}
		}
		sig, err := orderhook.Sign(r.secret, id, now, body)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(orderhook.HeaderID, id)
		req.Header.Set(orderhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(orderhook.HeaderSignature, sig)
		resp, err := r.client.Do(req)
		if err != nil {
			last = err
			continue
		}
		resp.Body.Close()
		if resp.StatusCode < 300 {
			return nil
		}
		last = fmt.Errorf("status %d", resp.StatusCode)
		if resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
			return last
		}
	}
	return last
}
