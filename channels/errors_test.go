package channels

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
)

func TestStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{signoff.Errorf(signoff.ErrInvalid, "bad_json", "x"), 400},
		{signoff.Errorf(signoff.ErrUnauthorized, "bad_token", "x"), 401},
		{signoff.Errorf(signoff.ErrNotFound, "not_found", "x"), 404},
		{signoff.Errorf(signoff.ErrConflict, "conflict", "x"), 409},
		{signoff.Errorf(signoff.ErrTooLarge, "body_too_large", "x"), 413},
		{signoff.Wrap(signoff.ErrUnavailable, "redis_unavailable", "x", errors.New("dial")), 503},
		{errors.New("boom"), 500},
	}
	for _, tt := range tests {
		if got := Status(tt.err); got != tt.want {
			t.Errorf("Status(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

// TestCredentials: the route's session and the bearer token, or a JSON error
// naming what is wrong; a 503 says when to retry and never shows the cause.
func TestCredentials(t *testing.T) {
	gin.SetMode(gin.TestMode)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := gin.New()
	r.GET("/s/:id", func(c *gin.Context) {
		id, token, err := Credentials(c, c.Query("q") == "1")
		if err != nil {
			WriteError(c, log, err)
			return
		}
		if token == "secret-fail" {
			WriteError(c, log, signoff.Wrap(signoff.ErrUnavailable, "redis_unavailable", "redis is not reachable", errors.New("dial 10.0.0.1")))
			return
		}
		c.JSON(200, gin.H{"id": id, "token": token})
	})
	tests := []struct {
		url, auth  string
		status     int
		code, body string
	}{
		{"/s/abc", "Bearer tok", 200, "", "tok"},
		{"/s/abc", "bearer  tok ", 200, "", "tok"},
		{"/s/abc", "", 401, "missing_token", ""},
		{"/s/abc", "Basic dG9r", 401, "bad_token", ""},
		{"/s/abc?t=tok", "", 401, "missing_token", ""},
		{"/s/abc?t=tok&q=1", "", 200, "", "tok"},
		{"/s/" + string(make([]byte, 65)), "Bearer tok", 404, "not_found", ""},
		{"/s/abc", "Bearer secret-fail", 503, "redis_unavailable", ""},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("GET", "/s/x", nil)
		req.URL.Path, req.URL.RawQuery, _ = strings.Cut(tt.url, "?")
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		var body struct {
			Token string      `json:"token"`
			Error ErrorDetail `json:"error"`
		}
		json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != tt.status || body.Error.Code != tt.code || body.Token != tt.body {
			t.Errorf("%s %q: %d %s, want %d code %q token %q", tt.url, tt.auth, w.Code, w.Body, tt.status, tt.code, tt.body)
		}
		if w.Code == 503 && (w.Header().Get("Retry-After") == "" || strings.Contains(w.Body.String(), "10.0.0.1")) {
			t.Errorf("503 answer %q (Retry-After %q) must say when to retry and hide the cause", w.Body, w.Header().Get("Retry-After"))
		}
	}
}
