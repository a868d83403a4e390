package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/dialog"
)

// Conversations is what the console needs of the dialog engine.
type Conversations interface {
	Inspect(ctx context.Context, id signoff.SessionID) (signoff.Session, signoff.Delivery, error)
	Claim(ctx context.Context, id signoff.SessionID, staff string) (dialog.Turn, error)
	Say(ctx context.Context, id signoff.SessionID, staff, text string) (dialog.Turn, error)
	Release(ctx context.Context, id signoff.SessionID, staff string, anyClaim bool) (dialog.Turn, error)
	HandBack(ctx context.Context, id signoff.SessionID, staff string, anyClaim bool) (dialog.Turn, error)
	Note(ctx context.Context, id signoff.SessionID, staff, text string) error
}

// Directory lists conversations and carries their live changes from every
// node.
type Directory interface {
	Summaries(ctx context.Context) ([]dialog.Summary, error)
	WatchSummaries(ctx context.Context) (<-chan dialog.Summary, error)
	Subscribe(ctx context.Context, id signoff.SessionID) (<-chan dialog.Posted, error)
	Log(ctx context.Context, id signoff.DeliveryID) ([]dialog.LogEntry, error)
}

// Sessions keeps console sign-ins and failed attempts.
type Sessions interface {
	PutStaffSession(ctx context.Context, key string, val []byte, ttl time.Duration) error
	StaffSession(ctx context.Context, key string) ([]byte, error)
	DeleteStaffSession(ctx context.Context, key string) error
	StaffFailure(ctx context.Context, name string, window time.Duration) (int64, error)
	StaffFailures(ctx context.Context, name string) (int64, error)
	ClearStaffFailures(ctx context.Context, name string) error
}

// Config tunes the console. Zero values mean the defaults.
type Config struct {
	Accounts map[string]Account
	// SessionTTL is how long a sign-in lasts. Default 12 hours.
	SessionTTL time.Duration
	// SecureCookie marks the cookie Secure (set it when served over HTTPS).
	SecureCookie bool
	// MaxFailures failed sign-ins of a name within LockoutWindow lock it
	// for the rest of the window. Defaults 10 and 15 minutes.
	MaxFailures   int64
	LockoutWindow time.Duration
	// QueueWait, when set, is told how long each conversation taken from
	// the handoff queue waited there: from its HandoffAt to the claim.
	// A direct takeover of a conversation not in the queue, or a claim
	// that changed nothing, is not reported.
	QueueWait func(time.Duration)
}

// CookieName is the console session cookie.
const CookieName = "signoff_console"

// CSRFHeader carries the session's CSRF token on state-changing requests.
const CSRFHeader = "X-CSRF-Token"

// Handler serves the console page and its API. Construct it with New.
type Handler struct {
	cfg   Config
	conv  Conversations
	dir   Directory
	sess  Sessions
	log   *slog.Logger
	dummy []byte // a hash to compare against for unknown names
	beat  time.Duration
}

// New returns a console over conv, dir and sess.
func New(cfg Config, conv Conversations, dir Directory, sess Sessions, log *slog.Logger) *Handler {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 10
	}
	if cfg.LockoutWindow <= 0 {
		cfg.LockoutWindow = 15 * time.Minute
	}
	dummy, _ := bcrypt.GenerateFromPassword([]byte("not a password"), bcrypt.MinCost)
	for _, a := range cfg.Accounts { // compare at the accounts' own cost
		if c, err := bcrypt.Cost(a.Hash); err == nil {
			dummy, _ = bcrypt.GenerateFromPassword([]byte("not a password"), c)
		}
		break
	}
	return &Handler{cfg: cfg, conv: conv, dir: dir, sess: sess, log: log, dummy: dummy, beat: 15 * time.Second}
}

// Register adds the console page and API to r.
func (h *Handler) Register(r gin.IRoutes) {
	r.GET("/console", h.page)
	r.GET("/console/assets/:file", serveAsset)
	r.POST("/console/api/signin", h.signIn)
	r.POST("/console/api/signout", h.staff(false, h.signOut))
	r.GET("/console/api/me", h.staff(false, h.me))
	r.GET("/console/api/conversations", h.staff(false, h.list))
	r.GET("/console/api/events", h.staff(false, h.events))
	r.GET("/console/api/conversations/:id", h.staff(false, h.conversation))
	r.GET("/console/api/conversations/:id/stream", h.staff(false, h.transcript))
	r.POST("/console/api/conversations/:id/claim", h.staff(false, h.claim))
	r.POST("/console/api/conversations/:id/say", h.staff(false, h.say))
	r.POST("/console/api/conversations/:id/handback", h.staff(false, h.handBack))
	r.POST("/console/api/conversations/:id/release", h.staff(false, h.release))
	r.POST("/console/api/conversations/:id/notes", h.staff(false, h.note))
}

// staffSession is what a console session stores.
type staffSession struct {
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	CSRF    string    `json:"csrf"`
	Created time.Time `json:"created"`
}

func sessionKey(cookie string) string {
	h := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(h[:])
}

func random() string {
	var b [32]byte
	rand.Read(b[:]) // never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

var (
	errNoSession = signoff.Errorf(signoff.ErrUnauthorized, "no_session", "sign in to the staff console first")
	errCSRF      = signoff.Errorf(signoff.ErrUnauthorized, "bad_csrf", "the X-CSRF-Token header is missing or wrong")
)

// load returns the signed-in staff of r, checking the CSRF token on any
// method but GET and HEAD.
func (h *Handler) load(r *http.Request) (staffSession, error) {
	ck, err := r.Cookie(CookieName)
	if err != nil || ck.Value == "" || len(ck.Value) > 128 {
		return staffSession{}, errNoSession
	}
	b, err := h.sess.StaffSession(r.Context(), sessionKey(ck.Value))
	if errors.Is(err, signoff.ErrNotFound) {
		return staffSession{}, errNoSession
	}
	if err != nil {
		return staffSession{}, err
	}
	var s staffSession
	if err := json.Unmarshal(b, &s); err != nil {
		return staffSession{}, fmt.Errorf("console: stored session: %w", err)
	}
	if _, ok := h.cfg.Accounts[s.Name]; !ok {
		return staffSession{}, errNoSession // the account was removed
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		got := r.Header.Get(CSRFHeader)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) != 1 {
			return staffSession{}, errCSRF
		}
	}
	return s, nil
}

// StaffFromRequest returns the staff member signed in on r's console
// cookie and their role (agent or supervisor). For any method but GET and
// HEAD it also requires the session's X-CSRF-Token header. Errors: kind
// signoff.ErrUnauthorized (code no_session or bad_csrf), or the store's.
// Other packages (receipts, video viewers) use it to let staff in.
func (h *Handler) StaffFromRequest(r *http.Request) (name, role string, err error) {
	s, err := h.load(r)
	if err != nil {
		return "", "", err
	}
	return s.Name, s.Role, nil
}

// writeError answers like channels.WriteError, but with 403 for a bad
// CSRF token or a role that may not act.
func (h *Handler) writeError(c *gin.Context, err error) {
	if code := signoff.ErrorCode(err); code == "bad_csrf" || code == "forbidden" {
		h.log.Info("console: refused", "route", c.FullPath(), "code", code)
		c.AbortWithStatusJSON(http.StatusForbidden, channels.ErrorBody{Error: channels.ErrorDetail{Code: code, Message: signoff.ErrorMessage(err)}})
		return
	}
	channels.WriteError(c, h.log, err)
}

// staff wraps a handler that needs a signed-in staff member.
func (h *Handler) staff(_ bool, next func(*gin.Context, staffSession)) gin.HandlerFunc {
	return func(c *gin.Context) {
		s, err := h.load(c.Request)
		if err != nil {
			h.writeError(c, err)
			return
		}
		c.Header("Cache-Control", "no-store")
		next(c, s)
	}
}

// Me answers GET /console/api/me and a sign-in.
type Me struct {
	Name string `json:"name"`
	Role string `json:"role"`
	CSRF string `json:"csrf"`
}

func readJSON(c *gin.Context, v any) error {
	b, err := io.ReadAll(io.LimitReader(c.Request.Body, 8<<10+1))
	if err != nil {
		return signoff.Wrap(signoff.ErrInvalid, "bad_body", "the body could not be read", err)
	}
	if len(b) > 8<<10 {
		return signoff.Errorf(signoff.ErrTooLarge, "body_too_large", "the body is over 8 KiB")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return signoff.Wrap(signoff.ErrInvalid, "bad_json", "the body is not the JSON object expected", err)
	}
	return nil
}

func (h *Handler) signIn(c *gin.Context) {
	var req struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := readJSON(c, &req); err != nil {
		h.writeError(c, err)
		return
	}
	if req.Name == "" || len(req.Name) > MaxName || req.Password == "" || len(req.Password) > 256 {
		h.writeError(c, signoff.Errorf(signoff.ErrInvalid, "missing_field", "name and password are required"))
		return
	}
	ctx := c.Request.Context()
	n, err := h.sess.StaffFailures(ctx, req.Name)
	if err != nil {
		h.writeError(c, err)
		return
	}
	if n >= h.cfg.MaxFailures {
		h.log.Warn("console: sign-in locked", "failures", n)
		c.Header("Retry-After", fmt.Sprint(int(h.cfg.LockoutWindow.Seconds())))
		c.AbortWithStatusJSON(http.StatusTooManyRequests, channels.ErrorBody{Error: channels.ErrorDetail{
			Code: "locked", Message: "too many failed sign-ins; try again later"}})
		return
	}
	acct, ok := h.cfg.Accounts[req.Name]
	hash := acct.Hash
	if !ok {
		hash = h.dummy
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(req.Password)) != nil || !ok {
		if _, err := h.sess.StaffFailure(ctx, req.Name, h.cfg.LockoutWindow); err != nil {
			h.writeError(c, err)
			return
		}
		h.writeError(c, signoff.Errorf(signoff.ErrUnauthorized, "bad_credentials", "wrong name or password"))
		return
	}
	if err := h.sess.ClearStaffFailures(ctx, req.Name); err != nil {
		h.writeError(c, err)
		return
	}
	cookie := random()
	s := staffSession{Name: acct.Name, Role: acct.Role, CSRF: random(), Created: time.Now()}
	b, _ := json.Marshal(s)
	if err := h.sess.PutStaffSession(ctx, sessionKey(cookie), b, h.cfg.SessionTTL); err != nil {
		h.writeError(c, err)
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: CookieName, Value: cookie, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: h.cfg.SecureCookie, MaxAge: int(h.cfg.SessionTTL.Seconds())})
	h.log.Info("console: signed in", "staff", s.Name, "role", s.Role)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, Me{Name: s.Name, Role: s.Role, CSRF: s.CSRF})
}

func (h *Handler) signOut(c *gin.Context, s staffSession) {
	if ck, err := c.Request.Cookie(CookieName); err == nil {
		if err := h.sess.DeleteStaffSession(c.Request.Context(), sessionKey(ck.Value)); err != nil {
			h.writeError(c, err)
			return
		}
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: h.cfg.SecureCookie, MaxAge: -1})
	c.JSON(http.StatusOK, gin.H{"status": "signed_out"})
}

func (h *Handler) me(c *gin.Context, s staffSession) {
	c.JSON(http.StatusOK, Me{Name: s.Name, Role: s.Role, CSRF: s.CSRF})
}

// List answers GET /console/api/conversations: every conversation, and
// the handoff queue (the conversations waiting for a person, longest wait
// first).
type List struct {
	Conversations []dialog.Summary `json:"conversations"`
	Queue         []dialog.Summary `json:"queue"`
}

func (h *Handler) list(c *gin.Context, _ staffSession) {
	sums, err := h.dir.Summaries(c.Request.Context())
	if err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, List{Conversations: sums, Queue: Queue(sums)})
}

// Queue returns the conversations of sums that are handed off, longest
// wait first.
func Queue(sums []dialog.Summary) []dialog.Summary {
	q := []dialog.Summary{}
	for _, s := range sums {
		if s.State == signoff.StateHandoff {
			q = append(q, s)
		}
	}
	slices.SortStableFunc(q, func(a, b dialog.Summary) int { return a.HandoffAt.Compare(b.HandoffAt) })
	return q
}

// sse starts an event stream on c.
func sse(c *gin.Context) {
	hd := c.Writer.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	c.Writer.WriteHeader(http.StatusOK)
	fmt.Fprint(c.Writer, ": connected\n\n")
	c.Writer.Flush()
}

func writeEvent(w gin.ResponseWriter, event string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
		return err
	}
	w.Flush()
	return nil
}

// events streams every conversation's summary as it changes, on any node.
func (h *Handler) events(c *gin.Context, _ staffSession) {
	ctx, cancel := context.WithCancel(c.Request.Context())
	defer cancel()
	sums, err := h.dir.WatchSummaries(ctx)
	if err != nil {
		h.writeError(c, err)
		return
	}
	sse(c)
	beat := time.NewTicker(h.beat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			if _, err := fmt.Fprint(c.Writer, ": keep-alive\n\n"); err != nil {
				return
			}
			c.Writer.Flush()
		case s, ok := <-sums:
			if !ok {
				return
			}
			if writeEvent(c.Writer, "summary", s) != nil {
				return
			}
		}
	}
}

// Conversation answers GET /console/api/conversations/{id}.
type Conversation struct {
	Session    signoff.SessionID  `json:"session"`
	Delivery   signoff.DeliveryID `json:"delivery"`
	Locale     signoff.Locale     `json:"locale"`
	State      signoff.State      `json:"state"`
	Outcome    signoff.Outcome    `json:"outcome,omitempty"`
	Reason     string             `json:"handoff_reason,omitempty"`
	HandoffAt  time.Time          `json:"handoff_at,omitzero"`
	Staff      string             `json:"staff,omitempty"`
	Status     string             `json:"status,omitempty"`
	ETA        time.Time          `json:"eta,omitzero"`
	Transcript []signoff.Message  `json:"transcript"`
	Notes      []Note             `json:"notes"`
}

// Note is a staff note on a conversation.
type Note struct {
	Staff string    `json:"staff"`
	Text  string    `json:"text"`
	At    time.Time `json:"at"`
}

func (h *Handler) conversation(c *gin.Context, _ staffSession) {
	id, err := channels.SessionID(c)
	if err != nil {
		h.writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	s, d, err := h.conv.Inspect(ctx, id)
	if err != nil {
		h.writeError(c, err)
		return
	}
	log, err := h.dir.Log(ctx, s.DeliveryID)
	if err != nil {
		h.writeError(c, err)
		return
	}
	notes := []Note{}
	for _, e := range log {
		if e.Kind == dialog.LogNote && e.Data["session"] == string(id) {
			notes = append(notes, Note{Staff: e.Data["staff"], Text: e.Data["text"], At: e.At})
		}
	}
	tr := s.Transcript
	if tr == nil {
		tr = []signoff.Message{}
	}
	c.JSON(http.StatusOK, Conversation{Session: s.ID, Delivery: s.DeliveryID, Locale: s.Locale, State: s.State,
		Outcome: s.Outcome, Reason: s.HandoffReason, HandoffAt: s.HandoffAt, Staff: s.Staff, Status: d.Status, ETA: d.ETA,
		Transcript: tr, Notes: notes})
}

// transcript streams a conversation's new lines (the recipient's too) as
// events "line" with {seq, message}.
func (h *Handler) transcript(c *gin.Context, _ staffSession) {
	id, err := channels.SessionID(c)
	if err != nil {
		h.writeError(c, err)
		return
	}
	ctx, cancel := context.WithCancel(c.Request.Context())
	defer cancel()
	posted, err := h.dir.Subscribe(ctx, id)
	if err != nil {
		h.writeError(c, err)
		return
	}
	if _, _, err := h.conv.Inspect(ctx, id); err != nil {
		h.writeError(c, err)
		return
	}
	sse(c)
	beat := time.NewTicker(h.beat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			if _, err := fmt.Fprint(c.Writer, ": keep-alive\n\n"); err != nil {
				return
			}
			c.Writer.Flush()
		case p, ok := <-posted:
			if !ok {
				return
			}
			if writeEvent(c.Writer, "line", p) != nil {
				return
			}
		}
	}
}

// Result answers a staff action: the conversation's state after it.
type Result struct {
	State   signoff.State   `json:"state"`
	Outcome signoff.Outcome `json:"outcome,omitempty"`
	Staff   string          `json:"staff,omitempty"`
	Lines   int             `json:"lines"`
}

func (h *Handler) answer(c *gin.Context, t dialog.Turn, err error) {
	if err != nil {
		if signoff.ErrorCode(err) == dialog.ErrNotClaimer {
			err = signoff.Wrap(signoff.ErrUnauthorized, "forbidden", "only a supervisor may act on another agent's conversation", err)
		}
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, Result{State: t.Session.State, Outcome: t.Session.Outcome, Staff: t.Session.Staff, Lines: t.Session.Lines})
}

func (h *Handler) claim(c *gin.Context, s staffSession) {
	id, err := channels.SessionID(c)
	if err != nil {
		h.writeError(c, err)
		return
	}
	t, err := h.conv.Claim(c.Request.Context(), id, s.Name)
	if w, ok := queueWait(t, s.Name); err == nil && ok && h.cfg.QueueWait != nil {
		h.cfg.QueueWait(w)
	}
	h.answer(c, t, err)
}

// queueWait is how long the conversation claimed in t waited in the
// queue: from its HandoffAt to the line that says staff joined, which the
// claim added at the claim's time. ok is false when the claim added no
// line (it was staff's already) or the conversation went to the queue in
// the claim itself (a direct takeover).
func queueWait(t dialog.Turn, staff string) (time.Duration, bool) {
	h := t.Session.HandoffAt
	for _, m := range t.Replies {
		if m.From == signoff.FromStaff && m.Staff == staff && !h.IsZero() && m.At.After(h) {
			return m.At.Sub(h), true
		}
	}
	return 0, false
}

type textBody struct {
	Text string `json:"text"`
}

func (h *Handler) say(c *gin.Context, s staffSession) {
	id, err := channels.SessionID(c)
	if err != nil {
		h.writeError(c, err)
		return
	}
	var b textBody
	if err := readJSON(c, &b); err != nil {
		h.writeError(c, err)
		return
	}
	t, err := h.conv.Say(c.Request.Context(), id, s.Name, b.Text)
	if signoff.ErrorCode(err) == dialog.ErrNotClaimer {
		h.writeError(c, signoff.Wrap(signoff.ErrConflict, "not_claimed", "take the conversation over first", err))
		return
	}
	h.answer(c, t, err)
}

func (h *Handler) handBack(c *gin.Context, s staffSession) {
	id, err := channels.SessionID(c)
	if err != nil {
		h.writeError(c, err)
		return
	}
	t, err := h.conv.HandBack(c.Request.Context(), id, s.Name, s.Role == RoleSupervisor)
	h.answer(c, t, err)
}

func (h *Handler) release(c *gin.Context, s staffSession) {
	id, err := channels.SessionID(c)
	if err != nil {
		h.writeError(c, err)
		return
	}
	t, err := h.conv.Release(c.Request.Context(), id, s.Name, s.Role == RoleSupervisor)
	h.answer(c, t, err)
}

func (h *Handler) note(c *gin.Context, s staffSession) {
	id, err := channels.SessionID(c)
	if err != nil {
		h.writeError(c, err)
		return
	}
	var b textBody
	if err := readJSON(c, &b); err != nil {
		h.writeError(c, err)
		return
	}
	if err := h.conv.Note(c.Request.Context(), id, s.Name, b.Text); err != nil {
		h.writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, Note{Staff: s.Name, Text: b.Text, At: time.Now()})
}
