package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/channels/push"
	"github.com/signoff/signoff/channels/sms"
	"github.com/signoff/signoff/channels/wechat"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/redisstore"
)

// textConfig is the text channels' part of the configuration, read from the
// environment: SIGNOFF_SMS_* and SIGNOFF_WECHAT_*.
type textConfig struct {
	SMS    sms.Config
	WeChat wechat.Config
}

// loadTextConfig reads the text channels' settings. A channel with some but
// not all of its required settings is an error: it would half work.
func loadTextConfig(getenv func(string) string, publicURL string) (textConfig, error) {
	c := textConfig{
		SMS: sms.Config{BaseURL: getenv("SIGNOFF_SMS_BASE_URL"), AccountSID: getenv("SIGNOFF_SMS_ACCOUNT_SID"),
			AuthToken: getenv("SIGNOFF_SMS_AUTH_TOKEN"), From: getenv("SIGNOFF_SMS_FROM"), PublicURL: publicURL,
			CountryCode: getenv("SIGNOFF_SMS_COUNTRY_CODE")},
		WeChat: wechat.Config{Token: getenv("SIGNOFF_WECHAT_TOKEN"), AppID: getenv("SIGNOFF_WECHAT_APPID"),
			Secret: getenv("SIGNOFF_WECHAT_SECRET"), AESKey: getenv("SIGNOFF_WECHAT_AES_KEY"),
			APIBaseURL: getenv("SIGNOFF_WECHAT_API_BASE_URL")},
	}
	if v := getenv("SIGNOFF_WECHAT_REPLY_BUDGET"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d >= 5*time.Second {
			return textConfig{}, fmt.Errorf("SIGNOFF_WECHAT_REPLY_BUDGET: %q is not a duration under 5s such as 4s", v)
		}
		c.WeChat.ReplyBudget = d
	}
	if m := c.SMS.Missing(); len(m) > 0 && len(m) < 4 {
		return textConfig{}, fmt.Errorf("SMS is half configured: set %s too, or none of the SIGNOFF_SMS_* settings", strings.Join(m, ", "))
	}
	if m := c.WeChat.Missing(); len(m) > 0 && (len(m) < 3 || c.WeChat.AESKey != "") {
		return textConfig{}, fmt.Errorf("WeChat is half configured: set %s too, or none of the SIGNOFF_WECHAT_* settings", strings.Join(m, ", "))
	}
	if c.SMS.CountryCode != "" && strings.Trim(c.SMS.CountryCode, "0123456789") != "" {
		return textConfig{}, fmt.Errorf("SIGNOFF_SMS_COUNTRY_CODE: %q is not a calling code such as 86", c.SMS.CountryCode)
	}
	return c, nil
}

// LogValue masks the secrets of both channels.
func (c textConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.Bool("sms", len(c.SMS.Missing()) == 0), slog.Any("sms_config", c.SMS),
		slog.Bool("wechat", len(c.WeChat.Missing()) == 0), slog.Any("wechat_config", c.WeChat))
}

// textChannels is the SMS and WeChat channels wired to the engine.
type textChannels struct {
	cfg    textConfig
	pusher *push.Pusher
	router *gin.Engine
	bind   *push.Binding
}

// wireText builds the text channels. Unconfigured channels answer 404
// channel_disabled naming the first missing setting.
func wireText(cfg textConfig, engine *dialog.Engine, store *redisstore.Store, log *slog.Logger) (*textChannels, error) {
	log.Info("text channels", "config", cfg)
	t := &textChannels{cfg: cfg}
	dir := store.Directory()
	senders := map[signoff.DeliveryChannel]push.Sender{}
	addrs := map[string]func(signoff.Recipient) string{}
	r := gin.New()
	r.ContextWithFallback = true
	r.Use(recovery(log), accessLog(log))
	var smsH *sms.Handler
	if len(cfg.SMS.Missing()) == 0 {
		client := sms.NewClient(cfg.SMS, nil)
		senders[signoff.DeliverySMS] = &sms.Sender{Client: client, Memory: store}
		cc := cfg.SMS.CountryCode
		if cc == "" {
			cc = "86"
		}
		addrs[sms.Kind] = sms.Address(cc)
		smsH = sms.New(cfg.SMS, engine, dir, store, log)
		smsH.Register(r)
	} else {
		disabledRoutes(r, log, "SMS", cfg.SMS.Missing()[0], sms.InboundPath, sms.StatusPath)
	}
	t.pusher = push.New(store, engine, senders, push.Config{}, log)
	if len(cfg.WeChat.Missing()) == 0 {
		client := wechat.NewClient(cfg.WeChat, store, nil)
		senders[signoff.DeliveryWeChat] = &wechat.Sender{Client: client}
		addrs[wechat.Kind] = wechat.Address
		h, err := wechat.New(cfg.WeChat, engine, dir, store, t.pusher, log)
		if err != nil {
			return nil, fmt.Errorf("SIGNOFF_WECHAT_AES_KEY: %w", err)
		}
		h.Register(r)
	} else {
		disabledRoutes(r, log, "WeChat", cfg.WeChat.Missing()[0], wechat.Path)
	}
	t.router = r
	t.bind = &push.Binding{Next: tracedEngine{engine}, Dir: dir, Addresses: addrs, Now: time.Now}
	return t, nil
}

func disabledRoutes(r *gin.Engine, log *slog.Logger, name, missing string, paths ...string) {
	h := func(c *gin.Context) {
		channels.WriteError(c, log, signoff.Errorf(signoff.ErrNotFound, "channel_disabled", "%s is not configured on this server: %s is not set", name, missing))
	}
	for _, p := range paths {
		r.Any(p, h)
	}
}

// notifier is what the order webhooks call: the engine, binding the
// recipient's phone and OpenID to the delivery.
func (t *textChannels) notifier() push.Notifier { return t.bind }

// handler serves the text channels' routes and passes the rest to next.
func (t *textChannels) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/channels/sms/") || r.URL.Path == wechat.Path {
			t.router.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// run pushes lines to the text channels until ctx ends.
func (t *textChannels) run(ctx context.Context) error { return t.pusher.Run(ctx) }
