package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// maxAnswer bounds what is read of one server answer.
const maxAnswer = 4 << 20

// apiError is a non-2xx answer from the server. Code and Message come from
// the JSON error body {"error": {"code", "message"}} when there is one.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("server answered %d %s: %s: %s", e.Status, http.StatusText(e.Status), e.Code, e.Message)
}

// apiErrorFrom reads the error of a non-2xx answer with the given status and
// body. A body that is not the JSON error shape gives the code "http_<status>"
// and the start of the body as message.
func apiErrorFrom(status int, body []byte) *apiError {
	var eb struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &eb) == nil && eb.Error.Code != "" {
		return &apiError{Status: status, Code: eb.Error.Code, Message: eb.Error.Message}
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 200 {
		msg = msg[:200]
		for !utf8.ValidString(msg) {
			msg = msg[:len(msg)-1]
		}
		msg += "…"
	}
	return &apiError{Status: status, Code: fmt.Sprintf("http_%d", status), Message: msg}
}

// baseURL checks that raw is an absolute http(s) URL and returns it without
// a trailing slash, ready to have API paths appended.
func baseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("bad server URL %q: %v", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("bad server URL %q: want http://host:port", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

// apiClient calls the recipient API of one session with its bearer token.
type apiClient struct {
	http  *http.Client
	base  string // from baseURL
	token string
}

// call sends method path with body (JSON, when not nil) and decodes a 2xx
// answer into out (when not nil). A non-2xx answer is an *apiError.
func (c *apiClient) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return apiErrorFrom(resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: bad answer: %w", method, path, err)
	}
	return nil
}
