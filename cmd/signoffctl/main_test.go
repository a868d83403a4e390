package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to write from the command and read from
// the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env returns a getenv over m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// waitFor polls cond until it holds, failing the test after five seconds
// with what and the output so far.
func waitFor(t *testing.T, what string, out *syncBuffer, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; output so far:\n%s", what, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		args     []string
		wantErr  error // nil, or errUsage
		wantText string
	}{
		{nil, errUsage, "usage: signoffctl <command>"},
		{[]string{"nope"}, errUsage, `unknown command "nope"`},
		{[]string{"help"}, nil, "commands:"},
		{[]string{"webhook", "-h"}, nil, "-value-cents"},
		{[]string{"chat", "-h"}, nil, "-link"},
		{[]string{"bench", "-h"}, nil, "-redis"},
		{[]string{"bench", "-c", "x"}, errUsage, "invalid value"},
		{[]string{"chat", "stray"}, errUsage, "unexpected arguments"},
		{[]string{"chat"}, errUsage, "needs -session and -token"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut syncBuffer
			err := run(context.Background(), tt.args, env(nil), strings.NewReader(""), &out, &errOut)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("got error %v, want %v", err, tt.wantErr)
			}
			if all := out.String() + errOut.String(); !strings.Contains(all, tt.wantText) {
				t.Errorf("output does not contain %q:\n%s", tt.wantText, all)
			}
		})
	}
}

func TestSecretsNotPrinted(t *testing.T) {
	const secret = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ="
	b := benchConfig{Secret: secret, Redis: "redis://user:hunter2@127.0.0.1:6379/0"}.String()
	w := webhookConfig{Secret: secret}.String()
	for _, s := range []string{b, w} {
		if strings.Contains(s, "c2VjcmV0") || strings.Contains(s, "hunter2") {
			t.Errorf("config string shows a secret: %s", s)
		}
	}
}
