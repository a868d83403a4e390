package sms

import (
	"net/url"
	"testing"
)

// FuzzForm feeds arbitrary bodies to the callback form parser and the
// signature over what it parsed.
func FuzzForm(f *testing.F) {
	f.Add([]byte("From=%2B8613900001111&To=%2B15005550006&Body=1&MessageSid=SM1"))
	f.Add([]byte("Body=%E4%BA%8C&Body=2&a"))
	f.Add([]byte("%zz=1"))
	f.Add([]byte("Body=%ff"))
	f.Fuzz(func(t *testing.T, body []byte) {
		form, err := ParseForm(body)
		if err != nil {
			return
		}
		sig := Signature(testToken, "https://example.com"+InboundPath, form)
		// Encoding and parsing again keeps the signature: what the
		// provider signs is the parameters, not their encoding.
		again, err := url.ParseQuery(form.Encode())
		if err != nil {
			t.Fatalf("a parsed form does not parse again: %v", err)
		}
		if got := Signature(testToken, "https://example.com"+InboundPath, again); got != sig {
			t.Errorf("signature changed after re-encoding: %s, want %s", got, sig)
		}
	})
}
