package channels

import (
	"errors"
	"strings"
	"testing"

	"github.com/signoff/signoff"
)

func TestCourierTokens(t *testing.T) {
	a, err := NewCourierTokens([]byte("0123456789abcdef-secret"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewCourierTokens([]byte("another secret of 16+ bytes"))
	tok := a.Issue("courier-7")
	if id, err := a.Verify(tok); err != nil || id != "courier-7" {
		t.Fatalf("Verify(own token) = %q, %v; want courier-7, nil", id, err)
	}
	other := a.Issue("courier-8")
	forged := tok[:strings.LastIndex(tok, ".")] + other[strings.LastIndex(other, "."):]
	for name, bad := range map[string]string{
		"other secret": b.Issue("courier-7"),
		"swapped mac":  forged,
		"empty":        "",
		"no prefix":    strings.TrimPrefix(tok, "c1."),
		"no mac":       "c1." + b64.EncodeToString([]byte("courier-7")),
		"bad base64":   "c1.!!.!!",
		"truncated":    tok[:len(tok)-2],
	} {
		if id, err := a.Verify(bad); !errors.Is(err, signoff.ErrUnauthorized) {
			t.Errorf("%s: Verify = %q, %v; want ErrUnauthorized", name, id, err)
		}
	}
	if _, err := NewCourierTokens([]byte("short")); err == nil {
		t.Error("NewCourierTokens(short secret) = nil error; want one")
	}
}

func FuzzCourierToken(f *testing.F) {
	tk, _ := NewCourierTokens([]byte("0123456789abcdef-secret"))
	f.Add(tk.Issue("c-1"))
	f.Add("c1.YQ.YQ")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := tk.Verify(s)
		if err == nil && tk.Issue(id) != s {
			t.Fatalf("Verify accepted %q as %q, whose token is %q", s, id, tk.Issue(id))
		}
	})
}
