package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/signoff/signoff"
)

const chatUsage = `usage: signoffctl chat (-session ID -token T | -link URL) [-url U]

Holds the chat of one session as its recipient: prints the transcript, sends
each line typed on standard input and prints the bot's replies, with their
options as a numbered list, and the messages that arrive on their own (timeouts,
delivery updates, staff). End of input or Ctrl-C ends the chat.

flags:
`

// chatConfig says which session to chat in.
type chatConfig struct {
	URL     string // server base URL
	Session string
	Token   string // the recipient's bearer token; never printed
}

// sessionView is the answer of GET /v1/sessions/{id}.
type sessionView struct {
	SessionID  string            `json:"session_id"`
	DeliveryID string            `json:"delivery_id"`
	Locale     string            `json:"locale"`
	State      string            `json:"state"`
	Outcome    string            `json:"outcome"`
	Transcript []signoff.Message `json:"transcript"`
}

// replyAnswer is the answer of POST /v1/sessions/{id}/messages.
type replyAnswer struct {
	Replies []struct {
		Text    string           `json:"text"`
		Options []signoff.Option `json:"options"`
	} `json:"replies"`
	State   string `json:"state"`
	Outcome string `json:"outcome"`
}

// posted is the data of one event of /v1/sessions/{id}/stream: a transcript
// line and its index in the transcript.
type posted struct {
	Seq     int             `json:"seq"`
	Message signoff.Message `json:"message"`
}

func runChat(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("chat", chatUsage, stderr)
	var c chatConfig
	var link string
	fs.StringVar(&c.URL, "url", "", "server base URL (default the -link's, else $"+envURL+" or "+defaultURL+")")
	fs.StringVar(&c.Session, "session", "", "session id")
	fs.StringVar(&c.Token, "token", "", "the recipient's token")
	fs.StringVar(&link, "link", "", "the recipient's link <base>/r/<session>?t=<token>, instead of -session and -token")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if link != "" {
		base, id, token, err := parseLink(link)
		if err != nil {
			return err
		}
		if c.URL == "" {
			c.URL = base
		}
		if c.Session == "" {
			c.Session = id
		}
		if c.Token == "" {
			c.Token = token
		}
	}
	c.URL = orEnv(c.URL, getenv, envURL, defaultURL)
	if c.Session == "" || c.Token == "" {
		fmt.Fprintln(stderr, "chat needs -session and -token, or -link")
		fs.Usage()
		return errUsage
	}
	base, err := baseURL(c.URL)
	if err != nil {
		return err
	}
	// No client timeout: the stream is long-lived. Each plain request has
	// its own deadline.
	api := &apiClient{http: &http.Client{}, base: base + "/v1/sessions/" + url.PathEscape(c.Session), token: c.Token}
	return chat(ctx, api, stdin, stdout, stderr)
}

// parseLink splits a recipient link <base>/r/<session>?t=<token> into its
// parts.
func parseLink(link string) (base, session, token string, err error) {
	u, err := url.Parse(link)
	if err != nil {
		return "", "", "", fmt.Errorf("bad -link: %v", err)
	}
	i := strings.LastIndex(u.Path, "/r/")
	token = u.Query().Get("t")
	if u.Host == "" || i < 0 || token == "" {
		return "", "", "", errors.New("bad -link: want <base>/r/<session_id>?t=<token>")
	}
	session = strings.Trim(u.Path[i+len("/r/"):], "/")
	if session == "" || strings.Contains(session, "/") {
		return "", "", "", errors.New("bad -link: want <base>/r/<session_id>?t=<token>")
	}
	b := url.URL{Scheme: u.Scheme, User: u.User, Host: u.Host, Path: u.Path[:i]}
	return b.String(), session, token, nil
}

// requestTimeout bounds each chat request other than the stream.
const requestTimeout = 30 * time.Second

// chat runs one chat until stdin ends or ctx is done, both of which end it
// without error. It fails when the session cannot be read at the start or
// the server refuses the token or no longer knows the session.
//
// This goroutine owns the terminal: it alone writes stdout and stderr. The
// stream follower and the line reader post to it over channels.
func chat(ctx context.Context, api *apiClient, stdin io.Reader, stdout, stderr io.Writer) error {
	var view sessionView
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	err := api.call(rctx, http.MethodGet, "", nil, &view)
	cancel()
	if err != nil {
		return fmt.Errorf("reading the session: %w", err)
	}
	p := newChatPrinter(stdout)
	p.session(view)

	ctx, cancel = context.WithCancel(ctx)
	events := make(chan streamNote, 16)
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		follow(ctx, api, p.lastSeq, events)
	}()
	defer func() {
		cancel()
		<-followed
	}()

	// The line reader ends at the end of stdin, or, once chat has
	// returned, at the next line it reads: a blocked read of a terminal
	// cannot be interrupted.
	lines := make(chan inputLine)
	done := make(chan struct{})
	defer close(done)
	go readLines(stdin, lines, done)

	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-events:
			if n.err != nil {
				fmt.Fprintf(stderr, "live updates: %v\n", n.err)
				continue
			}
			p.streamed(n.msg)
		case in := <-lines:
			if in.err != nil {
				if errors.Is(in.err, io.EOF) {
					return nil
				}
				return fmt.Errorf("reading input: %w", in.err)
			}
			text := strings.TrimSpace(in.text)
			if text == "" {
				continue
			}
			var answer replyAnswer
			rctx, rcancel := context.WithTimeout(ctx, requestTimeout)
			err := api.call(rctx, http.MethodPost, "/messages", map[string]string{"text": text}, &answer)
			rcancel()
			if ctx.Err() != nil {
				return nil
			}
			var ae *apiError
			switch {
			case errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden ||
				ae.Status == http.StatusNotFound || ae.Status == http.StatusGone):
				return err
			case err != nil:
				fmt.Fprintf(stderr, "not sent: %v\n", err)
				continue
			}
			p.answered(answer)
		}
	}
}

// inputLine is one line of stdin, or the error that ended it.
type inputLine struct {
	text string
	err  error
}

// readLines posts each line of r to lines, then the error that ended r
// (io.EOF at its end). It returns after that, or as soon as done is closed.
func readLines(r io.Reader, lines chan<- inputLine, done <-chan struct{}) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		select {
		case lines <- inputLine{text: sc.Text()}:
		case <-done:
			return
		}
	}
	err := sc.Err()
	if err == nil {
		err = io.EOF
	}
	select {
	case lines <- inputLine{err: err}:
	case <-done:
	}
}

// chatPrinter prints a chat and remembers enough to print each message once
// although replies arrive twice: in the answer to the POST and again on the
// stream.
type chatPrinter struct {
	w io.Writer
	// lastSeq is the index of the newest transcript line printed; the
	// stream's older lines (a replay after reconnecting) are dropped.
	lastSeq int
	// pending counts, by speaker and text, the replies printed from POST
	// answers whose copy on the stream is still to come, and is dropped.
	pending  map[msgKey]int
	npending int
}

type msgKey struct {
	from signoff.Speaker
	text string
}

// maxPending bounds pending for a stream that never delivers.
const maxPending = 256

func newChatPrinter(w io.Writer) *chatPrinter {
	return &chatPrinter{w: w, lastSeq: -1, pending: make(map[msgKey]int)}
}

// session prints the head of a session and its transcript.
func (p *chatPrinter) session(v sessionView) {
	fmt.Fprintf(p.w, "session %s · delivery %s · %s\n", v.SessionID, v.DeliveryID, v.Locale)
	for _, m := range v.Transcript {
		p.message(m)
	}
	p.lastSeq = len(v.Transcript) - 1
	p.status(v.State, v.Outcome)
}

// answered prints the answer to a typed line.
func (p *chatPrinter) answered(a replyAnswer) {
	for _, r := range a.Replies {
		p.message(signoff.Message{From: signoff.FromBot, Text: r.Text, Options: r.Options})
		p.expect(msgKey{signoff.FromBot, r.Text})
	}
	p.status(a.State, a.Outcome)
}

// streamed prints a line from the stream unless it was printed already.
// The recipient's own lines are never printed from the stream: they were
// typed here (the server does not send them anyway).
func (p *chatPrinter) streamed(m posted) {
	if m.Seq <= p.lastSeq {
		return
	}
	p.lastSeq = m.Seq
	if m.Message.From == signoff.FromRecipient {
		return
	}
	k := msgKey{m.Message.From, m.Message.Text}
	if p.pending[k] > 0 {
		p.pending[k]--
		p.npending--
		if p.pending[k] == 0 {
			delete(p.pending, k)
		}
		return
	}
	p.message(m.Message)
}

func (p *chatPrinter) expect(k msgKey) {
	if p.npending >= maxPending {
		clear(p.pending)
		p.npending = 0
	}
	p.pending[k]++
	p.npending++
}

func (p *chatPrinter) message(m signoff.Message) {
	who := string(m.From)
	if m.From == signoff.FromRecipient {
		who = "you"
	}
	fmt.Fprintf(p.w, "%s: %s\n", who, m.Text)
	for _, o := range m.Options {
		fmt.Fprintf(p.w, "   %s. %s\n", o.Key, o.Label)
	}
}

func (p *chatPrinter) status(state, outcome string) {
	if outcome != "" {
		fmt.Fprintf(p.w, "   [%s · %s]\n", state, outcome)
	} else if state != "" {
		fmt.Fprintf(p.w, "   [%s]\n", state)
	}
}

// streamNote is what the stream follower posts: a transcript line, or a
// problem with the stream worth telling.
type streamNote struct {
	msg posted
	err error
}

// Stream limits: the largest event accepted, and the longest wait between
// reconnections.
const (
	maxStreamEvent = 1 << 20
	maxBackoff     = 30 * time.Second
)

// follow reads the session's event stream and posts its lines to notes
// until ctx is done, reconnecting after a break with Last-Event-ID so that
// nothing is missed. It gives up for good when the server answers with a
// client error (no such stream, token refused).
func follow(ctx context.Context, api *apiClient, last int, notes chan<- streamNote) {
	post := func(n streamNote) bool {
		select {
		case notes <- n:
			return true
		case <-ctx.Done():
			return false
		}
	}
	wait := time.Second
	for {
		err := followOnce(ctx, api, &last, post, &wait)
		if ctx.Err() != nil {
			return
		}
		var ae *apiError
		if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != http.StatusTooManyRequests {
			post(streamNote{err: fmt.Errorf("%w; messages that arrive on their own will not be shown", err)})
			return
		}
		if !post(streamNote{err: fmt.Errorf("%v; reconnecting in %v", err, wait)}) {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(wait*2, maxBackoff)
	}
}

// followOnce reads the stream from one connection until it breaks, and
// returns why. It updates *last with the newest seq posted, and sets *wait
// to the stream's retry: hint (or a second) once connected.
func followOnce(ctx context.Context, api *apiClient, last *int, post func(streamNote) bool, wait *time.Duration) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api.base+"/stream", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+api.token)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	// -1 (an empty transcript) asks for everything.
	req.Header.Set("Last-Event-ID", strconv.Itoa(*last))
	resp, err := api.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return apiErrorFrom(resp.StatusCode, body)
	}
	*wait = time.Second
	sse := newSSEReader(resp.Body, maxStreamEvent)
	for {
		ev, err := sse.Next()
		if sse.Retry > 0 {
			*wait = sse.Retry
		}
		if errors.Is(err, io.EOF) {
			return errors.New("stream closed by the server")
		}
		if err != nil {
			return err
		}
		var m posted
		if json.Unmarshal([]byte(ev.Data), &m) != nil || m.Message.From == "" {
			continue // not a transcript line: another kind of event
		}
		// The printer drops what it has seen; *last only says where to
		// resume.
		*last = max(*last, m.Seq)
		if !post(streamNote{msg: m}) {
			return ctx.Err()
		}
	}
}
