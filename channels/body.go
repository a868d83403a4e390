package channels

import (
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/signoff/signoff"
)

// Unsupported answers 415 with the JSON error body, naming the media type
// the route takes, and logs the refusal.
func Unsupported(c *gin.Context, log *slog.Logger, want string) {
	log.LogAttrs(c.Request.Context(), slog.LevelInfo, "request refused",
		slog.String("method", c.Request.Method), slog.String("route", c.FullPath()),
		slog.Int("status", http.StatusUnsupportedMediaType), slog.String("code", "unsupported_media_type"))
	c.AbortWithStatusJSON(http.StatusUnsupportedMediaType, ErrorBody{Error: ErrorDetail{
		Code: "unsupported_media_type", Message: "the body must be " + want}})
}

// HasType reports whether the request's Content-Type is want, parameters
// aside.
func HasType(c *gin.Context, want string) bool {
	t, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	return err == nil && strings.EqualFold(t, want)
}

// ReadBody reads the request body up to limit bytes. A longer body is an
// error of kind signoff.ErrTooLarge (body_too_large), a failed read one of
// kind signoff.ErrInvalid (bad_body).
func ReadBody(c *gin.Context, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(c.Request.Body, limit+1))
	if err != nil {
		return nil, signoff.Wrap(signoff.ErrInvalid, "bad_body", "the body could not be read", err)
	}
	if int64(len(b)) > limit {
		return nil, signoff.Errorf(signoff.ErrTooLarge, "body_too_large", "the body is over %d bytes", limit)
	}
	return b, nil
}
