package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signoff/signoff/dialog/evidence"
	"github.com/signoff/signoff/dialog/receipt"
)

func ctl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(t.Context(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errb)
	return out.String() + errb.String(), err
}

// TestKeysAndVerify: keys rotate makes and grows a key file, keys public
// prints only public keys, and verify accepts a receipt signed by the
// older key and names a changed one.
func TestKeysAndVerify(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "keys.json")
	if out, err := ctl(t, "keys", "rotate", "-file", file); err != nil || !strings.Contains(out, "(1 keys") {
		t.Fatalf("keys rotate (new file): %v\n%s", err, out)
	}
	b, _ := os.ReadFile(file)
	old, err := receipt.ParseKeys(b)
	if err != nil {
		t.Fatal(err)
	}
	var recs []evidence.Record
	seq, head := 0, ""
	for i, kind := range []string{"webhook", "reply", "state"} {
		data := map[string]string{"to": "signed", "text": "收到了"}
		r, _, _ := evidence.New(kind, time.Unix(int64(i), 0), data, rand.Reader)
		r, _ = evidence.Chain(seq, head, r)
		seq, head = r.Seq, r.Hash
		recs = append(recs, r)
	}
	jws, err := old.Issue(receipt.Build("D-ctl", evidence.FormatTime(time.Unix(9, 0)), recs, nil))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := ctl(t, "keys", "rotate", "-file", file); err != nil || !strings.Contains(out, "(2 keys") {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	pub, err := ctl(t, "keys", "public", "-file", file)
	if err != nil || strings.Contains(pub, `"d"`) || strings.Count(pub, `"kid"`) != 2 {
		t.Fatalf("keys public: %v\n%s", err, pub)
	}
	jwks := filepath.Join(dir, "jwks.json")
	os.WriteFile(jwks, []byte(pub), 0o644)
	rf := filepath.Join(dir, "r.jws")
	os.WriteFile(rf, []byte(jws), 0o644)
	if out, err := ctl(t, "verify", rf, "-jwks", jwks); err != nil || !strings.Contains(out, "OK: receipt of delivery D-ctl") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	parts := strings.Split(jws, ".")
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	p = bytes.Replace(p, []byte(`"kind":"reply"`), []byte(`"kind":"reply2"`), 1)
	os.WriteFile(rf, []byte(parts[0]+"."+base64.RawURLEncoding.EncodeToString(p)+"."+parts[2]), 0o644)
	out, err := ctl(t, "verify", rf, "-jwks", jwks)
	if !errors.Is(err, errNotVerified) || !strings.Contains(out, "record 2: was altered") {
		t.Fatalf("verify of a changed receipt: %v\n%s", err, out)
	}
	if _, err := ctl(t, "verify"); !errors.Is(err, errUsage) {
		t.Errorf("verify without RECEIPT: %v, want a usage error", err)
	}
}
