package dialog

import (
	"reflect"
	"testing"
)

// FuzzParseReply feeds ParseReply arbitrary text, seeded from the table of
// TestParseReply and the corpus in testdata/fuzz/FuzzParseReply, and checks
// what must hold for every input: no panic, a Reply whose fields agree with
// its Kind, no refused option as the answer, and the same answer every time.
func FuzzParseReply(f *testing.F) {
	for _, c := range parseCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r := ParseReply(in)
		if r.Kind < ReplyUnclear || r.Kind > ReplyThanks {
			t.Fatalf("ParseReply(%q) = %+v: Kind out of range", in, r)
		}
		if r.Kind == ReplyKey {
			if !isMenuKey(r.Key) {
				t.Fatalf("ParseReply(%q) = %+v: ReplyKey with Key %q, want one of \"0\"..\"9\"", in, r, r.Key)
			}
		} else if r.Key != "" || r.Digit {
			t.Fatalf("ParseReply(%q) = %+v: Key or Digit set on a %v reply", in, r, r.Kind)
		}
		if r.Kind == ReplyAmbiguous {
			if len(r.Candidates) < 2 {
				t.Fatalf("ParseReply(%q) = %+v: ReplyAmbiguous with fewer than 2 candidates", in, r)
			}
			checkKeyList(t, in, r, "Candidates", r.Candidates)
		} else if len(r.Candidates) != 0 {
			t.Fatalf("ParseReply(%q) = %+v: Candidates set on a %v reply", in, r, r.Kind)
		}
		checkKeyList(t, in, r, "Negated", r.Negated)
		for _, k := range r.Negated {
			if k == r.Key {
				t.Fatalf("ParseReply(%q) = %+v: Key %q is also Negated", in, r, k)
			}
			for _, c := range r.Candidates {
				if k == c {
					t.Fatalf("ParseReply(%q) = %+v: candidate %q is also Negated", in, r, k)
				}
			}
		}
		switch r.Kind {
		case ReplyQuestion:
			switch r.Topic {
			case TopicWhere, TopicWhen, TopicWho, TopicPhone, TopicStation, TopicStatus:
			default:
				t.Fatalf("ParseReply(%q) = %+v: ReplyQuestion with unknown Topic %q", in, r, r.Topic)
			}
		default:
			if r.Topic != "" {
				t.Fatalf("ParseReply(%q) = %+v: Topic set on a %v reply", in, r, r.Kind)
			}
		}
		if again := ParseReply(in); !reflect.DeepEqual(again, r) {
			t.Fatalf("ParseReply(%q) = %+v, then %+v: not deterministic", in, r, again)
		}
	})
}

func isMenuKey(k string) bool { return len(k) == 1 && k[0] >= '0' && k[0] <= '9' }

// checkKeyList checks that keys are menu keys, ascending and distinct.
func checkKeyList(t *testing.T, in string, r Reply, field string, keys []string) {
	t.Helper()
	for i, k := range keys {
		if !isMenuKey(k) {
			t.Fatalf("ParseReply(%q) = %+v: %s holds %q, want keys \"0\"..\"9\"", in, r, field, k)
		}
		if i > 0 && keys[i-1] >= k {
			t.Fatalf("ParseReply(%q) = %+v: %s not ascending and distinct", in, r, field)
		}
	}
}
