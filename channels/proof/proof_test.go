package proof_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/channels/proof"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/receipt"
	"github.com/signoff/signoff/dialog/redisstore"
	"github.com/signoff/signoff/internal/redistest"
	"github.com/signoff/signoff/knowledge"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// fakeStaff knows two bearer tokens: "staff-admin" (role admin) and
// "staff-agent" (role agent).
type fakeStaff struct{}

func (fakeStaff) StaffFromRequest(r *http.Request) (string, string, error) {
	switch r.Header.Get("Authorization") {
	case "Bearer staff-admin":
		return "管理员", "admin", nil
	case "Bearer staff-agent":
		return "客服", "agent", nil
	}
	return "", "", errors.New("not staff")
}

type world struct {
	t        *testing.T
	srv      *httptest.Server
	store    *redisstore.Store
	engine   *dialog.Engine
	keys     *receipt.Keyring
	blobs    string
	couriers channels.CourierTokens
	did      signoff.DeliveryID
	sid      signoff.SessionID
	token    string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	addr, db := redistest.DB(t)
	store, err := redisstore.Open(t.Context(), fmt.Sprintf("redis://%s/%d", addr, db), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	w := &world{t: t, store: store, blobs: t.TempDir(), did: signoff.DeliveryID("D-" + strings.ToLower(t.Name()))}
	w.engine = dialog.New(store, dialog.MergeFunc(knowledge.Merge), dialog.Config{}, slog.New(slog.DiscardHandler))
	w.couriers, _ = channels.NewCourierTokens([]byte("0123456789abcdef-test-secret"))
	w.keys, _ = receipt.Generate()
	h, err := proof.New(proof.Config{BlobDir: w.blobs, Couriers: &w.couriers, Keys: w.keys, Staff: fakeStaff{}}, store, w.engine, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	h.Register(r)
	w.srv = httptest.NewServer(r)
	t.Cleanup(w.srv.Close)

	n, err := w.engine.Notify(t.Context(), signoff.OrderEvent{WebhookID: "wh-1", Type: signoff.EventOutForDelivery, Timestamp: time.Now(),
		Delivery: signoff.Delivery{ID: w.did, Status: signoff.StatusOutForDelivery, ETA: time.Now().Add(time.Hour),
			Recipient: signoff.Recipient{Name: "王芳", Phone: "13912345678", Locale: signoff.LocaleZH, TimeZone: "Asia/Shanghai"},
			Courier:   signoff.Courier{ID: "C-7", Name: "李师傅", Phone: "13800001111"}},
		Present: signoff.Fields{"recipient": true, "courier": true, "status": true, "eta": true}})
	if err != nil || !n.Opened {
		t.Fatalf("Notify = %+v, %v", n, err)
	}
	w.sid, w.token = n.SessionID, n.Token
	return w
}

func (w *world) reply(text string) dialog.Turn {
	w.t.Helper()
	turn, err := w.engine.Reply(w.t.Context(), w.sid, w.token, signoff.Input{Kind: signoff.InputText, Text: text, Channel: signoff.ChannelChat})
	if err != nil {
		w.t.Fatalf("Reply(%q): %v", text, err)
	}
	return turn
}

func photoJPEG(t testing.TB, side int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func form(t testing.TB, fields map[string]string, photo []byte) (string, []byte) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if photo != nil {
		fw, _ := mw.CreateFormFile("photo", "p.jpg")
		fw.Write(photo)
	}
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

func (w *world) do(method, path, auth, ctype string, body []byte) (int, []byte) {
	w.t.Helper()
	req, _ := http.NewRequest(method, w.srv.URL+path, bytes.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (w *world) upload(auth string, photo []byte) (int, []byte) {
	ct, body := form(w.t, map[string]string{"lat": "31.2304", "lng": "121.4737", "note": "门口地垫下"}, photo)
	return w.do("POST", "/v1/deliveries/"+string(w.did)+"/proof", auth, ct, body)
}

func (w *world) verify(jws string) receipt.Result {
	w.t.Helper()
	res, err := receipt.Verify(jws, w.keys.Public(), receipt.Options{BlobDir: w.blobs, RequirePhotos: true})
	if err != nil || !res.OK() {
		w.t.Fatalf("receipt does not verify: %v %v", res.Problems, err)
	}
	return res
}

func TestProofReceiptAndErasure(t *testing.T) {
	w := newWorld(t)
	w.reply("放门口吧")
	code, body := w.upload(w.couriers.Issue("C-7"), photoJPEG(t, 64))
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	s, _, _ := w.engine.Session(t.Context(), w.sid, w.token)
	if s.State != signoff.StateAwaitingReceipt {
		t.Fatalf("state after proof = %s, want awaiting_receipt", s.State)
	}
	lines, _ := w.store.Transcript(t.Context(), w.did, w.sid, 0, s.Lines)
	var image string
	for _, m := range lines {
		if m.Image != "" {
			image = m.Image
		}
	}
	if image == "" || !strings.Contains(lines[len(lines)-1].Text, "收到了") && len(lines[len(lines)-1].Options) == 0 {
		t.Fatalf("transcript after proof: %+v", lines[len(lines)-2:])
	}
	if code, b := w.do("GET", image+"?t="+w.token, "", "", nil); code != 200 || !bytes.HasPrefix(b, []byte{0xFF, 0xD8}) {
		t.Fatalf("GET photo as recipient: %d", code)
	}
	if code, _ := w.do("GET", "/v1/deliveries/"+string(w.did)+"/receipt", w.token, "", nil); code != http.StatusConflict {
		t.Errorf("receipt before the end: %d, want 409", code)
	}
	w.reply("1")

	for name, tok := range map[string]string{"recipient": w.token, "courier": w.couriers.Issue("C-7"), "admin": "staff-admin"} {
		code, jws := w.do("GET", "/v1/deliveries/"+string(w.did)+"/receipt", tok, "", nil)
		if code != 200 {
			t.Fatalf("receipt for %s: %d %s", name, code, jws)
		}
		res := w.verify(string(jws))
		r := res.Receipt
		if r.Outcome != "leave_at_door" || r.State != "signed" || r.Proof == nil || r.Confirmed == nil || r.Consent == nil || r.Consent.Channel != "chat" {
			t.Errorf("%s: summary %+v", name, r.Summary)
		}
		personal := name != "courier"
		if got := r.Consent.Text == "放门口吧"; got != personal {
			t.Errorf("%s: consent text %q (personal values shown: %v, want %v)", name, r.Consent.Text, got, personal)
		}
	}
	for name, tok := range map[string]string{"another courier": w.couriers.Issue("C-8"), "nobody": "", "bad": "xyz"} {
		if code, _ := w.do("GET", "/v1/deliveries/"+string(w.did)+"/receipt", tok, "", nil); code != 401 {
			t.Errorf("receipt for %s: %d, want 401", name, code)
		}
	}

	// The page: the admin sees names and words, an agent sees them masked.
	_, page := w.do("GET", "/v1/deliveries/"+string(w.did)+"/receipt.html?t=staff-admin", "", "", nil)
	if !bytes.Contains(page, []byte("放门口吧")) || !bytes.Contains(page, []byte(`id="photo"`)) || !bytes.Contains(page, []byte("王芳")) {
		t.Errorf("admin page lacks the consent, the name or the photo")
	}
	_, page = w.do("GET", "/v1/deliveries/"+string(w.did)+"/receipt.html", "staff-agent", "", nil)
	if bytes.Contains(page, []byte("王芳")) || bytes.Contains(page, []byte("13912345678")) || !bytes.Contains(page, []byte("王*")) {
		t.Errorf("agent page shows a name or phone unmasked")
	}

	// Erasure: staff only; then the receipt verifies and holds nothing personal.
	if code, _ := w.do("DELETE", "/v1/deliveries/"+string(w.did)+"/personal-data", w.token, "", nil); code != 401 {
		t.Errorf("erasure by the recipient token: %d, want 401", code)
	}
	if code, b := w.do("DELETE", "/v1/deliveries/"+string(w.did)+"/personal-data", "staff-admin", "", nil); code != 200 {
		t.Fatalf("erasure: %d %s", code, b)
	}
	_, jws := w.do("GET", "/v1/deliveries/"+string(w.did)+"/receipt", "staff-admin", "", nil)
	res := w.verify(string(jws))
	if !res.Receipt.Erased {
		t.Error("receipt after erasure does not say so")
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(string(jws), ".")[1])
	for _, s := range []string{"王芳", "13912345678", "李师傅", "放门口吧", "31.2304", "门口地垫下"} {
		if bytes.Contains(payload, []byte(s)) {
			t.Errorf("receipt after erasure holds %q", s)
		}
	}
	d, _, _ := w.store.Load(t.Context(), w.did)
	if d.Recipient.Name != "" || d.Recipient.Phone != "" {
		t.Errorf("facts after erasure: %+v", d.Recipient)
	}
	if s, _, err := w.store.LoadSession(t.Context(), w.sid); err != nil || (s.Consent != nil && s.Consent.Text != "") || s.LastOffer != nil {
		t.Errorf("session after erasure keeps the recipient's words: %+v %v", s.Consent, err)
	}
	if code, b := w.do("GET", "/v1/receipts/keys", "", "", nil); code != 200 || !bytes.Contains(b, []byte(w.keys.KeyID())) || bytes.Contains(b, []byte(`"d"`)) {
		t.Errorf("keys: %d %s", code, b)
	}
}

// TestUploadErrorsStoreNothing: each refused upload is a clear 4xx with the
// JSON error body, and leaves the blob directory, the evidence log and the
// transcript as they were.
func TestUploadErrorsStoreNothing(t *testing.T) {
	w := newWorld(t)
	w.reply("2")
	good := photoJPEG(t, 32)
	ct, whole := form(t, map[string]string{"lat": "1", "lng": "2"}, good)
	tests := []struct {
		name  string
		auth  string
		ctype string
		body  []byte
		code  int
		ecode string
	}{
		{"no token", "", ct, whole, 401, "missing_token"},
		{"recipient token", w.token, ct, whole, 401, "bad_token"},
		{"wrong courier", w.couriers.Issue("C-8"), ct, whole, 401, "wrong_courier"},
		{"forged courier", "c1.Qy03.AAAA", ct, whole, 401, "bad_token"},
		{"not an image", w.couriers.Issue("C-7"), "", nil, 400, "not_an_image"},
		{"truncated image", w.couriers.Issue("C-7"), "", nil, 400, "not_an_image"},
		{"too large", w.couriers.Issue("C-7"), "", nil, 413, "photo_too_large"},
		{"too many pixels", w.couriers.Issue("C-7"), "", nil, 413, "photo_too_large"},
		{"truncated multipart", w.couriers.Issue("C-7"), ct, whole[:len(whole)/2], 400, "bad_multipart"},
		{"not multipart", w.couriers.Issue("C-7"), "application/json", []byte(`{}`), 400, "bad_multipart"},
		{"bad lat", w.couriers.Issue("C-7"), "", nil, 400, "bad_field"},
		{"no photo", w.couriers.Issue("C-7"), "", nil, 400, "missing_field"},
	}
	bodies := map[string]func() (string, []byte){
		"not an image":    func() (string, []byte) { return form(t, nil, []byte("GIF89a this is not a photo")) },
		"truncated image": func() (string, []byte) { return form(t, nil, good[:len(good)*2/3]) },
		"too large": func() (string, []byte) {
			return form(t, nil, append(append([]byte{}, good...), make([]byte, 10<<20)...))
		},
		"too many pixels": func() (string, []byte) { return form(t, nil, hugePNG(t)) },
		"bad lat":         func() (string, []byte) { return form(t, map[string]string{"lat": "91", "lng": "0"}, good) },
		"no photo":        func() (string, []byte) { return form(t, map[string]string{"note": "x"}, nil) },
	}
	recsBefore, _, _ := w.store.Evidence(t.Context(), w.did)
	s0, _, _ := w.engine.Session(t.Context(), w.sid, w.token)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctype, body := tt.ctype, tt.body
			if f, ok := bodies[tt.name]; ok {
				ctype, body = f()
			}
			code, b := w.do("POST", "/v1/deliveries/"+string(w.did)+"/proof", tt.auth, ctype, body)
			if code != tt.code || !bytes.Contains(b, []byte(`"code":"`+tt.ecode+`"`)) {
				t.Errorf("got %d %s, want %d with code %s", code, b, tt.code, tt.ecode)
			}
		})
	}
	if entries, _ := os.ReadDir(w.blobs); len(entries) != 0 {
		t.Errorf("blob directory after refused uploads holds %d files", len(entries))
	}
	recsAfter, _, _ := w.store.Evidence(t.Context(), w.did)
	s1, _, _ := w.engine.Session(t.Context(), w.sid, w.token)
	if len(recsAfter) != len(recsBefore) || s1.Lines != s0.Lines || s1.Version != s0.Version {
		t.Errorf("refused uploads changed the log (%d → %d records) or the session (%d → %d lines)", len(recsBefore), len(recsAfter), s0.Lines, s1.Lines)
	}
	// And the same good upload then goes through.
	if code, b := w.upload(w.couriers.Issue("C-7"), good); code != 201 {
		t.Errorf("good upload after the refused ones: %d %s", code, b)
	}
}

func FuzzParseProof(f *testing.F) {
	ct, body := form(f, map[string]string{"lat": "31.2", "lng": "121.4", "note": "门口"}, photoJPEG(f, 8))
	boundary := strings.TrimPrefix(ct, "multipart/form-data; boundary=")
	f.Add(boundary, body)
	f.Add(boundary, body[:len(body)/2])
	f.Add("x", []byte("--x\r\nContent-Disposition: form-data; name=\"photo\"\r\n\r\n\x89PNG\r\n\x1a\n\r\n--x--\r\n"))
	f.Fuzz(func(t *testing.T, boundary string, body []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ctx
		u, err := proof.ParseForm(bytes.NewReader(body), "multipart/form-data; boundary="+boundary, proof.Limits{MaxPhoto: 1 << 16, MaxPixels: 64 * 64})
		if err != nil {
			if !errors.Is(err, signoff.ErrInvalid) && !errors.Is(err, signoff.ErrTooLarge) {
				t.Fatalf("error of no kind: %v", err)
			}
			return
		}
		if len(u.Photo) == 0 || (u.Type != "image/jpeg" && u.Type != "image/png") {
			t.Fatalf("accepted %+v", u)
		}
		if _, _, err := image.Decode(bytes.NewReader(u.Photo)); err != nil {
			t.Fatalf("accepted a photo that does not decode: %v", err)
		}
	})
}

// hugePNG returns the start of a PNG that claims 20000 × 20000 pixels: a
// small file whose decoding would take 400 MB.
func hugePNG(t testing.TB) []byte {
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], 20000)
	binary.BigEndian.PutUint32(ihdr[4:], 20000)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit grey
	b := []byte("\x89PNG\r\n\x1a\n")
	b = binary.BigEndian.AppendUint32(b, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr[:]...)
	b = append(b, chunk...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(chunk))
	return append(b, make([]byte, 64)...)
}
