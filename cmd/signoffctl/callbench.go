package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels/voice"
)

const callBenchUsage = `usage: signoffctl callbench [flags]

Makes -n voice calls, one after another, to a running server (which must
run with SIGNOFF_ICE_LOOPBACK=1 when -loopback is set), each to a fresh
conversation opened with a signed webhook, and measures at the caller:
offer → first greeting audio, keypad digit → first reply audio, and
speech onset while the bot speaks → bot silent (barge-in). It prints the
median, p95 and max of each.

flags:
`

func runCallBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("callbench", callBenchUsage, stderr)
	rawURL := fs.String("url", "", "server base URL (default $"+envURL+" or "+defaultURL+")")
	secret := fs.String("secret", "", "whsec_... webhook secret (default $SIGNOFF_WEBHOOK_SECRET)")
	n := fs.Int("n", 20, "calls")
	loopback := fs.Bool("loopback", true, "use only 127.0.0.1 ICE candidates")
	echo := fs.Float64("echo-db", -20, "send the bot's audio back at this level (0: no echo)")
	noise := fs.Float64("noise-dbfs", -60, "white noise floor under the caller's audio (0: none)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	*secret = orEnv(*secret, getenv, envSecret, "")
	base, err := baseURL(orEnv(*rawURL, getenv, envURL, defaultURL))
	if err != nil {
		return err
	}
	s, err := newSigner(*secret)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 30 * time.Second}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	i := 0
	open := func(ctx context.Context) (signoff.SessionID, string, error) {
		i++
		now := time.Now()
		body, err := benchEvent(signoff.DeliveryID(fmt.Sprintf("callbench-%s-%d", run, i)), signoff.LocaleEN, now)
		if err != nil {
			return "", "", err
		}
		resp, err := postWebhook(ctx, client, base, s, fmt.Sprintf("msg_cb_%s_%d", run, i), now, body)
		if err != nil {
			return "", "", err
		}
		defer resp.Body.Close()
		var a struct {
			SessionID string `json:"session_id"`
			Token     string `json:"recipient_token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != http.StatusAccepted {
			return "", "", fmt.Errorf("webhook: %s", resp.Status)
		}
		return signoff.SessionID(a.SessionID), a.Token, nil
	}
	r, err := voice.Bench(ctx, base, voice.BenchOptions{Calls: *n, Open: open,
		Caller: voice.CallerOptions{HTTPClient: client, Loopback: *loopback, EchoDB: *echo, NoiseDBFS: *noise}})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"calls": *n, "greeting": stats(r.Greeting), "keypad": stats(r.Keypad), "barge_in": stats(r.BargeIn)})
	}
	fmt.Fprintf(stdout, "%d calls\n%-10s %4s %6s %9s %9s %9s\n", *n, "", "n", "failed", "median", "p95", "max")
	for _, row := range []struct {
		name string
		s    voice.Stats
	}{{"greeting", r.Greeting}, {"keypad", r.Keypad}, {"barge-in", r.BargeIn}} {
		fmt.Fprintf(stdout, "%-10s %4d %6d %9s %9s %9s\n", row.name, row.s.N, row.s.Failed, ms(row.s.Median), ms(row.s.P95), ms(row.s.Max))
	}
	fmt.Fprintln(stdout, strings.TrimSpace(`
greeting: offer sent → first greeting audio; keypad: digit → first reply audio;
barge-in: caller's speech onset → bot silent. All measured at the caller.`))
	return nil
}

func stats(s voice.Stats) map[string]any {
	return map[string]any{"n": s.N, "failed": s.Failed, "median_ms": ms(s.Median), "p95_ms": ms(s.P95), "max_ms": ms(s.Max)}
}
