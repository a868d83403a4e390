package wechat

import (
	"bytes"
	"testing"
)

// FuzzOpen feeds arbitrary bodies, plain and as the Encrypt of encrypted
// mode, to the message reader; whatever it accepts must survive a round
// trip through the cipher.
func FuzzOpen(f *testing.F) {
	f.Add([]byte(textXML("oUser1", "text", "2", 1)), false)
	f.Add([]byte(textXML("oUser1", "voice", "二", 2)), true)
	f.Add([]byte("<xml><Encrypt>AAAA</Encrypt></xml>"), true)
	f.Add([]byte("<xml><MsgType>event</MsgType>"), false)
	c, err := NewCipher(testAESKey, testAppID)
	if err != nil {
		f.Fatal(err)
	}
	h := &Handler{cfg: Config{Token: testToken}.withDefaults(), cipher: c}
	f.Fuzz(func(t *testing.T, body []byte, encrypt bool) {
		q := map[string]string{"timestamp": "1", "nonce": "n", "signature": Sign(testToken, "1", "n")}
		if encrypt {
			q["encrypt_type"] = "aes"
			if enc, err := ParseEnvelope(body); err == nil {
				q["msg_signature"] = Sign(testToken, "1", "n", enc)
			}
		}
		m, _, err := h.Open(func(k string) string { return q[k] }, body)
		if err != nil {
			return
		}
		if m.FromUserName == "" || m.MsgType == "" {
			t.Fatalf("accepted a message without sender or type: %+v", m)
		}
		// The cipher round-trips any bytes.
		enc, err := c.Encrypt(body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Decrypt(enc)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("round trip: %q, %v", got, err)
		}
	})
}
