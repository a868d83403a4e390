// Command signoffctl talks to a running Signoff server from a terminal: it
// sends signed order webhooks, holds a chat as a recipient, and measures the
// server's chat turns against a bare Redis round trip.
//
//	signoffctl webhook -delivery D1 -phone 13800000000 -locale zh-CN
//	signoffctl chat -link 'http://127.0.0.1:8080/r/<session>?t=<token>'
//	signoffctl bench -redis redis://127.0.0.1:6379 -c 64 -n 2000
//
// It imports only the root package of Signoff and, to check receipts
// offline, dialog/receipt: it speaks to the server over HTTP, as any client
// would.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Environment variables read as flag defaults.
const (
	envURL    = "SIGNOFF_URL"
	envSecret = "SIGNOFF_WEBHOOK_SECRET"
	envRedis  = "REDIS_URL"

	defaultURL = "http://127.0.0.1:8080"
)

// errUsage is returned for a command line that does not parse; the flag
// package has already printed what is wrong, so main only sets the status.
var errUsage = errors.New("usage error")

const usage = `usage: signoffctl <command> [flags]

commands:
  webhook   send a signed order webhook to the server
  chat      chat with the bot as the recipient of a session
  bench     load a running server with recipients and compare it with a bare Redis round trip
  callbench time voice calls: greeting, keypad reply and barge-in latency at the caller
  hash-password  read a password on stdin, print its bcrypt hash for SIGNOFF_STAFF
  verify    check a signed receipt: signature, every hash, the proof photos
  receipt   fetch the signed receipt of a delivery
  keys      rotate the receipt signing keys, or print their public JWKS

Run 'signoffctl <command> -h' for the flags of a command.

environment:
  SIGNOFF_URL             the server (default ` + defaultURL + `)
  SIGNOFF_WEBHOOK_SECRET  the webhook signing secret, whsec_<base64>
  REDIS_URL               the Redis the bench baseline uses
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "signoffctl:", err)
		os.Exit(1)
	}
}

// run executes the command line args (without the program name). It returns
// nil when the command succeeded or only help was asked for, an error
// wrapping errUsage for a bad command line, and otherwise what went wrong.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "webhook":
		err = runWebhook(ctx, rest, getenv, stdin, stdout, stderr)
	case "chat":
		err = runChat(ctx, rest, getenv, stdin, stdout, stderr)
	case "bench":
		err = runBench(ctx, rest, getenv, stdout, stderr)
	case "callbench":
		err = runCallBench(ctx, rest, getenv, stdout, stderr)
	case "hash-password":
		err = runHashPassword(rest, stdin, stdout, stderr)
	case "verify":
		err = runVerify(ctx, rest, getenv, stdin, stdout, stderr)
	case "receipt":
		err = runReceipt(ctx, rest, getenv, stdout, stderr)
	case "keys":
		err = runKeys(rest, getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "signoffctl: unknown command %q\n\n%s", cmd, usage)
		return errUsage
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// newFlagSet returns a FlagSet for one command whose usage prints head and
// then the flags, on stderr.
func newFlagSet(name, head string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, head)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args into fs. It returns flag.ErrHelp for -h and an
// error wrapping errUsage for anything that does not parse, including
// arguments left over after the flags.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		fs.Usage()
		return fmt.Errorf("%w: unexpected arguments", errUsage)
	}
	return nil
}

// flagSet reports whether the flag name was given on fs's command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// orEnv returns v when it is not empty, else the environment variable key,
// else def.
func orEnv(v string, getenv func(string) string, key, def string) string {
	if v != "" {
		return v
	}
	if e := getenv(key); e != "" {
		return e
	}
	return def
}
