package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels/push"
)

// Client calls the account's API: access tokens and customer-service
// messages. The access token is cached in Memory, shared by every node,
// until shortly before it expires.
type Client struct {
	cfg  Config
	mem  Memory
	http *http.Client
}

// NewClient returns a client of the account in cfg. A nil hc uses
// http.DefaultClient.
func NewClient(cfg Config, mem Memory, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{cfg: cfg.withDefaults(), mem: mem, http: hc}
}

const tokenKind = "wechat:token"

// apiAnswer is the error part every API answer has.
type apiAnswer struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// Token returns an access token: the cached one, or a new one fetched and
// cached when none is (or fresh is true).
func (c *Client) Token(ctx context.Context, fresh bool) (string, error) {
	if !fresh {
		if b, err := c.mem.Get(ctx, tokenKind, c.cfg.AppID); err == nil {
			return string(b), nil
		}
	}
	q := url.Values{"grant_type": {"client_credential"}, "appid": {c.cfg.AppID}, "secret": {c.cfg.Secret}}
	var ans struct {
		apiAnswer
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := c.call(ctx, http.MethodGet, "/cgi-bin/token?"+q.Encode(), nil, &ans); err != nil {
		return "", err
	}
	if ans.ErrCode != 0 || ans.AccessToken == "" {
		return "", &push.SendError{Code: "wechat_" + strconv.Itoa(ans.ErrCode), Permanent: ans.ErrCode != -1,
			Err: fmt.Errorf("token: errcode %d", ans.ErrCode)}
	}
	ttl := time.Duration(ans.ExpiresIn)*time.Second - 5*time.Minute
	if ttl < time.Minute {
		ttl = time.Minute
	}
	if err := c.mem.Put(ctx, tokenKind, c.cfg.AppID, []byte(ans.AccessToken), ttl); err != nil {
		return "", err
	}
	return ans.AccessToken, nil
}

// SendText sends content to openID through the customer-service message
// API. An expired token is fetched again once. Errors are *push.SendError;
// errcode 45015 (the user has not written in 48 hours) is
// "wechat_out_of_window".
func (c *Client) SendText(ctx context.Context, openID, content string) error {
	body, _ := json.Marshal(map[string]any{"touser": openID, "msgtype": "text", "text": map[string]string{"content": content}})
	for attempt := 0; ; attempt++ {
		tok, err := c.Token(ctx, attempt > 0)
		if err != nil {
			return err
		}
		var ans apiAnswer
		if err := c.call(ctx, http.MethodPost, "/cgi-bin/message/custom/send?access_token="+url.QueryEscape(tok), body, &ans); err != nil {
			return err
		}
		switch ans.ErrCode {
		case 0:
			return nil
		case 40001, 40014, 42001: // invalid or expired token
			if attempt == 0 {
				continue
			}
		case 45015:
			return &push.SendError{Code: "wechat_out_of_window", Permanent: true, Err: errors.New("the user has not written within 48 hours")}
		}
		return &push.SendError{Code: "wechat_" + strconv.Itoa(ans.ErrCode), Permanent: ans.ErrCode != -1,
			Err: fmt.Errorf("custom send: errcode %d", ans.ErrCode)}
	}
}

func (c *Client) call(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.APIBaseURL+path, rd)
	if err != nil {
		return &push.SendError{Code: "bad_request", Permanent: true, Err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &push.SendError{Code: "unreachable", Err: errors.New("wechat API unreachable")}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil || resp.StatusCode/100 != 2 {
		return &push.SendError{Code: "http_" + strconv.Itoa(resp.StatusCode), Err: fmt.Errorf("wechat API answered %s", resp.Status)}
	}
	if err := json.Unmarshal(b, out); err != nil {
		return &push.SendError{Code: "bad_answer", Err: err}
	}
	return nil
}

// Sender is the push.Sender of WeChat.
type Sender struct{ Client *Client }

// Send renders m and sends it to d's recipient through the
// customer-service API. WeChat gives no message id; Send returns "".
func (s *Sender) Send(ctx context.Context, _ signoff.SessionID, d signoff.Delivery, _ int, m signoff.Message) (string, error) {
	if d.Recipient.WeChatOpenID == "" {
		return "", &push.SendError{Code: "no_openid", Permanent: true, Err: errors.New("the delivery has no WeChat OpenID")}
	}
	return "", s.Client.SendText(ctx, string(d.Recipient.WeChatOpenID), Render(m))
}
