package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/signoff/signoff/channels/console"
)

// runHashPassword reads one password (the first line of stdin) and prints
// its bcrypt hash, or with -name and -role a whole SIGNOFF_STAFF entry.
func runHashPassword(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("hash-password", "usage: signoffctl hash-password [-name N -role agent|supervisor] [-cost C] < password\n", stderr)
	name := fs.String("name", "", "print a whole name:role:hash entry for this account")
	role := fs.String("role", console.RoleAgent, "the account's role: agent or supervisor")
	cost := fs.Int("cost", 0, "bcrypt cost (default 10)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return err
	}
	pw := strings.TrimRight(line, "\r\n")
	hash, err := console.HashPassword(pw, *cost)
	if err != nil {
		return fmt.Errorf("hash-password: %w", err)
	}
	if *name != "" {
		entry := *name + ":" + *role + ":" + hash
		if _, err := console.ParseAccounts(entry); err != nil {
			return fmt.Errorf("hash-password: %w", err)
		}
		fmt.Fprintln(stdout, entry)
		return nil
	}
	fmt.Fprintln(stdout, hash)
	return nil
}
