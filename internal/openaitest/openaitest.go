// Package openaitest is an OpenAI-compatible chat completions server for
// tests: it speaks the real wire format (JSON bodies, server-sent events
// for streams, tool calls) and answers as each test scripts it.
package openaitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one chat completion request as received.
type Request struct {
	Body   []byte // the raw JSON body
	Auth   string // the Authorization header
	Model  string
	Stream bool
	// Messages are the request's messages, role and content.
	Messages []Message
	// Tools are the tool definitions as sent, raw.
	Tools []json.RawMessage
	// ToolChoice is the tool_choice field as sent, raw.
	ToolChoice json.RawMessage
}

// Message is one chat message of a request.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Text is every message's content joined, for searching.
func (r Request) Text() string {
	var b strings.Builder
	for _, m := range r.Messages {
		b.WriteString(m.Content)
		b.WriteByte('\n')
	}
	return b.String()
}

// Reply is what the server answers to one request.
type Reply struct {
	// Status, when not 0 or 200, is an error status with an OpenAI error
	// body.
	Status int
	// Delay holds the answer back (or until the client gives up).
	Delay time.Duration
	// ToolName and ToolArgs make the answer one tool call; ToolArgs is sent
	// as it is, even when it is not JSON.
	ToolName, ToolArgs string
	// Content is a plain answer.
	Content string
	// Tokens make the answer a stream of these content pieces, one event
	// each, TokenDelay apart.
	Tokens     []string
	TokenDelay time.Duration
	// Drop closes the connection without an answer.
	Drop bool
}

// ToolCall is a reply that calls tool name with args.
func ToolCall(name, args string) Reply { return Reply{ToolName: name, ToolArgs: args} }

// Stream is a reply streamed in tokens, delay apart.
func Stream(delay time.Duration, tokens ...string) Reply {
	return Reply{Tokens: tokens, TokenDelay: delay}
}

// Server is a scripted OpenAI-compatible server.
type Server struct {
	srv      *httptest.Server
	mu       sync.Mutex
	script   func(Request) Reply
	requests []Request
	sent     [][]time.Time // per streamed request, when each token was flushed
}

// New starts a server answering with script; it stops when the test ends.
func New(t testing.TB, script func(Request) Reply) *Server {
	s := &Server{script: script}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// URL is the base URL a client is given: it ends in /v1.
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Close stops the server, ending any answer held back.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Script replaces how the server answers.
func (s *Server) Script(script func(Request) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = script
}

// TokenTimes returns, for the last streamed answer, when each content token
// was flushed to the client.
func (s *Server) TokenTimes() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sent) == 0 {
		return nil
	}
	return append([]time.Time(nil), s.sent[len(s.sent)-1]...)
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		writeError(w, http.StatusNotFound, "not_found", "unknown route "+r.URL.Path)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	var raw struct {
		Model      string            `json:"model"`
		Stream     bool              `json:"stream"`
		Messages   []Message         `json:"messages"`
		Tools      []json.RawMessage `json:"tools"`
		ToolChoice json.RawMessage   `json:"tool_choice"`
	}
	if err := json.Unmarshal(body, &raw); err != nil || raw.Model == "" || len(raw.Messages) == 0 {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "a model and messages are required")
		return
	}
	req := Request{Body: body, Auth: r.Header.Get("Authorization"), Model: raw.Model, Stream: raw.Stream,
		Messages: raw.Messages, Tools: raw.Tools, ToolChoice: raw.ToolChoice}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	script := s.script
	s.mu.Unlock()
	rep := script(req)

	if rep.Delay > 0 {
		select {
		case <-time.After(rep.Delay):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case rep.Drop:
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
			}
		}
		return
	case rep.Status != 0 && rep.Status != http.StatusOK:
		writeError(w, rep.Status, "server_error", fmt.Sprintf("scripted status %d", rep.Status))
		return
	case raw.Stream:
		s.stream(w, r, req, rep)
		return
	}
	msg := map[string]any{"role": "assistant", "content": rep.Content}
	finish := "stop"
	if rep.ToolName != "" {
		msg["content"] = nil
		msg["tool_calls"] = []any{map[string]any{"id": "call_1", "type": "function",
			"function": map[string]any{"name": rep.ToolName, "arguments": rep.ToolArgs}}}
		finish = "tool_calls"
	} else if len(rep.Tokens) > 0 {
		msg["content"] = strings.Join(rep.Tokens, "")
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-test", "object": "chat.completion", "created": time.Now().Unix(), "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
		"usage":   map[string]any{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
	})
}

func (s *Server) stream(w http.ResponseWriter, r *http.Request, req Request, rep Reply) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl, _ := w.(http.Flusher)
	send := func(delta map[string]any, finish any) {
		b, _ := json.Marshal(map[string]any{
			"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": time.Now().Unix(), "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		})
		fmt.Fprintf(w, "data: %s\n\n", b)
		if fl != nil {
			fl.Flush()
		}
	}
	tokens := rep.Tokens
	if len(tokens) == 0 && rep.Content != "" {
		tokens = []string{rep.Content}
	}
	send(map[string]any{"role": "assistant", "content": ""}, nil)
	s.mu.Lock()
	s.sent = append(s.sent, nil)
	n := len(s.sent) - 1
	s.mu.Unlock()
	for i, tok := range tokens {
		if i > 0 && rep.TokenDelay > 0 {
			select {
			case <-time.After(rep.TokenDelay):
			case <-r.Context().Done():
				return
			}
		}
		send(map[string]any{"content": tok}, nil)
		s.mu.Lock()
		s.sent[n] = append(s.sent[n], time.Now())
		s.mu.Unlock()
	}
	send(map[string]any{}, "stop")
	fmt.Fprint(w, "data: [DONE]\n\n")
	if fl != nil {
		fl.Flush()
	}
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "code": nil}})
}
