package webchat

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels"
)

// The recipient page: one HTML document, one script and one style sheet,
// embedded so that the server needs nothing else and the page loads nothing
// from the internet. The script holds every UI string in both languages and
// talks only to the chat API (and, for calls, to the call endpoint).

//go:embed static/index.html static/app.js static/app.css
var staticFS embed.FS

// PagePath is the route of the recipient page; the webhook's recipient_url
// points at it with the session's token in ?t=.
const PagePath = "/r/:id"

// AssetsPath is the route of the page's script and style sheet.
const AssetsPath = "/r/assets/:file"

// pageCSP allows the page its own script, style and API and nothing else:
// no inline script, no third-party origin, no framing.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; media-src 'self' blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// asset is one embedded file, ready to serve.
type asset struct {
	body  []byte
	ctype string
	etag  string
}

var (
	pageTemplate = template.Must(template.ParseFS(staticFS, "static/index.html"))
	assets       = loadAssets()
	// assetVersion changes whenever a served file does, so that a page
	// always gets the script and style sheet it was written for and
	// browsers may cache them for long.
	assetVersion = func() string {
		h := sha256.New()
		for _, name := range []string{"app.js", "app.css"} {
			h.Write(assets[name].body)
		}
		return hex.EncodeToString(h.Sum(nil))[:12]
	}()
)

func loadAssets() map[string]asset {
	m := map[string]asset{}
	for _, name := range []string{"app.js", "app.css"} {
		b, err := staticFS.ReadFile("static/" + name)
		if err != nil {
			panic(err) // embedded above: cannot happen
		}
		sum := sha256.Sum256(b)
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" || strings.HasSuffix(name, ".js") {
			ctype = "text/javascript; charset=utf-8"
		}
		m[name] = asset{body: b, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return m
}

// pageData fills static/index.html.
type pageData struct {
	Lang    string // the page's language: the session's locale, else the browser's
	Error   string // "", "link" (unknown session or wrong token) or "unavailable"
	Version string // assetVersion
}

// RegisterPage adds the recipient page (GET /r/{id}?t=<token>) and its
// assets to r. The page reads the session through the chat API that
// Register adds, so both must be on the same router.
func (h *Handler) RegisterPage(r gin.IRoutes) {
	r.GET(AssetsPath, serveAsset)
	r.GET(PagePath, h.page)
}

// page answers with the recipient page. An unknown session or a wrong token
// gets the same page showing only "this link is not valid" in both
// languages, with 404 or 401, so that a link that was cut short in an SMS
// explains itself; whether the session exists is not revealed beyond what
// the chat API says.
func (h *Handler) page(c *gin.Context) {
	data := pageData{Lang: string(acceptLocale(c.GetHeader("Accept-Language"))), Version: assetVersion}
	status := http.StatusOK
	id, err := channels.SessionID(c)
	if err == nil {
		var token string
		if token = c.Query("t"); token == "" {
			err = signoff.Errorf(signoff.ErrUnauthorized, "missing_token", "the link has no token")
		} else {
			var s signoff.Session
			if s, _, err = h.conv.Session(c.Request.Context(), id, token); err == nil {
				data.Lang = string(signoff.ParseLocale(string(s.Locale)))
			}
		}
	}
	if err != nil {
		status = channels.Status(err)
		level := slog.LevelInfo
		data.Error = "link"
		if !errors.Is(err, signoff.ErrNotFound) && !errors.Is(err, signoff.ErrUnauthorized) {
			data.Error = "unavailable"
			level = slog.LevelError
			if status < 500 {
				status = http.StatusInternalServerError
			}
		}
		h.log.LogAttrs(c.Request.Context(), level, "page refused",
			slog.String("route", c.FullPath()), slog.Int("status", status),
			slog.String("code", signoff.ErrorCode(err)), slog.String("err", err.Error()))
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, data); err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	hd := c.Writer.Header()
	securityHeaders(hd)
	// The address carries the recipient's token: keep it out of caches
	// and out of Referer headers.
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Language", data.Lang)
	if status == http.StatusServiceUnavailable {
		hd.Set("Retry-After", "2")
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// serveAsset serves app.js and app.css. A request that names the current
// version may be cached for a year; any other is revalidated by ETag.
func serveAsset(c *gin.Context) {
	a, ok := assets[c.Param("file")]
	if !ok {
		c.AbortWithStatusJSON(http.StatusNotFound, channels.ErrorBody{Error: channels.ErrorDetail{Code: "not_found", Message: "no such file"}})
		return
	}
	hd := c.Writer.Header()
	securityHeaders(hd)
	hd.Set("Content-Type", a.ctype)
	hd.Set("ETag", a.etag)
	if c.Query("v") == assetVersion {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(a.body))
}

func securityHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", pageCSP)
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Permissions-Policy", "microphone=(self), camera=(), geolocation=()")
}

// acceptLocale picks the page language for a request without a session: the
// first language of Accept-Language that Signoff speaks, else Chinese.
func acceptLocale(header string) signoff.Locale {
	for _, part := range strings.Split(header, ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		if strings.HasPrefix(tag, "zh") || strings.HasPrefix(tag, "en") {
			return signoff.ParseLocale(tag)
		}
	}
	return signoff.LocaleZH
}
