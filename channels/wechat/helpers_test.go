package wechat

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels/push"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/redisstore"
	"github.com/signoff/signoff/internal/redistest"
	"github.com/signoff/signoff/knowledge"
)

func TestMain(m *testing.M) { redistest.Main(m) }

const (
	testToken  = "signofftesttoken"
	testAppID  = "wx0123456789abcdef"
	testSecret = "test-app-secret-0123456789"
	testAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG" // 43 characters
	testGH     = "gh_0123456789ab"
)

// csMessage is one customer-service message the test API received.
type csMessage struct {
	Token, To, Content string
}

// api is a WeChat API speaking the real wire format: GET /cgi-bin/token and
// POST /cgi-bin/message/custom/send?access_token=..., JSON with errcode.
type api struct {
	srv *httptest.Server

	mu       sync.Mutex
	tokens   int // tokens issued
	valid    map[string]bool
	msgs     []csMessage
	got      chan csMessage
	errcodes []int // answer the next sends with these
}

func newAPI(t *testing.T) *api {
	t.Helper()
	a := &api{valid: map[string]bool{}, got: make(chan csMessage, 64)}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *api) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	q := r.URL.Query()
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/cgi-bin/token":
		if q.Get("grant_type") != "client_credential" || q.Get("appid") != testAppID || q.Get("secret") != testSecret {
			fmt.Fprint(w, `{"errcode":40013,"errmsg":"invalid appid"}`)
			return
		}
		a.tokens++
		tok := fmt.Sprintf("ACCESS_TOKEN_%d", a.tokens)
		a.valid[tok] = true
		fmt.Fprintf(w, `{"access_token":%q,"expires_in":7200}`, tok)
	case r.Method == http.MethodPost && r.URL.Path == "/cgi-bin/message/custom/send":
		tok := q.Get("access_token")
		if !a.valid[tok] {
			fmt.Fprint(w, `{"errcode":40001,"errmsg":"invalid credential, access_token is invalid or not latest"}`)
			return
		}
		var body struct {
			ToUser  string `json:"touser"`
			MsgType string `json:"msgtype"`
			Text    struct {
				Content string `json:"content"`
			} `json:"text"`
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil || body.MsgType != "text" || body.ToUser == "" {
			fmt.Fprint(w, `{"errcode":44002,"errmsg":"empty post data"}`)
			return
		}
		if len(a.errcodes) > 0 {
			code := a.errcodes[0]
			a.errcodes = a.errcodes[1:]
			fmt.Fprintf(w, `{"errcode":%d,"errmsg":"failed on purpose"}`, code)
			return
		}
		m := csMessage{Token: tok, To: body.ToUser, Content: body.Text.Content}
		a.msgs = append(a.msgs, m)
		a.got <- m
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"errcode":-1,"errmsg":"no such API"}`)
	}
}

func (a *api) issued() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tokens
}

func (a *api) revoke() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.valid)
}

func (a *api) next(t *testing.T) csMessage {
	t.Helper()
	select {
	case m := <-a.got:
		return m
	case <-time.After(20 * time.Second):
		t.Fatal("no customer-service message reached the API")
	}
	return csMessage{}
}

func (a *api) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case m := <-a.got:
		t.Fatalf("unexpected customer-service message %q", m.Content)
	case <-time.After(d):
	}
}

// slowConversations delays every turn, as a slow language model would.
type slowConversations struct {
	Conversations
	delay time.Duration
}

func (s slowConversations) ReplyBound(ctx context.Context, id signoff.SessionID, in signoff.Input) (dialog.Turn, error) {
	time.Sleep(s.delay)
	return s.Conversations.ReplyBound(ctx, id, in)
}

type rig struct {
	t      *testing.T
	api    *api
	store  *redisstore.Store
	engine *dialog.Engine
	hooks  push.Notifier
	srv    *httptest.Server
	h      *Handler
	client *Client
}

type rigOpts struct {
	budget time.Duration
	delay  time.Duration
}

func newRig(t *testing.T, o rigOpts) *rig {
	t.Helper()
	addr, db := redistest.DB(t)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := redisstore.Open(t.Context(), fmt.Sprintf("redis://%s/%d", addr, db), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	r := &rig{t: t, api: newAPI(t), store: store}
	r.engine = dialog.New(store, dialog.MergeFunc(knowledge.Merge), dialog.Config{}, log)
	r.hooks = &push.Binding{Next: r.engine, Dir: store.Directory(), Now: time.Now,
		Addresses: map[string]func(signoff.Recipient) string{Kind: Address}}
	cfg := Config{Token: testToken, AppID: testAppID, Secret: testSecret, AESKey: testAESKey, APIBaseURL: r.api.srv.URL, ReplyBudget: o.budget}
	r.client = NewClient(cfg, store, nil)
	p := push.New(store, r.engine, map[signoff.DeliveryChannel]push.Sender{signoff.DeliveryWeChat: &Sender{Client: r.client}},
		push.Config{Retry: 5 * time.Second, FirstRetry: 20 * time.Millisecond}, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-p.Started():
	case err := <-done:
		t.Fatal(err)
	}
	var conv Conversations = r.engine
	if o.delay > 0 {
		conv = slowConversations{conv, o.delay}
	}
	r.h, err = New(cfg, conv, store.Directory(), store, p, log)
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.ReleaseMode)
	g := gin.New()
	r.h.Register(g)
	r.srv = httptest.NewServer(g)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *rig) open(id, openID string, locale signoff.Locale) dialog.Notice {
	r.t.Helper()
	n, err := r.hooks.Notify(r.t.Context(), signoff.OrderEvent{WebhookID: "wh-open-" + id, Type: signoff.EventOutForDelivery,
		Timestamp: time.Now(), Delivery: signoff.Delivery{ID: signoff.DeliveryID(id), Channel: signoff.DeliveryWeChat,
			Recipient: signoff.Recipient{Phone: "13900001111", Locale: locale, WeChatOpenID: signoff.Private(openID)}},
		Present: signoff.Fields{knowledge.FieldRecipient: true, knowledge.FieldChannel: true}})
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

// textXML is a plain message as WeChat posts it.
func textXML(openID, msgType, content string, msgID int64) string {
	field := "Content"
	extra := ""
	if msgType == "voice" {
		field = "Recognition"
		extra = "<MediaId><![CDATA[media_id]]></MediaId><Format><![CDATA[amr]]></Format>"
	}
	return fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>"+
		"<CreateTime>%d</CreateTime><MsgType><![CDATA[%s]]></MsgType><%s><![CDATA[%s]]></%s>%s<MsgId>%d</MsgId></xml>",
		testGH, openID, time.Now().Unix(), msgType, field, content, field, extra, msgID)
}

// post sends body signed as WeChat signs it; extra query parameters are
// added as they are.
func (r *rig) post(body string, extra url.Values, token string) (int, string) {
	r.t.Helper()
	ts, nonce := fmt.Sprint(time.Now().Unix()), "nonce123"
	q := url.Values{"timestamp": {ts}, "nonce": {nonce}, "signature": {Sign(token, ts, nonce)}, "openid": {"x"}}
	for k, v := range extra {
		q[k] = v
	}
	resp, err := http.Post(r.srv.URL+Path+"?"+q.Encode(), "text/xml", strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (r *rig) log(id string, kind string) []dialog.LogEntry {
	r.t.Helper()
	entries, err := r.store.Log(r.t.Context(), signoff.DeliveryID(id))
	if err != nil {
		r.t.Fatal(err)
	}
	var out []dialog.LogEntry
	for _, e := range entries {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func (r *rig) session(id signoff.SessionID) signoff.Session {
	r.t.Helper()
	s, _, err := r.store.LoadSession(r.t.Context(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
