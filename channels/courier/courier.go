package courier

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/dialog"
)

// Directory is what the courier page reads: the courier's deliveries, each
// delivery's facts and open session, and the summaries committed on any
// node.
type Directory interface {
	CourierDeliveries(ctx context.Context, courier string) ([]signoff.DeliveryID, error)
	Load(ctx context.Context, id signoff.DeliveryID) (signoff.Delivery, *signoff.Session, error)
	WatchSummaries(ctx context.Context) (<-chan dialog.Summary, error)
}

// Tokens checks courier tokens; channels.CourierTokens is one.
type Tokens interface {
	Verify(token string) (string, error)
}

// Handler serves the courier page and its API. Construct it with New.
type Handler struct {
	dir    Directory
	tokens Tokens
	log    *slog.Logger
	beat   time.Duration
}

// New returns the courier page over dir, admitting holders of tokens.
func New(dir Directory, tokens Tokens, log *slog.Logger) *Handler {
	return &Handler{dir: dir, tokens: tokens, log: log, beat: 15 * time.Second}
}

// Register adds the page and its API to r.
func (h *Handler) Register(r gin.IRoutes) {
	r.GET("/c/:courier", h.page)
	r.GET("/c-assets/:file", serveAsset)
	r.GET("/v1/couriers/:courier/deliveries", h.list)
	r.GET("/v1/couriers/:courier/stream", h.stream)
}

// courier returns the courier named in the route if the request's token
// (Authorization: Bearer, or ?t=) is that courier's.
func (h *Handler) courier(c *gin.Context) (string, string, error) {
	token, err := channels.Bearer(c, true)
	if err != nil {
		return "", "", err
	}
	id, err := h.tokens.Verify(token)
	if err != nil {
		return "", "", err
	}
	if id != c.Param("courier") {
		return "", "", signoff.Errorf(signoff.ErrUnauthorized, "bad_token", "the token is not this courier's")
	}
	return id, token, nil
}

// Item is one delivery on the courier page.
type Item struct {
	Delivery signoff.DeliveryID `json:"delivery"`
	Status   string             `json:"status,omitempty"`
	ETA      time.Time          `json:"eta,omitzero"`
	TimeZone string             `json:"time_zone,omitempty"`
	Session  signoff.SessionID  `json:"session,omitempty"`
	State    signoff.State      `json:"state,omitempty"`
	Outcome  signoff.Outcome    `json:"outcome,omitempty"`
	Slot     string             `json:"slot,omitempty"`
	ProofURL string             `json:"proof_url"`
	VideoURL string             `json:"video_url"`
}

func (h *Handler) item(ctx context.Context, id signoff.DeliveryID, token string) (Item, error) {
	d, s, err := h.dir.Load(ctx, id)
	if err != nil {
		return Item{}, err
	}
	it := Item{Delivery: id, Status: d.Status, ETA: d.ETA, TimeZone: d.Recipient.TimeZone,
		ProofURL: "/v1/deliveries/" + url.PathEscape(string(id)) + "/proof",
		VideoURL: "/v/" + url.PathEscape(string(id)) + "?role=courier&t=" + url.QueryEscape(token)}
	if s != nil {
		it.Session, it.State, it.Outcome, it.Slot = s.ID, s.State, s.Outcome, s.Slot
	}
	return it, nil
}

// List answers GET /v1/couriers/{courier}/deliveries.
type List struct {
	Courier    string `json:"courier"`
	Deliveries []Item `json:"deliveries"`
}

func (h *Handler) list(c *gin.Context) {
	id, token, err := h.courier(c)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	ctx := c.Request.Context()
	ids, err := h.dir.CourierDeliveries(ctx, id)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	out := List{Courier: id, Deliveries: []Item{}}
	for _, d := range ids {
		it, err := h.item(ctx, d, token)
		if err != nil {
			channels.WriteError(c, h.log, err)
			return
		}
		out.Deliveries = append(out.Deliveries, it)
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

// stream sends an event "delivery" with the Item of each of the courier's
// deliveries whose conversation changes, on any node.
func (h *Handler) stream(c *gin.Context) {
	id, token, err := h.courier(c)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	ctx, cancel := context.WithCancel(c.Request.Context())
	defer cancel()
	sums, err := h.dir.WatchSummaries(ctx)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	mine, err := h.dir.CourierDeliveries(ctx, id)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	w := c.Writer
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": connected\n\n")
	w.Flush()
	beat := time.NewTicker(h.beat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			w.Flush()
		case s, ok := <-sums:
			if !ok {
				return
			}
			if !slices.Contains(mine, s.Delivery) {
				// A delivery given to this courier since the stream began?
				if mine, err = h.dir.CourierDeliveries(ctx, id); err != nil || !slices.Contains(mine, s.Delivery) {
					continue
				}
			}
			it, err := h.item(ctx, s.Delivery, token)
			if err != nil {
				continue
			}
			b, _ := json.Marshal(it)
			if _, err := fmt.Fprintf(w, "event: delivery\ndata: %s\n\n", b); err != nil {
				return
			}
			w.Flush()
		}
	}
}

// The page.

//go:embed static/courier.html static/courier.js static/courier.css
var staticFS embed.FS

const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

var pageTemplate = template.Must(template.ParseFS(staticFS, "static/courier.html"))

func securityHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", pageCSP)
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Permissions-Policy", "camera=(self), microphone=(self), geolocation=()")
}

func (h *Handler) page(c *gin.Context) {
	status := http.StatusOK
	bad := false
	if _, _, err := h.courier(c); err != nil {
		status, bad = channels.Status(err), true
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, struct{ Bad bool }{bad}); err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	securityHeaders(c.Writer.Header())
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

func serveAsset(c *gin.Context) {
	name := c.Param("file")
	ctype := map[string]string{"courier.js": "text/javascript; charset=utf-8", "courier.css": "text/css; charset=utf-8"}[name]
	b, err := staticFS.ReadFile("static/" + name)
	if ctype == "" || err != nil {
		c.AbortWithStatusJSON(http.StatusNotFound, channels.ErrorBody{Error: channels.ErrorDetail{Code: "not_found", Message: "no such file"}})
		return
	}
	securityHeaders(c.Writer.Header())
	c.Header("Content-Type", ctype)
	c.Header("Cache-Control", "no-cache")
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(b))
}
