// Package knowledge holds what Signoff knows of a delivery: for now the
// delivery facts, merged from order-system events that may arrive late, twice
// or out of order (Merge); later the FAQ that tracking questions are answered
// from.
//
// It is pure: no I/O, no clock. It imports only the root package and the
// standard library.
package knowledge
