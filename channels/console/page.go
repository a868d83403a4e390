package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff/channels"
)

// The console page: one HTML document, one script, one style sheet,
// embedded; nothing is loaded from elsewhere.

//go:embed static/console.html static/console.js static/console.css
var staticFS embed.FS

const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

type asset struct {
	body  []byte
	ctype string
}

var (
	pageTemplate = template.Must(template.ParseFS(staticFS, "static/console.html"))
	assets       = map[string]asset{
		"console.js":  {must(staticFS.ReadFile("static/console.js")), "text/javascript; charset=utf-8"},
		"console.css": {must(staticFS.ReadFile("static/console.css")), "text/css; charset=utf-8"},
	}
	assetVersion = func() string {
		h := sha256.New()
		h.Write(assets["console.js"].body)
		h.Write(assets["console.css"].body)
		return hex.EncodeToString(h.Sum(nil))[:12]
	}()
)

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err) // embedded above: cannot happen
	}
	return b
}

func securityHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", pageCSP)
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
}

func (h *Handler) page(c *gin.Context) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, struct{ Version string }{assetVersion}); err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	securityHeaders(c.Writer.Header())
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
}

func serveAsset(c *gin.Context) {
	a, ok := assets[c.Param("file")]
	if !ok {
		c.AbortWithStatusJSON(http.StatusNotFound, channels.ErrorBody{Error: channels.ErrorDetail{Code: "not_found", Message: "no such file"}})
		return
	}
	securityHeaders(c.Writer.Header())
	c.Header("Content-Type", a.ctype)
	c.Header("Cache-Control", "no-cache")
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(a.body))
}
