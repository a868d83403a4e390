// Package evidence is the shape of a delivery's evidence log: records, their
// RFC 8785 canonical form and hash, sealed personal values, and the check of
// a whole chain. It is pure: no I/O, no clock; randomness for salts is
// passed in.
//
// A record is {seq, at, kind, fields, sealed, prev, hash}. hash is the hex
// SHA-256 of the canonical JSON of the record without hash; prev is the hash
// of the record before it ("" for the first), so changing, dropping or
// moving any record breaks the chain. Personal values (names, phone numbers,
// the recipient's words, a location) are not in the record: it holds
// sha256(salt ‖ value) under sealed, and the value and salt are kept beside
// the chain as an Opening, which can be erased while the chain still
// verifies.
//
// It imports only the standard library and go-json-experiment/jsontext.
package evidence
