package channels

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/signoff/signoff"
)

// ErrorBody is the JSON body of every error answer:
// {"error": {"code": "...", "message": "..."}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail names the problem: a stable code and a public message.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Status maps an error's kind to an HTTP status.
func Status(err error) int {
	switch {
	case errors.Is(err, signoff.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, signoff.ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, signoff.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, signoff.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, signoff.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, signoff.ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// WriteError answers c with err's status and JSON body and logs it: client
// errors at info, server errors at error. The log carries the code and the
// cause, never the request body.
func WriteError(c *gin.Context, log *slog.Logger, err error) {
	status := Status(err)
	code := signoff.ErrorCode(err)
	if status >= 500 {
		log.LogAttrs(c.Request.Context(), slog.LevelError, "request failed",
			slog.String("method", c.Request.Method), slog.String("route", c.FullPath()),
			slog.Int("status", status), slog.String("code", code), slog.Any("err", err))
	} else {
		log.LogAttrs(c.Request.Context(), slog.LevelInfo, "request refused",
			slog.String("method", c.Request.Method), slog.String("route", c.FullPath()),
			slog.Int("status", status), slog.String("code", code), slog.String("err", err.Error()))
	}
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", strconv.Itoa(2))
	}
	c.AbortWithStatusJSON(status, ErrorBody{Error: ErrorDetail{Code: code, Message: signoff.ErrorMessage(err)}})
}

// Bearer returns the recipient token: the Authorization header, or for
// EventSource, which cannot set headers, the "t" query parameter.
func Bearer(c *gin.Context, allowQuery bool) (string, error) {
	if a := c.GetHeader("Authorization"); a != "" {
		scheme, tok, ok := strings.Cut(a, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return "", signoff.Errorf(signoff.ErrUnauthorized, "bad_token", "Authorization must be \"Bearer <recipient_token>\"")
		}
		return strings.TrimSpace(tok), nil
	}
	if allowQuery {
		if t := c.Query("t"); t != "" {
			return t, nil
		}
	}
	return "", signoff.Errorf(signoff.ErrUnauthorized, "missing_token", "Authorization: Bearer <recipient_token> is required")
}

// SessionID returns the session named in the route's :id; an empty or
// oversize id is signoff.ErrNotFound, like any id no session has.
func SessionID(c *gin.Context) (signoff.SessionID, error) {
	id := c.Param("id")
	if id == "" || len(id) > 64 {
		return "", signoff.Errorf(signoff.ErrNotFound, "not_found", "no such session")
	}
	return signoff.SessionID(id), nil
}

// Credentials returns the session named in the route and the recipient
// token that must open it (see Bearer for allowQuery).
func Credentials(c *gin.Context, allowQuery bool) (signoff.SessionID, string, error) {
	id, err := SessionID(c)
	if err != nil {
		return "", "", err
	}
	token, err := Bearer(c, allowQuery)
	if err != nil {
		return "", "", err
	}
	return id, token, nil
}
