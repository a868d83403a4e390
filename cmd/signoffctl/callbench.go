package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels/voice"
	"github.com/signoff/signoff/speech"
)

const callBenchUsage = `usage: signoffctl callbench [flags]

Makes -n voice calls, one after another, to a running server (which must
run with SIGNOFF_ICE_LOOPBACK=1 when -loopback is set), each to a fresh
conversation opened with a signed webhook, and measures at the caller:
offer → first greeting audio, keypad digit → first reply audio, and
speech onset while the bot speaks → bot silent (barge-in), and, with
-reply-wav (default: "two" spoken by espeak-ng, generated once), the end
of a spoken answer → first audio of the bot's reply. It prints the
median, p95 and max of each.

With -concurrent N or -sweep N1,N2,... it then holds N calls open at once
for -hold, each pressing 9 and speaking a burst in turn every few seconds
(DTMF, VAD, recognition and TTS all run), and counts the bot's frames,
heard while it speaks, that reach the callers more than 40 ms behind
their 20 ms schedule. -n 0 skips the sequential calls.

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
	replyWAV := fs.String("reply-wav", "", `spoken answer (WAV); default "two" from espeak-ng; "none" skips it`)
	concurrent := fs.Int("concurrent", 0, "calls held open at once (0: none)")
	sweep := fs.String("sweep", "", "comma-separated concurrency levels, e.g. 10,25,50,75")
	hold := fs.Duration("hold", 15*time.Second, "how long each concurrent call is held")
	asJSON := fs.Bool("json", false, "print JSON")
	serverPID := fs.Int("server-pid", 0, "the server's process id: report its CPU per second of call (Linux /proc)")
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
	levels, err := concurrencyLevels(*concurrent, *sweep)
	if err != nil {
		return err
	}
	caller := voice.CallerOptions{HTTPClient: client, Loopback: *loopback, EchoDB: *echo, NoiseDBFS: *noise}
	out := map[string]any{}
	if *n > 0 {
		var reply []int16
		if *replyWAV != "none" {
			if reply, err = loadReply(ctx, *replyWAV); err != nil {
				return err
			}
		}
		load0 := loadAverage()
		r, err := voice.Bench(ctx, base, voice.BenchOptions{Calls: *n, Open: open, Caller: caller, Reply: reply})
		if err != nil {
			return err
		}
		rows := []struct {
			name string
			s    voice.Stats
		}{{"greeting", r.Greeting}, {"keypad", r.Keypad}, {"barge-in", r.BargeIn}}
		if reply != nil {
			rows = append(rows, struct {
				name string
				s    voice.Stats
			}{"reply", r.Reply})
		}
		load := load0 + " → " + loadAverage()
		if *asJSON {
			out["calls"] = *n
			out["load_average"] = load
			for _, row := range rows {
				out[strings.ReplaceAll(row.name, "-", "_")] = stats(row.s)
			}
		} else {
			fmt.Fprintf(stdout, "%d calls (load average %s)\n%-10s %4s %6s %9s %9s %9s\n", *n, load, "", "n", "failed", "median", "p95", "max")
			for _, row := range rows {
				fmt.Fprintf(stdout, "%-10s %4d %6d %9s %9s %9s\n", row.name, row.s.N, row.s.Failed, ms(row.s.Median), ms(row.s.P95), ms(row.s.Max))
			}
			for _, row := range rows {
				if row.s.Failed > 0 {
					fmt.Fprintf(stdout, "%s: %s\n", row.name, row.s)
				}
			}
			fmt.Fprintln(stdout, strings.TrimSpace(`
greeting: offer sent → first greeting audio; keypad: digit → first reply audio;
barge-in: caller's speech onset → bot silent; reply: last frame of the spoken
answer ("two") sent → first frame of the bot's answer (embedded PocketSphinx +
espeak-ng; the turn ends early on a whole answer, else after the end-of-turn
silence). All measured at the caller.`))
		}
	}
	if len(levels) > 0 {
		var rows []map[string]any
		best := 0
		if !*asJSON {
			fmt.Fprintf(stdout, "\nconcurrent calls, each held %v with keypad 9 and a speech burst in turn every 3 s\n", *hold)
			fmt.Fprintf(stdout, "%6s %9s %8s %8s %11s %8s %11s %9s  %s\n", "calls", "connected", "frames", "late", "worst", "gaps", "worst gap", "cpu/call", "load average")
		}
		for i, lv := range levels {
			if i > 0 {
				time.Sleep(3 * time.Second) // let the last level's calls end
			}
			load0, cpu0, t0 := loadAverage(), processCPU(*serverPID), time.Now()
			c := voice.Capacity(ctx, base, voice.CapacityOptions{Calls: lv, Hold: *hold, Open: open, Caller: caller})
			load := load0 + " → " + loadAverage()
			// Server CPU per second of one call: the level's CPU over its
			// calls and its whole time (set-up and hang-up included).
			perCall := "-"
			if cpu1, el := processCPU(*serverPID), time.Since(t0); cpu0 >= 0 && cpu1 >= 0 && c.Connected > 0 {
				perCall = ms(time.Duration(float64(cpu1-cpu0) / float64(c.Connected) / el.Seconds()))
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if c.Connected == lv && c.Late == 0 && lv > best {
				best = lv
			}
			row := map[string]any{"calls": lv, "connected": c.Connected, "frames": c.Frames, "late": c.Late, "worst_ms": ms(c.Worst), "gaps": c.Gaps, "worst_gap_ms": ms(c.WorstGap), "server_cpu_ms_per_call_s": perCall, "load_average": load}
			if c.Err != nil {
				row["error"] = c.Err.Error()
			}
			rows = append(rows, row)
			if !*asJSON {
				fmt.Fprintf(stdout, "%6d %9d %8d %8d %11s %8d %11s %9s  %s\n", lv, c.Connected, c.Frames, c.Late, ms(c.Worst), c.Gaps, ms(c.WorstGap), perCall, load)
				if c.Err != nil {
					fmt.Fprintf(stdout, "       %d not connected: %v\n", lv-c.Connected, c.Err)
				}
			}
		}
		if *asJSON {
			out["concurrent"], out["max_calls_no_late_frames"] = rows, best
		} else {
			fmt.Fprintf(stdout, "largest level with every call connected and no late frames: %d\n", best)
			fmt.Fprintln(stdout, strings.TrimSpace(`
frames: bot frames heard while it speaks. late: those more than 40 ms behind
their 20 ms schedule (arrival times; a frame is due 20 ms after the one before
was due, or on arrival if earlier, so a skipped or lost frame puts every later
one behind). gaps: those arriving more than 40 ms + 20 ms after the frame
before (each stall counted once). cpu/call: the server's CPU per second of
one call (-server-pid). load average: the machine's 1-minute load before →
after. The callers run in this process on the same cores as the server, so
their own scheduling delays count against it: pessimistic.`))
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return nil
}

// concurrencyLevels reads -concurrent and -sweep.
func concurrencyLevels(concurrent int, sweep string) ([]int, error) {
	var levels []int
	if concurrent > 0 {
		levels = append(levels, concurrent)
	}
	for f := range strings.SplitSeq(sweep, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("callbench: bad -sweep level %q", f)
		}
		levels = append(levels, v)
	}
	return levels, nil
}

// loadReply reads the spoken answer from path, or has espeak-ng say "two"
// when path is empty, as 16 kHz PCM.
func loadReply(ctx context.Context, path string) ([]int16, error) {
	if path == "" {
		dir, err := os.MkdirTemp("", "callbench")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "two.wav")
		if out, err := exec.CommandContext(ctx, "espeak-ng", "-v", "en-us", "-s", "140", "-w", path, "two").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("callbench: espeak-ng (or give -reply-wav, or -reply-wav none): %v: %s", err, out)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pcm, rate, err := speech.ReadWAV(f)
	if err != nil {
		return nil, fmt.Errorf("callbench: %s: %w", path, err)
	}
	if rate != speech.SampleRate {
		r, err := speech.NewResampler(rate, speech.SampleRate)
		if err != nil {
			return nil, err
		}
		pcm = r.Resample(nil, pcm)
	}
	return pcm, nil
}

func stats(s voice.Stats) map[string]any {
	return map[string]any{"n": s.N, "failed": s.Failed, "median_ms": ms(s.Median), "p95_ms": ms(s.P95), "max_ms": ms(s.Max)}
}

// loadAverage returns the machine's 1-minute load average, "?" where
// /proc/loadavg is not to be had.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

// processCPU returns the user and system CPU process pid has used, -1 when
// pid is 0 or /proc/<pid>/stat cannot be read.
func processCPU(pid int) time.Duration {
	if pid <= 0 {
		return -1
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	// Fields after the command (which may hold spaces), from the state:
	// utime and stime are the 14th and 15th fields of the whole line.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return -1
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz
}
