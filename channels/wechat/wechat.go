package wechat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/prompts"
)

// Path is the route of the channel.
const Path = "/v1/channels/wechat"

// Kind is the directory and claim namespace of WeChat.
const Kind = "wechat"

// keep is how long an inbound message's answer is kept.
const keep = 24 * time.Hour

// Config is the Official Account.
type Config struct {
	Token      string // SIGNOFF_WECHAT_TOKEN: signs the URL check and every message
	AppID      string // SIGNOFF_WECHAT_APPID
	Secret     string // SIGNOFF_WECHAT_SECRET: fetches access tokens
	AESKey     string // SIGNOFF_WECHAT_AES_KEY: the EncodingAESKey, for encrypted mode; optional
	APIBaseURL string // SIGNOFF_WECHAT_API_BASE_URL, default https://api.weixin.qq.com
	// ReplyBudget is how long a message may wait for its passive reply
	// (SIGNOFF_WECHAT_REPLY_BUDGET, default 4 s: WeChat gives up at 5 s).
	// A slower answer goes through the customer-service message API.
	ReplyBudget time.Duration
}

func (c Config) withDefaults() Config {
	if c.APIBaseURL == "" {
		c.APIBaseURL = "https://api.weixin.qq.com"
	}
	c.APIBaseURL = strings.TrimRight(c.APIBaseURL, "/")
	if c.ReplyBudget <= 0 {
		c.ReplyBudget = 4 * time.Second
	}
	return c
}

// Missing returns the names of the required settings c lacks.
func (c Config) Missing() []string {
	var out []string
	for _, kv := range [][2]string{{"SIGNOFF_WECHAT_TOKEN", c.Token}, {"SIGNOFF_WECHAT_APPID", c.AppID}, {"SIGNOFF_WECHAT_SECRET", c.Secret}} {
		if kv[1] == "" {
			out = append(out, kv[0])
		}
	}
	return out
}

// LogValue masks the secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("app_id", c.AppID), slog.Bool("token", c.Token != ""),
		slog.Bool("secret", c.Secret != ""), slog.Bool("aes_key", c.AESKey != ""),
		slog.String("api_base_url", c.APIBaseURL), slog.Duration("reply_budget", c.ReplyBudget))
}

// Conversations is what the channel needs of the dialog engine.
type Conversations interface {
	ReplyBound(ctx context.Context, id signoff.SessionID, in signoff.Input) (dialog.Turn, error)
}

// Directory finds the open conversation of a sender.
type Directory interface {
	Open(ctx context.Context, kind, addr string, match func(signoff.Delivery) bool) (signoff.Session, signoff.Delivery, error)
}

// Memory keeps what must be done once across nodes, and the shared access
// token (redisstore.Store).
type Memory interface {
	Claim(ctx context.Context, kind, name string, value []byte, ttl time.Duration) (bool, []byte, error)
	Put(ctx context.Context, kind, name string, value []byte, ttl time.Duration) error
	Get(ctx context.Context, kind, name string) ([]byte, error)
	Forget(ctx context.Context, kind, name string) error
}

// Outbox sends a line the passive reply could not carry, once across nodes,
// and records it (push.Pusher).
type Outbox interface {
	Deliver(ctx context.Context, sid signoff.SessionID, seq int, d signoff.Delivery, m signoff.Message) error
}

// Handler serves the account's callback URL. Make it with New.
type Handler struct {
	cfg    Config
	cipher *Cipher // nil: plain mode only
	conv   Conversations
	dir    Directory
	mem    Memory
	out    Outbox
	log    *slog.Logger
	now    func() time.Time
}

// New returns the handler of the account in cfg. It fails when the AES key
// is set but unusable.
func New(cfg Config, conv Conversations, dir Directory, mem Memory, out Outbox, log *slog.Logger) (*Handler, error) {
	cfg = cfg.withDefaults()
	h := &Handler{cfg: cfg, conv: conv, dir: dir, mem: mem, out: out, log: log, now: time.Now}
	if cfg.AESKey != "" {
		c, err := NewCipher(cfg.AESKey, cfg.AppID)
		if err != nil {
			return nil, err
		}
		h.cipher = c
	}
	return h, nil
}

// Register adds the channel's routes to r.
func (h *Handler) Register(r gin.IRoutes) {
	r.GET(Path, h.check)
	r.POST(Path, h.receive)
}

// Address is the directory address of a recipient on WeChat: the OpenID.
func Address(r signoff.Recipient) string { return string(r.WeChatOpenID) }

var errSignature = signoff.Errorf(signoff.ErrUnauthorized, "bad_signature", "the signature does not match")

// check answers WeChat's URL check: echostr back when signature is the
// SHA-1 of the sorted token, timestamp and nonce.
func (h *Handler) check(c *gin.Context) {
	if !signed(c.Query("signature"), h.cfg.Token, c.Query("timestamp"), c.Query("nonce")) {
		channels.WriteError(c, h.log, errSignature)
		return
	}
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(c.Query("echostr")))
}

// Open reads a posted message: it checks the signature, and in encrypted
// mode (encrypt_type=aes) msg_signature, and decrypts. Errors are of kinds
// signoff.ErrUnauthorized, signoff.ErrInvalid and signoff.ErrTooLarge. It
// reports whether the message came encrypted.
func (h *Handler) Open(query func(string) string, body []byte) (Message, bool, error) {
	ts, nonce := query("timestamp"), query("nonce")
	if len(body) > MaxBody {
		return Message{}, false, signoff.Errorf(signoff.ErrTooLarge, "body_too_large", "the body is over %d bytes", MaxBody)
	}
	if !signed(query("signature"), h.cfg.Token, ts, nonce) {
		return Message{}, false, errSignature
	}
	if query("encrypt_type") != "aes" {
		m, err := ParseMessage(body)
		return m, false, err
	}
	if h.cipher == nil {
		return Message{}, true, signoff.Errorf(signoff.ErrInvalid, "not_encrypted", "encrypted mode is not configured (SIGNOFF_WECHAT_AES_KEY)")
	}
	enc, err := ParseEnvelope(body)
	if err != nil {
		return Message{}, true, err
	}
	if !signed(query("msg_signature"), h.cfg.Token, ts, nonce, enc) {
		return Message{}, true, signoff.Errorf(signoff.ErrUnauthorized, "bad_signature", "msg_signature does not match")
	}
	plain, err := h.cipher.Decrypt(enc)
	if err != nil {
		return Message{}, true, signoff.Wrap(signoff.ErrInvalid, "bad_encrypt", "the message does not decrypt", err)
	}
	m, err := ParseMessage(plain)
	return m, true, err
}

const pending = "pending"

func (h *Handler) receive(c *gin.Context) {
	ctx := c.Request.Context()
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, MaxBody+1))
	if err != nil {
		channels.WriteError(c, h.log, signoff.Wrap(signoff.ErrInvalid, "bad_body", "the body could not be read", err))
		return
	}
	m, encrypted, err := h.Open(c.Query, body)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	var text string
	switch m.MsgType {
	case "text":
		text = m.Content
	case "voice":
		text = m.Recognition
	default: // events (subscribe, menu clicks) and media we do not read
		c.String(http.StatusOK, "success")
		return
	}
	if prev, err := h.mem.Get(ctx, Kind+":in", m.key()); err == nil {
		h.answerStored(c, prev)
		return
	} else if !errors.Is(err, signoff.ErrNotFound) {
		channels.WriteError(c, h.log, err)
		return
	}
	s, facts, err := h.dir.Open(ctx, Kind, m.FromUserName, func(d signoff.Delivery) bool {
		return d.Channel == signoff.DeliveryWeChat && string(d.Recipient.WeChatOpenID) == m.FromUserName
	})
	if signoff.ErrorCode(err) == "conversation_ended" {
		// A known recipient writing after the end is told so; the
		// conversation is not touched.
		h.answer(c, m, encrypted, prompts.For(signoff.ParseLocale(string(facts.Recipient.Locale))).Text("ended"))
		return
	}
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	claimed, prev, err := h.mem.Claim(ctx, Kind+":in", m.key(), []byte(pending), keep)
	switch {
	case err != nil:
		channels.WriteError(c, h.log, err)
		return
	case !claimed:
		h.answerStored(c, prev)
		return
	}
	if strings.TrimSpace(text) == "" {
		// A voice message WeChat could not recognise: ask again without
		// troubling the engine.
		cat := prompts.For(signoff.ParseLocale(string(s.Locale)))
		h.answer(c, m, encrypted, cat.Text("wechat.voice_unrecognised"))
		return
	}
	ch := signoff.ChannelWeChat
	if m.MsgType == "voice" {
		ch = signoff.ChannelVoice
	}
	done := make(chan result, 1)
	// The turn runs on past the budget when it must, and its lines then go
	// through the customer-service API: the request's end must not cancel
	// it.
	tctx := context.WithoutCancel(ctx)
	go func() {
		turn, err := h.conv.ReplyBound(tctx, s.ID, signoff.Input{Kind: signoff.InputText, Text: text, Channel: ch})
		done <- result{turn, err}
	}()
	budget := time.NewTimer(h.cfg.ReplyBudget)
	defer budget.Stop()
	select {
	case r := <-done:
		if r.err != nil {
			_ = h.mem.Forget(tctx, Kind+":in", m.key()) // let WeChat's retry through
			channels.WriteError(c, h.log, r.err)
			return
		}
		var lines []string
		for _, l := range r.turn.Replies {
			if l.From != signoff.FromRecipient {
				lines = append(lines, Render(l))
			}
		}
		h.answer(c, m, encrypted, strings.Join(lines, "\n\n"))
	case <-budget.C:
		if err := h.mem.Put(tctx, Kind+":in", m.key(), []byte("success"), keep); err != nil {
			h.log.Warn("wechat: cannot store an answer", "err", err)
		}
		c.String(http.StatusOK, "success")
		go h.late(tctx, s.ID, facts, done)
	}
}

// result is a turn that ran on its own goroutine.
type result struct {
	turn dialog.Turn
	err  error
}

// late sends, through the customer-service API, the lines of a turn that
// ended after the passive reply's budget.
func (h *Handler) late(ctx context.Context, sid signoff.SessionID, d signoff.Delivery, done <-chan result) {
	r := <-done
	if r.err != nil {
		h.log.Warn("wechat: a late turn failed", "session", sid, "err", r.err)
		return
	}
	first := r.turn.Session.Lines - len(r.turn.Replies)
	for i, l := range r.turn.Replies {
		if l.From == signoff.FromRecipient {
			continue
		}
		if err := h.out.Deliver(ctx, sid, first+i, d, l); err != nil {
			h.log.Warn("wechat: a late reply was not sent", "session", sid, "seq", first+i, "err", err)
		}
	}
}

// answerStored answers a repeated message as the first time: its stored
// reply, or success while the first is still being handled.
func (h *Handler) answerStored(c *gin.Context, prev []byte) {
	if len(prev) == 0 || string(prev) == pending || string(prev) == "success" {
		c.String(http.StatusOK, "success")
		return
	}
	c.Data(http.StatusOK, "application/xml; charset=utf-8", prev)
}

// answer replies passively with text, encrypted when the message was, and
// stores the reply for repeats of the message.
func (h *Handler) answer(c *gin.Context, m Message, encrypted bool, text string) {
	ctx := context.WithoutCancel(c.Request.Context())
	if text == "" {
		_ = h.mem.Put(ctx, Kind+":in", m.key(), []byte("success"), keep)
		c.String(http.StatusOK, "success")
		return
	}
	b, err := xml.Marshal(textReply{ToUserName: cdata{m.FromUserName}, FromUserName: cdata{m.ToUserName},
		CreateTime: h.now().Unix(), MsgType: cdata{"text"}, Content: cdata{text}})
	if err == nil && encrypted {
		b, err = h.seal(b)
	}
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	if err := h.mem.Put(ctx, Kind+":in", m.key(), b, keep); err != nil {
		h.log.Warn("wechat: cannot store an answer", "err", err)
	}
	c.Data(http.StatusOK, "application/xml; charset=utf-8", b)
}

// seal wraps a reply for encrypted mode.
func (h *Handler) seal(reply []byte) ([]byte, error) {
	enc, err := h.cipher.Encrypt(reply)
	if err != nil {
		return nil, err
	}
	var n [8]byte
	rand.Read(n[:])
	nonce := hex.EncodeToString(n[:])
	ts := strconv.FormatInt(h.now().Unix(), 10)
	return xml.Marshal(encryptedReply{Encrypt: cdata{enc}, MsgSignature: cdata{Sign(h.cfg.Token, ts, nonce, enc)},
		TimeStamp: ts, Nonce: cdata{nonce}})
}
