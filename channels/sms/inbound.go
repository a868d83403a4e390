package sms

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/prompts"
)

// The routes of the channel.
const (
	InboundPath = "/v1/channels/sms/inbound"
	StatusPath  = "/v1/channels/sms/status"
)

// Limits on what the provider may send.
const (
	MaxForm  = 16 << 10 // bytes of a callback's form
	maxRunes = 1600     // characters of one inbound text (Twilio's own limit)
)

// Kind is the directory and claim namespace of SMS.
const Kind = "sms"

// keep is how long an inbound message's answer and a sent message's session
// are kept.
const keep = 72 * time.Hour

// Conversations is what the channel needs of the dialog engine.
type Conversations interface {
	ReplyBound(ctx context.Context, id signoff.SessionID, in signoff.Input) (dialog.Turn, error)
	Record(ctx context.Context, id signoff.SessionID, kind string, data map[string]string) error
}

// Directory finds the open conversation of a sender.
type Directory interface {
	Open(ctx context.Context, kind, addr string, match func(signoff.Delivery) bool) (signoff.Session, signoff.Delivery, error)
}

// Memory keeps what must be done once across nodes (redisstore.Store).
type Memory interface {
	Claim(ctx context.Context, kind, name string, value []byte, ttl time.Duration) (bool, []byte, error)
	Put(ctx context.Context, kind, name string, value []byte, ttl time.Duration) error
	Get(ctx context.Context, kind, name string) ([]byte, error)
	Forget(ctx context.Context, kind, name string) error
}

// Handler serves the provider's callbacks. Make it with New.
type Handler struct {
	cfg  Config
	conv Conversations
	dir  Directory
	mem  Memory
	log  *slog.Logger
}

// New returns the callbacks' handler of the account in cfg.
func New(cfg Config, conv Conversations, dir Directory, mem Memory, log *slog.Logger) *Handler {
	if cfg.CountryCode == "" {
		cfg.CountryCode = "86"
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return &Handler{cfg: cfg, conv: conv, dir: dir, mem: mem, log: log}
}

// Register adds the channel's routes to r.
func (h *Handler) Register(r gin.IRoutes) {
	r.POST(InboundPath, h.inbound)
	r.POST(StatusPath, h.status)
}

// Address is the directory address of a recipient on SMS: the E.164 form
// of the phone number, with calling code cc for numbers without one.
func Address(cc string) func(signoff.Recipient) string {
	return func(r signoff.Recipient) string { return E164(string(r.Phone), cc) }
}

// Signature returns the X-Twilio-Signature of a request to fullURL with
// form params: the base64 HMAC-SHA1, under the auth token, of the URL
// followed by each parameter's name and value, sorted by name.
func Signature(authToken, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	m := hmac.New(sha1.New, []byte(authToken))
	io.WriteString(m, fullURL)
	for _, k := range keys {
		vals := append([]string(nil), params[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			io.WriteString(m, k)
			io.WriteString(m, v)
		}
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// ParseForm reads a provider callback's form body: at most MaxForm bytes of
// application/x-www-form-urlencoded. Errors are of kind signoff.ErrInvalid
// or signoff.ErrTooLarge.
func ParseForm(body []byte) (url.Values, error) {
	if len(body) > MaxForm {
		return nil, signoff.Errorf(signoff.ErrTooLarge, "body_too_large", "the body is over %d bytes", MaxForm)
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, signoff.Wrap(signoff.ErrInvalid, "bad_form", "the body is not a URL-encoded form", err)
	}
	for k, vals := range v {
		if !utf8.ValidString(k) {
			return nil, signoff.Errorf(signoff.ErrInvalid, "bad_form", "a form field name is not valid UTF-8")
		}
		for _, s := range vals {
			if !utf8.ValidString(s) {
				return nil, signoff.Errorf(signoff.ErrInvalid, "bad_field", "%s is not valid UTF-8", k)
			}
		}
	}
	return v, nil
}

// verified reads and checks a callback: its form, signed over the public
// URL of its path and query.
func (h *Handler) verified(c *gin.Context) (url.Values, error) {
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, MaxForm+1))
	if err != nil {
		return nil, signoff.Wrap(signoff.ErrInvalid, "bad_body", "the body could not be read", err)
	}
	form, err := ParseForm(body)
	if err != nil {
		return nil, err
	}
	full := h.cfg.PublicURL + c.Request.URL.Path
	if q := c.Request.URL.RawQuery; q != "" {
		full += "?" + q
	}
	got := c.GetHeader("X-Twilio-Signature")
	want := Signature(h.cfg.AuthToken, full, form)
	if got == "" || !hmac.Equal([]byte(got), []byte(want)) {
		return nil, signoff.Errorf(signoff.ErrUnauthorized, "bad_signature", "X-Twilio-Signature does not match the request")
	}
	return form, nil
}

// twiml is a TwiML answer: one <Message> per line.
type twiml struct {
	XMLName  xml.Name `xml:"Response"`
	Messages []string `xml:"Message"`
}

func renderTwiML(msgs []string) []byte {
	b, _ := xml.Marshal(twiml{Messages: msgs}) // strings always marshal
	return append([]byte(xml.Header), b...)
}

const pending = "pending"

func (h *Handler) inbound(c *gin.Context) {
	ctx := c.Request.Context()
	form, err := h.verified(c)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	sid, from, text := form.Get("MessageSid"), form.Get("From"), form.Get("Body")
	switch {
	case sid == "" || len(sid) > 64:
		channels.WriteError(c, h.log, signoff.Errorf(signoff.ErrInvalid, "missing_field", "MessageSid is required (at most 64 characters)"))
		return
	case from == "":
		channels.WriteError(c, h.log, signoff.Errorf(signoff.ErrInvalid, "missing_field", "From is required"))
		return
	case utf8.RuneCountInString(text) > maxRunes:
		channels.WriteError(c, h.log, signoff.Errorf(signoff.ErrInvalid, "text_too_long", "Body is over %d characters", maxRunes))
		return
	}
	// A repeat gets the first answer and changes nothing.
	if prev, err := h.mem.Get(ctx, Kind+":in", sid); err == nil && string(prev) != pending {
		c.Data(http.StatusOK, "text/xml; charset=utf-8", prev)
		return
	} else if err != nil && !errors.Is(err, signoff.ErrNotFound) {
		channels.WriteError(c, h.log, err)
		return
	}
	addr := E164(from, h.cfg.CountryCode)
	if addr == "" {
		channels.WriteError(c, h.log, signoff.Errorf(signoff.ErrInvalid, "bad_field", "From is not a phone number"))
		return
	}
	s, facts, err := h.dir.Open(ctx, Kind, addr, func(d signoff.Delivery) bool {
		return d.Channel == signoff.DeliverySMS && E164(string(d.Recipient.Phone), h.cfg.CountryCode) == addr
	})
	if signoff.ErrorCode(err) == "conversation_ended" {
		// A known recipient writing after the end is told so; the
		// conversation is not touched.
		cat := prompts.For(signoff.ParseLocale(string(facts.Recipient.Locale)))
		c.Data(http.StatusOK, "text/xml; charset=utf-8", renderTwiML([]string{cat.Text("ended")}))
		return
	}
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	claimed, prev, err := h.mem.Claim(ctx, Kind+":in", sid, []byte(pending), keep)
	switch {
	case err != nil:
		channels.WriteError(c, h.log, err)
		return
	case !claimed && string(prev) == pending:
		c.Header("Retry-After", "2")
		channels.WriteError(c, h.log, signoff.Errorf(signoff.ErrConflict, "in_progress", "this MessageSid is being processed"))
		return
	case !claimed:
		c.Data(http.StatusOK, "text/xml; charset=utf-8", prev)
		return
	}
	turn, err := h.conv.ReplyBound(ctx, s.ID, signoff.Input{Kind: signoff.InputText, Text: text, Channel: signoff.ChannelSMS})
	if err != nil {
		_ = h.mem.Forget(context.WithoutCancel(ctx), Kind+":in", sid) // let the provider's retry through
		channels.WriteError(c, h.log, err)
		return
	}
	first := turn.Session.Lines - len(turn.Replies)
	var msgs []string
	for i, m := range turn.Replies {
		if m.From != signoff.FromRecipient {
			msgs = append(msgs, Render(facts, first+i, m))
		}
	}
	answer := renderTwiML(msgs)
	if err := h.mem.Put(context.WithoutCancel(ctx), Kind+":in", sid, answer, keep); err != nil {
		h.log.Warn("sms: cannot store an inbound answer", "err", err)
	}
	c.Data(http.StatusOK, "text/xml; charset=utf-8", answer)
}

// status records a delivery status callback in the log of the session the
// message belongs to, once per (message, status).
func (h *Handler) status(c *gin.Context) {
	ctx := c.Request.Context()
	form, err := h.verified(c)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	msg, st := form.Get("MessageSid"), form.Get("MessageStatus")
	if msg == "" || st == "" || len(msg) > 64 || len(st) > 32 {
		channels.WriteError(c, h.log, signoff.Errorf(signoff.ErrInvalid, "missing_field", "MessageSid and MessageStatus are required"))
		return
	}
	sess, err := h.mem.Get(ctx, Kind+":msg", msg)
	if errors.Is(err, signoff.ErrNotFound) {
		channels.WriteError(c, h.log, signoff.Errorf(signoff.ErrNotFound, "unknown_message", "no message with this MessageSid was sent"))
		return
	} else if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	claimed, _, err := h.mem.Claim(ctx, Kind+":status", msg+"\x00"+st, []byte("1"), keep)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	if claimed {
		data := map[string]string{"message_id": msg, "status": st}
		if code := form.Get("ErrorCode"); code != "" && len(code) <= 16 {
			data["error_code"] = code
		}
		if err := h.conv.Record(ctx, signoff.SessionID(sess), Kind+"_status", data); err != nil {
			_ = h.mem.Forget(context.WithoutCancel(ctx), Kind+":status", msg+"\x00"+st)
			channels.WriteError(c, h.log, err)
			return
		}
	}
	c.Status(http.StatusNoContent)
}
