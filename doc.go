// Package signoff is the vocabulary of Signoff, a conversational service for
// the last step of a parcel delivery: getting the recipient's decision and
// confirmation (签收确认).
//
// It holds the domain types (Delivery, Session, Outcome, Input, Action, ...)
// and the error kinds, and imports only the standard library. Everything else
// in the module may import it; it imports nothing of the module.
//
// The conversation itself is decided in package dialog; channels/... carry it
// to recipients; cmd/signoffd wires the pieces together.
package signoff
