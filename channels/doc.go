// Package channels holds what the HTTP adapters under it share: the mapping
// of error kinds to HTTP statuses and JSON bodies. Each sub-package is one way
// in or out of Signoff (orderhook, webchat, ...); they drive package dialog
// and are wired together only in cmd/signoffd.
package channels
