package proof

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/evidence"
	"github.com/signoff/signoff/dialog/receipt"
)

// StaffAuth recognises support staff on a request. The staff console
// provides it. It returns the agent's name and role, or an error when the
// request carries no staff credentials.
type StaffAuth interface {
	StaffFromRequest(r *http.Request) (name, role string, err error)
}

// Store is what the handlers read and write; dialog/redisstore.Store
// satisfies it.
type Store interface {
	Load(ctx context.Context, id signoff.DeliveryID) (signoff.Delivery, *signoff.Session, error)
	LoadSession(ctx context.Context, id signoff.SessionID) (signoff.Session, signoff.Delivery, error)
	Commit(ctx context.Context, c dialog.Change) error
	Evidence(ctx context.Context, id signoff.DeliveryID) ([]evidence.Record, map[int]evidence.Openings, error)
	Erase(ctx context.Context, id signoff.DeliveryID) (int, error)
}

// Prover records a courier's proof; *dialog.Engine satisfies it.
type Prover interface {
	AddProof(ctx context.Context, id signoff.DeliveryID, p dialog.Proof) error
}

// Config configures a Handler.
type Config struct {
	BlobDir  string                  // where photos go, as <sha256>.jpg or .png; required
	Couriers *channels.CourierTokens // checks courier tokens; required
	Keys     *receipt.Keyring        // signs receipts; required
	Staff    StaffAuth               // recognises staff; nil: no staff access
	// PersonalRoles are the staff roles that see personal values (names,
	// phone numbers, the recipient's words, locations); other staff see
	// them masked or sealed. Default: "admin", "supervisor".
	PersonalRoles []string
	Limits        Limits
	Now           func() time.Time
}

// Handler serves the evidence routes. Create it with New.
type Handler struct {
	cfg   Config
	store Store
	prove Prover
	log   *slog.Logger
}

// New returns a Handler.
func New(cfg Config, store Store, prove Prover, log *slog.Logger) (*Handler, error) {
	if cfg.BlobDir == "" || cfg.Couriers == nil || cfg.Keys == nil {
		return nil, errors.New("proof: BlobDir, Couriers and Keys are required")
	}
	if err := os.MkdirAll(cfg.BlobDir, 0o750); err != nil {
		return nil, fmt.Errorf("proof: blob directory: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PersonalRoles == nil {
		cfg.PersonalRoles = []string{"admin", "supervisor"}
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, store: store, prove: prove, log: log}, nil
}

// Register adds the routes to r.
func (h *Handler) Register(r gin.IRoutes) {
	r.POST("/v1/deliveries/:id/proof", h.postProof)
	r.GET("/v1/deliveries/:id/photos/:file", h.getPhoto)
	r.GET("/v1/deliveries/:id/receipt", h.getReceipt)
	r.GET("/v1/deliveries/:id/receipt.html", h.getReceiptPage)
	r.DELETE("/v1/deliveries/:id/personal-data", h.deletePersonal)
	r.GET("/v1/receipts/keys", h.getKeys)
}

func deliveryID(c *gin.Context) (signoff.DeliveryID, error) {
	id := c.Param("id")
	if id == "" || len(id) > 128 || strings.ContainsAny(id, "}\x00") {
		return "", signoff.Errorf(signoff.ErrNotFound, "not_found", "no such delivery")
	}
	return signoff.DeliveryID(id), nil
}

// viewer is who asks: the recipient, the delivery's courier or staff.
type viewer struct {
	kind     string // "recipient", "courier", "staff"
	role     string // staff role
	personal bool   // may see personal values
}

// authorize works out who holds the request's token, for delivery id with
// facts d: a courier token of its courier, staff (through StaffAuth), or
// the recipient token of one of its sessions (named in recs).
func (h *Handler) authorize(c *gin.Context, d signoff.Delivery, recs []evidence.Record, allowQuery bool) (viewer, error) {
	tok, err := channels.Bearer(c, allowQuery)
	if err != nil {
		return viewer{}, err
	}
	denied := signoff.Errorf(signoff.ErrUnauthorized, "bad_token", "the token does not open this delivery")
	if strings.HasPrefix(tok, "c1.") {
		courier, err := h.cfg.Couriers.Verify(tok)
		if err != nil {
			return viewer{}, err
		}
		if d.Courier.ID == "" || courier != d.Courier.ID {
			return viewer{}, signoff.Errorf(signoff.ErrUnauthorized, "wrong_courier", "this delivery is not carried by this courier")
		}
		return viewer{kind: "courier"}, nil
	}
	if h.cfg.Staff != nil {
		r := c.Request
		if allowQuery && r.Header.Get("Authorization") == "" {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		if _, role, err := h.cfg.Staff.StaffFromRequest(r); err == nil {
			v := viewer{kind: "staff", role: role}
			for _, p := range h.cfg.PersonalRoles {
				v.personal = v.personal || p == role
			}
			return v, nil
		}
	}
	hash := dialog.HashToken(tok)
	seen := map[string]bool{}
	for _, r := range recs {
		sid := r.Fields["session"]
		if sid == "" || seen[sid] {
			continue
		}
		seen[sid] = true
		s, _, err := h.store.LoadSession(c.Request.Context(), signoff.SessionID(sid))
		if err != nil {
			continue
		}
		if s.DeliveryID == d.ID && subtle.ConstantTimeCompare([]byte(hash), []byte(s.TokenHash)) == 1 {
			return viewer{kind: "recipient", personal: true}, nil
		}
	}
	return viewer{}, denied
}

// delivery loads a delivery's facts and evidence; an unknown delivery is
// signoff.ErrNotFound.
func (h *Handler) delivery(ctx context.Context, id signoff.DeliveryID) (signoff.Delivery, []evidence.Record, map[int]evidence.Openings, error) {
	d, _, err := h.store.Load(ctx, id)
	if err != nil {
		return d, nil, nil, err
	}
	recs, open, err := h.store.Evidence(ctx, id)
	if err != nil {
		return d, nil, nil, err
	}
	if d.Version == 0 && len(recs) == 0 {
		return d, nil, nil, signoff.Errorf(signoff.ErrNotFound, "not_found", "no such delivery")
	}
	d.ID = id
	return d, recs, open, nil
}

// postProof takes a courier's photo, location and note. Everything is
// checked before anything is stored.
func (h *Handler) postProof(c *gin.Context) {
	ctx := c.Request.Context()
	id, err := deliveryID(c)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	tok, err := channels.Bearer(c, false)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	courier, err := h.cfg.Couriers.Verify(tok)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	d, _, err := h.store.Load(ctx, id)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	if d.Version == 0 {
		channels.WriteError(c, h.log, signoff.Errorf(signoff.ErrNotFound, "not_found", "no such delivery"))
		return
	}
	if d.Courier.ID == "" || d.Courier.ID != courier {
		channels.WriteError(c, h.log, signoff.Errorf(signoff.ErrUnauthorized, "wrong_courier", "this delivery is not carried by this courier"))
		return
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, h.cfg.Limits.MaxPhoto+64<<10)
	u, err := ParseForm(body, c.GetHeader("Content-Type"), h.cfg.Limits)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	sum := sha256.Sum256(u.Photo)
	hash := hex.EncodeToString(sum[:])
	created, err := h.storePhoto(hash+u.Ext, u.Photo)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	image := "/v1/deliveries/" + string(id) + "/photos/" + hash + u.Ext
	err = h.prove.AddProof(ctx, id, dialog.Proof{Courier: courier, Photo: hash, Type: u.Type, Image: image, Lat: u.Lat, Lng: u.Lng, Note: u.Note})
	if err != nil {
		if created {
			os.Remove(filepath.Join(h.cfg.BlobDir, hash+u.Ext))
		}
		channels.WriteError(c, h.log, err)
		return
	}
	h.log.Info("proof stored", "delivery", id, "photo", hash, "bytes", len(u.Photo))
	c.JSON(http.StatusCreated, gin.H{"photo": hash, "type": u.Type, "image": image})
}

// storePhoto writes a photo under its name unless it is there already, and
// reports whether it wrote it.
func (h *Handler) storePhoto(name string, b []byte) (bool, error) {
	path := filepath.Join(h.cfg.BlobDir, name)
	if _, err := os.Stat(path); err == nil {
		return false, nil
	}
	f, err := os.CreateTemp(h.cfg.BlobDir, ".photo-*")
	if err != nil {
		return false, fmt.Errorf("proof: store photo: %w", err)
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if werr != nil || cerr != nil {
		os.Remove(f.Name())
		return false, fmt.Errorf("proof: store photo: %w", errors.Join(werr, cerr))
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return false, fmt.Errorf("proof: store photo: %w", err)
	}
	return true, nil
}

var photoName = regexp.MustCompile(`^([0-9a-f]{64})\.(jpg|png)$`)

// getPhoto serves a proof photo of the delivery to its recipient, courier
// or staff. The token may ride in ?t= so that an <img> can show it.
func (h *Handler) getPhoto(c *gin.Context) {
	id, err := deliveryID(c)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	m := photoName.FindStringSubmatch(c.Param("file"))
	notFound := signoff.Errorf(signoff.ErrNotFound, "not_found", "no such photo")
	if m == nil {
		channels.WriteError(c, h.log, notFound)
		return
	}
	d, recs, _, err := h.delivery(c.Request.Context(), id)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	if _, err := h.authorize(c, d, recs, true); err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	found := false
	for _, r := range recs {
		found = found || (r.Kind == "proof" && r.Fields["photo"] == m[1])
	}
	if !found {
		channels.WriteError(c, h.log, notFound)
		return
	}
	c.Header("Cache-Control", "private, max-age=3600, immutable")
	c.Header("X-Content-Type-Options", "nosniff")
	c.File(filepath.Join(h.cfg.BlobDir, m[0]))
}

// receiptFor builds the receipt of a delivery as v may see it: without the
// personal values when v may not see them (the receipt still verifies).
// It also returns the delivery's facts and every opening, for the page to
// show masked.
func (h *Handler) receiptFor(c *gin.Context, allowQuery bool) (receipt.Receipt, viewer, signoff.Delivery, map[int]evidence.Openings, error) {
	id, err := deliveryID(c)
	if err != nil {
		return receipt.Receipt{}, viewer{}, signoff.Delivery{}, nil, err
	}
	d, recs, open, err := h.delivery(c.Request.Context(), id)
	if err != nil {
		return receipt.Receipt{}, viewer{}, d, nil, err
	}
	v, err := h.authorize(c, d, recs, allowQuery)
	if err != nil {
		return receipt.Receipt{}, viewer{}, d, nil, err
	}
	shown := open
	if !v.personal {
		shown = nil
	}
	r := receipt.Build(string(id), evidence.FormatTime(h.cfg.Now()), recs, shown)
	if r.Closed == "" && !r.Erased {
		return receipt.Receipt{}, viewer{}, d, nil, signoff.Errorf(signoff.ErrConflict, "not_final",
			"the delivery has no final outcome yet: a receipt is issued once the recipient confirms receipt or the conversation closes")
	}
	return r, v, d, open, nil
}

// getReceipt answers the signed receipt as a compact JWS
// (application/jose).
func (h *Handler) getReceipt(c *gin.Context) {
	r, v, _, _, err := h.receiptFor(c, false)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	jws, err := h.cfg.Keys.Issue(r)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	h.log.Info("receipt issued", "delivery", r.Delivery, "records", len(r.Log), "for", v.kind, "kid", h.cfg.Keys.KeyID())
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/jose", []byte(jws))
}

// getKeys serves the public keys as a JWKS.
func (h *Handler) getKeys(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.JSON(http.StatusOK, h.cfg.Keys.Public())
}

// deletePersonal erases a delivery's personal data (staff only): the names,
// phone numbers and address in its facts, the openings of its evidence and
// its transcript lines. The evidence chain keeps the salted hashes, so it
// and every receipt still verify; the erasure itself is recorded.
func (h *Handler) deletePersonal(c *gin.Context) {
	ctx := c.Request.Context()
	id, err := deliveryID(c)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	if h.cfg.Staff == nil {
		channels.WriteError(c, h.log, signoff.Errorf(signoff.ErrUnauthorized, "staff_only", "only staff may erase personal data"))
		return
	}
	_, role, err := h.cfg.Staff.StaffFromRequest(c.Request)
	if err != nil {
		channels.WriteError(c, h.log, signoff.Errorf(signoff.ErrUnauthorized, "staff_only", "only staff may erase personal data"))
		return
	}
	if _, _, _, err := h.delivery(ctx, id); err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	for attempt := 1; ; attempt++ {
		d, _, err := h.store.Load(ctx, id)
		if err != nil {
			channels.WriteError(c, h.log, err)
			return
		}
		ch := dialog.Change{Delivery: id, Log: []dialog.LogEntry{{Kind: "personal_data_erased", At: h.cfg.Now(),
			Data: map[string]string{"by_role": role}}}}
		if d.Version > 0 {
			d.Recipient.Name, d.Recipient.Phone, d.Address = "", "", ""
			d.Courier.Name, d.Courier.Phone = "", ""
			d.Version++
			ch.Facts = &d
		}
		err = h.store.Commit(ctx, ch)
		if err == nil {
			break
		}
		if !errors.Is(err, signoff.ErrConflict) || attempt == 8 {
			channels.WriteError(c, h.log, err)
			return
		}
	}
	if err := h.eraseSessions(ctx, id); err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	n, err := h.store.Erase(ctx, id)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	h.log.Info("personal data erased", "delivery", id, "values", n, "by_role", role)
	c.JSON(http.StatusOK, gin.H{"erased": n})
}

// eraseSessions blanks the recipient's words kept in the delivery's sessions
// (the consent text, a reply being read back, the last offer's text, which
// may greet them by name).
func (h *Handler) eraseSessions(ctx context.Context, id signoff.DeliveryID) error {
	recs, _, err := h.store.Evidence(ctx, id)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, r := range recs {
		sid := r.Fields["session"]
		if sid == "" || seen[sid] {
			continue
		}
		seen[sid] = true
		for attempt := 1; ; attempt++ {
			s, _, err := h.store.LoadSession(ctx, signoff.SessionID(sid))
			if errors.Is(err, signoff.ErrNotFound) {
				break
			}
			if err != nil {
				return err
			}
			if s.DeliveryID != id || (s.PendingText == "" && (s.Consent == nil || s.Consent.Text == "") && s.LastOffer == nil) {
				break
			}
			s.PendingText, s.LastOffer = "", nil
			if s.Consent != nil {
				cons := *s.Consent
				cons.Text = ""
				s.Consent = &cons
			}
			s.Version++
			err = h.store.Commit(ctx, dialog.Change{Delivery: id, Session: &s, Timer: s.Deadline})
			if err == nil {
				break
			}
			if !errors.Is(err, signoff.ErrConflict) || attempt == 8 {
				return err
			}
		}
	}
	return nil
}
