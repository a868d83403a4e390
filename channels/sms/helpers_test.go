package sms

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
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "test-auth-token-0123456789"
	testFrom  = "+15005550006"
)

// sent is one message the test provider received.
type sent struct {
	SID, To, From, Body, StatusCallback string
}

// provider is a Twilio-compatible Messages API: form-encoded POST to
// /2010-04-01/Accounts/{sid}/Messages.json with basic auth, JSON answers.
type provider struct {
	srv *httptest.Server

	mu    sync.Mutex
	msgs  []sent
	fails []int // statuses to answer the next sends with
	n     int
	got   chan sent
}

func newProvider(t testing.TB) *provider {
	t.Helper()
	p := &provider{got: make(chan sent, 64)}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	want := "/2010-04-01/Accounts/" + testSID + "/Messages.json"
	user, pass, ok := r.BasicAuth()
	if r.Method != http.MethodPost || r.URL.Path != want {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"code":20404,"message":"The requested resource was not found","status":404}`)
		return
	}
	if !ok || user != testSID || pass != testToken {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code":20003,"message":"Authenticate","status":401}`)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"code":20001,"message":"bad content type %s","status":400}`, ct)
		return
	}
	b, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(b))
	if err != nil || form.Get("To") == "" || form.Get("Body") == "" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"code":21604,"message":"A 'To' phone number is required.","status":400}`)
		return
	}
	p.mu.Lock()
	if len(p.fails) > 0 {
		st := p.fails[0]
		p.fails = p.fails[1:]
		p.mu.Unlock()
		w.WriteHeader(st)
		code := 20500
		if st == http.StatusBadRequest {
			code = 21211
		}
		fmt.Fprintf(w, `{"code":%d,"message":"failed on purpose","status":%d}`, code, st)
		return
	}
	p.n++
	m := sent{SID: fmt.Sprintf("SM%032d", p.n), To: form.Get("To"), From: form.Get("From"), Body: form.Get("Body"),
		StatusCallback: form.Get("StatusCallback")}
	p.msgs = append(p.msgs, m)
	p.mu.Unlock()
	p.got <- m
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"sid": m.SID, "status": "queued", "to": m.To, "from": m.From, "body": m.Body})
}

func (p *provider) failNext(statuses ...int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fails = append(p.fails, statuses...)
}

func (p *provider) messages() []sent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]sent(nil), p.msgs...)
}

// next waits for the next message the provider receives.
func (p *provider) next(t testing.TB) sent {
	t.Helper()
	select {
	case m := <-p.got:
		return m
	case <-time.After(20 * time.Second):
		t.Fatal("no text message reached the provider")
	}
	return sent{}
}

// quiet asserts no message reaches the provider for a while.
func (p *provider) quiet(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case m := <-p.got:
		t.Fatalf("unexpected text message %q to %s", m.Body, m.To)
	case <-time.After(d):
	}
}

// node is one Signoff node: its own store client, engine, pusher and
// handler, on the shared Redis database.
type node struct {
	store  *redisstore.Store
	engine *dialog.Engine
	hooks  push.Notifier
	srv    *httptest.Server
	h      *Handler
}

type rig struct {
	t     testing.TB
	prov  *provider
	nodes []*node
	cfg   Config
}

func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// newRig starts n nodes on one fresh database of the shared redis-server.
func newRig(t testing.TB, n int) *rig {
	t.Helper()
	addr, db := redistest.DB(t)
	r := &rig{t: t, prov: newProvider(t)}
	for range n {
		r.nodes = append(r.nodes, r.newNode(fmt.Sprintf("redis://%s/%d", addr, db)))
	}
	return r
}

func (r *rig) newNode(redisURL string) *node {
	t := r.t
	log := testLog(t)
	store, err := redisstore.Open(t.Context(), redisURL, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	nd := &node{store: store}
	nd.engine = dialog.New(store, dialog.MergeFunc(knowledge.Merge), dialog.Config{}, log)
	nd.hooks = &push.Binding{Next: nd.engine, Dir: store.Directory(), Now: time.Now,
		Addresses: map[string]func(signoff.Recipient) string{Kind: Address("86")}}
	gin.SetMode(gin.ReleaseMode)
	g := gin.New()
	nd.srv = httptest.NewServer(g)
	t.Cleanup(nd.srv.Close)
	cfg := Config{BaseURL: r.prov.srv.URL, AccountSID: testSID, AuthToken: testToken, From: testFrom, PublicURL: nd.srv.URL}
	r.cfg = cfg
	nd.h = New(cfg, nd.engine, store.Directory(), store, log)
	nd.h.Register(g)
	client := NewClient(cfg, nil)
	p := push.New(store, nd.engine, map[signoff.DeliveryChannel]push.Sender{signoff.DeliverySMS: &Sender{Client: client, Memory: store}},
		push.Config{Retry: 10 * time.Second, FirstRetry: 20 * time.Millisecond}, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-p.Started():
	case err := <-done:
		t.Fatal(err)
	}
	return nd
}

// open sends the opening webhook of a delivery on channel ch to node 0.
func (r *rig) open(id, phone string, locale signoff.Locale, ch signoff.DeliveryChannel) dialog.Notice {
	r.t.Helper()
	return r.notify(0, signoff.OrderEvent{WebhookID: "wh-open-" + id, Type: signoff.EventOutForDelivery, Timestamp: time.Now(),
		Delivery: signoff.Delivery{ID: signoff.DeliveryID(id), Channel: ch,
			Recipient: signoff.Recipient{Phone: signoff.Phone(phone), Locale: locale}},
		Present: signoff.Fields{knowledge.FieldRecipient: true, knowledge.FieldChannel: true}})
}

func (r *rig) notify(node int, ev signoff.OrderEvent) dialog.Notice {
	r.t.Helper()
	n, err := r.nodes[node].hooks.Notify(r.t.Context(), ev)
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

// post sends a form to path on node n, signed when sign is true.
func (r *rig) post(n int, path string, form url.Values, sign bool) (int, string) {
	r.t.Helper()
	nd := r.nodes[n]
	req, err := http.NewRequest(http.MethodPost, nd.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sig := Signature(testToken, nd.srv.URL+path, form)
	if !sign {
		sig = Signature("wrong-token", nd.srv.URL+path, form)
	}
	req.Header.Set("X-Twilio-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (r *rig) text(n int, from, body, sid string) (int, string) {
	r.t.Helper()
	return r.post(n, InboundPath, url.Values{"From": {from}, "To": {testFrom}, "Body": {body}, "MessageSid": {sid},
		"AccountSid": {testSID}, "NumMedia": {"0"}}, true)
}

// log returns the kinds of the delivery's log entries.
func (r *rig) log(id string) []dialog.LogEntry {
	r.t.Helper()
	entries, err := r.nodes[0].store.Log(r.t.Context(), signoff.DeliveryID(id))
	if err != nil {
		r.t.Fatal(err)
	}
	return entries
}

func kinds(entries []dialog.LogEntry, kind string) []dialog.LogEntry {
	var out []dialog.LogEntry
	for _, e := range entries {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// eventually polls cond until it holds.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
