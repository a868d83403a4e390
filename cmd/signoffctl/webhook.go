package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/signoff/signoff"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// webhookPath is where the server takes order events.
const webhookPath = "/v1/webhooks/orders"

// headerDuplicate marks the server's answer to a webhook-id it had seen.
const headerDuplicate = "Webhook-Duplicate"

const webhookUsage = `usage: signoffctl webhook [-url U] [-secret whsec_...] [-type T] [-id ID]
                          (-file event.json | -delivery ID [field flags])

Sends one order event to the server, signed the Standard Webhooks way, and
prints the answer. The body is {"type", "timestamp", "data"}: from -file (an
envelope whose type and timestamp are kept unless -type is given, or a bare
data object), or built from the field flags. It fails on a non-2xx answer.

flags:
`

// webhookConfig is what the webhook command sends and where.
type webhookConfig struct {
	URL    string // server base URL
	Secret string // whsec_<base64>; never printed
	Type   string // event type
	// TypeSet says -type was given, so it overrides a file's type.
	TypeSet bool
	ID      string // webhook-id; random when empty
	File    string // event file; "-" is Stdin
	Stdin   io.Reader
	Fields  eventFields
	Now     func() time.Time
}

// String describes c with its secret masked.
func (c webhookConfig) String() string {
	secret := "(none)"
	if c.Secret != "" {
		secret = "whsec_****"
	}
	return fmt.Sprintf("url=%s secret=%s type=%s", c.URL, secret, c.Type)
}

// eventFields are the delivery facts given as flags.
type eventFields struct {
	Delivery, Phone, Name, Locale, TimeZone, ETA, Address string
	CourierName, CourierPhone, StationName, StationHours  string
	StationAddress, Status, Location                      string
	ValueCents                                            int64
}

func (f eventFields) empty() bool { return f == eventFields{} }

// eventData is the "data" of an order event: the delivery fields that the
// event carries, by the names channels/orderhook decodes (those of
// signoff.Delivery, but delivery_id for its id). Fields left empty are left
// out, so the server sees them as absent.
type eventData struct {
	ID                 signoff.DeliveryID `json:"delivery_id"`
	Recipient          *signoff.Recipient `json:"recipient,omitempty"`
	Courier            *signoff.Courier   `json:"courier,omitempty"`
	Address            signoff.Private    `json:"address,omitempty"`
	ETA                string             `json:"eta,omitempty"`
	Status             string             `json:"status,omitempty"`
	DeclaredValueCents int64              `json:"declared_value_cents,omitempty"`
	PickupStation      *signoff.Station   `json:"pickup_station,omitempty"`
	LastLocation       string             `json:"last_location,omitempty"`
}

// envelope is the body of an order webhook.
type envelope struct {
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

func runWebhook(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("webhook", webhookUsage, stderr)
	var c webhookConfig
	var f eventFields
	fs.StringVar(&c.URL, "url", "", "server base URL (default $"+envURL+" or "+defaultURL+")")
	fs.StringVar(&c.Secret, "secret", "", "signing secret whsec_<base64> (default $"+envSecret+")")
	fs.StringVar(&c.Type, "type", string(signoff.EventArriving), "event type: delivery.out_for_delivery, .arriving, .updated, .delivered, .failed")
	fs.StringVar(&c.ID, "id", "", "webhook-id header, the idempotency key (default a random msg_...)")
	fs.StringVar(&c.File, "file", "", "JSON file with the event envelope or its data; - reads stdin")
	fs.StringVar(&f.Delivery, "delivery", "", "delivery id")
	fs.StringVar(&f.Phone, "phone", "", "recipient phone")
	fs.StringVar(&f.Name, "name", "", "recipient name")
	fs.StringVar(&f.Locale, "locale", "", "recipient locale: zh-CN or en")
	fs.StringVar(&f.TimeZone, "tz", "", "recipient time zone (IANA), e.g. Asia/Shanghai")
	fs.StringVar(&f.ETA, "eta", "", "estimated arrival, RFC 3339")
	fs.StringVar(&f.Address, "address", "", "delivery address")
	fs.Int64Var(&f.ValueCents, "value-cents", 0, "declared value in cents")
	fs.StringVar(&f.CourierName, "courier-name", "", "courier name")
	fs.StringVar(&f.CourierPhone, "courier-phone", "", "courier phone")
	fs.StringVar(&f.StationName, "station-name", "", "pickup station name")
	fs.StringVar(&f.StationAddress, "station-address", "", "pickup station address")
	fs.StringVar(&f.StationHours, "station-hours", "", "pickup station opening hours")
	fs.StringVar(&f.Status, "status", "", "delivery status, e.g. out_for_delivery")
	fs.StringVar(&f.Location, "location", "", "last known location of the parcel")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c.URL = orEnv(c.URL, getenv, envURL, defaultURL)
	c.Secret = orEnv(c.Secret, getenv, envSecret, "")
	c.TypeSet = flagSet(fs, "type")
	c.Fields = f
	c.Now = time.Now
	c.Stdin = stdin
	client := &http.Client{Timeout: 30 * time.Second}
	return sendWebhookCmd(ctx, client, c, stdout)
}

// sendWebhookCmd builds, signs and sends the event c describes and prints the
// answer's status and JSON on stdout. A non-2xx answer is an *apiError.
func sendWebhookCmd(ctx context.Context, client *http.Client, c webhookConfig, stdout io.Writer) error {
	base, err := baseURL(c.URL)
	if err != nil {
		return err
	}
	s, err := newSigner(c.Secret)
	if err != nil {
		return err
	}
	now := c.Now()
	body, err := buildEvent(c, now)
	if err != nil {
		return err
	}
	id := c.ID
	if id == "" {
		id = newWebhookID()
	}
	resp, err := postWebhook(ctx, client, base, s, id, now, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	fmt.Fprintf(stdout, "%s (webhook-id %s)\n", resp.Status, id)
	if resp.Header.Get(headerDuplicate) != "" {
		fmt.Fprintln(stdout, "duplicate: the server had already processed this webhook-id; this is its first answer")
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, answer, "", "  ") == nil {
		pretty.WriteByte('\n')
		pretty.WriteTo(stdout)
	} else if len(answer) > 0 {
		fmt.Fprintf(stdout, "%s\n", answer)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return apiErrorFrom(resp.StatusCode, answer)
	}
	var opened struct {
		SessionID string `json:"session_id"`
		Token     string `json:"recipient_token"`
		URL       string `json:"recipient_url"`
	}
	if json.Unmarshal(answer, &opened) == nil && opened.SessionID != "" && opened.Token != "" {
		link := opened.URL
		if u, err := url.Parse(link); err != nil || !u.IsAbs() {
			link = base + "/r/" + url.PathEscape(opened.SessionID) + "?t=" + url.QueryEscape(opened.Token)
		}
		fmt.Fprintf(stdout, "chat: signoffctl chat -link '%s'\n", link)
	}
	return nil
}

// buildEvent returns the webhook body for c at now.
func buildEvent(c webhookConfig, now time.Time) ([]byte, error) {
	env := envelope{Type: c.Type, Timestamp: now.UTC().Format(time.RFC3339)}
	switch {
	case c.File != "" && !c.Fields.empty():
		return nil, errors.New("give -file or the field flags (-delivery, -phone, ...), not both")
	case c.File != "":
		raw, err := readEventFile(c.File, c.Stdin)
		if err != nil {
			return nil, err
		}
		var file map[string]json.RawMessage
		if err := json.Unmarshal(raw, &file); err != nil {
			return nil, fmt.Errorf("%s: not a JSON object: %v", c.File, err)
		}
		data, ok := file["data"]
		if !ok {
			// A bare data object.
			env.Data = raw
			break
		}
		env.Data = data
		if t, ok := file["type"]; ok && !c.TypeSet {
			if err := json.Unmarshal(t, &env.Type); err != nil {
				return nil, fmt.Errorf("%s: type: %v", c.File, err)
			}
		}
		if ts, ok := file["timestamp"]; ok {
			if err := json.Unmarshal(ts, &env.Timestamp); err != nil {
				return nil, fmt.Errorf("%s: timestamp: %v", c.File, err)
			}
		}
	case c.Fields.Delivery != "":
		d, err := c.Fields.data()
		if err != nil {
			return nil, err
		}
		if env.Data, err = json.Marshal(d); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("give -delivery (with the other field flags) or -file")
	}
	if !signoff.EventType(env.Type).Valid() {
		return nil, fmt.Errorf("unknown event type %q", env.Type)
	}
	return json.Marshal(env)
}

func readEventFile(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(stdin, maxAnswer))
	}
	return os.ReadFile(name)
}

// data returns the event data the flags describe.
func (f eventFields) data() (eventData, error) {
	d := eventData{
		ID:                 signoff.DeliveryID(f.Delivery),
		Address:            signoff.Private(f.Address),
		Status:             f.Status,
		DeclaredValueCents: f.ValueCents,
		LastLocation:       f.Location,
	}
	if f.ValueCents < 0 {
		return d, fmt.Errorf("-value-cents %d: must not be negative", f.ValueCents)
	}
	if f.ETA != "" {
		if _, err := time.Parse(time.RFC3339, f.ETA); err != nil {
			return d, fmt.Errorf("-eta %q: want RFC 3339, e.g. 2025-11-25T15:04:05+08:00", f.ETA)
		}
		d.ETA = f.ETA
	}
	if f.TimeZone != "" {
		if _, err := time.LoadLocation(f.TimeZone); err != nil {
			return d, fmt.Errorf("-tz %q: %v", f.TimeZone, err)
		}
	}
	if r := (signoff.Recipient{Name: signoff.Private(f.Name), Phone: signoff.Phone(f.Phone),
		Locale: signoff.Locale(f.Locale), TimeZone: f.TimeZone}); r != (signoff.Recipient{}) {
		d.Recipient = &r
	}
	if c := (signoff.Courier{Name: signoff.Private(f.CourierName), Phone: signoff.Phone(f.CourierPhone)}); c != (signoff.Courier{}) {
		d.Courier = &c
	}
	if s := (signoff.Station{Name: f.StationName, Address: f.StationAddress, Hours: f.StationHours}); s != (signoff.Station{}) {
		d.PickupStation = &s
	}
	return d, nil
}

// signer signs webhook bodies with one secret.
type signer struct {
	wh *standardwebhooks.Webhook
}

// newSigner returns a signer for secret, "whsec_" followed by the base64
// key (the prefix may be left out).
func newSigner(secret string) (*signer, error) {
	if secret == "" {
		return nil, fmt.Errorf("no signing secret: give -secret or set %s", envSecret)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		// The library's error quotes nothing of the secret, but say what
		// shape is wanted rather than why base64 failed.
		return nil, errors.New("bad signing secret: want whsec_ followed by base64")
	}
	return &signer{wh: wh}, nil
}

// sign sets the Standard Webhooks headers on h for body sent as id at ts:
// webhook-id, webhook-timestamp (Unix seconds) and webhook-signature
// "v1,<base64 HMAC-SHA256 of id.ts.body>".
func (s *signer) sign(h http.Header, id string, ts time.Time, body []byte) error {
	sig, err := s.wh.Sign(id, ts, body)
	if err != nil {
		return err
	}
	h.Set(standardwebhooks.HeaderWebhookID, id)
	h.Set(standardwebhooks.HeaderWebhookTimestamp, fmt.Sprint(ts.Unix()))
	h.Set(standardwebhooks.HeaderWebhookSignature, sig)
	return nil
}

// postWebhook sends body, signed as id at ts, to base's webhook path and
// returns the answer whatever its status; the caller closes its body.
func postWebhook(ctx context.Context, client *http.Client, base string, s *signer, id string, ts time.Time, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+webhookPath, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if err := s.sign(req.Header, id, ts, body); err != nil {
		return nil, err
	}
	return client.Do(req)
}

// newWebhookID returns a random webhook id, msg_ and 26 base32 letters.
func newWebhookID() string { return "msg_" + rand.Text() }
