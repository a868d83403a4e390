package rtc

import (
	"errors"
	"strings"
	"testing"

	"github.com/signoff/signoff"
)

func TestParseSDPFrag(t *testing.T) {
	frag := "a=ice-ufrag:abcd\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\n"
	c, err := ParseSDPFrag(frag)
	if err != nil || len(c) != 1 || c[0].SDPMid == nil || *c[0].SDPMid != "0" || !strings.HasPrefix(c[0].Candidate, "candidate:1 ") {
		t.Fatalf("ParseSDPFrag = %+v, %v", c, err)
	}
	for _, bad := range []string{"a=candidate:1 1 udp\r\n", "garbage\r\n"} {
		if _, err := ParseSDPFrag(bad); !errors.Is(err, signoff.ErrInvalid) {
			t.Errorf("ParseSDPFrag(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestICEServers(t *testing.T) {
	s, err := ICEServers([]string{"stun:stun.example.org:3478", "turn:bob:s3cret@turn.example.org:3478"})
	if err != nil || len(s) != 2 || s[1].Username != "bob" || s[1].Credential != "s3cret" {
		t.Fatalf("ICEServers = %+v, %v", s, err)
	}
	if _, err := ICEServers([]string{"http://bob:s3cret@x"}); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("bad URL: %v (must fail without the password)", err)
	}
}

// FuzzSDPFrag: any fragment gives candidates or ErrInvalid, never a panic.
func FuzzSDPFrag(f *testing.F) {
	f.Add("a=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\n")
	f.Add("a=end-of-candidates\r\n")
	f.Fuzz(func(t *testing.T, frag string) {
		cands, err := ParseSDPFrag(frag)
		if err != nil && !errors.Is(err, signoff.ErrInvalid) {
			t.Fatalf("ParseSDPFrag: %v is not ErrInvalid", err)
		}
		for _, c := range cands {
			if !strings.HasPrefix(c.Candidate, "candidate:") {
				t.Fatalf("candidate %q", c.Candidate)
			}
		}
	})
}
