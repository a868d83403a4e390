package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"

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
//
// Staff are let in by staff (see newStaffAuth).
// Photos go to SIGNOFF_BLOB_DIR, named by their SHA-256.
func wireEvidence(router http.Handler, cfg Config, getenv func(string) string, store *redisstore.Store, engine *dialog.Engine,
	couriers *channels.CourierTokens, staff staffAuths, log *slog.Logger) error {
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
	h, err := proof.New(proof.Config{BlobDir: cfg.BlobDir, Couriers: couriers, Keys: keys, Staff: staff}, store, engine, log)
	if err != nil {
		return err
	}
	h.Register(r)
	log.Info("receipts", "kid", keys.KeyID(), "keys", len(keys.Public().Keys), "key_file", keyFile, "staff_token", len(staff) > 1)
	return nil
}
