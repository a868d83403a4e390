package signoff

import (
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// DeliveryID names a parcel delivery as the order system knows it.
type DeliveryID string

// SessionID names one conversation with a recipient about one delivery.
type SessionID string

// Locale is the language a conversation is held in. Only LocaleZH and
// LocaleEN are spoken; ParseLocale maps anything else onto them.
type Locale string

// The locales Signoff speaks.
const (
	LocaleZH Locale = "zh-CN"
	LocaleEN Locale = "en"
)

// ParseLocale maps a BCP 47 tag such as "zh", "zh-Hans-CN" or "en-GB" onto a
// spoken locale. An empty or unknown tag gives LocaleZH, the service's home
// language.
func ParseLocale(tag string) Locale {
	t := strings.ToLower(strings.TrimSpace(tag))
	switch {
	case strings.HasPrefix(t, "en"):
		return LocaleEN
	default:
		return LocaleZH
	}
}

// Channel is the way a recipient's input reached Signoff, recorded with every
// reply as evidence.
type Channel string

// The channels an input can arrive on.
const (
	ChannelChat   Channel = "chat"   // the web chat page or the chat API
	ChannelSMS    Channel = "sms"    // a text message
	ChannelWeChat Channel = "wechat" // a WeChat Official Account message
	ChannelVoice  Channel = "voice"  // recognised speech in a call
	ChannelDTMF   Channel = "dtmf"   // a keypad press in a call
	ChannelStaff  Channel = "staff"  // a support agent
	ChannelSystem Channel = "system" // timers and order-system events
)

// State is where a conversation stands. See DESIGN.md for the graph.
type State string

// The conversation states.
const (
	StateAwaitingChoice  State = "awaiting_choice"  // the menu is offered, no outcome yet
	StateConfirming      State = "confirming"       // a follow-up question is open (a slot, a read-back)
	StateArranged        State = "arranged"         // an outcome is recorded; it may still change
	StateAwaitingReceipt State = "awaiting_receipt" // the courier says it is delivered; the recipient is asked to confirm
	StateSigned          State = "signed"           // the recipient has the parcel
	StateHandoff         State = "handoff"          // a person owns the chat; the bot is silent
	StateVideo           State = "video"            // a live call is running
	StateExpired         State = "expired"          // the conversation ran out of time
	StateFailed          State = "failed"           // the delivery failed
)

// Ended reports whether a conversation in state s takes no more decisions,
// after which its state is kept only for a limited time.
func (s State) Ended() bool {
	return s == StateSigned || s == StateExpired || s == StateFailed
}

// Outcome is the recipient's sign-off decision.
type Outcome string

// The outcomes of the menu.
const (
	OutcomeNone          Outcome = ""
	OutcomeDeliverNow    Outcome = "deliver_now"
	OutcomeLeaveAtDoor   Outcome = "leave_at_door"
	OutcomePickupStation Outcome = "pickup_station"
	OutcomeLocker        Outcome = "locker"
	OutcomeReschedule    Outcome = "reschedule"
	OutcomeVideo         Outcome = "video"
	OutcomeHandoff       Outcome = "handoff"
)

// NeedsConsent reports whether the parcel leaves the courier's hands without
// the recipient's signature, so that the recipient's own words must be kept
// as consent (快递市场管理办法, art. 28).
func (o Outcome) NeedsConsent() bool {
	return o == OutcomeLeaveAtDoor || o == OutcomePickupStation || o == OutcomeLocker
}

// Option is one numbered entry of a menu as shown to the recipient.
type Option struct {
	Key   string `json:"key"`   // what the recipient presses or says: "1".."9", "0"
	Label string `json:"label"` // in the conversation's locale
}

// Phone is a telephone number. It masks itself in logs and in anything the
// bot says (139****0000).
type Phone string

// Masked returns the number with all but the first three and last four digits
// hidden; shorter numbers are hidden whole.
func (p Phone) Masked() string {
	s := string(p)
	n := utf8.RuneCountInString(s)
	if n < 8 {
		return strings.Repeat("*", n)
	}
	r := []rune(s)
	return string(r[:3]) + strings.Repeat("*", n-7) + string(r[n-4:])
}

// LogValue keeps the number out of logs.
func (p Phone) LogValue() slog.Value { return slog.StringValue(p.Masked()) }

// Private is personal text (a name, an address) that never appears in logs.
type Private string

// LogValue keeps the text out of logs.
func (p Private) LogValue() slog.Value {
	if p == "" {
		return slog.StringValue("")
	}
	return slog.StringValue("[redacted]")
}

// Recipient is the person the parcel is for.
type Recipient struct {
	Name     Private `json:"name,omitempty"`
	Phone    Phone   `json:"phone,omitempty"`
	Locale   Locale  `json:"locale,omitempty"`
	TimeZone string  `json:"time_zone,omitempty"` // IANA name; empty means the ETA's own offset
	// WeChatOpenID names the recipient to the WeChat Official Account.
	WeChatOpenID Private `json:"wechat_openid,omitempty"`
}

// Courier is the person carrying the parcel.
type Courier struct {
	ID    string  `json:"id,omitempty"`
	Name  Private `json:"name,omitempty"`
	Phone Phone   `json:"phone,omitempty"`
}

// Station is a pickup station (驿站) or parcel point.
type Station struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address,omitempty"`
	Hours   string `json:"hours,omitempty"`
}

// TrackingEvent is one scan in the parcel's history.
type TrackingEvent struct {
	At       time.Time `json:"at"`
	Status   string    `json:"status"`
	Location string    `json:"location,omitempty"`
}

// Delivery statuses with a meaning to the conversation. The order system may
// send others; they are kept and reported as they are.
const (
	StatusOutForDelivery = "out_for_delivery"
	StatusArriving       = "arriving"
	StatusDelivered      = "delivered"
	StatusFailed         = "failed"
)

// Delivery is what Signoff knows of a parcel: the facts the order system sent,
// merged so that an older event never overwrites a newer one.
type Delivery struct {
	ID                 DeliveryID      `json:"id"`
	Recipient          Recipient       `json:"recipient"`
	Courier            Courier         `json:"courier"`
	Address            Private         `json:"address,omitempty"`
	ETA                time.Time       `json:"eta,omitzero"`
	Status             string          `json:"status,omitempty"`
	DeclaredValueCents int64           `json:"declared_value_cents,omitempty"`
	RequiresSignature  bool            `json:"requires_signature,omitempty"`
	PickupStation      *Station        `json:"pickup_station,omitempty"`
	LastLocation       string          `json:"last_location,omitempty"`
	Events             []TrackingEvent `json:"events,omitempty"`
	FailureReason      string          `json:"failure_reason,omitempty"`
	// Channel is how the conversation reaches the recipient (web, sms,
	// wechat); empty means web.
	Channel DeliveryChannel `json:"channel,omitempty"`

	// AsOf is the timestamp of the newest order event merged in.
	AsOf time.Time `json:"as_of"`
	// Stamps holds, per field name (the JSON names above), the timestamp of
	// the order event that last set it, so that a late event never
	// overwrites a field a newer event set.
	Stamps map[string]time.Time `json:"stamps,omitempty"`
	// Version counts stored revisions, for optimistic concurrency. Zero means
	// never stored.
	Version int64 `json:"version"`
}

// Location returns the time zone ETAs are told in: the recipient's IANA zone
// when it loads, else the offset the ETA carries, else UTC+8.
func (d *Delivery) Location() *time.Location {
	if d.Recipient.TimeZone != "" {
		if loc := loadLocation(d.Recipient.TimeZone); loc != nil {
			return loc
		}
	}
	if !d.ETA.IsZero() {
		return d.ETA.Location()
	}
	return time.FixedZone("UTC+8", 8*3600)
}

// DeliveryChannel is the way a delivery's conversation reaches the
// recipient, chosen per delivery by the order system.
type DeliveryChannel string

// The delivery channels.
const (
	DeliveryWeb    DeliveryChannel = "web"    // a link to the web chat page (the default)
	DeliverySMS    DeliveryChannel = "sms"    // text messages to the recipient's phone
	DeliveryWeChat DeliveryChannel = "wechat" // a WeChat Official Account
)

// Valid reports whether c is one of the delivery channels.
func (c DeliveryChannel) Valid() bool {
	return c == DeliveryWeb || c == DeliverySMS || c == DeliveryWeChat
}

// Or returns c, or DeliveryWeb when c is empty.
func (c DeliveryChannel) Or() DeliveryChannel {
	if c == "" {
		return DeliveryWeb
	}
	return c
}

// EventType is the kind of an order-system webhook.
type EventType string

// The webhook types Signoff accepts.
const (
	EventOutForDelivery EventType = "delivery.out_for_delivery"
	EventArriving       EventType = "delivery.arriving"
	EventUpdated        EventType = "delivery.updated"
	EventDelivered      EventType = "delivery.delivered"
	EventFailed         EventType = "delivery.failed"
)

// Valid reports whether t is one of the accepted types.
func (t EventType) Valid() bool {
	switch t {
	case EventOutForDelivery, EventArriving, EventUpdated, EventDelivered, EventFailed:
		return true
	}
	return false
}

// Opens reports whether an event of type t opens a conversation when none is
// open.
func (t EventType) Opens() bool { return t == EventOutForDelivery || t == EventArriving }

// OrderEvent is one verified, decoded webhook from the order system.
type OrderEvent struct {
	WebhookID string    // the webhook-id header: the idempotency key
	Type      EventType // what happened
	Timestamp time.Time // when it happened, as the order system says
	// Delivery holds the fields the event carried; Present says which.
	Delivery Delivery
	Present  Fields
}

// Fields is a set of Delivery field names present in an event, by their JSON
// names ("eta", "status", "recipient", ...).
type Fields map[string]bool

// Message is one line of a conversation's transcript.
type Message struct {
	From    Speaker   `json:"from"`
	Text    string    `json:"text"`
	Options []Option  `json:"options,omitempty"`
	Channel Channel   `json:"channel,omitempty"`
	At      time.Time `json:"at"`
	// Image, when set, is the path of a picture shown with the line (the
	// courier's proof photo), served to the same readers as the transcript.
	Image string `json:"image,omitempty"`
	// Staff names the agent who wrote a FromStaff line.
	Staff string `json:"staff,omitempty"`
}

// Speaker is who said a Message.
type Speaker string

// The speakers of a transcript.
const (
	FromBot       Speaker = "bot"
	FromRecipient Speaker = "recipient"
	FromStaff     Speaker = "staff"
)

// Consent is the recipient's own answer that authorised an outcome, kept as
// evidence.
type Consent struct {
	Text    string    `json:"text"`    // the words or digit exactly as received
	Channel Channel   `json:"channel"` // how they arrived
	Offer   string    `json:"offer"`   // the menu key that was chosen
	At      time.Time `json:"at"`
}

// Session is one conversation. It is stored whole and replaced whole, guarded
// by Version.
type Session struct {
	ID         SessionID  `json:"id"`
	DeliveryID DeliveryID `json:"delivery_id"`
	Locale     Locale     `json:"locale"`
	State      State      `json:"state"`
	Outcome    Outcome    `json:"outcome,omitempty"`
	Consent    *Consent   `json:"consent,omitempty"`
	// Slot is the delivery window chosen with OutcomeReschedule.
	Slot string `json:"slot,omitempty"`
	// SlotOffer holds the windows offered while choosing a slot, as
	// "start/end" in RFC 3339, in key order from "1".
	SlotOffer []string `json:"slot_offer,omitempty"`
	// Pending is the open follow-up question while State is StateConfirming.
	Pending string `json:"pending,omitempty"`
	// PendingText is what the recipient said that is being read back.
	PendingText string `json:"pending_text,omitempty"`
	// Offered is the set of keys the last bot message accepted, so that a
	// digit is read against what the recipient saw.
	Offered []Option `json:"offered,omitempty"`
	// Reprompts counts timeouts since the recipient last spoke; Unclear
	// counts replies in a row that could not be placed.
	Reprompts int `json:"reprompts,omitempty"`
	Unclear   int `json:"unclear,omitempty"`
	// HandoffReason says why a person was asked for.
	HandoffReason string `json:"handoff_reason,omitempty"`
	// HandoffAt is when the conversation last went to StateHandoff, for
	// the staff console's queue (longest wait first).
	HandoffAt time.Time `json:"handoff_at,omitzero"`
	// Staff names the agent who holds the conversation; while it is set
	// the bot says nothing and no timer runs (see dialog.Claim).
	Staff string `json:"staff,omitempty"`
	// Deadline is when the pending timer fires; zero when none is pending.
	Deadline time.Time `json:"deadline,omitzero"`
	// TokenHash is the hex SHA-256 of the recipient's bearer token.
	TokenHash string `json:"token_hash"`
	// Transcript is what was said, in order. It is stored line by line,
	// apart from the rest of the session, so that a turn reads and writes
	// only what it needs: a session loaded for a turn carries none of it,
	// and the step appends the turn's new lines. Lines counts the lines
	// stored; LastOffer is the last bot line that offered options (what
	// "9, repeat" says again).
	Transcript []Message `json:"-"`
	Lines      int       `json:"lines"`
	LastOffer  *Message  `json:"last_offer,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Version counts stored revisions; zero means never stored.
	Version int64 `json:"version"`
}

// InputKind says what an Input is.
type InputKind string

// The kinds of input the conversation engine takes.
const (
	InputText     InputKind = "text"     // words or digits from the recipient
	InputTimeout  InputKind = "timeout"  // the session's Deadline passed
	InputDelivery InputKind = "delivery" // an order event changed the facts
)

// Input is one thing that happened to a conversation.
type Input struct {
	Kind    InputKind
	Text    string    // with InputText: exactly as received
	Channel Channel   // with InputText
	Event   EventType // with InputDelivery
	At      time.Time
}

// ActionKind says what an Action asks a channel to do.
type ActionKind string

// The actions the engine emits.
const (
	ActSay     ActionKind = "say"     // send Text (with Options) to the recipient
	ActRecord  ActionKind = "record"  // Outcome was recorded, with Session.Consent
	ActHandoff ActionKind = "handoff" // a person is wanted; Reason says why
	ActVideo   ActionKind = "video"   // start a video call with the courier
	ActClose   ActionKind = "close"   // the conversation ended
)

// Action is one thing the engine decided should happen.
type Action struct {
	Kind    ActionKind `json:"kind"`
	Text    string     `json:"text,omitempty"`
	Options []Option   `json:"options,omitempty"`
	Outcome Outcome    `json:"outcome,omitempty"`
	Reason  string     `json:"reason,omitempty"`
}

// locations caches loaded time zones: loading one reads and parses tzdata,
// and a conversation asks for its zone on every turn.
var locations sync.Map // string → *time.Location

func loadLocation(name string) *time.Location {
	if v, ok := locations.Load(name); ok {
		return v.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	locations.Store(name, loc) // only valid zone names: the cache stays small
	return loc
}
