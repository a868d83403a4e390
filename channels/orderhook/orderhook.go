package orderhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/dialog"
)

// Path is where the order system posts its webhooks.
const Path = "/v1/webhooks/orders"

// The Standard Webhooks headers, and the one Signoff adds to the answer of a
// repeated webhook id.
const (
	HeaderID        = standardwebhooks.HeaderWebhookID
	HeaderTimestamp = standardwebhooks.HeaderWebhookTimestamp
	HeaderSignature = standardwebhooks.HeaderWebhookSignature
	HeaderDuplicate = "Webhook-Duplicate"
)

const (
	// Tolerance is how far a webhook-timestamp may be from now, either way.
	Tolerance = 5 * time.Minute
	// DefaultMaxBody is Config.MaxBody when it is not set.
	DefaultMaxBody = 1 << 20
	// maxID bounds the webhook-id, which is kept as an idempotency key.
	maxID = 256
)

// Notifier takes a verified order event to the conversation engine and says
// what became of it. A webhook id it has seen before gets the Notice it got
// the first time, with Duplicate set. Its errors are *signoff.Error or carry
// a signoff error kind; they are answered through channels.WriteError.
// dialog.Engine implements it.
type Notifier interface {
	Notify(ctx context.Context, ev signoff.OrderEvent) (dialog.Notice, error)
}

// Config configures a Handler.
type Config struct {
	// Secrets are the signing secrets, "whsec_<base64 key>". A webhook signed
	// with any one of them is accepted, so a secret is rotated by adding the
	// new one, switching the order system over, then removing the old one.
	Secrets []string
	// PublicURL is the base of the recipient links in answers, such as
	// https://signoff.example.com. Empty gives links relative to the host.
	PublicURL string
	// Now tells the time; nil means time.Now.
	Now func() time.Time
	// MaxBody is the largest body accepted, in bytes; 0 means
	// DefaultMaxBody.
	MaxBody int64
	// Couriers, when set, issues the courier token carried in the answer
	// to an opening event whose delivery names a courier.
	Couriers *channels.CourierTokens
}

// String keeps the secrets out of logs and error messages.
func (c Config) String() string {
	return fmt.Sprintf("orderhook.Config{Secrets: %d redacted, PublicURL: %q, MaxBody: %d}",
		len(c.Secrets), c.PublicURL, c.MaxBody)
}

// GoString keeps the secrets out of %#v too.
func (c Config) GoString() string { return c.String() }

// Handler answers order-system webhooks: it checks the size, the Standard
// Webhooks headers, the timestamp and the signature, decodes the event and
// hands it to a Notifier.
type Handler struct {
	keys      []*standardwebhooks.Webhook
	publicURL string
	now       func() time.Time
	maxBody   int64
	couriers  *channels.CourierTokens
	n         Notifier
	log       *slog.Logger
}

// New returns a Handler for cfg. It fails when no secret is configured, a
// secret does not decode, or PublicURL is not an absolute http(s) URL. The
// error names the secret by position, never by value.
func New(cfg Config, n Notifier, log *slog.Logger) (*Handler, error) {
	if len(cfg.Secrets) == 0 {
		return nil, errors.New("orderhook: no webhook secret configured")
	}
	if n == nil || log == nil {
		return nil, errors.New("orderhook: a Notifier and a logger are required")
	}
	h := &Handler{n: n, log: log, now: cfg.Now, maxBody: cfg.MaxBody, couriers: cfg.Couriers}
	for i, s := range cfg.Secrets {
		wh, err := newWebhook(s)
		if err != nil {
			return nil, fmt.Errorf("orderhook: secret %d: %w", i+1, err)
		}
		h.keys = append(h.keys, wh)
	}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, errors.New("orderhook: PublicURL must be an absolute http(s) URL without query or fragment")
		}
		h.publicURL = strings.TrimRight(cfg.PublicURL, "/")
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBody
	}
	return h, nil
}

// Register adds POST Path to r.
func (h *Handler) Register(r gin.IRoutes) {
	r.POST(Path, h.serve)
}

// Opened is the answer (202) to an event that opened a conversation.
type Opened struct {
	SessionID      signoff.SessionID `json:"session_id"`
	RecipientToken string            `json:"recipient_token"`
	RecipientURL   string            `json:"recipient_url"`
	// CourierToken and CourierURL are for the order system to hand to the
	// delivery's courier: the token is scoped to that courier's
	// deliveries, the URL opens the courier page. Empty when the delivery
	// names no courier.
	CourierToken string `json:"courier_token,omitempty"`
	CourierURL   string `json:"courier_url,omitempty"`
}

// Accepted is the answer (200) to any other event.
type Accepted struct {
	SessionID signoff.SessionID `json:"session_id,omitempty"`
	Status    string            `json:"status"` // always "accepted"
}

func (h *Handler) serve(c *gin.Context) {
	log := h.log
	if id := c.GetHeader(HeaderID); id != "" && len(id) <= maxID {
		log = log.With(slog.String("webhook_id", id))
	}
	body, err := h.verify(c)
	if err != nil {
		channels.WriteError(c, log, err)
		return
	}
	ev, err := Decode(body)
	if err != nil {
		channels.WriteError(c, log, err)
		return
	}
	ev.WebhookID = c.GetHeader(HeaderID)
	log = log.With(slog.String("type", string(ev.Type)), slog.String("delivery_id", string(ev.Delivery.ID)))

	notice, err := h.n.Notify(c.Request.Context(), ev)
	if err != nil {
		channels.WriteError(c, log, err)
		return
	}
	log.LogAttrs(c.Request.Context(), slog.LevelInfo, "order webhook",
		slog.String("session_id", string(notice.SessionID)),
		slog.Bool("opened", notice.Opened), slog.Bool("duplicate", notice.Duplicate))
	if notice.Duplicate {
		c.Header(HeaderDuplicate, "true")
	}
	if notice.Opened {
		ans := Opened{
			SessionID:      notice.SessionID,
			RecipientToken: notice.Token,
			RecipientURL:   h.recipientURL(notice.SessionID, notice.Token),
		}
		if h.couriers != nil && notice.CourierID != "" {
			ans.CourierToken = h.couriers.Issue(notice.CourierID)
			ans.CourierURL = h.publicURL + CourierPagePath + url.PathEscape(notice.CourierID) + "?t=" + url.QueryEscape(ans.CourierToken)
		}
		c.JSON(http.StatusAccepted, ans)
		return
	}
	c.JSON(http.StatusOK, Accepted{SessionID: notice.SessionID, Status: "accepted"})
}

// verify reads the body and checks the headers and the signature, in the
// order the errors are documented: size, headers, timestamp, signature.
func (h *Handler) verify(c *gin.Context) ([]byte, error) {
	tooLarge := signoff.Errorf(signoff.ErrTooLarge, "body_too_large", "the body is larger than %d bytes", h.maxBody)
	if c.Request.ContentLength > h.maxBody {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, h.maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge
		}
		return nil, signoff.Wrap(signoff.ErrInvalid, "bad_body", "the body could not be read", err)
	}

	hdr := c.Request.Header
	for _, name := range []string{HeaderID, HeaderTimestamp, HeaderSignature} {
		if hdr.Get(name) == "" {
			return nil, signoff.Errorf(signoff.ErrInvalid, "missing_header", "the %s header is required", name)
		}
	}
	if len(hdr.Get(HeaderID)) > maxID {
		return nil, signoff.Errorf(signoff.ErrInvalid, "bad_header", "the %s header must be at most %d bytes", HeaderID, maxID)
	}
	raw := hdr.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || strconv.FormatInt(sec, 10) != raw {
		return nil, signoff.Errorf(signoff.ErrInvalid, "bad_timestamp", "the %s header must be whole seconds since 1970", HeaderTimestamp)
	}
	if skew := h.now().Sub(time.Unix(sec, 0)); skew > Tolerance || skew < -Tolerance {
		return nil, signoff.Errorf(signoff.ErrInvalid, "stale_timestamp",
			"the %s header is more than %v from the receiver's clock", HeaderTimestamp, Tolerance)
	}
	for _, wh := range h.keys {
		if wh.VerifyIgnoringTimestamp(body, hdr) == nil {
			return body, nil
		}
	}
	return nil, signoff.Errorf(signoff.ErrUnauthorized, "bad_signature", "no %s matches a configured secret", HeaderSignature)
}

// recipientURL is the link that opens the recipient's chat page.
// CourierPagePath is the prefix of the courier page: /c/{courier}?t=<token>.
const CourierPagePath = "/c/"

func (h *Handler) recipientURL(id signoff.SessionID, token string) string {
	return h.publicURL + "/r/" + url.PathEscape(string(id)) + "?t=" + url.QueryEscape(token)
}

// Sign returns the webhook-signature header value, "v1,<base64 HMAC>", for
// body sent as webhook id at ts under secret ("whsec_<base64 key>"). It is
// for senders: signoffctl and tests. It fails only when the secret does not
// decode.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	wh, err := newWebhook(secret)
	if err != nil {
		return "", err
	}
	return wh.Sign(id, ts, body)
}

// newWebhook checks and decodes one secret. The library would also take a
// bare base64 key; so do we, but an empty key is refused.
func newWebhook(secret string) (*standardwebhooks.Webhook, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil || strings.TrimPrefix(secret, "whsec_") == "" {
		// The library's error quotes the bad input, which is secret.
		return nil, errors.New("want whsec_ followed by a non-empty base64 key")
	}
	return wh, nil
}
