package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gowebpki/jcs"

	"github.com/signoff/signoff/internal/redistest"
)

const staffTestToken = "staff-token-for-the-e2e-tests"

var (
	ctlOnce sync.Once
	ctlBin  string
	ctlErr  error
)

// buildCtl compiles signoffctl once per test binary, into the directory
// TestMain removes.
func buildCtl(t *testing.T) string {
	t.Helper()
	buildServer(t) // makes binDir
	ctlOnce.Do(func() {
		ctlBin = filepath.Join(binDir, "signoffctl")
		out, err := exec.Command("go", "build", "-o", ctlBin, "../signoffctl").CombinedOutput()
		if err != nil {
			ctlErr = fmt.Errorf("go build signoffctl: %v\n%s", err, out)
		}
	})
	if ctlErr != nil {
		t.Fatal(ctlErr)
	}
	return ctlBin
}

// ctl runs signoffctl and returns its output and exit status.
func ctl(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(buildCtl(t), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		t.Fatal(err)
	}
	return string(out), 0
}

func testJPEG(t *testing.T, seed byte) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 96, 64))
	for i := range img.Pix {
		img.Pix[i] = byte(i)*3 + seed
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func getBody(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func payloadOf(t *testing.T, jws string) []byte {
	t.Helper()
	parts := strings.Split(strings.TrimSpace(jws), ".")
	if len(parts) != 3 {
		t.Fatalf("receipt has %d parts, want 3", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkPlainEd25519 verifies the JWS with crypto/ed25519 and the JWKS read
// by hand: no project code.
func checkPlainEd25519(t *testing.T, jws string, jwks []byte) {
	t.Helper()
	parts := strings.Split(strings.TrimSpace(jws), ".")
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var hdr struct{ Alg, Kid string }
	if err := json.Unmarshal(hb, &hdr); err != nil || hdr.Alg != "EdDSA" || hdr.Kid == "" {
		t.Fatalf("JWS header %s: %v", hb, err)
	}
	var set struct {
		Keys []struct{ Kty, Crv, X, Kid string }
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.Kid != hdr.Kid {
			continue
		}
		x, _ := base64.RawURLEncoding.DecodeString(k.X)
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		if k.Kty != "OKP" || k.Crv != "Ed25519" || len(x) != ed25519.PublicKeySize || !ed25519.Verify(x, []byte(parts[0]+"."+parts[1]), sig) {
			t.Fatal("the plain Ed25519 check of the receipt failed")
		}
		return
	}
	t.Fatalf("kid %s is not in the JWKS %s", hdr.Kid, jwks)
}

// checkHashesWithJCS recomputes every record's hash with gowebpki/jcs, an
// RFC 8785 implementation independent of the server's, and follows prev.
func checkHashesWithJCS(t *testing.T, payload []byte) int {
	t.Helper()
	var r struct {
		Head string           `json:"head"`
		Log  []map[string]any `json:"log"`
	}
	if err := json.Unmarshal(payload, &r); err != nil {
		t.Fatal(err)
	}
	prev := ""
	for i, rec := range r.Log {
		hash := rec["hash"].(string)
		delete(rec, "hash")
		b, _ := json.Marshal(rec)
		c, err := jcs.Transform(b)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(c)
		if got := hex.EncodeToString(sum[:]); got != hash {
			t.Errorf("record %d: jcs hash %s, receipt says %s", i+1, got, hash)
		}
		if rec["prev"] != prev {
			t.Errorf("record %d: prev %v, want %s", i+1, rec["prev"], prev)
		}
		prev = hash
	}
	if r.Head != prev {
		t.Errorf("head %s, last record %s", r.Head, prev)
	}
	return len(r.Log)
}

// tamperPayload re-encodes jws with its payload changed, keeping the
// signature.
func tamperPayload(t *testing.T, jws string, f func(m map[string]any)) string {
	t.Helper()
	parts := strings.Split(strings.TrimSpace(jws), ".")
	var m map[string]any
	json.Unmarshal(payloadOf(t, jws), &m)
	f(m)
	b, _ := json.Marshal(m)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
}

func uploadProof(t *testing.T, url, delivery, token string, photo []byte) (int, map[string]any) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, _ := mw.CreateFormFile("photo", "door.jpg")
	fw.Write(photo)
	mw.WriteField("lat", "31.2304")
	mw.WriteField("lng", "121.4737")
	mw.WriteField("note", "门口地垫下")
	mw.Close()
	req, _ := http.NewRequest("POST", url+"/v1/deliveries/"+delivery+"/proof", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

// TestEvidenceEndToEnd: a full sign-off through the real signoffd binary on
// a real redis-server, with the courier's photo; its receipt verifies with
// signoffctl verify, with a plain Ed25519 check and with hashes recomputed
// by an independent RFC 8785 implementation; tampering is named; erasure
// keeps it verifiable and empties it of personal data.
func TestEvidenceEndToEnd(t *testing.T) {
	redisAddr := redistest.Start(t)
	bin := buildServer(t)
	blobs := t.TempDir()
	srv := startServer(t, bin, "REDIS_URL=redis://"+redisAddr+"/0", "SIGNOFF_BLOB_DIR="+blobs,
		"SIGNOFF_STAFF_TOKEN="+staffTestToken, "SIGNOFF_DATA_DIR="+t.TempDir())

	status, open := sendWebhook(t, srv.url, "msg_ev_1", opening("EV-1"))
	sid, _ := open["session_id"].(string)
	token, _ := open["recipient_token"].(string)
	courier, _ := open["courier_token"].(string)
	if status != http.StatusAccepted || sid == "" || courier == "" {
		t.Fatalf("opening webhook: %d %v", status, open)
	}
	if r := chat(t, srv.url, sid, token, "２"); r["outcome"] != "leave_at_door" {
		t.Fatalf("after 2: %v", r)
	}

	// Refused uploads: a clear 4xx each, nothing stored.
	for name, tc := range map[string]struct {
		token string
		photo []byte
		code  int
	}{
		"no token":     {"", testJPEG(t, 1), 401},
		"recipient":    {token, testJPEG(t, 1), 401},
		"not an image": {courier, []byte("just some text"), 400},
	} {
		if code, m := uploadProof(t, srv.url, "EV-1", tc.token, tc.photo); code != tc.code || m["error"] == nil {
			t.Errorf("%s: %d %v, want %d with an error body", name, code, m, tc.code)
		}
	}
	if files := photos(t, blobs); len(files) != 0 {
		t.Fatalf("refused uploads left %v", files)
	}

	photo := testJPEG(t, 7)
	code, up := uploadProof(t, srv.url, "EV-1", courier, photo)
	if code != http.StatusCreated {
		t.Fatalf("proof upload: %d %v", code, up)
	}
	sum := sha256.Sum256(photo)
	if up["photo"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("photo hash %v, want %x", up["photo"], sum)
	}
	req, _ := http.NewRequest("GET", srv.url+"/v1/sessions/"+sid, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	_, sess := do(t, req)
	tr, _ := sess["transcript"].([]any)
	var image string
	for _, m := range tr {
		if img, _ := m.(map[string]any)["image"].(string); img != "" {
			image = img
		}
	}
	if image == "" || sess["state"] != "awaiting_receipt" {
		t.Fatalf("after the proof: state %v, transcript %v", sess["state"], tr)
	}
	if code, b := getBody(t, srv.url+image+"?t="+token, ""); code != 200 || !bytes.Equal(b, photo) {
		t.Fatalf("GET %s: %d (%d bytes)", image, code, len(b))
	}
	if r := chat(t, srv.url, sid, token, "1"); r["state"] != "signed" {
		t.Fatalf("after 1: %v", r)
	}

	code, jwsB := getBody(t, srv.url+"/v1/deliveries/EV-1/receipt", token)
	if code != 200 {
		t.Fatalf("receipt: %d %s", code, jwsB)
	}
	jws := string(jwsB)
	_, jwks := getBody(t, srv.url+"/v1/receipts/keys", "")
	checkPlainEd25519(t, jws, jwks)
	if n := checkHashesWithJCS(t, payloadOf(t, jws)); n < 10 {
		t.Errorf("the log has %d records, want the whole conversation", n)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "receipt.jws")
	os.WriteFile(file, jwsB, 0o644)
	out, st := ctl(t, "verify", file, "-jwks", srv.url+"/v1/receipts/keys", "-blobs", blobs)
	if st != 0 || !strings.Contains(out, "OK: receipt of delivery EV-1") || !strings.Contains(out, "photo checked") || !strings.Contains(out, `consent "２"`) {
		t.Fatalf("signoffctl verify: exit %d\n%s", st, out)
	}
	t.Logf("signoffctl verify:\n%s", out)
	// signoffctl receipt fetches the same delivery's receipt.
	if out, st := ctl(t, "receipt", "EV-1", "-token", token, "-url", srv.url, "-o", filepath.Join(dir, "fetched.jws")); st != 0 {
		t.Fatalf("signoffctl receipt: exit %d\n%s", st, out)
	}

	// Tampering: each detected and named.
	os.WriteFile(filepath.Join(dir, "keys.json"), jwks, 0o644)
	keysFile := filepath.Join(dir, "keys.json")
	var seqOf = func(m map[string]any, kind string) int {
		for i, r := range m["log"].([]any) {
			if r.(map[string]any)["kind"] == kind {
				return i
			}
		}
		t.Fatalf("no %s record", kind)
		return 0
	}
	oneByte := func() string {
		parts := strings.Split(jws, ".")
		b := payloadOf(t, jws)
		i := bytes.Index(b, []byte(`"kind":"proof"`)) + len(`"kind":"p`)
		b[i] = 'q'
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
	}()
	var proofSeq int
	{
		var m map[string]any
		json.Unmarshal(payloadOf(t, jws), &m)
		proofSeq = seqOf(m, "proof") + 1
	}
	swapped := t.TempDir()
	ext := filepath.Ext(image)
	os.WriteFile(filepath.Join(swapped, hex.EncodeToString(sum[:])+ext), testJPEG(t, 99), 0o644)
	for _, tc := range []struct {
		name  string
		jws   string
		blobs string
		want  []string
	}{
		{"one payload byte", oneByte, "", []string{"signature: does not match", fmt.Sprintf(`record %d field kind: was altered: it read "proof"`, proofSeq)}},
		{"dropped record", tamperPayload(t, jws, func(m map[string]any) {
			l := m["log"].([]any)
			m["log"] = append(l[:4:4], l[5:]...)
		}), "", []string{"record 5: was dropped"}},
		{"two reordered", tamperPayload(t, jws, func(m map[string]any) {
			l := m["log"].([]any)
			l[2], l[3] = l[3], l[2]
		}), "", []string{"record 3: was moved", "record 4: was moved"}},
		{"swapped photo", jws, swapped, []string{fmt.Sprintf("(record %d) does not match", proofSeq)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "r.jws")
			os.WriteFile(f, []byte(tc.jws), 0o644)
			args := []string{"verify", f, "-jwks", keysFile}
			if tc.blobs != "" {
				args = append(args, "-blobs", tc.blobs)
			}
			out, st := ctl(t, args...)
			if st != 1 || !strings.Contains(out, "FAILED") {
				t.Fatalf("exit %d, want 1 and FAILED:\n%s", st, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not name %q:\n%s", w, out)
				}
			}
		})
	}

	// Erasure: staff only; the receipt after it verifies and holds no
	// personal data.
	del := func(tok string) int {
		req, _ := http.NewRequest("DELETE", srv.url+"/v1/deliveries/EV-1/personal-data", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		code, _ := do(t, req)
		return code
	}
	if code := del(token); code != 401 {
		t.Errorf("erasure with the recipient token: %d, want 401", code)
	}
	if code := del(staffTestToken); code != 200 {
		t.Fatalf("erasure: %d", code)
	}
	code, jwsB = getBody(t, srv.url+"/v1/deliveries/EV-1/receipt", staffTestToken)
	if code != 200 {
		t.Fatalf("receipt after erasure: %d %s", code, jwsB)
	}
	os.WriteFile(file, jwsB, 0o644)
	if out, st := ctl(t, "verify", file, "-jwks", keysFile, "-blobs", blobs); st != 0 || !strings.Contains(out, "personal data erased") {
		t.Fatalf("verify after erasure: exit %d\n%s", st, out)
	}
	checkPlainEd25519(t, string(jwsB), jwks)
	checkHashesWithJCS(t, payloadOf(t, string(jwsB)))
	payload := payloadOf(t, string(jwsB))
	for _, s := range []string{"王芳", "13912345678", "李师傅", "13800001111", "幸福路 8 号", "31.2304", "门口地垫下", `"２"`} {
		if bytes.Contains(payload, []byte(s)) {
			t.Errorf("receipt after erasure holds %q", s)
		}
	}
	if logs := srv.logs.String(); strings.Contains(logs, "13912345678") || strings.Contains(logs, "王芳") {
		t.Error("the server log carries the recipient's phone or name")
	}
}

// photos lists the regular files directly in dir (other channels keep
// subdirectories there).
func photos(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestEmbeddedSigningKeyKept: with no key file set, the embedded server
// generates a signing key under SIGNOFF_DATA_DIR and serves it; a restart
// keeps the same key.
func TestEmbeddedSigningKeyKept(t *testing.T) {
	bin := buildServer(t)
	data := t.TempDir()
	kid := func() string {
		srv := startServer(t, bin, "REDIS_URL=", "SIGNOFF_DATA_DIR="+data)
		defer func() { srv.cmd.Process.Kill(); <-srv.done; srv.done <- nil }()
		code, b := getBody(t, srv.url+"/v1/receipts/keys", "")
		var set struct{ Keys []struct{ Kid, D string } }
		if err := json.Unmarshal(b, &set); code != 200 || err != nil || len(set.Keys) != 1 || set.Keys[0].D != "" {
			t.Fatalf("keys: %d %s", code, b)
		}
		return set.Keys[0].Kid
	}
	first := kid()
	if _, err := os.Stat(filepath.Join(data, "signing-keys.json")); err != nil {
		t.Fatalf("no key file kept: %v", err)
	}
	if again := kid(); again != first {
		t.Errorf("kid after restart %s, want %s", again, first)
	}
}
