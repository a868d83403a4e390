package receipt_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/signoff/signoff/dialog/evidence"
	"github.com/signoff/signoff/dialog/receipt"
)

var t0 = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

// signOff builds the log of a delivery left at the door with the
// recipient's consent, a courier's photo and a confirmation, padded with
// bot lines to n records at least.
func signOff(t testing.TB, n int, photo string) ([]evidence.Record, map[int]evidence.Openings) {
	t.Helper()
	entries := []struct {
		kind string
		data map[string]string
	}{
		{"webhook", map[string]string{"type": "delivery.out_for_delivery", "webhook_id": "msg_1"}},
		{"session_opened", map[string]string{"session": "s_1", "locale": "zh-CN"}},
		{"bot", map[string]string{"session": "s_1", "text": "王芳您好，您的快递正在派送", "options": "1,2,3,4,5,6,0,9"}},
		{"reply", map[string]string{"session": "s_1", "channel": "chat", "text": "放门口吧", "offered": "1,2,3,4,5,6,0,9"}},
		{"outcome", map[string]string{"session": "s_1", "outcome": "leave_at_door", "consent_text": "放门口吧", "consent_channel": "chat", "consent_offer": "2", "consent_at": evidence.FormatTime(t0)}},
		{"state", map[string]string{"session": "s_1", "from": "awaiting_choice", "to": "arranged"}},
		{"proof", map[string]string{"photo": photo, "type": "image/jpeg", "courier": "C-7", "lat": "31.2304", "lng": "121.4737", "note": "门口地垫下"}},
		{"state", map[string]string{"session": "s_1", "from": "arranged", "to": "awaiting_receipt"}},
	}
	for i := len(entries); i < n-2; i++ {
		entries = append(entries, struct {
			kind string
			data map[string]string
		}{"bot", map[string]string{"session": "s_1", "text": fmt.Sprintf("第 %d 行", i), "options": "1,2,0,9"}})
	}
	entries = append(entries,
		struct {
			kind string
			data map[string]string
		}{"reply", map[string]string{"session": "s_1", "channel": "dtmf", "text": "1", "offered": "1,2,0,9"}},
		struct {
			kind string
			data map[string]string
		}{"state", map[string]string{"session": "s_1", "from": "awaiting_receipt", "to": "signed"}})
	var recs []evidence.Record
	open := map[int]evidence.Openings{}
	seq, head := 0, ""
	for i, e := range entries {
		r, o, err := evidence.New(e.kind, t0.Add(time.Duration(i)*time.Second), e.data, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if r, err = evidence.Chain(seq, head, r); err != nil {
			t.Fatal(err)
		}
		seq, head = r.Seq, r.Hash
		recs = append(recs, r)
		if len(o) > 0 {
			open[r.Seq] = o
		}
	}
	return recs, open
}

const photo = "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b" // sha256("1")

func issue(t testing.TB, kr *receipt.Keyring, n int) string {
	t.Helper()
	recs, open := signOff(t, n, photo)
	jws, err := kr.Issue(receipt.Build("D-1", evidence.FormatTime(t0), recs, open))
	if err != nil {
		t.Fatal(err)
	}
	return jws
}

func TestIssueAndVerify(t *testing.T) {
	kr, err := receipt.Generate()
	if err != nil {
		t.Fatal(err)
	}
	jws := issue(t, kr, 12)
	res, err := receipt.Verify(jws, kr.Public(), receipt.Options{})
	if err != nil || !res.OK() {
		t.Fatalf("Verify = %v, %v", res.Problems, err)
	}
	r := res.Receipt
	if r.Outcome != "leave_at_door" || r.State != "signed" || r.Consent == nil || r.Consent.Text != "放门口吧" || r.Consent.Channel != "chat" ||
		r.Confirmed == nil || r.Confirmed.Text != "1" || r.Confirmed.Channel != "dtmf" || r.Proof == nil || r.Proof.Photo != photo || r.Proof.Lat != "31.2304" {
		t.Errorf("summary = %+v", r.Summary)
	}
	if res.KeyID != kr.KeyID() {
		t.Errorf("kid %q, want %q", res.KeyID, kr.KeyID())
	}
}

// TestPlainEd25519 checks the JWS with crypto/ed25519 alone, as an outside
// party would: header, kid, signature over "header.payload".
func TestPlainEd25519(t *testing.T) {
	kr, _ := receipt.Generate()
	jws := issue(t, kr, 5)
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		t.Fatalf("%d parts, want 3", len(parts))
	}
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var hdr struct{ Alg, Kid string }
	if err := json.Unmarshal(hb, &hdr); err != nil || hdr.Alg != "EdDSA" || hdr.Kid != kr.KeyID() {
		t.Fatalf("header %s: %v", hb, err)
	}
	jb, _ := json.Marshal(kr.Public())
	var set struct {
		Keys []struct{ Kty, Crv, X, Kid string }
	}
	json.Unmarshal(jb, &set)
	x, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].X)
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if set.Keys[0].Kty != "OKP" || set.Keys[0].Crv != "Ed25519" || !ed25519.Verify(x, []byte(parts[0]+"."+parts[1]), sig) {
		t.Fatalf("plain Ed25519 check failed (jwks %s)", jb)
	}
}

// tamper re-encodes jws with its payload changed by f, keeping the
// signature.
func tamper(t *testing.T, jws string, f func(r map[string]any)) string {
	t.Helper()
	parts := strings.Split(jws, ".")
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, _ = json.Marshal(m)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
}

func TestVerifyNamesTheProblem(t *testing.T) {
	kr, _ := receipt.Generate()
	jws := issue(t, kr, 12)
	log := func(m map[string]any) []any { return m["log"].([]any) }
	rec := func(m map[string]any, i int) map[string]any { return log(m)[i].(map[string]any) }
	tests := []struct {
		name string
		jws  string
		want []string
	}{
		{"one byte", func() string {
			parts := strings.Split(jws, ".")
			b, _ := base64.RawURLEncoding.DecodeString(parts[1])
			i := strings.Index(string(b), `"kind":"reply"`) + len(`"kind":"r`)
			b[i] = 'i' // "reply" becomes "riply"
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
		}(), []string{"signature: does not match", `record 4 field kind: was altered: it read "reply"`}},
		{"dropped", tamper(t, jws, func(m map[string]any) {
			l := log(m)
			m["log"] = append(l[:5:5], l[6:]...)
		}), []string{"record 6: was dropped"}},
		{"reordered", tamper(t, jws, func(m map[string]any) {
			l := log(m)
			l[6], l[7] = l[7], l[6]
		}), []string{"record 8: was moved", "record 7: was moved"}},
		{"consent changed", tamper(t, jws, func(m map[string]any) {
			m["consent"].(map[string]any)["text"] = "放快递柜"
		}), []string{"summary consent.text"}},
		{"opening changed", tamper(t, jws, func(m map[string]any) {
			o := m["openings"].(map[string]any)["4"].(map[string]any)["text"].(map[string]any)
			o["value"] = "放快递柜"
		}), []string{"record 4 field text: the value does not match"}},
		{"photo hash", tamper(t, jws, func(m map[string]any) {
			rec(m, 6)["fields"].(map[string]any)["photo"] = strings.Repeat("0", 64)
		}), []string{"record 7: was altered", "summary proof.photo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := receipt.Verify(tt.jws, kr.Public(), receipt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			all := strings.Join(res.Problems, "\n")
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems:\n%s\nwant one containing %q", all, w)
				}
			}
		})
	}
}

func TestSwappedPhoto(t *testing.T) {
	kr, _ := receipt.Generate()
	dir := t.TempDir()
	good := []byte("\x89PNG pretend photo")
	sum := sha256.Sum256(good)
	h := hex.EncodeToString(sum[:])
	recs, open := signOff(t, 10, h)
	jws, _ := kr.Issue(receipt.Build("D-1", evidence.FormatTime(t0), recs, open))
	os.WriteFile(filepath.Join(dir, h+".png"), good, 0o644)
	if res, _ := receipt.Verify(jws, kr.Public(), receipt.Options{BlobDir: dir, RequirePhotos: true}); !res.OK() {
		t.Fatalf("good photo: %v", res.Problems)
	}
	os.WriteFile(filepath.Join(dir, h+".png"), []byte("\x89PNG another photo"), 0o644)
	res, _ := receipt.Verify(jws, kr.Public(), receipt.Options{BlobDir: dir})
	if all := strings.Join(res.Problems, "\n"); !strings.Contains(all, "photo "+h[:16]+"… (record 7) does not match") {
		t.Errorf("swapped photo: problems %q", res.Problems)
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	kr, created, err := receipt.LoadOrCreate(path)
	if err != nil || !created {
		t.Fatalf("LoadOrCreate = %v, %v", created, err)
	}
	old := issue(t, kr, 5)
	if err := kr.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := kr.Save(path); err != nil {
		t.Fatal(err)
	}
	kr2, created, err := receipt.LoadOrCreate(path)
	if err != nil || created {
		t.Fatalf("reload = %v, %v", created, err)
	}
	if kr2.KeyID() != kr.KeyID() || len(kr2.Public().Keys) != 2 {
		t.Fatalf("reloaded kid %s (%d keys), want %s of 2", kr2.KeyID(), len(kr2.Public().Keys), kr.KeyID())
	}
	for name, jws := range map[string]string{"old": old, "new": issue(t, kr2, 5)} {
		if res, _ := receipt.Verify(jws, kr2.Public(), receipt.Options{}); !res.OK() {
			t.Errorf("%s receipt after rotation: %v", name, res.Problems)
		}
	}
	for _, k := range kr2.Public().Keys {
		if !k.IsPublic() {
			t.Errorf("JWKS holds a private key %s", k.KeyID)
		}
	}
}

func TestPEMKeyFile(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	kr, err := receipt.ParseKeys(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	res, _ := receipt.Verify(issue(t, kr, 5), jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: priv.Public(), KeyID: kr.KeyID()}}}, receipt.Options{})
	if !res.OK() {
		t.Fatalf("PEM key: %v", res.Problems)
	}
	if _, err := receipt.ParseKeys([]byte("not a key")); err == nil {
		t.Error("ParseKeys of garbage: no error")
	}
}

func TestUnknownKey(t *testing.T) {
	kr, _ := receipt.Generate()
	other, _ := receipt.Generate()
	res, _ := receipt.Verify(issue(t, kr, 5), other.Public(), receipt.Options{})
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "not in the JWKS") {
		t.Errorf("problems %q", res.Problems)
	}
}

func TestErasedReceiptVerifies(t *testing.T) {
	kr, _ := receipt.Generate()
	recs, _ := signOff(t, 10, photo)
	jws, _ := kr.Issue(receipt.Build("D-1", evidence.FormatTime(t0), recs, nil))
	res, err := receipt.Verify(jws, kr.Public(), receipt.Options{})
	if err != nil || !res.OK() {
		t.Fatalf("erased receipt: %v %v", res.Problems, err)
	}
	b, _ := base64.RawURLEncoding.DecodeString(strings.Split(jws, ".")[1])
	for _, s := range []string{"王芳", "放门口", "31.2304", "门口地垫下"} {
		if strings.Contains(string(b), s) {
			t.Errorf("erased receipt holds %q", s)
		}
	}
}

// FuzzVerify gives Verify any text: it must never panic or hang, and it
// must accept nothing but a receipt signed by a key it was given. The
// receipts of the seed corpus are signed by a key the fuzzer does not hold
// (the fuzz workers make their own), so they exercise everything but the
// signature passing; the seed signed by the workers' key stands for that.
func FuzzVerify(f *testing.F) {
	kr, _ := receipt.Generate()
	r, o, _ := evidence.New("reply", t0, map[string]string{"text": "1", "channel": "dtmf"}, rand.Reader)
	r, _ = evidence.Chain(0, "", r)
	small, _ := kr.Issue(receipt.Build("D", evidence.FormatTime(t0), []evidence.Record{r}, map[int]evidence.Openings{1: o}))
	f.Add(small)
	f.Add("a.b.c")
	f.Add("")
	keys := jose.JSONWebKeySet{}
	f.Fuzz(func(t *testing.T, s string) {
		res, err := receipt.Verify(s, keys, receipt.Options{})
		if err == nil && res.OK() {
			t.Fatalf("a receipt verified with no key at all (kid %q)", res.KeyID)
		}
	})
}

func BenchmarkIssue200(b *testing.B) {
	kr, _ := receipt.Generate()
	recs, open := signOff(b, 200, photo)
	defer cpuPerOp(b)()
	for b.Loop() {
		if _, err := kr.Issue(receipt.Build("D-1", evidence.FormatTime(t0), recs, open)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify200(b *testing.B) {
	kr, _ := receipt.Generate()
	jws := issue(b, kr, 200)
	keys := kr.Public()
	defer cpuPerOp(b)()
	for b.Loop() {
		if res, err := receipt.Verify(jws, keys, receipt.Options{}); err != nil || !res.OK() {
			b.Fatal(res.Problems, err)
		}
	}
}

// cpuPerOp reports the process's CPU time (user + system) per operation as
// "cpu-ms/op": on a shared machine wall time per op mostly measures the
// other tenants.
func cpuPerOp(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() {
		b.ReportMetric(float64(cpu()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	}
}
