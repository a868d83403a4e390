package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/signoff/signoff/channels/console"
)

func TestHashPassword(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"hash-password", "-name", "ann", "-role", "supervisor", "-cost", "4"},
		env(nil), strings.NewReader("s3cret pass\n"), &out, &errOut)
	if err != nil {
		t.Fatalf("hash-password: %v\n%s", err, errOut.String())
	}
	accts, err := console.ParseAccounts(out.String())
	if err != nil {
		t.Fatalf("output %q does not parse: %v", out.String(), err)
	}
	a := accts["ann"]
	if a.Role != console.RoleSupervisor || bcrypt.CompareHashAndPassword(a.Hash, []byte("s3cret pass")) != nil {
		t.Fatalf("entry %q: role %q or hash does not check the password", out.String(), a.Role)
	}
	out.Reset()
	if err := run(context.Background(), []string{"hash-password"}, env(nil), strings.NewReader(""), &out, &errOut); err == nil {
		t.Errorf("an empty password was hashed: %q", out.String())
	}
}
