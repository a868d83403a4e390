package channels

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/signoff/signoff"
)

func TestBody(t *testing.T) {
	gin.SetMode(gin.TestMode)
	ctx := func(ct, body string) (*gin.Context, *httptest.ResponseRecorder) {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		c.Request = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		c.Request.Header.Set("Content-Type", ct)
		return c, w
	}
	for ct, want := range map[string]bool{"application/sdp": true, "Application/SDP; charset=utf-8": true, "text/plain": false, "": false} {
		if c, _ := ctx(ct, ""); HasType(c, "application/sdp") != want {
			t.Errorf("HasType(%q) = %v, want %v", ct, !want, want)
		}
	}
	c, _ := ctx("", "12345")
	if b, err := ReadBody(c, 5); err != nil || string(b) != "12345" {
		t.Errorf("ReadBody at the limit = %q, %v", b, err)
	}
	c, _ = ctx("", "123456")
	if _, err := ReadBody(c, 5); !errors.Is(err, signoff.ErrTooLarge) {
		t.Errorf("ReadBody over the limit: %v, want ErrTooLarge", err)
	}
	c, w := ctx("text/plain", "")
	Unsupported(c, slog.New(slog.DiscardHandler), "application/sdp")
	if w.Code != http.StatusUnsupportedMediaType || !strings.Contains(w.Body.String(), `"code":"unsupported_media_type"`) {
		t.Errorf("Unsupported: %d %s", w.Code, w.Body)
	}
}
