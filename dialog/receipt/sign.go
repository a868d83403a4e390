package receipt

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-jose/go-jose/v4"
	jsonv2 "github.com/go-json-experiment/json"

	"github.com/signoff/signoff/dialog/evidence"
)

// Issue signs r with the Keyring's first key and returns the compact JWS.
func (kr *Keyring) Issue(r Receipt) (string, error) {
	if len(kr.keys) == 0 {
		return "", errors.New("receipt: no signing key")
	}
	payload, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("receipt: %w", err)
	}
	k := kr.keys[0]
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: k},
		(&jose.SignerOptions{}).WithType("signoff-receipt+jws"))
	if err != nil {
		return "", fmt.Errorf("receipt: %w", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("receipt: sign: %w", err)
	}
	return obj.CompactSerialize()
}

// Result is what Verify found.
type Result struct {
	Receipt  Receipt  // the payload, as far as it could be read
	KeyID    string   // the kid it names
	Problems []string // each thing wrong, naming the record, field or photo; none: the receipt is good
}

// OK reports whether the receipt verified with no problem.
func (r Result) OK() bool { return len(r.Problems) == 0 }

// Options tune Verify.
type Options struct {
	// BlobDir, when set, is a directory of photos named by their SHA-256
	// (with or without an extension): each proof photo found there is
	// hashed and compared.
	BlobDir string
	// RequirePhotos makes a proof photo missing from BlobDir a problem.
	RequirePhotos bool
}

// Verify checks a compact JWS receipt against keys: the signature (alg
// EdDSA, a kid found in keys), then, whether or not that held, every record
// of the log (hash, link, place), every opening, the head, the summary
// against the log, and with o.BlobDir every proof photo. It returns an
// error only when token is not a JWS at all.
func Verify(token string, keys jose.JSONWebKeySet, o Options) (Result, error) {
	var res Result
	obj, err := jose.ParseSignedCompact(strings.TrimSpace(token), []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return res, fmt.Errorf("receipt: not a compact EdDSA JWS: %w", err)
	}
	if len(obj.Signatures) != 1 {
		return res, errors.New("receipt: want exactly one signature")
	}
	res.KeyID = obj.Signatures[0].Header.KeyID
	problem := func(format string, a ...any) { res.Problems = append(res.Problems, fmt.Sprintf(format, a...)) }
	payload := obj.UnsafePayloadWithoutVerification()
	ks := keys.Key(res.KeyID)
	switch {
	case res.KeyID == "":
		problem("signature: the header names no kid")
	case len(ks) == 0:
		problem("signature: key %q is not in the JWKS", res.KeyID)
	default:
		pub, ok := ks[0].Key.(ed25519.PublicKey)
		if !ok {
			problem("signature: key %q is not an Ed25519 public key", res.KeyID)
		} else if _, err := obj.Verify(pub); err != nil {
			problem("signature: does not match the payload under key %q: the receipt was changed after signing", res.KeyID)
		}
	}
	if err := jsonv2.Unmarshal(payload, &res.Receipt); err != nil {
		problem("payload: not a receipt: %v", err)
		return res, nil
	}
	r := &res.Receipt
	if r.Type != TypeV1 {
		problem("payload: typ is %q, want %q", r.Type, TypeV1)
	}
	open := make(map[int]evidence.Openings, len(r.Openings))
	for k, v := range r.Openings {
		seq, err := strconv.Atoi(k)
		if err != nil {
			problem("openings: key %q is not a record number", k)
			continue
		}
		open[seq] = v
	}
	for _, p := range evidence.Check(r.Log, open) {
		problem("%s", p)
	}
	if _, head := evidence.Head(r.Log); head != r.Head {
		problem("head: the receipt says %s, the log ends in %s", abbrev(r.Head), abbrev(head))
	}
	compareSummary(Summarize(r.Log, open), r.Summary, problem)
	if o.BlobDir != "" {
		for _, rec := range r.Log {
			if rec.Kind == "proof" && rec.Fields["photo"] != "" {
				checkPhoto(o, rec.Seq, rec.Fields["photo"], problem)
			}
		}
	}
	return res, nil
}

// compareSummary names every summary field that disagrees with the log.
func compareSummary(want, got Summary, problem func(string, ...any)) {
	walk("", reflect.ValueOf(want), reflect.ValueOf(got), problem)
}

func walk(path string, want, got reflect.Value, problem func(string, ...any)) {
	if want.Kind() == reflect.Pointer {
		switch {
		case want.IsNil() && got.IsNil():
			return
		case want.IsNil() || got.IsNil():
			problem("summary %s: the receipt says %s, the log says %s", path, show(got), show(want))
			return
		}
		want, got = want.Elem(), got.Elem()
	}
	if want.Kind() != reflect.Struct {
		if !want.Equal(got) {
			problem("summary %s: the receipt says %q, the log says %q", path, fmt.Sprint(got.Interface()), fmt.Sprint(want.Interface()))
		}
		return
	}
	t := want.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		p := name
		if path != "" {
			p = path + "." + name
		}
		walk(p, want.Field(i), got.Field(i), problem)
	}
}

func show(v reflect.Value) string {
	if v.IsNil() {
		return "nothing"
	}
	b, _ := json.Marshal(v.Interface())
	return string(b)
}

func checkPhoto(o Options, seq int, hash string, problem func(string, ...any)) {
	if !isHex64(hash) {
		problem("record %d field photo: %q is not a SHA-256", seq, hash)
		return
	}
	path := filepath.Join(o.BlobDir, hash)
	if m, _ := filepath.Glob(path + ".*"); len(m) > 0 {
		path = m[0]
	}
	f, err := os.Open(path)
	if err != nil {
		if o.RequirePhotos || !errors.Is(err, os.ErrNotExist) {
			problem("photo %s (record %d): %v", abbrev(hash), seq, err)
		}
		return
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		problem("photo %s (record %d): %v", abbrev(hash), seq, err)
		return
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != hash {
		problem("photo %s (record %d) does not match: the file %s hashes to %s", abbrev(hash), seq, filepath.Base(path), abbrev(got))
	}
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func abbrev(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	if h == "" {
		return `""`
	}
	return h
}
