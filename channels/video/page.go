package video

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels"
)

// The video page: one embedded HTML file with its script and style, so the
// server needs nothing else and the page loads nothing from the internet.
//
//go:embed static/video.html static/video.js static/video.css
var staticFS embed.FS

// AssetsPath is the route of the page's script and style.
const AssetsPath = "/v-assets/:name"

// PagePath returns the path of delivery d's video page; the participant's
// role and token ride in ?role= and ?t=.
func PagePath(d signoff.DeliveryID) string { return "/v/" + url.PathEscape(string(d)) }

type asset struct {
	body  []byte
	ctype string
	etag  string
}

var assets = func() map[string]asset {
	m := map[string]asset{}
	for name, ctype := range map[string]string{
		"video.html": "text/html; charset=utf-8",
		"video.js":   "text/javascript; charset=utf-8",
		"video.css":  "text/css; charset=utf-8",
	} {
		b, err := staticFS.ReadFile("static/" + name)
		if err != nil {
			panic(err) // embedded above: cannot happen
		}
		sum := sha256.Sum256(b)
		m[name] = asset{body: b, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return m
}()

// pageCSP lets the page run only its own script and style, and talk only to
// its own origin.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; media-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// RegisterPage adds the video page, GET /v/{delivery}?role=&t=, and its
// assets.
func (h *Handler) RegisterPage(r gin.IRoutes) {
	r.GET("/v/:delivery", h.page)
	r.GET(AssetsPath, serveAsset)
}

func (h *Handler) page(c *gin.Context) {
	if _, err := deliveryID(c); err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	switch c.Query("role") {
	case RoleRecipient, RoleCourier, RoleStaff:
	default:
		channels.WriteError(c, h.log, signoff.Errorf(signoff.ErrInvalid, "bad_role", "role must be recipient, courier or staff"))
		return
	}
	write(c, assets["video.html"])
}

func serveAsset(c *gin.Context) {
	a, ok := assets[c.Param("name")]
	if !ok || c.Param("name") == "video.html" {
		c.AbortWithStatusJSON(http.StatusNotFound, channels.ErrorBody{Error: channels.ErrorDetail{Code: "not_found", Message: "no such asset"}})
		return
	}
	if c.GetHeader("If-None-Match") == a.etag {
		c.Status(http.StatusNotModified)
		return
	}
	write(c, a)
}

func write(c *gin.Context, a asset) {
	hd := c.Writer.Header()
	hd.Set("Content-Security-Policy", pageCSP)
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", a.etag)
	// The camera and microphone are this page's purpose.
	hd.Set("Permissions-Policy", "camera=(self), microphone=(self)")
	c.Data(http.StatusOK, a.ctype, a.body)
}
