package main

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/channels/proof"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/receipt"
	"github.com/signoff/signoff/dialog/redisstore"
)

// wireEvidence adds the evidence routes (courier proof, photos, receipts,
// keys, erasure) to router. Its settings come from the environment:
//
//	SIGNOFF_SIGNING_KEY_FILE  the receipt signing keys: a JWK Set, a JWK or
//	                          PEM (PKCS #8 Ed25519); the first key signs.
//	                          Unset: <SIGNOFF_DATA_DIR>/signing-keys.json,
//	                          generated on first start.
//	SIGNOFF_DATA_DIR          default: the parent of SIGNOFF_BLOB_DIR ("data")
//	SIGNOFF_STAFF_TOKEN       a bearer token for staff (until the console's
//	                          sign-in takes over); unset: no staff access
//	SIGNOFF_STAFF_ROLE        that staff's role (default "admin")
//
// Photos go to SIGNOFF_BLOB_DIR, named by their SHA-256.
func wireEvidence(router http.Handler, cfg Config, getenv func(string) string, store *redisstore.Store, engine *dialog.Engine,
	couriers *channels.CourierTokens, con staffChecker, log *slog.Logger) error {
	r, ok := router.(*gin.Engine)
	if !ok {
		return errors.New("evidence: the router is not a gin engine")
	}
	keyFile := getenv("SIGNOFF_SIGNING_KEY_FILE")
	var keys *receipt.Keyring
	if keyFile == "" {
		dataDir := getenv("SIGNOFF_DATA_DIR")
		if dataDir == "" {
			dataDir = filepath.Dir(filepath.Clean(cfg.BlobDir)) // "data" for the default data/blobs
		}
		var created bool
		var err error
		keyFile = filepath.Join(dataDir, "signing-keys.json")
		if keys, created, err = receipt.LoadOrCreate(keyFile); err != nil {
			return fmt.Errorf("receipt signing key: %w", err)
		}
		if created {
			log.Warn("SIGNOFF_SIGNING_KEY_FILE is not set: generated a receipt signing key; keep it, or receipts cannot be checked after it is lost",
				"file", keyFile, "kid", keys.KeyID())
		}
	} else {
		kr, _, err := receipt.LoadOrCreate(keyFile)
		if err != nil {
			return fmt.Errorf("SIGNOFF_SIGNING_KEY_FILE: %w", err)
		}
		keys = kr
	}
	staff := staffAuths{con}
	if tok := getenv("SIGNOFF_STAFF_TOKEN"); tok != "" {
		if len(tok) < 16 {
			return errors.New("SIGNOFF_STAFF_TOKEN: must be at least 16 bytes")
		}
		role := getenv("SIGNOFF_STAFF_ROLE")
		if role == "" {
			role = "admin"
		}
		staff = append(staff, staffToken{token: tok, role: role})
	}
	h, err := proof.New(proof.Config{BlobDir: cfg.BlobDir, Couriers: couriers, Keys: keys, Staff: staff}, store, engine, log)
	if err != nil {
		return err
	}
	h.Register(r)
	log.Info("receipts", "kid", keys.KeyID(), "keys", len(keys.Public().Keys), "key_file", keyFile, "staff_token", len(staff) > 1)
	return nil
}

// staffChecker says whether a request comes from signed-in staff: the
// console's sessions, or the shared staff token.
type staffChecker interface {
	StaffFromRequest(r *http.Request) (name, role string, err error)
}

// staffAuths lets staff in by the first of its checks that accepts them.
type staffAuths []staffChecker

func (a staffAuths) StaffFromRequest(r *http.Request) (string, string, error) {
	err := errors.New("not staff")
	for _, s := range a {
		name, role, e := s.StaffFromRequest(r)
		if e == nil {
			return name, role, nil
		}
		err = e
	}
	return "", "", err
}

// staffToken is a staff check of one shared bearer token, for API clients
// (signoffctl receipt) next to the console's sign-in.
type staffToken struct {
	token, role string
}

func (s staffToken) StaffFromRequest(r *http.Request) (string, string, error) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.token)) != 1 {
		return "", "", errors.New("not staff")
	}
	return "staff", s.role, nil
}
