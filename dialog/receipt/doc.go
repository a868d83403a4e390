// Package receipt issues and verifies signed delivery receipts: a compact
// JWS (RFC 7515), alg EdDSA (RFC 8037, Ed25519) with a kid, whose payload
// is the receipt of one delivery (outcome, consent, courier proof,
// timestamps) together with its whole evidence log and the log's head hash.
// Anyone holding the public keys (a JWKS) can check a receipt offline:
// the signature, every record's hash and link, every revealed personal value
// against its sealed hash, the summary against the records, and the proof
// photos against their hashes.
//
// It uses go-jose for JOSE and dialog/evidence for the chain; it does no
// network I/O (Keyring reads and writes its key file).
package receipt
