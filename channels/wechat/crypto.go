package wechat

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Sign returns WeChat's signature of parts: the hex SHA-1 of the parts
// sorted and joined. The URL check signs (token, timestamp, nonce); an
// encrypted message signs (token, timestamp, nonce, Encrypt).
func Sign(parts ...string) string {
	s := append([]string(nil), parts...)
	sort.Strings(s)
	h := sha1.Sum([]byte(strings.Join(s, "")))
	return hex.EncodeToString(h[:])
}

func signed(got string, parts ...string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(Sign(parts...))) == 1
}

// blockSize is the PKCS#7 block WeChat pads to: 32 bytes, not AES's 16.
const blockSize = 32

// Cipher is the message encryption of one account: AES-256-CBC under the
// key of the EncodingAESKey, the IV the key's first 16 bytes, over
// random(16) ‖ length(4, big-endian) ‖ message ‖ AppID, padded PKCS#7 to 32
// bytes, in base64.
type Cipher struct {
	key   []byte
	appID string
}

// NewCipher returns the cipher of an account's 43-character EncodingAESKey.
func NewCipher(encodingAESKey, appID string) (*Cipher, error) {
	if len(encodingAESKey) != 43 {
		return nil, errors.New("wechat: the AES key (EncodingAESKey) must be 43 characters")
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, errors.New("wechat: the AES key (EncodingAESKey) is not base64 of 32 bytes")
	}
	return &Cipher{key: key, appID: appID}, nil
}

// Encrypt returns msg encrypted for the account, in base64.
func (c *Cipher) Encrypt(msg []byte) (string, error) {
	var plain bytes.Buffer
	var rnd [16]byte
	rand.Read(rnd[:])
	plain.Write(rnd[:])
	binary.Write(&plain, binary.BigEndian, uint32(len(msg)))
	plain.Write(msg)
	plain.WriteString(c.appID)
	pad := blockSize - plain.Len()%blockSize
	plain.Write(bytes.Repeat([]byte{byte(pad)}, pad))
	block, err := aes.NewCipher(c.key)
	if err != nil {
		return "", err
	}
	out := make([]byte, plain.Len())
	cipher.NewCBCEncrypter(block, c.key[:16]).CryptBlocks(out, plain.Bytes())
	return base64.StdEncoding.EncodeToString(out), nil
}

// errDecrypt is every decryption failure: the client learns nothing more.
var errDecrypt = errors.New("wechat: the message does not decrypt")

// Decrypt returns the message of an encrypted text, checking its padding,
// its length and that it was made for this account's AppID.
func (c *Cipher) Decrypt(encrypted string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil || len(raw) == 0 || len(raw)%aes.BlockSize != 0 {
		return nil, errDecrypt
	}
	block, err := aes.NewCipher(c.key)
	if err != nil {
		return nil, err
	}
	plain := make([]byte, len(raw))
	cipher.NewCBCDecrypter(block, c.key[:16]).CryptBlocks(plain, raw)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > blockSize || pad > len(plain) {
		return nil, errDecrypt
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, errDecrypt
		}
	}
	plain = plain[:len(plain)-pad]
	if len(plain) < 20 {
		return nil, errDecrypt
	}
	n := binary.BigEndian.Uint32(plain[16:20])
	if uint64(n) > uint64(len(plain)-20) {
		return nil, errDecrypt
	}
	msg, app := plain[20:20+n], plain[20+n:]
	if subtle.ConstantTimeCompare(app, []byte(c.appID)) != 1 {
		return nil, fmt.Errorf("%w: made for another AppID", errDecrypt)
	}
	return msg, nil
}
