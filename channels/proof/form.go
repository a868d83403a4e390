package proof

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for the accepted photo types
	_ "image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/signoff/signoff"
)

// Limits bound a proof upload.
type Limits struct {
	MaxPhoto  int64 // bytes of the photo; default 10 MiB
	MaxPixels int   // width × height; default 50 million
}

func (l Limits) withDefaults() Limits {
	if l.MaxPhoto <= 0 {
		l.MaxPhoto = 10 << 20
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = 50_000_000
	}
	return l
}

// Upload is a parsed, checked proof form.
type Upload struct {
	Photo []byte // the image, decoded once to prove it is one
	Type  string // image/jpeg or image/png
	Ext   string // ".jpg" or ".png"
	Lat   string // as sent, checked to be a latitude; may be empty
	Lng   string
	Note  string
}

const maxField = 1 << 10 // bytes of lat, lng or note

func bad(code, format string, a ...any) error {
	return signoff.Errorf(signoff.ErrInvalid, code, format, a...)
}

// ParseForm reads a multipart proof form from body (Content-Type
// contentType): a photo part (JPEG or PNG, at most l.MaxPhoto bytes and
// l.MaxPixels pixels, which must decode whole), and optional lat, lng and
// note. Errors are signoff.ErrInvalid (bad_multipart, bad_field,
// missing_field, not_an_image) or signoff.ErrTooLarge (photo_too_large).
func ParseForm(body io.Reader, contentType string, l Limits) (Upload, error) {
	l = l.withDefaults()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return Upload{}, bad("bad_multipart", "the body must be multipart/form-data with a boundary")
	}
	mr := multipart.NewReader(body, params["boundary"])
	var u Upload
	var havePhoto bool
	seen := map[string]bool{}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Upload{}, bad("bad_multipart", "the multipart body is malformed or cut short")
		}
		name := p.FormName()
		if seen[name] {
			return Upload{}, bad("bad_field", "the field %q appears twice", name)
		}
		seen[name] = true
		switch name {
		case "photo":
			b, err := io.ReadAll(io.LimitReader(p, l.MaxPhoto+1))
			if err != nil {
				return Upload{}, tooLargeOr(err, bad("bad_multipart", "the multipart body is malformed or cut short"))
			}
			if int64(len(b)) > l.MaxPhoto {
				return Upload{}, signoff.Errorf(signoff.ErrTooLarge, "photo_too_large", "the photo is larger than %d bytes", l.MaxPhoto)
			}
			u.Photo, havePhoto = b, true
		case "lat", "lng", "note":
			b, err := io.ReadAll(io.LimitReader(p, maxField+1))
			if err != nil {
				return Upload{}, tooLargeOr(err, bad("bad_multipart", "the multipart body is malformed or cut short"))
			}
			if len(b) > maxField || !utf8.Valid(b) {
				return Upload{}, bad("bad_field", "%s must be UTF-8 text of at most %d bytes", name, maxField)
			}
			v := strings.TrimSpace(string(b))
			switch name {
			case "lat":
				u.Lat = v
			case "lng":
				u.Lng = v
			default:
				u.Note = v
			}
		default:
			return Upload{}, bad("bad_field", "unknown field %q: want photo, lat, lng, note", truncate(name, 40))
		}
	}
	if !havePhoto || len(u.Photo) == 0 {
		return Upload{}, bad("missing_field", "photo is required")
	}
	if err := checkCoord(u.Lat, "lat", 90); err != nil {
		return Upload{}, err
	}
	if err := checkCoord(u.Lng, "lng", 180); err != nil {
		return Upload{}, err
	}
	if (u.Lat == "") != (u.Lng == "") {
		return Upload{}, bad("bad_field", "lat and lng come together")
	}
	if err := checkImage(&u, l); err != nil {
		return Upload{}, err
	}
	return u, nil
}

func tooLargeOr(err, other error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return signoff.Errorf(signoff.ErrTooLarge, "photo_too_large", "the upload is larger than %d bytes", mbe.Limit)
	}
	return other
}

func checkCoord(v, name string, limit float64) error {
	if v == "" {
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < -limit || f > limit || len(v) > 32 {
		return bad("bad_field", "%s must be a number from %v to %v", name, -limit, limit)
	}
	return nil
}

var (
	jpegMagic = []byte{0xFF, 0xD8, 0xFF}
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
)

// checkImage proves the photo is a JPEG or PNG: its signature, its size in
// pixels, then a full decode (a truncated file fails there).
func checkImage(u *Upload, l Limits) error {
	notImage := bad("not_an_image", "photo must be a JPEG or PNG image")
	switch {
	case bytes.HasPrefix(u.Photo, jpegMagic):
		u.Type, u.Ext = "image/jpeg", ".jpg"
	case bytes.HasPrefix(u.Photo, pngMagic):
		u.Type, u.Ext = "image/png", ".png"
	default:
		return notImage
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(u.Photo))
	if err != nil || "image/"+format != u.Type {
		return notImage
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return notImage
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(l.MaxPixels) {
		return signoff.Errorf(signoff.ErrTooLarge, "photo_too_large", "the photo has more than %d pixels", l.MaxPixels)
	}
	if _, _, err := image.Decode(bytes.NewReader(u.Photo)); err != nil {
		return bad("not_an_image", "photo is not a whole JPEG or PNG image (%s)", truncate(err.Error(), 60))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return fmt.Sprintf("%.*s…", n, s)
	}
	return s
}
