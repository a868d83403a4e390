package webchat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/dialog"
)

// Conversations is what the chat API needs of the dialog engine.
type Conversations interface {
	Reply(ctx context.Context, id signoff.SessionID, token string, in signoff.Input) (dialog.Turn, error)
	Session(ctx context.Context, id signoff.SessionID, token string) (signoff.Session, signoff.Delivery, error)
}

// Feed delivers transcript lines posted to a session on any node.
type Feed interface {
	// Subscribe returns lines posted to id until ctx ends. Lines may be
	// dropped for a slow reader; Seq shows the gap.
	Subscribe(ctx context.Context, id signoff.SessionID) (<-chan dialog.Posted, error)
}

// OnceReplier is what the chat API needs, beside Conversations, to honour
// an Idempotency-Key header: *dialog.Engine has it. Without it the header
// is refused.
type OnceReplier interface {
	ReplyOnce(ctx context.Context, id signoff.SessionID, token, key string, in signoff.Input) (dialog.Turn, bool, error)
}

// MaxKey is the longest Idempotency-Key accepted.
const MaxKey = 255

// streamWriteTimeout bounds each write to an SSE stream: a client that
// reads slower than that is cut off, not waited for.
const streamWriteTimeout = 10 * time.Second

// Limits on what a client may send.
const (
	MaxBody      = 16 << 10 // bytes of a message request
	MaxTextRunes = 2000     // characters of one message
)

// Handler serves the chat API. Construct it with New.
type Handler struct {
	conv      Conversations
	feed      Feed
	log       *slog.Logger
	heartbeat time.Duration

	drainOnce sync.Once
	draining  chan struct{} // closed by Drain
}

// New returns a chat API over conv and feed.
func New(conv Conversations, feed Feed, log *slog.Logger) *Handler {
	return &Handler{conv: conv, feed: feed, log: log, heartbeat: 15 * time.Second, draining: make(chan struct{})}
}

// Drain ends every open SSE stream cleanly (the response completes), so
// that clients reconnect, to another node, with Last-Event-ID; streams
// opened afterwards end at once after their catch-up. The node calls it
// when it shuts down.
func (h *Handler) Drain() { h.drainOnce.Do(func() { close(h.draining) }) }

// Register adds the chat routes to r.
func (h *Handler) Register(r gin.IRoutes) {
	r.POST("/v1/sessions/:id/messages", h.postMessage)
	r.GET("/v1/sessions/:id", h.getSession)
	r.GET("/v1/sessions/:id/stream", h.stream)
}

// MessageRequest is the body of POST /v1/sessions/{id}/messages.
type MessageRequest struct {
	Text *string `json:"text"`
}

// Reply is one bot message in a MessageResponse.
type Reply struct {
	Text    string           `json:"text"`
	Options []signoff.Option `json:"options,omitempty"`
}

// MessageResponse answers POST /v1/sessions/{id}/messages.
type MessageResponse struct {
	Replies []Reply          `json:"replies"`
	State   signoff.State    `json:"state"`
	Outcome *signoff.Outcome `json:"outcome"`
}

func outcome(o signoff.Outcome) *signoff.Outcome {
	if o == signoff.OutcomeNone {
		return nil
	}
	return &o
}

func decodeMessage(r io.Reader) (string, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxBody+1))
	if err != nil {
		return "", signoff.Wrap(signoff.ErrInvalid, "bad_body", "the body could not be read", err)
	}
	if len(body) > MaxBody {
		return "", signoff.Errorf(signoff.ErrTooLarge, "body_too_large", "the body is over %d bytes", MaxBody)
	}
	var req MessageRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return "", signoff.Wrap(signoff.ErrInvalid, "bad_json", "the body is not a JSON object {\"text\": \"...\"}", err)
	}
	if req.Text == nil {
		return "", signoff.Errorf(signoff.ErrInvalid, "missing_field", "text is required")
	}
	if !utf8.ValidString(*req.Text) {
		return "", signoff.Errorf(signoff.ErrInvalid, "bad_field", "text is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(*req.Text); n > MaxTextRunes {
		return "", signoff.Errorf(signoff.ErrInvalid, "text_too_long", "text is %d characters; at most %d", n, MaxTextRunes)
	}
	return *req.Text, nil
}

func (h *Handler) postMessage(c *gin.Context) {
	id, token, err := channels.Credentials(c, false)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	text, err := decodeMessage(c.Request.Body)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	in := signoff.Input{Kind: signoff.InputText, Text: text, Channel: signoff.ChannelChat}
	var turn dialog.Turn
	if key := c.GetHeader("Idempotency-Key"); key != "" {
		var replayed bool
		turn, replayed, err = h.replyOnce(c.Request.Context(), id, token, key, in)
		if replayed {
			c.Header("Idempotent-Replayed", "true")
		}
	} else {
		turn, err = h.conv.Reply(c.Request.Context(), id, token, in)
	}
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	resp := MessageResponse{Replies: make([]Reply, 0, len(turn.Replies)), State: turn.Session.State, Outcome: outcome(turn.Session.Outcome)}
	for _, m := range turn.Replies {
		if m.From != signoff.FromRecipient {
			resp.Replies = append(resp.Replies, Reply{Text: m.Text, Options: m.Options})
		}
	}
	c.JSON(http.StatusOK, resp)
}

// replyOnce gives the input once per idempotency key (see OnceReplier).
func (h *Handler) replyOnce(ctx context.Context, id signoff.SessionID, token, key string, in signoff.Input) (dialog.Turn, bool, error) {
	if len(key) > MaxKey || !printableASCII(key) {
		return dialog.Turn{}, false, signoff.Errorf(signoff.ErrInvalid, "bad_idempotency_key",
			"Idempotency-Key must be 1 to %d printable ASCII characters", MaxKey)
	}
	once, ok := h.conv.(OnceReplier)
	if !ok {
		return dialog.Turn{}, false, signoff.Errorf(signoff.ErrInvalid, "idempotency_unsupported", "Idempotency-Key is not supported here")
	}
	return once.ReplyOnce(ctx, id, token, key, in)
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// SessionResponse answers GET /v1/sessions/{id}.
type SessionResponse struct {
	SessionID  signoff.SessionID  `json:"session_id"`
	DeliveryID signoff.DeliveryID `json:"delivery_id"`
	Locale     signoff.Locale     `json:"locale"`
	State      signoff.State      `json:"state"`
	Outcome    *signoff.Outcome   `json:"outcome"`
	Options    []signoff.Option   `json:"options"`
	Transcript []signoff.Message  `json:"transcript"`
	// Held is true while a person from support holds the conversation.
	Held bool `json:"held"`
	// Delivery is what the recipient page shows of the parcel.
	Delivery DeliveryView `json:"delivery"`
}

// DeliveryView is the parcel's status and ETA as the recipient sees them.
type DeliveryView struct {
	Status string `json:"status,omitempty"`
	// ETA keeps the offset the order system gave; TimeZone, when set, is
	// the recipient's IANA zone to show it in.
	ETA      time.Time `json:"eta,omitzero"`
	TimeZone string    `json:"time_zone,omitempty"`
}

func (h *Handler) getSession(c *gin.Context) {
	id, token, err := channels.Credentials(c, true)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	s, d, err := h.conv.Session(c.Request.Context(), id, token)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	opts := s.Offered
	if opts == nil {
		opts = []signoff.Option{}
	}
	c.JSON(http.StatusOK, SessionResponse{
		SessionID: s.ID, DeliveryID: s.DeliveryID, Locale: s.Locale, State: s.State,
		Outcome: outcome(s.Outcome), Options: opts, Transcript: s.Transcript,
		Held:     s.Staff != "" && s.State == signoff.StateHandoff,
		Delivery: DeliveryView{Status: d.Status, ETA: d.ETA, TimeZone: timeZone(&d)},
	})
}

// timeZone returns the recipient's IANA zone when it is one this server
// knows, else "" (the ETA's own offset).
func timeZone(d *signoff.Delivery) string {
	if d.Recipient.TimeZone == "" {
		return ""
	}
	if loc := d.Location(); loc.String() == d.Recipient.TimeZone {
		return d.Recipient.TimeZone
	}
	return ""
}

// stream sends every new bot and staff line of the session as an SSE event
// whose id is the line's index in the transcript. A client that reconnects
// with Last-Event-ID gets what it missed first.
func (h *Handler) stream(c *gin.Context) {
	id, token, err := channels.Credentials(c, true)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	ctx, cancel := context.WithCancel(c.Request.Context())
	defer cancel()
	// Subscribe before reading the transcript, so that nothing posted in
	// between is lost.
	posted, err := h.feed.Subscribe(ctx, id)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	s, _, err := h.conv.Session(ctx, id, token)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	next := len(s.Transcript) // the seq of the first line not yet sent
	if last := c.GetHeader("Last-Event-ID"); last != "" {
		if n, err := strconv.Atoi(last); err == nil && n >= -1 && n < len(s.Transcript) {
			next = n + 1
		}
	}
	w := c.Writer
	rc := http.NewResponseController(w)
	deadline := func() { _ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout)) }
	deadline()
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(p dialog.Posted) error {
		if p.Seq < next {
			return nil
		}
		next = p.Seq + 1
		if p.Message.From == signoff.FromRecipient {
			return nil
		}
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "id: %d\nevent: message\ndata: %s\n\n", p.Seq, b); err != nil {
			return err
		}
		return nil
	}
	catchUp := func(s signoff.Session) error {
		for i := next; i < len(s.Transcript); i++ {
			if err := send(dialog.Posted{Seq: i, Message: s.Transcript[i]}); err != nil {
				return err
			}
		}
		return nil
	}
	if err := catchUp(s); err != nil {
		return
	}
	fmt.Fprint(w, ": connected\n\n")
	w.Flush()
	beat := time.NewTicker(h.heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.draining:
			deadline()
			fmt.Fprint(w, "event: shutdown\ndata: {}\n\n")
			w.Flush()
			return
		case <-beat.C:
			deadline()
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case p, ok := <-posted:
			if !ok {
				return
			}
			if p.Seq > next {
				// Lines were dropped for us: resync from the transcript.
				s, _, err := h.conv.Session(ctx, id, token)
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						h.log.Warn("stream: resync failed", "session", id, "err", err)
					}
					return
				}
				if err := catchUp(s); err != nil {
					return
				}
			}
			deadline()
			if err := send(p); err != nil {
				return
			}
		}
		w.Flush()
	}
}
