package console

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
)

// memSessions is a Sessions in memory.
type memSessions struct {
	mu    sync.Mutex
	m     map[string][]byte
	fails map[string]int64
}

func (s *memSessions) PutStaffSession(_ context.Context, k string, v []byte, _ time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = v
	return nil
}

func (s *memSessions) StaffSession(_ context.Context, k string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	if !ok {
		return nil, signoff.ErrNotFound
	}
	return v, nil
}

func (s *memSessions) DeleteStaffSession(_ context.Context, k string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
	return nil
}

func (s *memSessions) StaffFailure(_ context.Context, n string, _ time.Duration) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails[n]++
	return s.fails[n], nil
}

func (s *memSessions) StaffFailures(_ context.Context, n string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fails[n], nil
}

func (s *memSessions) ClearStaffFailures(_ context.Context, n string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.fails, n)
	return nil
}

// TestStaffFromRequest: the cookie names the staff member; any method but
// GET needs the session's CSRF token; a removed account is signed out.
func TestStaffFromRequest(t *testing.T) {
	gin.SetMode(gin.TestMode)
	accts, err := ParseAccounts("sue:supervisor:" + hash(t, "pw"))
	if err != nil {
		t.Fatal(err)
	}
	sess := &memSessions{m: map[string][]byte{}, fails: map[string]int64{}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := New(Config{Accounts: accts}, nil, nil, sess, log)
	r := gin.New()
	h.Register(r)

	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("POST", "/console/api/signin", strings.NewReader(`{"name":"sue","password":"pw"}`)))
	if w.Code != http.StatusOK {
		t.Fatalf("sign in: %d %s", w.Code, w.Body)
	}
	var me Me
	json.Unmarshal(w.Body.Bytes(), &me)
	cookie := w.Result().Cookies()[0]

	req := func(method, csrf string, withCookie bool) *http.Request {
		r := httptest.NewRequest(method, "/v1/anything", nil)
		if withCookie {
			r.AddCookie(cookie)
		}
		if csrf != "" {
			r.Header.Set(CSRFHeader, csrf)
		}
		return r
	}
	tests := []struct {
		name string
		r    *http.Request
		code string // "" for success
	}{
		{"GET with cookie", req("GET", "", true), ""},
		{"POST with CSRF", req("POST", me.CSRF, true), ""},
		{"POST without CSRF", req("POST", "", true), "bad_csrf"},
		{"DELETE with a wrong CSRF", req("DELETE", me.CSRF+"x", true), "bad_csrf"},
		{"no cookie", req("GET", "", false), "no_session"},
	}
	for _, tt := range tests {
		name, role, err := h.StaffFromRequest(tt.r)
		switch {
		case tt.code == "" && (err != nil || name != "sue" || role != RoleSupervisor):
			t.Errorf("%s: got %q %q %v, want sue supervisor", tt.name, name, role, err)
		case tt.code != "" && signoff.ErrorCode(err) != tt.code:
			t.Errorf("%s: got %v, want %s", tt.name, err, tt.code)
		}
	}
	// The account is removed from the configuration: the session no
	// longer lets anyone in.
	h.cfg.Accounts = map[string]Account{}
	if _, _, err := h.StaffFromRequest(req("GET", "", true)); signoff.ErrorCode(err) != "no_session" {
		t.Errorf("removed account: got %v, want no_session", err)
	}
}
