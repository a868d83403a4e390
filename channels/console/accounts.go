package console

import (
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Roles of staff accounts.
const (
	RoleAgent      = "agent"      // watches, takes over, writes, hands back its own conversations
	RoleSupervisor = "supervisor" // also releases and hands back other agents' conversations
)

// Account is one staff member who may sign in.
type Account struct {
	Name string
	Role string
	Hash []byte // bcrypt
}

// MaxName bounds an account name.
const MaxName = 64

// ParseAccounts reads staff accounts: entries "name:role:bcrypt-hash"
// separated by commas or new lines. Blank entries and lines starting with
// "#" are skipped. A name is 1 to 64 characters of letters, digits, '.',
// '_', '-' and '@'; a role is agent or supervisor; the hash must be one
// bcrypt accepts. A name given twice is an error.
func ParseAccounts(s string) (map[string]Account, error) {
	out := map[string]Account{}
	n := 0
	for _, line := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "#") {
			continue
		}
		for _, e := range strings.Split(line, ",") {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			n++
			name, rest, ok1 := strings.Cut(e, ":")
			role, hash, ok2 := strings.Cut(rest, ":")
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("staff account %d: want name:role:bcrypt-hash", n)
			}
			if !validName(name) {
				return nil, fmt.Errorf("staff account %d: bad name", n)
			}
			if role != RoleAgent && role != RoleSupervisor {
				return nil, fmt.Errorf("staff account %q: role %q is not agent or supervisor", name, role)
			}
			if _, err := bcrypt.Cost([]byte(hash)); err != nil {
				return nil, fmt.Errorf("staff account %q: not a bcrypt hash: %w", name, err)
			}
			if _, dup := out[name]; dup {
				return nil, fmt.Errorf("staff account %q: given twice", name)
			}
			out[name] = Account{Name: name, Role: role, Hash: []byte(hash)}
		}
	}
	return out, nil
}

func validName(s string) bool {
	if s == "" || len(s) > MaxName {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-', r == '@':
		default:
			return false
		}
	}
	return true
}

// HashPassword returns the bcrypt hash of password for an account entry.
func HashPassword(password string, cost int) (string, error) {
	if password == "" {
		return "", fmt.Errorf("empty password")
	}
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	return string(h), err
}
