package orderhook

import (
	"errors"
	"strings"
	"testing"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/knowledge"
)

// TestDecodeChannel: data.channel picks the delivery's channel (web when
// absent), and an opening event on wechat must name the recipient's OpenID.
func TestDecodeChannel(t *testing.T) {
	body := func(typ, channel, openID string) string {
		rec := `"phone": "13900000000"`
		if openID != "" {
			rec += `, "wechat_openid": "` + openID + `"`
		}
		ch := ""
		if channel != "" {
			ch = `"channel": "` + channel + `", `
		}
		return `{"type": "` + typ + `", "timestamp": "2025-03-01T09:00:00+08:00", "data": {` + ch +
			`"delivery_id": "D-1", "recipient": {` + rec + `}}}`
	}
	for _, c := range []struct {
		name, body string
		want       signoff.DeliveryChannel
		present    bool
		openID     string
		code       string
		field      string
	}{
		{"absent", body("delivery.out_for_delivery", "", ""), "", false, "", "", ""},
		{"sms", body("delivery.out_for_delivery", "sms", ""), signoff.DeliverySMS, true, "", "", ""},
		{"web", body("delivery.arriving", "web", ""), signoff.DeliveryWeb, true, "", "", ""},
		{"wechat", body("delivery.out_for_delivery", "wechat", "oAbc-123_x"), signoff.DeliveryWeChat, true, "oAbc-123_x", "", ""},
		{"wechat update without OpenID", body("delivery.updated", "wechat", ""), signoff.DeliveryWeChat, true, "", "", ""},
		{"unknown", body("delivery.out_for_delivery", "fax", ""), "", false, "", "bad_field", "data.channel"},
		{"not a string", strings.Replace(body("delivery.updated", "", ""), `"data": {`, `"data": {"channel": 3, `, 1), "", false, "", "bad_field", "data.channel"},
		{"wechat opening without OpenID", body("delivery.out_for_delivery", "wechat", ""), "", false, "", "missing_field", "data.recipient.wechat_openid"},
		{"bad OpenID", body("delivery.updated", "", "o<script>"), "", false, "", "bad_field", "data.recipient.wechat_openid"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev, err := Decode([]byte(c.body))
			if c.code != "" {
				var e *signoff.Error
				if !errors.As(err, &e) || e.Code != c.code || !strings.Contains(e.Message, c.field) {
					t.Fatalf("got %v, want %s naming %s", err, c.code, c.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.Delivery.Channel != c.want || ev.Present[knowledge.FieldChannel] != c.present {
				t.Errorf("channel %q present %v, want %q %v", ev.Delivery.Channel, ev.Present[knowledge.FieldChannel], c.want, c.present)
			}
			if string(ev.Delivery.Recipient.WeChatOpenID) != c.openID {
				t.Errorf("OpenID %q, want %q", ev.Delivery.Recipient.WeChatOpenID, c.openID)
			}
		})
	}
}
