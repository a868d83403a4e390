package receipt

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-jose/go-jose/v4"
)

// Keyring holds the Ed25519 signing keys: the first signs, the others are
// kept so that receipts they signed still verify. Its zero value holds no
// key.
type Keyring struct {
	keys []jose.JSONWebKey // private keys, newest first
}

// NewKey returns a fresh Ed25519 key with its RFC 7638 thumbprint as kid.
func NewKey() (jose.JSONWebKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	return withKID(jose.JSONWebKey{Key: priv, Algorithm: string(jose.EdDSA), Use: "sig"})
}

func withKID(k jose.JSONWebKey) (jose.JSONWebKey, error) {
	if k.KeyID != "" {
		return k, nil
	}
	pub := k.Public()
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("receipt: key thumbprint: %w", err)
	}
	k.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	return k, nil
}

// Generate returns a Keyring with one fresh key.
func Generate() (*Keyring, error) {
	k, err := NewKey()
	if err != nil {
		return nil, err
	}
	return &Keyring{keys: []jose.JSONWebKey{k}}, nil
}

// ParseKeys reads private Ed25519 keys from a JWK Set, a single JWK, or PEM
// (PKCS #8 "PRIVATE KEY" blocks). The first key signs. A key without a kid
// gets its RFC 7638 thumbprint.
func ParseKeys(b []byte) (*Keyring, error) {
	var raw []jose.JSONWebKey
	if blk, _ := pem.Decode(b); blk != nil {
		for rest := b; ; {
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("receipt: PEM key: %w", err)
			}
			raw = append(raw, jose.JSONWebKey{Key: k, Algorithm: string(jose.EdDSA), Use: "sig"})
		}
	} else {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(b, &set); err == nil && len(set.Keys) > 0 {
			raw = set.Keys
		} else {
			var k jose.JSONWebKey
			if err := json.Unmarshal(b, &k); err != nil {
				return nil, fmt.Errorf("receipt: not a JWK Set, a JWK or PEM: %w", err)
			}
			raw = []jose.JSONWebKey{k}
		}
	}
	kr := &Keyring{}
	for _, k := range raw {
		if _, ok := k.Key.(ed25519.PrivateKey); !ok {
			return nil, fmt.Errorf("receipt: key %q is %T, want an Ed25519 private key", k.KeyID, k.Key)
		}
		k.Algorithm, k.Use = string(jose.EdDSA), "sig"
		k, err := withKID(k)
		if err != nil {
			return nil, err
		}
		kr.keys = append(kr.keys, k)
	}
	if len(kr.keys) == 0 {
		return nil, errors.New("receipt: no key")
	}
	return kr, nil
}

// LoadOrCreate reads the keys at path or, when the file does not exist,
// generates one and writes it there (mode 0600). It reports whether it
// created the file.
func LoadOrCreate(path string) (*Keyring, bool, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		kr, err := ParseKeys(b)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return kr, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	kr, err := Generate()
	if err != nil {
		return nil, false, err
	}
	if err := kr.Save(path); err != nil {
		return nil, false, err
	}
	return kr, true, nil
}

// Save writes the keys, private, as a JWK Set (mode 0600), atomically.
func (kr *Keyring) Save(path string) error {
	b, err := json.MarshalIndent(jose.JSONWebKeySet{Keys: kr.keys}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Rotate puts a fresh key in front: it signs from now on, and the old keys
// stay in the JWKS.
func (kr *Keyring) Rotate() error {
	k, err := NewKey()
	if err != nil {
		return err
	}
	kr.keys = append([]jose.JSONWebKey{k}, kr.keys...)
	return nil
}

// KeyID returns the kid of the signing key ("" for an empty Keyring).
func (kr *Keyring) KeyID() string {
	if len(kr.keys) == 0 {
		return ""
	}
	return kr.keys[0].KeyID
}

// Public returns the public keys as a JWKS, the signing key first.
func (kr *Keyring) Public() jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(kr.keys))}
	for _, k := range kr.keys {
		set.Keys = append(set.Keys, k.Public())
	}
	return set
}
