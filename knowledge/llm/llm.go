// Package llm is the language model adapter: any OpenAI-compatible chat
// completions server (OpenAI, vLLM, Ollama, llama.cpp) through go-openai.
// It satisfies dialog.Understander (placing a free-text reply on the menu
// with a forced tool call) and knowledge.Phraser (a streamed answer written
// from retrieved passages). Every call, retries included, is bounded by a
// timeout; only 429, 5xx and network errors are retried, with backoff; a
// circuit breaker fails fast while the model is down.
package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	openai "github.com/sashabaranov/go-openai"
	"github.com/sony/gobreaker/v2"

	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/knowledge"
	"github.com/signoff/signoff/prompts"
)

// ToolName is the one tool Understand offers, and forces.
const ToolName = "place_reply"

// DefaultTimeout bounds one call, retries included.
const DefaultTimeout = 3 * time.Second

// Config configures a Client.
type Config struct {
	BaseURL string // OPENAI_BASE_URL; empty means OpenAI's
	APIKey  string // OPENAI_API_KEY
	Model   string // SIGNOFF_LLM_MODEL; required
	Timeout time.Duration
	// HTTPClient is the client requests go through; nil means a default one.
	HTTPClient *http.Client
	// Breaker tunes the circuit breaker: it opens after BreakAfter failures
	// in a row (default 5) and lets a probe through after BreakFor (10 s).
	BreakAfter uint32
	BreakFor   time.Duration
	// Observe, when set, is called before each Understand ("understand")
	// and Phrase ("phrase") call with the call's context; the call runs on
	// the context it returns, and done is given the call's error when it is
	// over. cmd/signoffd passes the metrics' Model here.
	Observe func(ctx context.Context, op string) (context.Context, func(err error))
}

// FromEnv reads the configuration from the environment. ok is false when no
// model is named: Signoff then runs on its rules alone.
func FromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	cfg = Config{BaseURL: getenv("OPENAI_BASE_URL"), APIKey: getenv("OPENAI_API_KEY"), Model: getenv("SIGNOFF_LLM_MODEL"),
		Timeout: DefaultTimeout}
	if v := getenv("SIGNOFF_LLM_TIMEOUT"); v != "" {
		if cfg.Timeout, err = time.ParseDuration(v); err != nil || cfg.Timeout <= 0 {
			return cfg, false, fmt.Errorf("SIGNOFF_LLM_TIMEOUT %q: want a positive duration such as 3s", v)
		}
	}
	return cfg, cfg.Model != "", nil
}

// Client talks to one model. Safe for concurrent use.
type Client struct {
	api     *openai.Client
	model   string
	timeout time.Duration
	breaker *gobreaker.CircuitBreaker[struct{}]
	observe func(ctx context.Context, op string) (context.Context, func(err error))
	log     *slog.Logger
}

// New returns a client for cfg.
func New(cfg Config, log *slog.Logger) (*Client, error) {
	if cfg.Model == "" {
		return nil, errors.New("llm: no model named (SIGNOFF_LLM_MODEL)")
	}
	oc := openai.DefaultConfig(cfg.APIKey)
	if cfg.BaseURL != "" {
		if _, err := url.ParseRequestURI(cfg.BaseURL); err != nil {
			return nil, fmt.Errorf("llm: OPENAI_BASE_URL: %w", err)
		}
		oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	}
	if cfg.HTTPClient != nil {
		oc.HTTPClient = cfg.HTTPClient
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.BreakAfter == 0 {
		cfg.BreakAfter = 5
	}
	if cfg.BreakFor <= 0 {
		cfg.BreakFor = 10 * time.Second
	}
	c := &Client{api: openai.NewClientWithConfig(oc), model: cfg.Model, timeout: cfg.Timeout, observe: cfg.Observe, log: log}
	c.breaker = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "llm",
		Timeout:     cfg.BreakFor,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= cfg.BreakAfter },
		// A call its caller gave up on says nothing of the model.
		IsExcluded: func(err error) bool { return errors.Is(err, errCallerGone) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			log.Warn("llm: circuit breaker", "from", from.String(), "to", to.String())
		},
	})
	return c, nil
}

// Model names the model, for the log.
func (c *Client) Model() string { return c.model }

// Breaker returns the circuit breaker's state: closed, half-open or open.
func (c *Client) Breaker() string { return c.breaker.State().String() }

// observed starts the observer's record of one call of op, if there is an
// observer.
func (c *Client) observed(ctx context.Context, op string) (context.Context, func(error)) {
	if c.observe == nil {
		return ctx, func(error) {}
	}
	return c.observe(ctx, op)
}

var errCallerGone = errors.New("llm: the caller gave up")

// call runs op under the breaker, retrying what is worth retrying, all
// within the timeout. op is given the bounded context.
func (c *Client) call(ctx context.Context, op func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	_, err := c.breaker.Execute(func() (struct{}, error) {
		b := backoff.NewExponentialBackOff()
		b.InitialInterval, b.MaxInterval = 50*time.Millisecond, 500*time.Millisecond
		_, err := backoff.Retry(ctx, func() (struct{}, error) {
			err := op(ctx)
			if err != nil && !retryable(ctx, err) {
				return struct{}{}, backoff.Permanent(err)
			}
			return struct{}{}, err
		}, backoff.WithBackOff(b), backoff.WithMaxElapsedTime(c.timeout))
		if err != nil && ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("%w: %w", errCallerGone, err)
		}
		if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		}
		return struct{}{}, err
	})
	return err
}

// retryable: 429, 5xx and network failures, while time is left.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var api *openai.APIError
	if errors.As(err, &api) {
		return api.HTTPStatusCode == http.StatusTooManyRequests || api.HTTPStatusCode >= 500
	}
	var req *openai.RequestError
	if errors.As(err, &req) {
		return req.HTTPStatusCode == http.StatusTooManyRequests || req.HTTPStatusCode >= 500
	}
	var ue *url.Error
	return errors.As(err, &ue)
}

// Understand places req.Text on the options offered now with the forced
// tool call place_reply, whose choice enum is exactly the offered keys plus
// "question" and "unclear". A key outside it, malformed arguments or no
// tool call at all is an error.
func (c *Client) Understand(ctx context.Context, req dialog.UnderstandRequest) (u dialog.Understanding, err error) {
	ctx, done := c.observed(ctx, "understand")
	defer func() { done(err) }()
	cat := prompts.For(req.Locale)
	allowed := make([]string, 0, len(req.Offered)+2)
	var opts strings.Builder
	for _, o := range req.Offered {
		allowed = append(allowed, o.Key)
		fmt.Fprintf(&opts, "%s: %s\n", o.Key, o.Label)
	}
	allowed = append(allowed, dialog.ChoiceQuestion, dialog.ChoiceUnclear)
	params, err := json.Marshal(map[string]any{
		"type": "object",
		"properties": map[string]any{
			"choice": map[string]any{"type": "string", "enum": allowed, "description": cat.Text("llm.understand.choice")},
		},
		"required":             []string{"choice"},
		"additionalProperties": false,
	})
	if err != nil {
		return dialog.Understanding{}, err
	}
	creq := openai.ChatCompletionRequest{
		Model: c.model,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: cat.Text("llm.understand.system")},
			{Role: openai.ChatMessageRoleUser, Content: cat.Text("llm.understand.user", "prompt", req.Prompt,
				"options", strings.TrimSpace(opts.String()), "text", req.Text)},
		},
		Tools: []openai.Tool{{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
			Name: ToolName, Description: cat.Text("llm.understand.tool"), Parameters: json.RawMessage(params)}}},
		ToolChoice: openai.ToolChoice{Type: openai.ToolTypeFunction, Function: openai.ToolFunction{Name: ToolName}},
		MaxTokens:  60,
	}
	var choice string
	err = c.call(ctx, func(ctx context.Context) error {
		resp, err := c.api.CreateChatCompletion(ctx, creq)
		if err != nil {
			return err
		}
		if len(resp.Choices) == 0 {
			return errors.New("llm: an answer without choices")
		}
		calls := resp.Choices[0].Message.ToolCalls
		if len(calls) != 1 || calls[0].Function.Name != ToolName {
			return fmt.Errorf("llm: want one call of %s, got %d tool calls", ToolName, len(calls))
		}
		choice, err = ParseChoice(calls[0].Function.Arguments, allowed)
		return err
	})
	if err != nil {
		return dialog.Understanding{}, err
	}
	return dialog.Understanding{Choice: choice, Model: c.model}, nil
}

// ParseChoice reads the arguments of a place_reply call: a JSON object
// whose "choice" is one of allowed. Anything else is an error.
func ParseChoice(args string, allowed []string) (string, error) {
	var a struct {
		Choice *string `json:"choice"`
	}
	dec := json.NewDecoder(strings.NewReader(args))
	if err := dec.Decode(&a); err != nil {
		return "", fmt.Errorf("llm: %s arguments are not a JSON object: %w", ToolName, err)
	}
	if dec.More() {
		return "", fmt.Errorf("llm: %s arguments: text after the object", ToolName)
	}
	if a.Choice == nil {
		return "", fmt.Errorf("llm: %s arguments lack choice", ToolName)
	}
	c := strings.TrimSpace(*a.Choice)
	if !slices.Contains(allowed, c) {
		return "", fmt.Errorf("llm: choice %s is not offered", strconv.QuoteToASCII(truncate(c, 40)))
	}
	return c, nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// Phrase writes the answer to req from its passages, streamed: each
// sentence goes to sentence as soon as its end mark has arrived and the
// next character shows it is over. A call that fails after a sentence was
// handed on is not retried (it cannot be unsaid).
func (c *Client) Phrase(ctx context.Context, req knowledge.PhraseRequest, sentence func(string)) (_ string, err error) {
	ctx, done := c.observed(ctx, "phrase")
	defer func() { done(err) }()
	cat := prompts.For(req.Locale)
	var passages strings.Builder
	for i, p := range req.Passages {
		fmt.Fprintf(&passages, "[%d] %s\n", i+1, p)
	}
	most := req.Sentences
	if most <= 0 {
		most = 3
	}
	creq := openai.ChatCompletionRequest{
		Model: c.model,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: cat.Text("llm.phrase.system", "sentences", strconv.Itoa(most))},
			{Role: openai.ChatMessageRoleUser, Content: cat.Text("llm.phrase.user", "passages", strings.TrimSpace(passages.String()),
				"question", req.Question)},
		},
		MaxTokens: 200,
		Stream:    true,
	}
	var all strings.Builder
	err = c.call(ctx, func(ctx context.Context) error {
		all.Reset()
		said := false
		sp := knowledge.NewSplitter(func(s string) { said = true; sentence(s) })
		stream, err := c.api.CreateChatCompletionStream(ctx, creq)
		if err != nil {
			return err
		}
		defer stream.Close()
		for {
			resp, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				sp.Close()
				return nil
			}
			if err != nil {
				if said {
					return backoff.Permanent(err)
				}
				return err
			}
			for _, ch := range resp.Choices {
				all.WriteString(ch.Delta.Content)
				sp.Write(ch.Delta.Content)
			}
		}
	})
	return all.String(), err
}
