package main

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/signoff/signoff"
)

// staffChecker says whether a request comes from staff, and who: the
// console's signed-in sessions, or the shared staff token.
type staffChecker interface {
	StaffFromRequest(r *http.Request) (name, role string, err error)
}

// staffAuths lets staff in by the first of its checks that accepts them.
type staffAuths []staffChecker

func (a staffAuths) StaffFromRequest(r *http.Request) (string, string, error) {
	var err error = signoff.Errorf(signoff.ErrUnauthorized, "not_staff", "staff sign-in is required")
	for _, s := range a {
		name, role, e := s.StaffFromRequest(r)
		if e == nil {
			return name, role, nil
		}
		err = e
	}
	return "", "", err
}

// newStaffAuth lets staff in through the console's sign-in and, when
// SIGNOFF_STAFF_TOKEN is set (at least 16 bytes), through that one bearer
// token, for API clients such as `signoffctl receipt`. The token's holder
// has the role SIGNOFF_STAFF_ROLE (default "admin") and names themself in
// X-Signoff-Staff.
func newStaffAuth(console staffChecker, getenv func(string) string) (staffAuths, error) {
	auth := staffAuths{console}
	tok := getenv("SIGNOFF_STAFF_TOKEN")
	if tok == "" {
		return auth, nil
	}
	if len(tok) < 16 {
		return nil, errors.New("SIGNOFF_STAFF_TOKEN: must be at least 16 bytes")
	}
	role := getenv("SIGNOFF_STAFF_ROLE")
	if role == "" {
		role = "admin"
	}
	return append(auth, staffToken{token: tok, role: role}), nil
}

// staffToken is the shared staff bearer token: in the Authorization
// header, or for pages opened from a link, the "t" query parameter.
type staffToken struct {
	token, role string
}

func (s staffToken) StaffFromRequest(r *http.Request) (string, string, error) {
	tok := ""
	if scheme, t, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		tok = strings.TrimSpace(t)
	} else {
		tok = r.URL.Query().Get("t")
	}
	if tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) != 1 {
		return "", "", signoff.Errorf(signoff.ErrUnauthorized, "bad_staff_token", "a staff token is required")
	}
	name := r.Header.Get("X-Signoff-Staff")
	if name == "" || len(name) > 64 {
		name = "staff"
	}
	return name, s.role, nil
}
