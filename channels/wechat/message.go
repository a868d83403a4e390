package wechat

import (
	"encoding/xml"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/signoff/signoff"
)

// MaxBody bounds a message body, plain or encrypted.
const MaxBody = 64 << 10

// Message is one message WeChat posts to the account.
type Message struct {
	ToUserName   string `xml:"ToUserName"`   // the account
	FromUserName string `xml:"FromUserName"` // the sender's OpenID
	CreateTime   int64  `xml:"CreateTime"`
	MsgType      string `xml:"MsgType"` // text, voice, event, ...
	Content      string `xml:"Content"`
	Recognition  string `xml:"Recognition"` // voice: WeChat's own speech recognition
	MsgID        string `xml:"MsgId"`
	Event        string `xml:"Event"`
}

// envelope is the body of an encrypted message.
type envelope struct {
	ToUserName string `xml:"ToUserName"`
	Encrypt    string `xml:"Encrypt"`
}

// ParseMessage reads a plain message body. Errors are of kind
// signoff.ErrInvalid.
func ParseMessage(body []byte) (Message, error) {
	var m Message
	if err := xml.Unmarshal(body, &m); err != nil {
		return Message{}, signoff.Wrap(signoff.ErrInvalid, "bad_xml", "the body is not a WeChat XML message", err)
	}
	m.FromUserName = strings.TrimSpace(m.FromUserName)
	switch {
	case m.FromUserName == "" || len(m.FromUserName) > 64:
		return Message{}, signoff.Errorf(signoff.ErrInvalid, "missing_field", "FromUserName is required")
	case m.MsgType == "":
		return Message{}, signoff.Errorf(signoff.ErrInvalid, "missing_field", "MsgType is required")
	case len(m.MsgID) > 64:
		return Message{}, signoff.Errorf(signoff.ErrInvalid, "bad_field", "MsgId is too long")
	case utf8.RuneCountInString(m.Content) > 2048 || utf8.RuneCountInString(m.Recognition) > 2048:
		return Message{}, signoff.Errorf(signoff.ErrInvalid, "text_too_long", "the message is over 2048 characters")
	}
	return m, nil
}

// ParseEnvelope reads the Encrypt field of an encrypted body.
func ParseEnvelope(body []byte) (string, error) {
	var e envelope
	if err := xml.Unmarshal(body, &e); err != nil {
		return "", signoff.Wrap(signoff.ErrInvalid, "bad_xml", "the body is not a WeChat XML message", err)
	}
	if e.Encrypt == "" {
		return "", signoff.Errorf(signoff.ErrInvalid, "missing_field", "Encrypt is required in encrypted mode")
	}
	return e.Encrypt, nil
}

// key is the message's de-duplication key: its MsgId, or for events, which
// have none, the sender and the time.
func (m Message) key() string {
	if m.MsgID != "" {
		return m.MsgID
	}
	return m.FromUserName + "@" + strconv.FormatInt(m.CreateTime, 10)
}

type cdata struct {
	Text string `xml:",cdata"`
}

// textReply is a passive text reply.
type textReply struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   cdata    `xml:"ToUserName"`
	FromUserName cdata    `xml:"FromUserName"`
	CreateTime   int64    `xml:"CreateTime"`
	MsgType      cdata    `xml:"MsgType"`
	Content      cdata    `xml:"Content"`
}

// encryptedReply is a passive reply in encrypted mode.
type encryptedReply struct {
	XMLName      xml.Name `xml:"xml"`
	Encrypt      cdata    `xml:"Encrypt"`
	MsgSignature cdata    `xml:"MsgSignature"`
	TimeStamp    string   `xml:"TimeStamp"`
	Nonce        cdata    `xml:"Nonce"`
}

// Render returns a line as WeChat text: its words, then one option a line.
func Render(m signoff.Message) string {
	var b strings.Builder
	b.WriteString(m.Text)
	for _, o := range m.Options {
		b.WriteString("\n")
		b.WriteString(o.Key)
		b.WriteString(". ")
		b.WriteString(o.Label)
	}
	return b.String()
}
