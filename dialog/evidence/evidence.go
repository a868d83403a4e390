package evidence

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Record is one entry of a delivery's evidence log.
type Record struct {
	Seq    int               `json:"seq"`              // 1, 2, 3, ... in order
	At     string            `json:"at"`               // when it happened, RFC 3339 UTC
	Kind   string            `json:"kind"`             // "webhook", "reply", "outcome", "proof", ...
	Fields map[string]string `json:"fields"`           // the facts that are not personal
	Sealed map[string]string `json:"sealed,omitempty"` // personal field → hex sha256(salt ‖ value)
	Prev   string            `json:"prev"`             // hash of the record before, "" for the first
	Hash   string            `json:"hash"`             // hex SHA-256 of the canonical record without hash
}

// Opening reveals one sealed value: Salt is hex, and the record holds
// hex sha256(salt bytes ‖ value bytes).
type Opening struct {
	Value string `json:"value"`
	Salt  string `json:"salt"`
}

// Openings are the sealed values of one record, by field name.
type Openings map[string]Opening

// Personal reports whether a field's value is personal data and so is
// sealed: names, phone numbers, addresses, free text a person wrote or said,
// and locations.
func Personal(field string) bool {
	switch field {
	case "text", "consent_text", "name", "phone", "address", "note", "lat", "lng",
		"recipient_name", "recipient_phone", "courier_name", "courier_phone", "staff_text":
		return true
	}
	return strings.HasSuffix(field, "_name") || strings.HasSuffix(field, "_phone")
}

// FormatTime is how a record's At is written: UTC, RFC 3339 with nanoseconds
// as needed.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// New returns the record of one log entry, not yet chained: personal fields
// are sealed with fresh salts read from rand, and their openings returned.
func New(kind string, at time.Time, data map[string]string, rand io.Reader) (Record, Openings, error) {
	r := Record{At: FormatTime(at), Kind: strings.ToValidUTF8(kind, "\uFFFD"), Fields: make(map[string]string, len(data))}
	var open Openings
	for k, v := range data {
		// Canonical JSON holds only valid UTF-8.
		k, v = strings.ToValidUTF8(k, "\uFFFD"), strings.ToValidUTF8(v, "\uFFFD")
		if !Personal(k) {
			r.Fields[k] = v
			continue
		}
		var salt [16]byte
		if _, err := io.ReadFull(rand, salt[:]); err != nil {
			return Record{}, nil, fmt.Errorf("evidence: salt: %w", err)
		}
		o := Opening{Value: v, Salt: hex.EncodeToString(salt[:])}
		if r.Sealed == nil {
			r.Sealed, open = map[string]string{}, Openings{}
		}
		r.Sealed[k] = o.Seal()
		open[k] = o
	}
	return r, open, nil
}

// Seal returns hex sha256(salt ‖ value); a salt that is not hex gives "".
func (o Opening) Seal() string {
	salt, err := hex.DecodeString(o.Salt)
	if err != nil {
		return ""
	}
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(o.Value))
	return hex.EncodeToString(h.Sum(nil))
}

// Chain gives r its place after prev (the zero Record for the first): its
// Seq, Prev and Hash. It returns the chained record.
func Chain(prevSeq int, prevHash string, r Record) (Record, error) {
	r.Seq, r.Prev = prevSeq+1, prevHash
	h, err := r.ComputeHash()
	if err != nil {
		return Record{}, err
	}
	r.Hash = h
	return r, nil
}

// Canonical returns the RFC 8785 canonical JSON of r without its hash:
// members in UTF-16 order of their names, strings quoted by jsontext (which
// quotes as RFC 8785 requires), the one number an integer. It is written
// directly rather than marshalled and canonicalised, being most of the cost
// of checking a chain; tests hold it equal to Canonicalize of the record's
// JSON and to gowebpki/jcs.
func (r Record) Canonical() ([]byte, error) {
	b := make([]byte, 0, 256)
	var err error
	// The member names in UTF-16 order: at, fields, kind, prev, sealed, seq.
	b = append(b, `{"at":`...)
	if b, err = jsontext.AppendQuote(b, r.At); err != nil {
		return nil, fmt.Errorf("evidence: record %d: at: %w", r.Seq, err)
	}
	b = append(b, `,"fields":`...)
	if b, err = appendMap(b, r.Fields); err != nil {
		return nil, fmt.Errorf("evidence: record %d: fields: %w", r.Seq, err)
	}
	b = append(b, `,"kind":`...)
	if b, err = jsontext.AppendQuote(b, r.Kind); err != nil {
		return nil, fmt.Errorf("evidence: record %d: kind: %w", r.Seq, err)
	}
	b = append(b, `,"prev":`...)
	if b, err = jsontext.AppendQuote(b, r.Prev); err != nil {
		return nil, fmt.Errorf("evidence: record %d: prev: %w", r.Seq, err)
	}
	if len(r.Sealed) > 0 {
		b = append(b, `,"sealed":`...)
		if b, err = appendMap(b, r.Sealed); err != nil {
			return nil, fmt.Errorf("evidence: record %d: sealed: %w", r.Seq, err)
		}
	}
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, int64(r.Seq), 10)
	return append(b, '}'), nil
}

// appendMap appends m as a canonical JSON object of strings.
func appendMap(b []byte, m map[string]string) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareUTF16)
	b = append(b, '{')
	var err error
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = jsontext.AppendQuote(b, k); err != nil {
			return nil, err
		}
		b = append(b, ':')
		if b, err = jsontext.AppendQuote(b, m[k]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// compareUTF16 orders strings by their UTF-16 code units, as RFC 8785
// orders member names.
func compareUTF16(x, y string) int {
	for x != "" && y != "" {
		rx, nx := utf8.DecodeRuneInString(x)
		ry, ny := utf8.DecodeRuneInString(y)
		if rx != ry {
			// Runes above the BMP become surrogates (0xD800..0xDFFF), which
			// sort below 0xE000..0xFFFF.
			ux, uy := utf16Key(rx), utf16Key(ry)
			if ux != uy {
				return cmp.Compare(ux, uy)
			}
			return cmp.Compare(rx, ry)
		}
		x, y = x[nx:], y[ny:]
	}
	return cmp.Compare(len(x), len(y))
}

func utf16Key(r rune) rune {
	if r >= 0x10000 {
		r1, _ := utf16.EncodeRune(r)
		return r1
	}
	return r
}

// marshalled is the record without its hash as plain JSON, for tests.
func (r Record) marshalled() ([]byte, error) {
	return json.Marshal(&struct {
		Seq    int               `json:"seq"`
		At     string            `json:"at"`
		Kind   string            `json:"kind"`
		Fields map[string]string `json:"fields"`
		Sealed map[string]string `json:"sealed,omitempty"`
		Prev   string            `json:"prev"`
	}{r.Seq, r.At, r.Kind, nonNil(r.Fields), r.Sealed, r.Prev})
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// Canonicalize returns the RFC 8785 canonical form of the JSON in b.
func Canonicalize(b []byte) ([]byte, error) {
	v := jsontext.Value(b)
	if err := v.Canonicalize(); err != nil {
		return nil, fmt.Errorf("evidence: canonical form: %w", err)
	}
	return v, nil
}

// ComputeHash returns the hex SHA-256 of r's canonical form.
func (r Record) ComputeHash() (string, error) {
	b, err := r.Canonical()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Problem is one thing wrong with a chain, named as precisely as the
// evidence allows.
type Problem struct {
	Seq    int    // the record it is about (0: the chain as a whole)
	Field  string // the field, when known
	Reason string // what is wrong, in words
}

func (p Problem) String() string {
	switch {
	case p.Seq == 0:
		return p.Reason
	case p.Field != "":
		return fmt.Sprintf("record %d field %s: %s", p.Seq, p.Field, p.Reason)
	}
	return fmt.Sprintf("record %d: %s", p.Seq, p.Reason)
}

// Check verifies a whole chain: records numbered 1..n in order, each hash
// recomputed from its content, each prev equal to the hash before it, and
// each opening (erased ones may be absent) matching its sealed hash. open is
// keyed by seq. It returns every problem found, naming the record that was
// altered, dropped or moved; none means the chain is whole.
func Check(recs []Record, open map[int]Openings) []Problem {
	var out []Problem
	seen := make(map[int]int, len(recs)) // seq → index
	for i, r := range recs {
		if j, dup := seen[r.Seq]; dup {
			out = append(out, Problem{Seq: r.Seq, Reason: fmt.Sprintf("appears twice (positions %d and %d)", j+1, i+1)})
			continue
		}
		seen[r.Seq] = i
	}
	seqs := make([]int, 0, len(seen))
	for s := range seen {
		seqs = append(seqs, s)
	}
	sort.Ints(seqs)
	last := 0
	for _, s := range seqs {
		switch {
		case s < 1:
			out = append(out, Problem{Seq: s, Reason: "has no valid number"})
			continue
		case s == last+2:
			out = append(out, Problem{Seq: last + 1, Reason: "was dropped: it is missing from the log"})
		case s > last+2:
			out = append(out, Problem{Seq: last + 1, Reason: fmt.Sprintf("was dropped, with every record up to %d: they are missing from the log", s-1)})
		}
		last = s
	}
	for i, r := range recs {
		if r.Seq != i+1 {
			if _, ok := seen[i+1]; ok && r.Seq > 0 {
				out = append(out, Problem{Seq: r.Seq, Reason: fmt.Sprintf("was moved: it stands at position %d", i+1)})
			}
		}
	}
	budget := explainBudget
	for i, r := range recs {
		want, err := r.ComputeHash()
		switch {
		case err != nil:
			out = append(out, Problem{Seq: r.Seq, Reason: err.Error()})
		case want != r.Hash:
			if f, was, ok := explain(r, r.Hash, &budget); ok {
				out = append(out, Problem{Seq: r.Seq, Field: f, Reason: fmt.Sprintf("was altered: it read %q", was)})
				break
			}
			out = append(out, Problem{Seq: r.Seq, Reason: "was altered: its content does not match its hash " + short(r.Hash)})
		}
		prevHash := ""
		if r.Seq > 1 {
			if j, ok := seen[r.Seq-1]; ok {
				prevHash = recs[j].Hash
			} else {
				continue // already reported as dropped
			}
		}
		if r.Prev != prevHash {
			out = append(out, Problem{Seq: r.Seq, Field: "prev", Reason: "does not link to the record before it"})
			// The record before may have been changed and its hash
			// recomputed: r.Prev still holds its original hash.
			if p := recs[seen[r.Seq-1]]; r.Seq > 1 && i > 0 {
				if h, err := p.ComputeHash(); err == nil && h == p.Hash {
					if f, was, ok := explain(p, r.Prev, &budget); ok {
						out = append(out, Problem{Seq: p.Seq, Field: f, Reason: fmt.Sprintf("was altered and its hash recomputed: it read %q", was)})
					}
				}
			}
		}
		out = append(out, checkOpenings(r, open[r.Seq])...)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Seq < out[b].Seq })
	return out
}

func checkOpenings(r Record, o Openings) []Problem {
	var out []Problem
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sealed, ok := r.Sealed[k]
		switch {
		case !ok:
			out = append(out, Problem{Seq: r.Seq, Field: k, Reason: "has a value but the record seals no such field"})
		case o[k].Seal() != sealed:
			out = append(out, Problem{Seq: r.Seq, Field: k, Reason: "the value does not match its sealed hash"})
		}
	}
	return out
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// Head returns the seq and hash of a chain's last record (0, "" for none).
func Head(recs []Record) (int, string) {
	if len(recs) == 0 {
		return 0, ""
	}
	r := recs[len(recs)-1]
	return r.Seq, r.Hash
}

// Values returns r's fields with its sealed values filled in from o where
// they are still known: the record as a log entry.
func Values(r Record, o Openings) map[string]string {
	m := make(map[string]string, len(r.Fields)+len(o))
	for k, v := range r.Fields {
		m[k] = v
	}
	for k, op := range o {
		if _, ok := r.Sealed[k]; ok {
			m[k] = op.Value
		}
	}
	return m
}

// explainBudget bounds the hashes one Check spends naming altered fields.
const explainBudget = 200_000

// explain looks for the one-character change that turned a record whose
// hash was target into r: each field, each byte position, each printable
// ASCII character, and the seq nearby. It returns the field ("kind",
// "fields.text", "sealed.phone", ...) and the value it had, spending at most
// *budget hashes.
func explain(r Record, target string, budget *int) (string, string, bool) {
	try := func(c Record) bool {
		*budget--
		h, err := c.ComputeHash()
		return err == nil && h == target
	}
	for d := -3; d <= 3; d++ {
		if d == 0 || *budget <= 0 {
			continue
		}
		c := r
		c.Seq += d
		if try(c) {
			return "seq", strconv.Itoa(c.Seq), true
		}
	}
	type slot struct {
		name string
		get  func(Record) string
		set  func(*Record, string)
	}
	slots := []slot{
		{"kind", func(r Record) string { return r.Kind }, func(r *Record, v string) { r.Kind = v }},
		{"at", func(r Record) string { return r.At }, func(r *Record, v string) { r.At = v }},
		{"prev", func(r Record) string { return r.Prev }, func(r *Record, v string) { r.Prev = v }},
	}
	for _, k := range sortedKeys(r.Fields) {
		slots = append(slots, slot{"fields." + k, func(r Record) string { return r.Fields[k] },
			func(r *Record, v string) { r.Fields = with(r.Fields, k, v) }})
	}
	for _, k := range sortedKeys(r.Sealed) {
		slots = append(slots, slot{"sealed." + k, func(r Record) string { return r.Sealed[k] },
			func(r *Record, v string) { r.Sealed = with(r.Sealed, k, v) }})
	}
	for _, sl := range slots {
		v := sl.get(r)
		b := []byte(v)
		for i := range b {
			orig := b[i]
			for ch := byte(0x20); ch < 0x7f; ch++ {
				if ch == orig {
					continue
				}
				if *budget <= 0 {
					return "", "", false
				}
				b[i] = ch
				c := r
				sl.set(&c, string(b))
				if try(c) {
					return sl.name, string(b), true
				}
			}
			b[i] = orig
		}
	}
	return "", "", false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// with returns a copy of m with k set to v.
func with(m map[string]string, k, v string) map[string]string {
	c := make(map[string]string, len(m))
	for kk, vv := range m {
		c[kk] = vv
	}
	c[k] = v
	return c
}
