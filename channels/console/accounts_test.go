package console

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func hash(t testing.TB, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestParseAccounts(t *testing.T) {
	h := hash(t, "pw")
	tests := []struct {
		name, in string
		want     map[string]string // name -> role
		err      string
	}{
		{"empty", "", map[string]string{}, ""},
		{"one", "ann:agent:" + h, map[string]string{"ann": "agent"}, ""},
		{"two with commas", "ann:agent:" + h + ", sue:supervisor:" + h, map[string]string{"ann": "agent", "sue": "supervisor"}, ""},
		{"file", "# staff\nann:agent:" + h + "\n\n  sue@x.cn:supervisor:" + h + "\n", map[string]string{"ann": "agent", "sue@x.cn": "supervisor"}, ""},
		{"bad role", "ann:admin:" + h, nil, "role"},
		{"bad hash", "ann:agent:secret", nil, "bcrypt"},
		{"no hash", "ann:agent", nil, "name:role"},
		{"bad name", "a n:agent:" + h, nil, "bad name"},
		{"twice", "ann:agent:" + h + ",ann:supervisor:" + h, nil, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAccounts(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want an error about %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "$2a$") {
					t.Errorf("the error repeats the hash: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d accounts, want %d", len(got), len(tt.want))
			}
			for n, role := range tt.want {
				if a := got[n]; a.Role != role || bcrypt.CompareHashAndPassword(a.Hash, []byte("pw")) != nil {
					t.Errorf("account %s: role %q, want %q (or its hash does not check)", n, a.Role, role)
				}
			}
		})
	}
}

func FuzzParseAccounts(f *testing.F) {
	h := hash(f, "pw")
	f.Add("ann:agent:" + h)
	f.Add("ann:agent:" + h + ",sue:supervisor:" + h)
	f.Add("# c\nann:agent:" + h + "\n")
	f.Add("::,:")
	f.Add("ann:supervisor:$2a$04$")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseAccounts(s)
		if err != nil {
			return
		}
		for name, a := range got {
			if name != a.Name || !validName(name) || (a.Role != RoleAgent && a.Role != RoleSupervisor) {
				t.Fatalf("accepted a bad account %q: %+v", name, a)
			}
			if _, err := bcrypt.Cost(a.Hash); err != nil {
				t.Fatalf("accepted a hash bcrypt refuses: %v", err)
			}
		}
	})
}
