package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
	"github.com/signoff/signoff"
)

const benchUsage = `usage: signoffctl bench [-url U] [-secret S] [-redis REDIS_URL] [-c 64] [-n 2000] [-json]

Drives -n recipients, -c at a time, against a running server. Each recipient
gets a signed delivery.out_for_delivery webhook for a fresh delivery, reads
its greeting, and answers three times (a tracking question, "9", "2"); half
of them speak zh-CN, half en. Each answer is a turn. In the same run an
in-process HTTP server that does one Redis GET and one SET per request is
driven as hard, for as many requests as there are turns, as a baseline.

It prints turns/s and latency percentiles for both, webhook latency, and
ratio = signoff turns/s ÷ baseline requests/s, where turns/s counts turns over
the wall time of the turn phase; conversations are opened (webhook and
greeting) in a phase of their own before it, reported as webhooks.
Any failed request makes it exit non-zero.

flags:
`

// turnsPerRecipient is how many chat turns each bench recipient takes.
const turnsPerRecipient = 3

// benchTurns are the request bodies of the turns, by locale. They are never
// written to, so in-flight requests may share them.
var benchTurns = map[signoff.Locale][turnsPerRecipient][]byte{
	signoff.LocaleZH: {[]byte(`{"text":"快递到哪了"}`), []byte(`{"text":"9"}`), []byte(`{"text":"2"}`)},
	signoff.LocaleEN: {[]byte(`{"text":"where is my parcel"}`), []byte(`{"text":"9"}`), []byte(`{"text":"2"}`)},
}

// benchConfig is a bench run's settings.
type benchConfig struct {
	URL         string        // server base URL
	Secret      string        // webhook secret; never printed
	Redis       string        // the baseline's Redis: a redis:// URL or host:port[,host:port...]
	Concurrency int           // recipients (and baseline requests) in flight at once
	Recipients  int           // recipients in all
	Timeout     time.Duration // for each request
	JSON        bool          // print the report as JSON
}

// String describes c with its secrets masked.
func (c benchConfig) String() string {
	return fmt.Sprintf("url=%s secret=%s redis=%s c=%d n=%d", c.URL, mask(c.Secret), redactURL(c.Redis), c.Concurrency, c.Recipients)
}

func (c benchConfig) validate() error {
	var errs []error
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("-c %d: want at least 1", c.Concurrency))
	}
	if c.Recipients < 1 {
		errs = append(errs, fmt.Errorf("-n %d: want at least 1", c.Recipients))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("-timeout %v: want more than 0", c.Timeout))
	}
	if c.Redis == "" {
		errs = append(errs, fmt.Errorf("no Redis for the baseline: give -redis or set %s", envRedis))
	}
	if c.Secret == "" {
		errs = append(errs, fmt.Errorf("no webhook secret: give -secret or set %s", envSecret))
	}
	return errors.Join(errs...)
}

func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", benchUsage, stderr)
	var c benchConfig
	fs.StringVar(&c.URL, "url", "", "server base URL, or several comma-separated (recipient i uses the i-th mod n) (default $"+envURL+" or "+defaultURL+")")
	fs.StringVar(&c.Secret, "secret", "", "webhook signing secret whsec_<base64> (default $"+envSecret+")")
	fs.StringVar(&c.Redis, "redis", "", "Redis for the baseline, redis://host:port or host:port (default $"+envRedis+")")
	fs.IntVar(&c.Concurrency, "c", 32, "recipients in flight at once")
	fs.IntVar(&c.Recipients, "n", 2000, "recipients in all")
	fs.DurationVar(&c.Timeout, "timeout", 30*time.Second, "limit for each request")
	fs.BoolVar(&c.JSON, "json", false, "print the report as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c.URL = orEnv(c.URL, getenv, envURL, defaultURL)
	c.Secret = orEnv(c.Secret, getenv, envSecret, "")
	c.Redis = orEnv(c.Redis, getenv, envRedis, "")
	if err := c.validate(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "bench: %s\n", c)
	r, err := bench(ctx, c)
	if err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		r.print(stdout)
	}
	if n := r.errors(); n > 0 {
		return fmt.Errorf("bench: %d requests failed", n)
	}
	return nil
}

// benchReport is what a bench run measured.
type benchReport struct {
	Recipients  int `json:"recipients"`
	Concurrency int `json:"concurrency"`
	// Turns are the chat turns against Signoff; Elapsed is the wall time
	// of the whole Signoff phase.
	Turns    latencyStats `json:"turns"`
	Webhooks latencyStats `json:"webhooks"`
	// GreetingErrors counts failed GETs of a new session.
	GreetingErrors int `json:"greeting_errors"`
	// SkippedTurns were not tried because their recipient's webhook or
	// greeting failed.
	SkippedTurns int          `json:"skipped_turns"`
	Baseline     latencyStats `json:"baseline"`
	// Ratio is Turns.PerSecond ÷ Baseline.PerSecond.
	Ratio float64 `json:"ratio"`
	// Outcomes counts the outcome the last turn of each recipient left.
	Outcomes map[string]int `json:"outcomes"`
	// ErrorSamples are a few of the failures, for a first look.
	ErrorSamples []string `json:"error_samples,omitempty"`
}

// errors counts the failed requests of r.
func (r *benchReport) errors() int {
	return r.Turns.Errors + r.Webhooks.Errors + r.GreetingErrors + r.Baseline.Errors
}

func (r *benchReport) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%d recipients, %d at a time\n", r.Recipients, r.Concurrency)
	fmt.Fprintln(tw, "\tok\terrors\telapsed\tper s\tp50\tp90\tp99\tmax")
	row := func(name string, s latencyStats, rate bool) {
		el, ps := "-", "-"
		if rate {
			el, ps = fmt.Sprintf("%.2fs", s.Elapsed.Seconds()), fmt.Sprintf("%.1f", s.PerSecond)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", name, s.Count, s.Errors, el, ps,
			ms(s.P50), ms(s.P90), ms(s.P99), ms(s.Max))
	}
	row("signoff turns", r.Turns, true)
	row("opened", r.Webhooks, true)
	row("baseline", r.Baseline, true)
	tw.Flush()
	fmt.Fprintf(w, "ratio %.4f  (signoff turns/s ÷ baseline req/s)\n", r.Ratio)
	var outs []string
	for _, k := range slices.Sorted(maps.Keys(r.Outcomes)) {
		name := k
		if name == "" {
			name = "(none)"
		}
		outs = append(outs, fmt.Sprintf("%s %d", name, r.Outcomes[k]))
	}
	if len(outs) == 0 {
		outs = []string{"-"}
	}
	fmt.Fprintf(w, "outcomes after the last turn: %s\n", strings.Join(outs, ", "))
	if n := r.errors(); n > 0 {
		fmt.Fprintf(w, "errors: %d (webhooks %d, greetings %d, turns %d, baseline %d); %d turns skipped\n",
			n, r.Webhooks.Errors, r.GreetingErrors, r.Turns.Errors, r.Baseline.Errors, r.SkippedTurns)
		for _, e := range r.ErrorSamples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

// latencyStats sums up the requests of one kind.
type latencyStats struct {
	Count              int           // requests answered 2xx; only they have samples
	Errors             int           // requests that failed
	Elapsed            time.Duration // wall time of the phase
	PerSecond          float64       // Count ÷ Elapsed
	P50, P90, P99, Max time.Duration
}

// MarshalJSON gives seconds and milliseconds as numbers.
func (s latencyStats) MarshalJSON() ([]byte, error) {
	m := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return json.Marshal(struct {
		Count     int     `json:"count"`
		Errors    int     `json:"errors"`
		ElapsedS  float64 `json:"elapsed_s"`
		PerSecond float64 `json:"per_second"`
		P50       float64 `json:"p50_ms"`
		P90       float64 `json:"p90_ms"`
		P99       float64 `json:"p99_ms"`
		Max       float64 `json:"max_ms"`
	}{s.Count, s.Errors, s.Elapsed.Seconds(), s.PerSecond, m(s.P50), m(s.P90), m(s.P99), m(s.Max)})
}

// summarize returns the stats of samples (which it sorts) over elapsed.
func summarize(samples []time.Duration, errs int, elapsed time.Duration) latencyStats {
	slices.Sort(samples)
	s := latencyStats{
		Count: len(samples), Errors: errs, Elapsed: elapsed,
		P50: percentile(samples, 50), P90: percentile(samples, 90), P99: percentile(samples, 99),
	}
	if len(samples) > 0 {
		s.Max = samples[len(samples)-1]
	}
	if elapsed > 0 {
		s.PerSecond = float64(len(samples)) / elapsed.Seconds()
	}
	return s
}

// percentile returns the pct-th percentile of sorted by the nearest-rank
// method: the smallest sample that at least pct percent of the samples are
// less than or equal to. It is exact (integer arithmetic) and returns 0 for
// no samples.
func percentile(sorted []time.Duration, pct int) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := (pct*n + 99) / 100 // ceil(pct/100 × n)
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// bench runs both phases of c and returns what they measured. It fails
// only when it cannot start (a bad URL, secret or Redis) or ctx ends; failed
// requests are counted in the report.
func bench(ctx context.Context, c benchConfig) (benchReport, error) {
	// Several servers, comma-separated: recipient i is served by server
	// i mod n, as a balancer routing by session would do.
	var bases []string
	for _, u := range strings.Split(c.URL, ",") {
		base, err := baseURL(strings.TrimSpace(u))
		if err != nil {
			return benchReport{}, err
		}
		bases = append(bases, base)
	}
	s, err := newSigner(c.Secret)
	if err != nil {
		return benchReport{}, err
	}
	conc := min(c.Concurrency, c.Recipients)
	rdb, err := newRedis(c.Redis, conc)
	if err != nil {
		return benchReport{}, err
	}
	defer rdb.Close()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err = rdb.Ping(pctx).Err()
	cancel()
	if err != nil {
		return benchReport{}, fmt.Errorf("redis %s: %w", redactURL(c.Redis), err)
	}

	// One keep-alive pool with room for every worker on each server.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 4 * conc
	tr.MaxIdleConnsPerHost = 2 * conc
	tr.ForceAttemptHTTP2 = false
	client := &http.Client{Transport: tr, Timeout: c.Timeout}
	defer tr.CloseIdleConnections()

	run := strings.ToLower(rand.Text()[:10])
	t := &benchTarget{client: client, bases: bases, signer: s, run: run}
	workers := make([]benchWorker, conc)
	// Phase one opens every conversation (webhook and greeting); phase two
	// takes the turns, so that turns/s is the chat path's alone.
	opened := make([]benchSession, c.Recipients)
	openElapsed := drive(ctx, conc, c.Recipients, func(w, i int) { opened[i] = t.open(ctx, &workers[w], i) })
	if err := ctx.Err(); err != nil {
		return benchReport{}, err
	}
	elapsed := drive(ctx, conc, c.Recipients, func(w, i int) { t.turns(ctx, &workers[w], opened[i]) })
	if err := ctx.Err(); err != nil {
		return benchReport{}, err
	}

	r := benchReport{Recipients: c.Recipients, Concurrency: conc, Outcomes: map[string]int{}}
	var turns, hooks []time.Duration
	var turnErrs, hookErrs int
	for i := range workers {
		w := &workers[i]
		turns = append(turns, w.turns...)
		hooks = append(hooks, w.hooks...)
		turnErrs += w.turnErrs
		hookErrs += w.hookErrs
		r.GreetingErrors += w.greetErrs
		r.SkippedTurns += w.skipped
		for k, v := range w.outcomes {
			r.Outcomes[k] += v
		}
		r.ErrorSamples = appendSamples(r.ErrorSamples, w.samples)
	}
	r.Turns = summarize(turns, turnErrs, elapsed)
	r.Webhooks = summarize(hooks, hookErrs, openElapsed) // with the greetings: per s counts opened conversations

	bl, samples, err := baseline(ctx, client, rdb, conc, turnsPerRecipient*c.Recipients, "signoffctl:bench:"+run+":")
	if err != nil {
		return benchReport{}, err
	}
	r.Baseline = bl
	r.ErrorSamples = appendSamples(r.ErrorSamples, samples)
	if r.Baseline.PerSecond > 0 {
		r.Ratio = r.Turns.PerSecond / r.Baseline.PerSecond
	}
	return r, nil
}

// maxSamples bounds the error samples kept.
const maxSamples = 5

func appendSamples(dst, src []string) []string {
	for _, s := range src {
		if len(dst) < maxSamples && !slices.Contains(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst
}

// drive calls do(w, i) for i in [0, n), from workers goroutines at once (w
// is the goroutine's index, so do may keep per-worker state without locks),
// until all are done or ctx ends. It returns the wall time taken.
func drive(ctx context.Context, workers, n int, do func(w, i int)) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				do(w, i)
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// benchWorker is the state of one load goroutine, merged when all are done.
type benchWorker struct {
	buf       bytes.Buffer // the answer being read, reused
	turns     []time.Duration
	hooks     []time.Duration
	turnErrs  int
	hookErrs  int
	greetErrs int
	skipped   int
	outcomes  map[string]int
	samples   []string
}

func (w *benchWorker) fail(what string, err error) {
	if len(w.samples) < maxSamples {
		w.samples = appendSamples(w.samples, []string{what + ": " + err.Error()})
	}
}

// read reads the answer to a request into w.buf, and returns err, or an
// *apiError for a non-2xx answer.
func (w *benchWorker) read(resp *http.Response, err error) error {
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	w.buf.Reset()
	if _, err := w.buf.ReadFrom(io.LimitReader(resp.Body, maxAnswer)); err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return apiErrorFrom(resp.StatusCode, w.buf.Bytes())
	}
	return nil
}

// benchTarget is the Signoff server under load; it is shared, read-only, by
// all workers.
type benchTarget struct {
	client *http.Client
	bases  []string // one or more servers
	signer *signer
	run    string // this run's id, in every delivery id
}

// benchSession is one opened conversation of the bench.
type benchSession struct {
	url, auth string
	locale    signoff.Locale
	ok        bool
}

// open plays the start of recipient i: a webhook opens its session, then it
// reads the greeting.
func (t *benchTarget) open(ctx context.Context, w *benchWorker, i int) benchSession {
	locale := signoff.LocaleZH
	if i%2 == 1 {
		locale = signoff.LocaleEN
	}
	now := time.Now()
	body, err := benchEvent(signoff.DeliveryID(fmt.Sprintf("bench-%s-%d", t.run, i)), locale, now)
	if err != nil {
		panic(err) // a bug: the event is built from constants
	}
	base := t.bases[i%len(t.bases)]
	start := time.Now()
	resp, err := postWebhook(ctx, t.client, base, t.signer, "msg_"+t.run+"_"+strconv.Itoa(i), now, body)
	err = w.read(resp, err)
	lat := time.Since(start)
	var notice struct {
		SessionID string `json:"session_id"`
		Token     string `json:"recipient_token"`
	}
	if err == nil {
		if json.Unmarshal(w.buf.Bytes(), &notice) != nil || notice.SessionID == "" || notice.Token == "" {
			err = fmt.Errorf("answer %.100q opened no session", w.buf.Bytes())
		}
	}
	if err != nil {
		w.hookErrs++
		w.skipped += turnsPerRecipient
		w.fail("webhook", err)
		return benchSession{}
	}
	w.hooks = append(w.hooks, lat)

	session := base + "/v1/sessions/" + url.PathEscape(notice.SessionID)
	auth := "Bearer " + notice.Token
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, session, nil)
	req.Header.Set("Authorization", auth)
	if err := w.read(t.client.Do(req)); err != nil {
		w.greetErrs++
		w.skipped += turnsPerRecipient
		w.fail("greeting", err)
		return benchSession{}
	}
	return benchSession{url: session, auth: auth, locale: locale, ok: true}
}

// turns plays the replies of an opened conversation.
func (t *benchTarget) turns(ctx context.Context, w *benchWorker, bs benchSession) {
	if !bs.ok {
		return
	}
	session, auth := bs.url, bs.auth
	for k, text := range benchTurns[bs.locale] {
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, session+"/messages", bytes.NewReader(text))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		err := w.read(t.client.Do(req))
		lat := time.Since(start)
		if err != nil {
			w.turnErrs++
			w.fail("turn", err)
			continue
		}
		w.turns = append(w.turns, lat)
		if k == turnsPerRecipient-1 {
			var a struct {
				Outcome string `json:"outcome"`
			}
			json.Unmarshal(w.buf.Bytes(), &a)
			if w.outcomes == nil {
				w.outcomes = make(map[string]int)
			}
			w.outcomes[a.Outcome]++
		}
	}
}

// benchEvent returns the out_for_delivery webhook body of a bench delivery.
// The declared value is low, so that leaving it at the door is allowed.
func benchEvent(id signoff.DeliveryID, locale signoff.Locale, now time.Time) ([]byte, error) {
	d := eventData{
		ID:                 id,
		ETA:                now.Add(40 * time.Minute).Format(time.RFC3339),
		Status:             signoff.StatusOutForDelivery,
		DeclaredValueCents: 4900,
		Recipient: &signoff.Recipient{Name: "李华", Phone: "13800138000",
			Locale: locale, TimeZone: "Asia/Shanghai"},
		Courier:      &signoff.Courier{ID: "c-bench", Name: "王师傅", Phone: "13900139000"},
		Address:      "北京市朝阳区建国路88号",
		LastLocation: "朝阳区建国路营业部",
	}
	if locale == signoff.LocaleEN {
		d.Recipient.Name, d.Courier.Name = "Alex Li", "Mr Wang"
		d.Address, d.LastLocation = "88 Jianguo Road, Chaoyang, Beijing", "Jianguo Road depot"
	}
	data, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return json.Marshal(envelope{
		Type:      string(signoff.EventOutForDelivery),
		Timestamp: now.UTC().Format(time.RFC3339),
		Data:      data,
	})
}

// baseline serves the baseline handler on a loopback port and drives it
// with conc workers for n requests, each for key prefix plus its recipient's
// number. It returns the stats and a few error samples; it fails only when
// it cannot listen or ctx ends.
func baseline(ctx context.Context, client *http.Client, rdb redis.UniversalClient, conc, n int, prefix string) (latencyStats, []string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return latencyStats{}, nil, fmt.Errorf("baseline: %w", err)
	}
	srv := &http.Server{Handler: baselineHandler(rdb, prefix), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		// A connection dialled but never used counts as busy to Shutdown
		// for its first five seconds: close ours first.
		client.CloseIdleConnections()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		srv.Shutdown(sctx)
		cancel()
		<-served
	}()

	target := "http://" + ln.Addr().String() + "/baseline/"
	body := benchTurns[signoff.LocaleZH][turnsPerRecipient-1]
	workers := make([]benchWorker, conc)
	elapsed := drive(ctx, conc, n, func(wi, i int) {
		w := &workers[wi]
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target+strconv.Itoa(i/turnsPerRecipient), bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		err := w.read(client.Do(req))
		lat := time.Since(start)
		if err != nil {
			w.turnErrs++
			w.fail("baseline", err)
			return
		}
		w.turns = append(w.turns, lat)
	})
	if err := ctx.Err(); err != nil {
		return latencyStats{}, nil, err
	}
	var all []time.Duration
	var errs int
	var samples []string
	for i := range workers {
		all = append(all, workers[i].turns...)
		errs += workers[i].turnErrs
		samples = appendSamples(samples, workers[i].samples)
	}
	return summarize(all, errs, elapsed), samples, nil
}

var ginRelease sync.Once

// baselineHandler answers POST /baseline/:key with one Redis GET and one
// Redis SET of the body under prefix+key (kept ten minutes): the least a
// chat turn against Redis-held state can cost.
func baselineHandler(rdb redis.UniversalClient, prefix string) http.Handler {
	ginRelease.Do(func() { gin.SetMode(gin.ReleaseMode) })
	r := gin.New()
	r.POST("/baseline/:key", func(c *gin.Context) {
		body, err := c.GetRawData()
		if err != nil {
			c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": gin.H{"code": "bad_body", "message": err.Error()}})
			return
		}
		ctx := c.Request.Context()
		key := prefix + c.Param("key")
		prev, err := rdb.Get(ctx, key).Bytes()
		if err == nil || errors.Is(err, redis.Nil) {
			err = rdb.Set(ctx, key, body, 10*time.Minute).Err()
		}
		if err != nil {
			c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": gin.H{"code": "redis", "message": err.Error()}})
			return
		}
		c.JSON(http.StatusOK, gin.H{"previous_bytes": len(prev)})
	})
	return r
}

// newRedis returns a client of raw: a redis:// or rediss:// URL, or
// host:port, or several host:port separated by commas (a cluster), with a
// pool of at least poolSize connections.
func newRedis(raw string, poolSize int) (redis.UniversalClient, error) {
	o := &redis.UniversalOptions{}
	if strings.Contains(raw, "://") {
		opt, err := redis.ParseURL(raw)
		if err != nil {
			// Not err: it may quote the URL, password and all.
			return nil, errors.New("bad Redis URL: want redis://[user:password@]host:port[/db]")
		}
		o.Addrs = []string{opt.Addr}
		o.Username, o.Password, o.DB, o.TLSConfig = opt.Username, opt.Password, opt.DB, opt.TLSConfig
	} else {
		o.Addrs = strings.Split(raw, ",")
	}
	o.PoolSize = max(poolSize+poolSize/4, 10)
	return redis.NewUniversalClient(o), nil
}

// redactURL returns raw with any password in it masked.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if strings.Contains(raw, "@") {
			return "(redacted)"
		}
		return raw
	}
	return u.Redacted()
}

func mask(secret string) string {
	if secret == "" {
		return "(none)"
	}
	return "****"
}
