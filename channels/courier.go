package channels

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/signoff/signoff"
)

// CourierTokens issues and checks courier tokens. A token is
// "c1.<courier id, base64url>.<HMAC-SHA256 of the id, base64url>" under a
// server secret: it names one courier and is scoped to that courier's
// deliveries, and nothing needs to be stored to check it. Rotating the
// secret revokes every token.
type CourierTokens struct {
	key []byte
}

// NewCourierTokens returns CourierTokens keyed by secret, which must be at
// least 16 bytes.
func NewCourierTokens(secret []byte) (CourierTokens, error) {
	if len(secret) < 16 {
		return CourierTokens{}, errors.New("channels: the courier token secret must be at least 16 bytes")
	}
	return CourierTokens{key: append([]byte(nil), secret...)}, nil
}

const courierPrefix = "c1."

var b64 = base64.RawURLEncoding

func (t CourierTokens) mac(id string) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte("signoff courier token\x00"))
	m.Write([]byte(id))
	return m.Sum(nil)
}

// Issue returns the token of courier id.
func (t CourierTokens) Issue(id string) string {
	return courierPrefix + b64.EncodeToString([]byte(id)) + "." + b64.EncodeToString(t.mac(id))
}

// Verify returns the courier a token names, or an error of kind
// signoff.ErrUnauthorized (code bad_token) when it is malformed or its MAC
// does not match.
func (t CourierTokens) Verify(token string) (string, error) {
	bad := signoff.Errorf(signoff.ErrUnauthorized, "bad_token", "the courier token is not valid")
	if len(t.key) == 0 || !strings.HasPrefix(token, courierPrefix) || len(token) > 512 {
		return "", bad
	}
	idPart, _, ok := strings.Cut(token[len(courierPrefix):], ".")
	if !ok {
		return "", bad
	}
	id, err := b64.DecodeString(idPart)
	if err != nil || len(id) == 0 {
		return "", bad
	}
	// Compare the whole token with the one this courier is issued, so that
	// exactly one spelling is accepted (base64 decoding forgives line breaks
	// and stray padding bits).
	if !hmac.Equal([]byte(token), []byte(t.Issue(string(id)))) {
		return "", bad
	}
	return string(id), nil
}
