package proof

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/dialog/receipt"
)

// getReceiptPage answers a bilingual, human-readable receipt with the
// courier's photo and every record. The token may ride in ?t= so that the
// page can be opened from a link; the photo link carries it on.
func (h *Handler) getReceiptPage(c *gin.Context) {
	r, v, d, open, err := h.receiptFor(c, true)
	if err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	tok, _ := channels.Bearer(c, true)
	p := pageData{R: r, KeyID: h.cfg.Keys.KeyID(), Outcome: outcomeLabel(r.Outcome), Erased: r.Erased}
	show := func(seq int, field, sealed string) string {
		o, ok := open[seq][field]
		switch {
		case !ok && sealed != "":
			return "（已封存 sealed " + sealed[:min(12, len(sealed))] + "…）"
		case !ok:
			return ""
		case v.personal:
			return o.Value
		}
		return mask(field, o.Value, d)
	}
	if r.Consent != nil {
		p.Consent = show(r.Consent.Record, "consent_text", r.Consent.Sealed)
	}
	if r.Confirmed != nil {
		p.Confirmed = show(r.Confirmed.Record, "text", r.Confirmed.Sealed)
	}
	if r.Proof != nil {
		p.Photo = "/v1/deliveries/" + url.PathEscape(r.Delivery) + "/photos/" + r.Proof.Photo + ext(r.Proof.Type) + "?t=" + url.QueryEscape(tok)
		for _, rec := range r.Log {
			if rec.Seq == r.Proof.Record {
				p.Where = strings.Trim(show(rec.Seq, "lat", rec.Sealed["lat"])+", "+show(rec.Seq, "lng", rec.Sealed["lng"]), ", ")
				p.Note = show(rec.Seq, "note", rec.Sealed["note"])
			}
		}
	}
	for _, rec := range r.Log {
		row := row{Seq: rec.Seq, At: rec.At, Kind: rec.Kind, Hash: rec.Hash}
		keys := make([]string, 0, len(rec.Fields)+len(rec.Sealed))
		for k := range rec.Fields {
			keys = append(keys, k)
		}
		for k := range rec.Sealed {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			val, ok := rec.Fields[k]
			if !ok {
				val = show(rec.Seq, k, rec.Sealed[k])
			}
			if val != "" {
				row.Fields = append(row.Fields, k+": "+val)
			}
		}
		p.Rows = append(p.Rows, row)
	}
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, p); err != nil {
		channels.WriteError(c, h.log, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "no-referrer")
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
}

func ext(typ string) string {
	if typ == "image/png" {
		return ".png"
	}
	return ".jpg"
}

type pageData struct {
	R                  receipt.Receipt
	KeyID              string
	Outcome            string
	Consent, Confirmed string
	Photo, Where, Note string
	Erased             bool
	Rows               []row
}

type row struct {
	Seq    int
	At     string
	Kind   string
	Hash   string
	Fields []string
}

func outcomeLabel(o string) string {
	labels := map[signoff.Outcome]string{
		signoff.OutcomeDeliverNow: "本人签收 Signed in person", signoff.OutcomeLeaveAtDoor: "放门口 Left at the door",
		signoff.OutcomePickupStation: "放驿站 Pickup station", signoff.OutcomeLocker: "放快递柜 Parcel locker",
		signoff.OutcomeReschedule: "改约时间 Rescheduled",
	}
	if l, ok := labels[signoff.Outcome(o)]; ok {
		return l
	}
	return o
}

var phoneRun = regexp.MustCompile(`\+?\d[\d\- ]{6,}\d`)

// mask hides personal values for staff without the right role: names show
// their first character, phone numbers their first three and last four
// digits, coordinates are withheld.
func mask(field, v string, d signoff.Delivery) string {
	switch {
	case field == "lat" || field == "lng":
		return "***"
	case field == "name" || strings.HasSuffix(field, "_name"):
		return maskName(v)
	}
	for _, n := range []string{string(d.Recipient.Name), string(d.Courier.Name)} {
		if n != "" {
			v = strings.ReplaceAll(v, n, maskName(n))
		}
	}
	return phoneRun.ReplaceAllStringFunc(v, func(p string) string { return signoff.Phone(p).Masked() })
}

func maskName(n string) string {
	r, size := utf8.DecodeRuneInString(n)
	if size == 0 {
		return ""
	}
	return string(r) + strings.Repeat("*", max(1, utf8.RuneCountInString(n)-1))
}

var pageTmpl = template.Must(template.New("receipt").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>签收凭证 Delivery receipt {{.R.Delivery}}</title>
<style>body{font:18px/1.5 system-ui,sans-serif;max-width:48rem;margin:1rem auto;padding:0 1rem}
h1{font-size:1.6rem}dt{font-weight:600;margin-top:.6rem}img{max-width:100%;border:1px solid #ccc}
table{border-collapse:collapse;font-size:14px;width:100%}td,th{border:1px solid #ddd;padding:.3rem;vertical-align:top;text-align:left}
code{font-size:12px;word-break:break-all}.erased{color:#a00}</style></head><body>
<h1>签收凭证 · Delivery receipt</h1>
<dl>
<dt>运单 Delivery</dt><dd id="delivery">{{.R.Delivery}}</dd>
<dt>结果 Outcome</dt><dd id="outcome">{{.Outcome}}</dd>
<dt>状态 State</dt><dd id="state">{{.R.State}}</dd>
{{with .R.Consent}}<dt>收件人同意 Recipient's consent</dt><dd id="consent">“{{$.Consent}}” · {{.Channel}} · {{.At}} · 记录 record {{.Record}}</dd>{{end}}
{{with .R.Confirmed}}<dt>确认收货 Receipt confirmed</dt><dd id="confirmed">“{{$.Confirmed}}” · {{.Channel}} · {{.At}} · 记录 record {{.Record}}</dd>{{end}}
{{with .R.Proof}}<dt>快递员照片 Courier's photo</dt><dd><img id="photo" src="{{$.Photo}}" alt="送达照片 delivery photo"><br>
SHA-256 <code>{{.Photo}}</code><br>位置 Location: {{$.Where}} · {{.At}}{{if $.Note}}<br>备注 Note: {{$.Note}}{{end}}</dd>{{end}}
<dt>开始 Opened</dt><dd>{{.R.Opened}}</dd>
<dt>结束 Closed</dt><dd>{{.R.Closed}}</dd>
{{if .Erased}}<dt class="erased">个人信息已删除 Personal data erased</dt><dd>哈希仍可验证 The hashes still verify.</dd>{{end}}
<dt>链头 Head hash</dt><dd><code id="head">{{.R.Head}}</code></dd>
<dt>签名密钥 Signing key</dt><dd><code>{{.KeyID}}</code> · <a href="/v1/receipts/keys">JWKS</a></dd>
</dl>
<h2>证据记录 Evidence log</h2>
<table><tr><th>#</th><th>时间 Time</th><th>类型 Kind</th><th>内容 Fields</th></tr>
{{range .Rows}}<tr><td>{{.Seq}}</td><td>{{.At}}</td><td>{{.Kind}}</td><td>{{range .Fields}}{{.}}<br>{{end}}<code>{{.Hash}}</code></td></tr>
{{end}}</table>
<p>用 <code>signoffctl verify</code> 验证签名凭证 · Check the signed receipt with <code>signoffctl verify</code>.</p>
</body></html>`))
