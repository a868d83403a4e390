package evidence_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gowebpki/jcs"

	"github.com/signoff/signoff/dialog/evidence"
)

var at = time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.UTC)

// chain builds n records whose fields vary, some with personal values.
func chain(t testing.TB, n int) ([]evidence.Record, map[int]evidence.Openings) {
	t.Helper()
	var recs []evidence.Record
	open := map[int]evidence.Openings{}
	seq, head := 0, ""
	for i := range n {
		data := map[string]string{"session": "s_1", "i": strings.Repeat("x", i%7), "emoji": "包裹 \u2028 <&> \"q\""}
		if i%3 == 0 {
			data["text"] = "放门口 2 号"
			data["phone"] = "13800001111"
		}
		r, o, err := evidence.New([]string{"reply", "bot", "state"}[i%3], at.Add(time.Duration(i)*time.Second), data, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if r, err = evidence.Chain(seq, head, r); err != nil {
			t.Fatal(err)
		}
		seq, head = r.Seq, r.Hash
		recs = append(recs, r)
		if o != nil {
			open[r.Seq] = o
		}
	}
	return recs, open
}

func TestChainVerifies(t *testing.T) {
	recs, open := chain(t, 20)
	if p := evidence.Check(recs, open); len(p) != 0 {
		t.Fatalf("Check of an untouched chain: %v", p)
	}
	for _, r := range recs {
		if _, ok := r.Fields["text"]; ok {
			t.Fatalf("record %d holds personal text in the clear", r.Seq)
		}
	}
}

// TestHashesRecomputeIndependently recomputes every hash with gowebpki/jcs,
// an RFC 8785 implementation independent of the one in production.
func TestHashesRecomputeIndependently(t *testing.T) {
	recs, _ := chain(t, 30)
	for _, r := range recs {
		m := map[string]any{"seq": r.Seq, "at": r.At, "kind": r.Kind, "fields": r.Fields, "prev": r.Prev}
		if r.Sealed != nil {
			m["sealed"] = r.Sealed
		}
		b, _ := json.Marshal(m)
		c, err := jcs.Transform(b)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(c)
		if got := hex.EncodeToString(sum[:]); got != r.Hash {
			t.Errorf("record %d: jcs gives %s, record says %s", r.Seq, got, r.Hash)
		}
	}
}

func TestTamperingIsNamed(t *testing.T) {
	tests := []struct {
		name   string
		change func([]evidence.Record, map[int]evidence.Openings) []evidence.Record
		want   string
	}{
		{"field", func(r []evidence.Record, _ map[int]evidence.Openings) []evidence.Record {
			r[4].Fields["session"] = "s_2"
			return r
		}, `record 5 field fields.session: was altered: it read "s_1"`},
		{"field, wider change", func(r []evidence.Record, _ map[int]evidence.Openings) []evidence.Record {
			r[4].Fields["session"] = "another session"
			return r
		}, "record 5: was altered: its content does not match"},
		{"field, hash recomputed", func(r []evidence.Record, _ map[int]evidence.Openings) []evidence.Record {
			r[5].Kind = r[5].Kind[:1] + "X" + r[5].Kind[2:]
			r[5].Hash, _ = r[5].ComputeHash()
			return r
		}, `record 6 field kind: was altered and its hash recomputed: it read "state"`},
		{"dropped", func(r []evidence.Record, _ map[int]evidence.Openings) []evidence.Record {
			return append(r[:6:6], r[7:]...)
		}, "record 7: was dropped"},
		{"reordered", func(r []evidence.Record, _ map[int]evidence.Openings) []evidence.Record {
			r[2], r[3] = r[3], r[2]
			return r
		}, "record 4: was moved"},
		{"opening", func(r []evidence.Record, o map[int]evidence.Openings) []evidence.Record {
			op := o[4]["text"]
			op.Value = "放快递柜"
			o[4]["text"] = op
			return r
		}, "record 4 field text: the value does not match"},
		{"prev", func(r []evidence.Record, _ map[int]evidence.Openings) []evidence.Record {
			r[8].Prev = r[3].Hash
			h, _ := r[8].ComputeHash()
			r[8].Hash = h
			return r
		}, "record 9 field prev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, open := chain(t, 12)
			recs = tt.change(recs, open)
			var got []string
			for _, p := range evidence.Check(recs, open) {
				got = append(got, p.String())
			}
			if !strings.Contains(strings.Join(got, "\n"), tt.want) {
				t.Errorf("problems %q, want one containing %q", got, tt.want)
			}
		})
	}
}

func TestErasedOpeningsStillVerify(t *testing.T) {
	recs, _ := chain(t, 9)
	if p := evidence.Check(recs, nil); len(p) != 0 {
		t.Fatalf("without openings: %v", p)
	}
}

// FuzzCanonical compares the production canonical form with gowebpki/jcs
// on any JSON the two both accept.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":"x"}`, `[1e21,0.1,-0,"\u2028"]`, `{"€":1,"\r":2,"ö":3}`, `{"a":{"c":[true,null],"b":"é"}}`, `123456789012345678901234`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		want, err := jcs.Transform(b)
		if err != nil {
			return // jcs refuses some inputs (e.g. numbers out of range) that are not ours to judge
		}
		got, err := evidence.Canonicalize(bytes.Clone(b))
		if err != nil {
			return
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("canonical form of %q:\n got %s\nwant %s", b, got, want)
		}
	})
}

// sameCanonical fails unless the record's direct canonical form equals both
// Canonicalize of its JSON and gowebpki/jcs of it.
func sameCanonical(t *testing.T, r evidence.Record) {
	t.Helper()
	got, err := r.Canonical()
	if err != nil {
		return // invalid UTF-8, refused alike below
	}
	plain, err := r.Marshalled()
	if err != nil {
		t.Fatalf("Canonical accepted what json refuses: %+v", r)
	}
	viaLib, err := evidence.Canonicalize(plain)
	if err != nil {
		t.Fatal(err)
	}
	viaJCS, err := jcs.Transform(plain)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, viaLib) || !bytes.Equal(got, viaJCS) {
		t.Fatalf("canonical forms differ:\n direct %s\n   lib %s\n   jcs %s", got, viaLib, viaJCS)
	}
}

func TestRecordCanonical(t *testing.T) {
	odd := []string{"", "a", "b", "€", "\u0080", "\U0001F600", "\uFB33", "\u2028", "\x7f", "\x01", "\"\\/", "<&>", "aa", "A", "é", "\uFFFF", "\U00010000"}
	for i, k := range odd {
		r := evidence.Record{Seq: i + 1, At: "2031-05-06T07:08:09Z", Kind: k, Prev: odd[(i+3)%len(odd)], Fields: map[string]string{}}
		for j, k2 := range odd {
			r.Fields[k2] = odd[(i+j)%len(odd)]
		}
		if i%2 == 0 {
			r.Sealed = map[string]string{k: "x", "text": k}
		}
		sameCanonical(t, r)
	}
}

// FuzzRecordCanonical compares the direct canonical form of a record with
// the library's and gowebpki/jcs's.
func FuzzRecordCanonical(f *testing.F) {
	f.Add("reply", "text", "放门口", "k2", "\u2028\x01", 7)
	f.Add("\U0001F600", "\uFB33", "x", "\U00010000", "", -3)
	f.Fuzz(func(t *testing.T, kind, k1, v1, k2, v2 string, seq int) {
		sameCanonical(t, evidence.Record{Seq: seq, At: v2, Kind: kind, Prev: v1,
			Fields: map[string]string{k1: v1, k2: v2}, Sealed: map[string]string{k2: v1}})
	})
}
