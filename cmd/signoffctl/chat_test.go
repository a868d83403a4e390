package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signoff/signoff"
)

// fakeChat speaks the recipient API of one session. Unlike the real server
// its stream replays the whole transcript, recipient lines included, on every
// connection, so that the client's own filtering is what the test sees.
type fakeChat struct {
	*httptest.Server
	id, token string
	// dropFirst ends the first stream connection after its replay.
	dropFirst bool

	mu          sync.Mutex
	transcript  []signoff.Message
	subs        []chan posted
	posts       []string // the texts POSTed
	auths       []string // every Authorization header
	lastEventID []string // every stream connection's Last-Event-ID
}

var menuZH = []signoff.Option{{Key: "1", Label: "现在送上门，本人签收"}, {Key: "2", Label: "放门口"}, {Key: "0", Label: "转人工"}}

func newFakeChat(t *testing.T) *fakeChat {
	f := &fakeChat{id: "S1", token: "tok-1"}
	f.transcript = []signoff.Message{{From: signoff.FromBot, Text: "您好，您的快递今天送达。请选择：", Options: menuZH, At: time.Now()}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/sessions/{id}", f.auth(f.getSession))
	mux.HandleFunc("POST /v1/sessions/{id}/messages", f.auth(f.postMessage))
	mux.HandleFunc("GET /v1/sessions/{id}/stream", f.auth(f.stream))
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeChat) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.auths = append(f.auths, r.Header.Get("Authorization"))
		f.mu.Unlock()
		if r.PathValue("id") != f.id {
			writeJSON(w, http.StatusNotFound, `{"error":{"code":"not_found","message":"no such session"}}`)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			writeJSON(w, http.StatusUnauthorized, `{"error":{"code":"bad_token","message":"the token does not open this session"}}`)
			return
		}
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (f *fakeChat) getSession(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"session_id": f.id, "delivery_id": "D-1", "locale": "zh-CN",
		"state": "awaiting_choice", "outcome": nil, "transcript": f.transcript})
	writeJSON(w, http.StatusOK, string(b))
}

// say appends m to the transcript and sends it to the stream's listeners.
// The caller holds f.mu.
func (f *fakeChat) sayLocked(m signoff.Message) {
	m.At = time.Now()
	f.transcript = append(f.transcript, m)
	p := posted{Seq: len(f.transcript) - 1, Message: m}
	for _, c := range f.subs {
		c <- p // buffered generously; the test sends few lines
	}
}

func (f *fakeChat) say(m signoff.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sayLocked(m)
}

func (f *fakeChat) postMessage(w http.ResponseWriter, r *http.Request) {
	var req struct{ Text string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, `{"error":{"code":"bad_json","message":"bad body"}}`)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts = append(f.posts, req.Text)
	f.sayLocked(signoff.Message{From: signoff.FromRecipient, Text: req.Text})
	reply := signoff.Message{From: signoff.FromBot, Text: "您选择了放门口。确认请按1，重选请按9。",
		Options: []signoff.Option{{Key: "1", Label: "确认"}, {Key: "9", Label: "重选"}}}
	f.sayLocked(reply)
	b, _ := json.Marshal(map[string]any{"replies": []any{map[string]any{"text": reply.Text, "options": reply.Options}},
		"state": "confirming", "outcome": nil})
	writeJSON(w, http.StatusOK, string(b))
}

func (f *fakeChat) stream(w http.ResponseWriter, r *http.Request) {
	c := make(chan posted, 64)
	f.mu.Lock()
	f.lastEventID = append(f.lastEventID, r.Header.Get("Last-Event-ID"))
	replay := make([]posted, len(f.transcript))
	for i, m := range f.transcript {
		replay[i] = posted{Seq: i, Message: m}
	}
	f.subs = append(f.subs, c)
	drop := f.dropFirst && len(f.lastEventID) == 1
	f.mu.Unlock()

	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	send := func(p posted) {
		b, _ := json.Marshal(p)
		fmt.Fprintf(w, "id: %d\nevent: message\ndata: %s\n\n", p.Seq, b)
		w.(http.Flusher).Flush()
	}
	fmt.Fprint(w, "retry: 200\n: connected\n\nevent: state\ndata: {\"state\":\"awaiting_choice\"}\n\n")
	for _, p := range replay {
		send(p)
	}
	if drop {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case p := <-c:
			send(p)
		}
	}
}

func (f *fakeChat) snapshot() (posts, auths, lastIDs []string, subs int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.posts...), append([]string(nil), f.auths...),
		append([]string(nil), f.lastEventID...), len(f.subs)
}

func TestChat(t *testing.T) {
	f := newFakeChat(t)
	pr, pw := io.Pipe()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"chat", "-link", f.URL + "/r/S1?t=tok-1"},
			env(nil), pr, &out, &errOut)
	}()

	waitFor(t, "the greeting", &out, func() bool { return strings.Contains(out.String(), "   2. 放门口") })
	waitFor(t, "the stream", &out, func() bool { _, _, _, n := f.snapshot(); return n == 1 })

	io.WriteString(pw, "  2 \n\n")
	const reply = "您选择了放门口。确认请按1，重选请按9。"
	waitFor(t, "the reply", &out, func() bool { return strings.Contains(out.String(), "   9. 重选") })

	const pushed = "快递员已到楼下，请开门。"
	f.say(signoff.Message{From: signoff.FromStaff, Text: pushed})
	waitFor(t, "the pushed line", &out, func() bool { return strings.Contains(out.String(), pushed) })
	pw.Close()

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("chat: %v\nstderr: %s", err, errOut.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("chat did not end at the end of input")
	}

	o := out.String()
	for _, c := range []struct {
		text string
		n    int
	}{
		{"bot: 您好，您的快递今天送达。请选择：\n", 1},
		{"   1. 现在送上门，本人签收\n   2. 放门口\n   0. 转人工\n", 1},
		{"bot: " + reply + "\n   1. 确认\n   9. 重选\n", 1},
		{"[confirming]", 1},
		{"staff: " + pushed + "\n", 1},
		{"you: 2", 0}, // typed here, not echoed from the stream
		{"session S1 · delivery D-1 · zh-CN", 1},
	} {
		if got := strings.Count(o, c.text); got != c.n {
			t.Errorf("%q printed %d times, want %d; output:\n%s", c.text, got, c.n, o)
		}
	}
	if strings.Index(o, reply) > strings.Index(o, pushed) {
		t.Errorf("the pushed line came before the reply:\n%s", o)
	}
	posts, auths, lastIDs, _ := f.snapshot()
	if len(posts) != 1 || posts[0] != "2" {
		t.Errorf("got posts %q, want [\"2\"] (trimmed, blank lines skipped)", posts)
	}
	for _, a := range auths {
		if a != "Bearer tok-1" {
			t.Errorf("got Authorization %q, want Bearer tok-1", a)
		}
	}
	if len(lastIDs) != 1 || lastIDs[0] != "0" {
		t.Errorf("got Last-Event-ID %q, want [\"0\"]", lastIDs)
	}
	if strings.Contains(errOut.String(), "tok-1") {
		t.Errorf("stderr shows the token:\n%s", errOut.String())
	}
}

func TestChatReconnects(t *testing.T) {
	f := newFakeChat(t)
	f.dropFirst = true
	pr, pw := io.Pipe()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"chat", "-url", f.URL, "-session", "S1", "-token", "tok-1"},
			env(nil), pr, &out, &errOut)
	}()
	waitFor(t, "a second stream", &out, func() bool { _, _, _, n := f.snapshot(); return n == 2 })
	const pushed = "改约成功：明天上午。"
	f.say(signoff.Message{From: signoff.FromBot, Text: pushed})
	waitFor(t, "the pushed line", &out, func() bool { return strings.Contains(out.String(), pushed) })
	pw.Close()
	if err := <-done; err != nil {
		t.Fatalf("chat: %v", err)
	}
	if n := strings.Count(out.String(), "bot: "); n != 2 {
		t.Errorf("got %d bot lines, want 2 (greeting and the pushed line):\n%s", n, out.String())
	}
	if _, _, ids, _ := f.snapshot(); !slices.Equal(ids, []string{"0", "0"}) {
		t.Errorf("got Last-Event-IDs %q, want [0 0]", ids)
	}
	if !strings.Contains(errOut.String(), "reconnecting") {
		t.Errorf("stderr does not tell of the break:\n%s", errOut.String())
	}
}

func TestChatEndsWithContext(t *testing.T) {
	f := newFakeChat(t)
	pr, pw := io.Pipe() // never written: only the context can end the chat
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"chat", "-url", f.URL, "-session", "S1", "-token", "tok-1"}, env(nil), pr, &out, &errOut)
	}()
	waitFor(t, "the stream", &out, func() bool { _, _, _, n := f.snapshot(); return n == 1 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("got %v, want a clean end", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("chat did not end with its context")
	}
}

func TestChatRefused(t *testing.T) {
	f := newFakeChat(t)
	tests := []struct {
		name, session, token, wantCode string
	}{
		{"bad token", "S1", "wrong", "bad_token"},
		{"no such session", "S2", "tok-1", "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut syncBuffer
			err := run(context.Background(), []string{"chat", "-url", f.URL, "-session", tt.session, "-token", tt.token},
				env(nil), strings.NewReader("1\n"), &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tt.wantCode) {
				t.Fatalf("got error %v, want one naming %s", err, tt.wantCode)
			}
		})
	}
}

func TestParseLink(t *testing.T) {
	tests := []struct {
		link                 string
		base, session, token string
		wantErr              bool
	}{
		{link: "http://127.0.0.1:8080/r/S1?t=abc", base: "http://127.0.0.1:8080", session: "S1", token: "abc"},
		{link: "https://x.example/signoff/r/s%2D9/?t=a%2Bb", base: "https://x.example/signoff", session: "s-9", token: "a+b"},
		{link: "http://h/r/S1", wantErr: true},
		{link: "http://h/x/S1?t=a", wantErr: true},
		{link: "/r/S1?t=a", wantErr: true},
		{link: "http://h/r/?t=a", wantErr: true},
		{link: "http://h/r/a/b?t=a", wantErr: true},
	}
	for _, tt := range tests {
		base, session, token, err := parseLink(tt.link)
		if tt.wantErr {
			if err == nil {
				t.Errorf("parseLink(%q): got no error, want one", tt.link)
			}
			continue
		}
		if err != nil || base != tt.base || session != tt.session || token != tt.token {
			t.Errorf("parseLink(%q) = %q, %q, %q, %v; want %q, %q, %q", tt.link, base, session, token, err,
				tt.base, tt.session, tt.token)
		}
	}
}

// TestChatPrinter checks the printer's bookkeeping on its own: which stream
// lines it prints.
func TestChatPrinter(t *testing.T) {
	bot := func(seq int, text string) posted {
		return posted{Seq: seq, Message: signoff.Message{From: signoff.FromBot, Text: text}}
	}
	var out syncBuffer
	p := newChatPrinter(&out)
	p.session(sessionView{Transcript: []signoff.Message{{From: signoff.FromBot, Text: "hello"}}})
	var a replyAnswer
	json.Unmarshal([]byte(`{"replies":[{"text":"menu"},{"text":"menu"}],"state":"awaiting_choice"}`), &a)
	p.answered(a)
	for _, m := range []posted{
		bot(0, "hello"), // replayed: seq already seen
		{Seq: 1, Message: signoff.Message{From: signoff.FromRecipient, Text: "9"}},
		bot(2, "menu"), bot(3, "menu"), // copies of the answer
		bot(4, "menu"), // a third one: sent on its own
		bot(4, "menu"), // and its duplicate
		bot(5, "timeout"),
	} {
		p.streamed(m)
	}
	const want = "session  · delivery  · \nbot: hello\nbot: menu\nbot: menu\n   [awaiting_choice]\nbot: menu\nbot: timeout\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
