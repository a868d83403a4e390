package push

import (
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
)

// Sender sends one line to a recipient over one channel. It renders the line
// for its channel. A *SendError says whether a failure is worth retrying;
// any other error is retried.
type Sender interface {
	// Send returns the provider's id of the message sent.
	Send(ctx context.Context, sid signoff.SessionID, d signoff.Delivery, seq int, m signoff.Message) (string, error)
}

// SendError is a failed send with a stable code for the evidence log
// ("twilio_21211", "wechat_out_of_window", "http_503").
type SendError struct {
	Code      string
	Permanent bool // retrying cannot help
	Err       error
}

func (e *SendError) Error() string { return e.Code + ": " + e.Err.Error() }
func (e *SendError) Unwrap() error { return e.Err }

// Store is what the pusher needs of the store.
type Store interface {
	// LoadSession returns a session and its delivery's facts.
	LoadSession(ctx context.Context, id signoff.SessionID) (signoff.Session, signoff.Delivery, error)
	// Watch calls fn, which must not block, with every line posted to any
	// session, in order per session, until ctx ends.
	Watch(ctx context.Context, fn func(signoff.SessionID, dialog.Posted)) error
	// Claim stores value under name unless something is there; true when
	// this call stored it.
	Claim(ctx context.Context, kind, name string, value []byte, ttl time.Duration) (bool, []byte, error)
}

// Recorder appends evidence to a session's delivery log (dialog.Engine).
type Recorder interface {
	Record(ctx context.Context, id signoff.SessionID, kind string, data map[string]string) error
}

// Config tunes a Pusher.
type Config struct {
	// Retry bounds the retries of one line (default 2 minutes).
	Retry time.Duration
	// FirstRetry is the first wait between attempts (default 500 ms).
	FirstRetry time.Duration
	// Workers is how many lines are sent at once (default 8). Lines of one
	// session always go through the same worker, in order.
	Workers int
}

// RetryWatch is how often Run tries to start watching while the store
// cannot be reached.
var RetryWatch = time.Second

// claimKeep is how long a line's claim is kept: longer than any retry of
// the same line.
const claimKeep = 7 * 24 * time.Hour

// Pusher sends lines to text channels. Make it with New and start it with
// Run.
type Pusher struct {
	store   Store
	rec     Recorder
	senders map[signoff.DeliveryChannel]Sender
	cfg     Config
	log     *slog.Logger
	seed    maphash.Seed
	queues  []chan job
	started chan struct{}

	mu       sync.Mutex
	answered map[signoff.SessionID]time.Time // the At of the recipient's last line, per session
}

type job struct {
	sid signoff.SessionID
	p   dialog.Posted
}

// New returns a Pusher sending to senders, keyed by delivery channel.
func New(store Store, rec Recorder, senders map[signoff.DeliveryChannel]Sender, cfg Config, log *slog.Logger) *Pusher {
	if cfg.Retry <= 0 {
		cfg.Retry = 2 * time.Minute
	}
	if cfg.FirstRetry <= 0 {
		cfg.FirstRetry = 500 * time.Millisecond
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	p := &Pusher{store: store, rec: rec, senders: senders, cfg: cfg, log: log, seed: maphash.MakeSeed(),
		answered: make(map[signoff.SessionID]time.Time), started: make(chan struct{})}
	for range cfg.Workers {
		p.queues = append(p.queues, make(chan job, 256))
	}
	return p
}

// Run watches every transcript line and sends those due to a text channel,
// until ctx ends. While the store cannot be reached it tries again every
// RetryWatch, so a node started before Redis is up pushes once it is.
func (p *Pusher) Run(ctx context.Context) error {
	for {
		err := p.store.Watch(ctx, p.see)
		if err == nil {
			break
		}
		p.log.Warn("push: cannot watch transcript lines yet; retrying", "err", err)
		t := time.NewTimer(RetryWatch)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
	close(p.started)
	var wg sync.WaitGroup
	for _, q := range p.queues {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-q:
					p.handle(ctx, j)
				}
			}
		})
	}
	wg.Wait()
	return nil
}

// Started is closed once Run watches the lines: lines committed after that
// are seen.
func (p *Pusher) Started() <-chan struct{} { return p.started }

// see is called for every posted line, in order per session. A bot or staff
// line stamped with the same instant as the recipient's line just before it
// was written in the same turn: it answers that message and goes back in
// the message's own answer, so it is not pushed.
func (p *Pusher) see(sid signoff.SessionID, posted dialog.Posted) {
	m := posted.Message
	p.mu.Lock()
	if m.From == signoff.FromRecipient {
		if len(p.answered) > 1<<16 {
			clear(p.answered) // at worst a line answering a message is also pushed
		}
		p.answered[sid] = m.At
		p.mu.Unlock()
		return
	}
	at, ok := p.answered[sid]
	if ok && at.Equal(m.At) {
		p.mu.Unlock()
		return
	}
	delete(p.answered, sid)
	p.mu.Unlock()
	q := p.queues[maphash.String(p.seed, string(sid))%uint64(len(p.queues))]
	select {
	case q <- job{sid: sid, p: posted}:
	default:
		p.log.Warn("push: queue full, line not sent", "session", sid, "seq", posted.Seq)
	}
}

func (p *Pusher) handle(ctx context.Context, j job) {
	_, d, err := p.store.LoadSession(ctx, j.sid)
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, signoff.ErrNotFound) {
			p.log.Warn("push: cannot load session", "session", j.sid, "err", err)
		}
		return
	}
	if err := p.Deliver(ctx, j.sid, j.p.Seq, d, j.p.Message); err != nil && ctx.Err() == nil {
		p.log.Warn("push: line not sent", "session", j.sid, "seq", j.p.Seq, "err", err)
	}
}

// Deliver sends line seq of session sid to the recipient on d's channel,
// unless it was claimed before (by this or another node): it claims it,
// sends it with retries and records <channel>_sent or <channel>_failed in
// the delivery's log. A delivery on the web channel, or on a channel with no
// Sender, is left alone. The error is the send's last, once recorded.
func (p *Pusher) Deliver(ctx context.Context, sid signoff.SessionID, seq int, d signoff.Delivery, m signoff.Message) error {
	ch := d.Channel.Or()
	if ch == signoff.DeliveryWeb {
		return nil
	}
	claimed, _, err := p.store.Claim(ctx, "push", string(sid)+"\x00"+strconv.Itoa(seq), []byte("1"), claimKeep)
	if err != nil || !claimed {
		return err
	}
	s, ok := p.senders[ch]
	if !ok {
		// The order system chose a channel this server does not have:
		// staff see it in the log.
		s = disabled{}
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = p.cfg.FirstRetry
	attempts := 0
	id, err := backoff.Retry(ctx, func() (string, error) {
		attempts++
		id, err := s.Send(ctx, sid, d, seq, m)
		var se *SendError
		if errors.As(err, &se) && se.Permanent {
			return "", backoff.Permanent(err)
		}
		return id, err
	}, backoff.WithBackOff(b), backoff.WithMaxElapsedTime(p.cfg.Retry))
	data := map[string]string{"seq": strconv.Itoa(seq), "attempts": strconv.Itoa(attempts)}
	kind := string(ch) + "_sent"
	if err != nil {
		kind = string(ch) + "_failed"
		data["code"] = Code(err)
	} else {
		data["message_id"] = id
	}
	rctx := context.WithoutCancel(ctx)
	if rerr := p.rec.Record(rctx, sid, kind, data); rerr != nil {
		p.log.Warn("push: cannot record", "session", sid, "kind", kind, "err", rerr)
	}
	return err
}

// Code returns the stable code of a send error: a *SendError's, else
// "send_failed".
func Code(err error) string {
	var se *SendError
	if errors.As(err, &se) && se.Code != "" {
		return se.Code
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return "timeout"
	}
	return "send_failed"
}

// Notifier applies order events (dialog.Engine).
type Notifier interface {
	Notify(ctx context.Context, ev signoff.OrderEvent) (dialog.Notice, error)
}

// Binder binds a recipient's address on a text channel to a delivery
// (redisstore.Directory).
type Binder interface {
	Bind(ctx context.Context, kind, addr string, id signoff.DeliveryID, at time.Time) error
}

// Binding is a Notifier that, once an order event is applied, binds the
// recipient's addresses the event carried (a phone number, a WeChat OpenID)
// to the delivery, so that a text from that address finds the delivery's
// open conversation. The text channels check the delivery's current facts
// when they look an address up, so a stale binding finds nothing.
type Binding struct {
	Next Notifier
	Dir  Binder
	// Addresses returns, per channel kind, the address of the recipient
	// an event carried; an empty address is not bound.
	Addresses map[string]func(signoff.Recipient) string
	Now       func() time.Time
}

// Notify calls Next, then binds the event's addresses. A failed binding
// fails the call, so that the order system retries the webhook (a repeat
// changes nothing in the engine and binds again).
func (b *Binding) Notify(ctx context.Context, ev signoff.OrderEvent) (dialog.Notice, error) {
	n, err := b.Next.Notify(ctx, ev)
	if err != nil {
		return n, err
	}
	for kind, addr := range b.Addresses {
		if a := addr(ev.Delivery.Recipient); a != "" {
			if err := b.Dir.Bind(ctx, kind, a, ev.Delivery.ID, b.Now()); err != nil {
				return dialog.Notice{}, err
			}
		}
	}
	return n, nil
}

// disabled is the Sender of a channel that is not configured.
type disabled struct{}

func (disabled) Send(context.Context, signoff.SessionID, signoff.Delivery, int, signoff.Message) (string, error) {
	return "", &SendError{Code: "channel_disabled", Permanent: true, Err: errors.New("the channel is not configured on this server")}
}
