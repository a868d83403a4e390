package signoff

import (
	"errors"
	"fmt"
)

// The error kinds. Every error Signoff returns across a package boundary
// matches exactly one of them under errors.Is.
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrInvalid      = errors.New("invalid")
	ErrUnauthorized = errors.New("unauthorized")
	ErrUnavailable  = errors.New("unavailable")
	ErrTooLarge     = errors.New("too large")
)

// Error is an error with a machine code and a message that is safe to show to
// a client. The cause, which may name internals, stays in Err for the log.
type Error struct {
	Kind    error  // one of the Err kinds above
	Code    string // stable, snake_case: "bad_signature", "missing_field"
	Message string // public, without personal data
	Err     error  // the cause, if any
}

// Errorf returns an *Error of the given kind and code with a formatted public
// message.
func Errorf(kind error, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error of the given kind and code that keeps err as cause.
func Wrap(kind error, code, message string, err error) *Error {
	return &Error{Kind: kind, Code: code, Message: message, Err: err}
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Message + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Message
}

// Unwrap gives errors.Is and errors.As both the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// ErrorCode returns the code of the first *Error in err's chain, or a code
// derived from its kind, or "internal".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	for _, k := range []struct {
		kind error
		code string
	}{
		{ErrNotFound, "not_found"}, {ErrConflict, "conflict"}, {ErrInvalid, "invalid"},
		{ErrUnauthorized, "unauthorized"}, {ErrUnavailable, "unavailable"}, {ErrTooLarge, "too_large"},
	} {
		if errors.Is(err, k.kind) {
			return k.code
		}
	}
	return "internal"
}

// ErrorMessage returns the public message of the first *Error in err's chain,
// or a generic one that reveals nothing.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return "not found"
	case errors.Is(err, ErrConflict):
		return "the resource changed; try again"
	case errors.Is(err, ErrUnavailable):
		return "temporarily unavailable; try again shortly"
	case errors.Is(err, ErrUnauthorized):
		return "not authorised"
	}
	return "internal error"
}
