package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels/push"
)

// Config is the provider account and where Signoff is reached.
type Config struct {
	BaseURL    string // SIGNOFF_SMS_BASE_URL, e.g. https://api.twilio.com
	AccountSID string // SIGNOFF_SMS_ACCOUNT_SID
	AuthToken  string // SIGNOFF_SMS_AUTH_TOKEN: basic-auth password and signature key
	From       string // SIGNOFF_SMS_FROM: the sender number, E.164
	// PublicURL is Signoff's public base URL (SIGNOFF_PUBLIC_URL), over
	// which the provider signs the URLs it calls.
	PublicURL string
	// CountryCode is the calling code given to numbers written without one
	// (default "86").
	CountryCode string
}

// Missing returns the names of the settings c lacks, in the order above.
func (c Config) Missing() []string {
	var out []string
	for _, kv := range [][2]string{{"SIGNOFF_SMS_BASE_URL", c.BaseURL}, {"SIGNOFF_SMS_ACCOUNT_SID", c.AccountSID},
		{"SIGNOFF_SMS_AUTH_TOKEN", c.AuthToken}, {"SIGNOFF_SMS_FROM", c.From}} {
		if kv[1] == "" {
			out = append(out, kv[0])
		}
	}
	return out
}

// LogValue masks the auth token and the sender number.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.BaseURL), slog.String("account_sid", c.AccountSID),
		slog.Bool("auth_token", c.AuthToken != ""), slog.Any("from", signoff.Phone(c.From)))
}

// Client sends text messages through a Twilio-compatible Messages API.
type Client struct {
	cfg  Config
	http *http.Client
}

// NewClient returns a client of the account in cfg. A nil hc uses
// http.DefaultClient.
func NewClient(cfg Config, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	if cfg.CountryCode == "" {
		cfg.CountryCode = "86"
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return &Client{cfg: cfg, http: hc}
}

// apiError is the provider's JSON error body.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  int    `json:"status"`
}

// SendText sends body to the E.164 number to and returns the message's
// sid. Errors are *push.SendError: permanent for a 4xx other than 429, with
// the code "twilio_<provider code>" or "http_<status>".
func (c *Client) SendText(ctx context.Context, to, body string) (string, error) {
	form := url.Values{"To": {to}, "From": {c.cfg.From}, "Body": {body}}
	if c.cfg.PublicURL != "" {
		form.Set("StatusCallback", c.cfg.PublicURL+StatusPath)
	}
	u := c.cfg.BaseURL + "/2010-04-01/Accounts/" + url.PathEscape(c.cfg.AccountSID) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return "", &push.SendError{Code: "bad_request", Permanent: true, Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(c.cfg.AccountSID, c.cfg.AuthToken)
	resp, err := c.http.Do(req)
	if err != nil {
		return "", &push.SendError{Code: "unreachable", Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", &push.SendError{Code: "bad_answer", Err: err}
	}
	if resp.StatusCode/100 != 2 {
		code := "http_" + strconv.Itoa(resp.StatusCode)
		var ae apiError
		if json.Unmarshal(b, &ae) == nil && ae.Code != 0 {
			code = "twilio_" + strconv.Itoa(ae.Code)
		}
		permanent := resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests
		return "", &push.SendError{Code: code, Permanent: permanent, Err: fmt.Errorf("messages API answered %s", resp.Status)}
	}
	var m struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(b, &m); err != nil || m.SID == "" {
		return "", &push.SendError{Code: "bad_answer", Err: errors.New("messages API answer has no sid")}
	}
	return m.SID, nil
}

// Sender is the push.Sender of SMS: it renders a line for SMS (Render),
// sends it to the delivery's recipient, and remembers which session the
// message belongs to, for its status callbacks.
type Sender struct {
	Client *Client
	Memory Memory
}

// Send renders m and sends it to d's recipient.
func (s *Sender) Send(ctx context.Context, sid signoff.SessionID, d signoff.Delivery, seq int, m signoff.Message) (string, error) {
	to := E164(string(d.Recipient.Phone), s.Client.cfg.CountryCode)
	if to == "" {
		return "", &push.SendError{Code: "no_phone", Permanent: true, Err: errors.New("the delivery has no usable phone number")}
	}
	id, err := s.Client.SendText(ctx, to, Render(d, seq, m))
	if err == nil && s.Memory != nil {
		if perr := s.Memory.Put(ctx, Kind+":msg", id, []byte(sid), keep); perr != nil {
			return id, nil // sent: a lost status callback is not worth a second text
		}
	}
	return id, err
}

// E164 returns phone as +<digits>, giving a number written without a
// country code the calling code cc ("00" counts as "+"). It returns "" for
// what is not a phone number.
func E164(phone, cc string) string {
	var b strings.Builder
	plus := false
	for i, r := range strings.TrimSpace(phone) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			plus = true
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return ""
		}
	}
	d := b.String()
	switch {
	case plus:
	case strings.HasPrefix(d, "00"):
		d = d[2:]
	default:
		d = strings.TrimPrefix(d, "0")
		if !strings.HasPrefix(d, cc) || len(d) <= 11 {
			d = cc + d
		}
	}
	if len(d) < 5 || len(d) > 15 {
		return ""
	}
	return "+" + d
}
