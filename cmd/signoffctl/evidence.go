package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/signoff/signoff/dialog/receipt"
)

// errNotVerified is returned by verify for a receipt with problems, after
// they were printed.
var errNotVerified = errors.New("the receipt does not verify")

const verifyHead = `usage: signoffctl verify RECEIPT [-jwks FILE|URL] [-blobs DIR]

Checks a signed receipt (a compact JWS in the file RECEIPT, or on stdin for
"-"): the Ed25519 signature against the JWKS, every record's hash and link,
every revealed personal value, the summary against the log and, with -blobs,
every proof photo. It names each record, field or photo that was altered,
dropped or moved, and exits 1 if there is any.

`

// runVerify is "signoffctl verify".
func runVerify(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("verify", verifyHead, stderr)
	jwks := fs.String("jwks", "", "the public keys: a JWKS file or URL (default $SIGNOFF_URL/v1/receipts/keys)")
	blobs := fs.String("blobs", "", "a directory of photos named by SHA-256 (SIGNOFF_BLOB_DIR) to check the proof photos against")
	var path string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") || len(args) > 0 && args[0] == "-" {
		path, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if path == "" {
		fs.Usage()
		return fmt.Errorf("%w: RECEIPT is required", errUsage)
	}
	var tok []byte
	var err error
	if path == "-" {
		tok, err = io.ReadAll(io.LimitReader(stdin, 64<<20))
	} else {
		tok, err = os.ReadFile(path)
	}
	if err != nil {
		return err
	}
	src := *jwks
	if src == "" {
		base := getenv(envURL)
		if base == "" {
			base = defaultURL
		}
		src = strings.TrimRight(base, "/") + "/v1/receipts/keys"
	}
	keys, err := loadJWKS(ctx, src)
	if err != nil {
		return err
	}
	res, err := receipt.Verify(string(tok), keys, receipt.Options{BlobDir: *blobs, RequirePhotos: *blobs != ""})
	if err != nil {
		return err
	}
	r := res.Receipt
	if !res.OK() {
		fmt.Fprintf(stdout, "FAILED: receipt of delivery %s (kid %s): %d problem(s)\n", r.Delivery, res.KeyID, len(res.Problems))
		for _, p := range res.Problems {
			fmt.Fprintln(stdout, "  -", p)
		}
		return errNotVerified
	}
	fmt.Fprintf(stdout, "OK: receipt of delivery %s, signed by key %s\n", r.Delivery, res.KeyID)
	fmt.Fprintf(stdout, "  outcome %s, state %s, %d records, head %s\n", r.Outcome, r.State, len(r.Log), r.Head)
	if c := r.Consent; c != nil {
		fmt.Fprintf(stdout, "  consent %q by %s at %s (record %d)\n", c.Text, c.Channel, c.At, c.Record)
	}
	if c := r.Confirmed; c != nil {
		fmt.Fprintf(stdout, "  receipt confirmed %q by %s at %s (record %d)\n", c.Text, c.Channel, c.At, c.Record)
	}
	if p := r.Proof; p != nil {
		checked := ""
		if *blobs != "" {
			checked = ", photo checked"
		}
		fmt.Fprintf(stdout, "  proof photo %s at %s (record %d)%s\n", p.Photo, p.At, p.Record, checked)
	}
	if r.Erased {
		fmt.Fprintln(stdout, "  personal data erased; hashes verified")
	}
	return nil
}

// loadJWKS reads a JWKS from a file or an http(s) URL.
func loadJWKS(ctx context.Context, src string) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	var b []byte
	if u, err := url.Parse(src); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(cctx, http.MethodGet, src, nil)
		if err != nil {
			return set, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return set, fmt.Errorf("keys: %w", err)
		}
		defer resp.Body.Close()
		if b, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20)); err != nil {
			return set, fmt.Errorf("keys: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			return set, fmt.Errorf("keys: %s answered %d", src, resp.StatusCode)
		}
	} else if b, err = os.ReadFile(src); err != nil {
		return set, err
	}
	if err := json.Unmarshal(b, &set); err != nil || len(set.Keys) == 0 {
		return set, fmt.Errorf("keys: %s is not a JWKS: %v", src, err)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			return set, fmt.Errorf("keys: %s holds a private key; use the public JWKS", src)
		}
	}
	return set, nil
}

const receiptHead = `usage: signoffctl receipt ID -token T [-html] [-o FILE]

Fetches the signed receipt of delivery ID (a compact JWS), or with -html its
human-readable page, with the recipient's, the courier's or a staff token.

`

// runReceipt is "signoffctl receipt".
func runReceipt(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("receipt", receiptHead, stderr)
	server := fs.String("url", envOr(getenv, envURL, defaultURL), "the server (SIGNOFF_URL)")
	token := fs.String("token", "", "a recipient, courier or staff token of the delivery")
	html := fs.Bool("html", false, "fetch the human-readable page instead")
	out := fs.String("o", "", "write to FILE instead of stdout")
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if id == "" || *token == "" {
		fs.Usage()
		return fmt.Errorf("%w: ID and -token are required", errUsage)
	}
	base, err := baseURL(*server)
	if err != nil {
		return err
	}
	path := "/v1/deliveries/" + url.PathEscape(id) + "/receipt"
	if *html {
		path += ".html"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+*token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return apiErrorFrom(resp.StatusCode, b)
	}
	if *out != "" {
		return os.WriteFile(*out, b, 0o644)
	}
	_, err = stdout.Write(append(b, '\n'))
	return err
}

const keysHead = `usage: signoffctl keys rotate|public -file FILE

  rotate  add a fresh Ed25519 signing key in front of the keys in FILE
          (creating it if needed); the old keys stay, so receipts they signed
          still verify. Restart signoffd to sign with the new key.
  public  print the public JWKS of the keys in FILE.

`

// runKeys is "signoffctl keys".
func runKeys(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "rotate" && args[0] != "public") {
		fmt.Fprint(stderr, keysHead)
		return errUsage
	}
	sub := args[0]
	fs := newFlagSet("keys "+sub, keysHead, stderr)
	file := fs.String("file", getenv("SIGNOFF_SIGNING_KEY_FILE"), "the private key file, a JWK Set (SIGNOFF_SIGNING_KEY_FILE)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *file == "" {
		fs.Usage()
		return fmt.Errorf("%w: -file is required", errUsage)
	}
	switch sub {
	case "rotate":
		kr, created, err := receipt.LoadOrCreate(*file)
		if err != nil {
			return err
		}
		if !created {
			if err := kr.Rotate(); err != nil {
				return err
			}
			if err := kr.Save(*file); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "signing key %s (%d keys in %s)\n", kr.KeyID(), len(kr.Public().Keys), *file)
		return nil
	default:
		b, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		kr, err := receipt.ParseKeys(b)
		if err != nil {
			return err
		}
		out, _ := json.MarshalIndent(kr.Public(), "", "  ")
		_, err = stdout.Write(append(out, '\n'))
		return err
	}
}

func envOr(getenv func(string) string, k, def string) string {
	if v := getenv(k); v != "" {
		return v
	}
	return def
}
