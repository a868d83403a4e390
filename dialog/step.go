package dialog

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/prompts"
)

// Config tunes the conversation. The zero value of a field means its
// default.
type Config struct {
	// HighValueCents is the declared value above which a parcel may not be
	// left at the door or in a locker. Default 50,000 (¥500).
	HighValueCents int64
	// ReplyTimeout is how long the bot waits for a reply before asking
	// again. Default 3 minutes: recipients may be old, busy or driving.
	ReplyTimeout time.Duration
	// MaxReprompts is how many times the bot asks again before it hands the
	// conversation to a person. Default 2.
	MaxReprompts int
	// HandoffTimeout is how long a handoff may wait for a person before the
	// recipient is told and offered the menu again. Default 5 minutes.
	HandoffTimeout time.Duration
	// EndedTTL is how long an ended conversation is kept. Default 7 days.
	EndedTTL time.Duration
	// ETAChange is the smallest ETA change worth telling the recipient.
	// Default 10 minutes.
	ETAChange time.Duration
	// VideoRingTimeout is how long the courier is rung for a video call
	// before the recipient is told and offered the menu again. Default
	// 60 seconds.
	VideoRingTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.HighValueCents <= 0 {
		c.HighValueCents = 50_000
	}
	if c.ReplyTimeout <= 0 {
		c.ReplyTimeout = 3 * time.Minute
	}
	if c.MaxReprompts <= 0 {
		c.MaxReprompts = 2
	}
	if c.HandoffTimeout <= 0 {
		c.HandoffTimeout = 5 * time.Minute
	}
	if c.EndedTTL <= 0 {
		c.EndedTTL = 7 * 24 * time.Hour
	}
	if c.ETAChange <= 0 {
		c.ETAChange = 10 * time.Minute
	}
	if c.VideoRingTimeout <= 0 {
		c.VideoRingTimeout = time.Minute
	}
	return c
}

// MaxTextRunes bounds what is kept of one reply; longer text is cut.
const MaxTextRunes = 1000

// Pending values of a session in StateConfirming.
const (
	pendingSlot     = "slot"
	pendingReadBack = "readback:" // followed by the menu key heard
)

// Handoff reasons.
const (
	ReasonAsked   = "asked"          // the recipient asked for a person
	ReasonNoReply = "no_reply"       // the recipient stopped answering
	ReasonUnclear = "unclear"        // replies could not be understood
	ReasonMissing = "parcel_missing" // delivered, but the recipient cannot find it
)

var menuKeys = []string{"1", "2", "3", "4", "5", "6", "0", "9"}

var keyOutcome = map[string]signoff.Outcome{
	"1": signoff.OutcomeDeliverNow,
	"2": signoff.OutcomeLeaveAtDoor,
	"3": signoff.OutcomePickupStation,
	"4": signoff.OutcomeLocker,
	"5": signoff.OutcomeReschedule,
	"6": signoff.OutcomeVideo,
}

func outcomeKey(o signoff.Outcome) string {
	for k, v := range keyOutcome {
		if v == o {
			return k
		}
	}
	return ""
}

// restricted reports why the door and the locker are refused for d, as a
// prompt key, or "" when they are allowed.
func restricted(cfg Config, d *signoff.Delivery) string {
	switch {
	case d.DeclaredValueCents > cfg.HighValueCents:
		return "high_value"
	case d.RequiresSignature:
		return "signature_required"
	}
	return ""
}

// Menu returns the main menu for d in locale l: every option of DESIGN.md's
// table that this delivery allows, in reading order.
func Menu(cfg Config, l signoff.Locale, d *signoff.Delivery) []signoff.Option {
	cfg = cfg.withDefaults()
	cat := prompts.For(l)
	no := restricted(cfg, d) != ""
	opts := make([]signoff.Option, 0, len(menuKeys))
	for _, k := range menuKeys {
		if no && (k == "2" || k == "4") {
			continue
		}
		opts = append(opts, signoff.Option{Key: k, Label: cat.Text("menu." + k)})
	}
	return opts
}

// turn is the working state of one step.
type turn struct {
	cfg  Config
	cat  *prompts.Catalog
	s    signoff.Session
	d    *signoff.Delivery
	now  time.Time
	acts []signoff.Action
	hs   helpState
}

func newTurn(cfg Config, s signoff.Session, d *signoff.Delivery, now time.Time) *turn {
	cfg = cfg.withDefaults()
	// The transcript is shared with the caller's copy: copy on write.
	s.Transcript = append([]signoff.Message(nil), s.Transcript...)
	s.UpdatedAt = now
	return &turn{cfg: cfg, cat: prompts.For(s.Locale), s: s, d: d, now: now}
}

func (t *turn) say(text string, opts []signoff.Option) {
	t.acts = append(t.acts, signoff.Action{Kind: signoff.ActSay, Text: text, Options: opts})
	m := signoff.Message{From: signoff.FromBot, Text: text, Options: opts, At: t.now}
	t.s.Transcript = append(t.s.Transcript, m)
	if opts != nil {
		t.s.Offered = opts
		t.s.LastOffer = &m
	}
}

func (t *turn) wait(d time.Duration) { t.s.Deadline = t.now.Add(d) }

func (t *turn) stopWaiting() { t.s.Deadline = time.Time{} }

func (t *turn) result() (signoff.Session, []signoff.Action) { return t.s, t.acts }

// Open starts the conversation about d: the greeting and the menu. The
// session's Version is zero; the caller stores it as version 1.
func Open(cfg Config, d signoff.Delivery, id signoff.SessionID, tokenHash string, now time.Time) (signoff.Session, []signoff.Action) {
	s := signoff.Session{
		ID:         id,
		DeliveryID: d.ID,
		Locale:     signoff.ParseLocale(string(d.Recipient.Locale)),
		State:      signoff.StateAwaitingChoice,
		TokenHash:  tokenHash,
		CreatedAt:  now,
	}
	t := newTurn(cfg, s, &d, now)
	eta := ""
	if !d.ETA.IsZero() {
		eta = t.cat.Text("greet.eta", "eta", t.cat.When(d.ETA.In(d.Location()), now))
	}
	t.say(t.cat.Text("greet", "eta", eta), Menu(t.cfg, s.Locale, &d))
	t.wait(t.cfg.ReplyTimeout)
	return t.result()
}

// Step is the conversation's decision: given the session, the delivery's
// facts and one input, it returns the next session and what to do. It is
// pure: no I/O, no clock but in.At. A session returned unchanged (the same
// Transcript length and State) needs no storing.
func Step(cfg Config, s signoff.Session, d signoff.Delivery, in signoff.Input) (signoff.Session, []signoff.Action) {
	t := newTurn(cfg, s, &d, in.At)
	switch in.Kind {
	case signoff.InputText:
		t.text(in)
	case signoff.InputTimeout:
		if s.Deadline.IsZero() || in.At.Before(s.Deadline) {
			return s, nil // a stale timer: the session moved on
		}
		t.timeout()
	}
	return t.result()
}

func (t *turn) text(in signoff.Input) {
	raw := in.Text
	if utf8.RuneCountInString(raw) > MaxTextRunes {
		raw = string([]rune(raw)[:MaxTextRunes])
	}
	raw = strings.ToValidUTF8(raw, "\uFFFD")
	t.s.Transcript = append(t.s.Transcript, signoff.Message{From: signoff.FromRecipient, Text: raw, Channel: in.Channel, At: t.now})
	if t.s.State.Ended() {
		t.say(t.cat.Text("ended"), nil)
		return
	}
	t.s.Reprompts = 0
	if t.s.State == signoff.StateHandoff {
		return // a person owns the conversation: the bot stays silent
	}
	r := ParseReply(raw)
	switch t.s.State {
	case signoff.StateAwaitingReceipt:
		t.receipt(r, raw, in.Channel)
	case signoff.StateVideo:
		t.video(r, raw, in.Channel)
	case signoff.StateConfirming:
		if key, ok := strings.CutPrefix(t.s.Pending, pendingReadBack); ok {
			t.readBack(r, key, raw, in.Channel)
			return
		}
		t.slot(r, raw, in.Channel)
	default:
		t.choice(r, raw, in.Channel)
	}
}

// choice reads r against the main menu.
func (t *turn) choice(r Reply, raw string, ch signoff.Channel) {
	switch r.Kind {
	case ReplyKey:
		t.s.Unclear = 0
		if ch == signoff.ChannelVoice && keyOutcome[r.Key] != signoff.OutcomeNone && t.allowed(r.Key) {
			// Recognised speech can be wrong: read the choice back and
			// record it only when the recipient confirms.
			t.s.State = signoff.StateConfirming
			t.s.Pending = pendingReadBack + r.Key
			t.s.PendingText = raw
			t.offerWith(t.cat.Text("readback", "key", r.Key, "label", t.cat.Text("menu."+r.Key)), t.readBackOptions())
			return
		}
		t.choose(r.Key, raw, ch)
	case ReplyQuestion:
		t.s.Unclear = 0
		t.say(t.answer(r.Topic), nil)
		t.offer("menu.again")
	case ReplyYes:
		if t.s.State == signoff.StateArranged && t.s.Outcome != signoff.OutcomeNone {
			t.say(t.cat.Text("answer.chosen", "label", t.label(t.s.Outcome))+t.cat.Text("change.hint"), nil)
			return
		}
		t.unclear(r)
	case ReplyNo:
		if t.s.State == signoff.StateArranged {
			t.say(t.cat.Text("ack"), nil)
			t.offer("menu.head")
			return
		}
		t.unclear(r)
	case ReplyThanks:
		text := t.cat.Text("thanks")
		if t.s.State == signoff.StateArranged {
			text += t.cat.Text("change.hint")
		}
		t.say(text, nil)
	case ReplyAmbiguous:
		t.ambiguous(r, t.mainMenu())
	default:
		t.unclear(r)
	}
}

// choose acts on one key of the main menu.
func (t *turn) choose(key, raw string, ch signoff.Channel) {
	switch key {
	case "9":
		t.repeat()
		return
	case "0":
		t.handoff(ReasonAsked, "handoff")
		return
	}
	o, ok := keyOutcome[key]
	if !ok {
		t.offerWith(t.cat.Text("not_offered"), t.mainMenu())
		return
	}
	if why := restricted(t.cfg, t.d); why != "" && (o == signoff.OutcomeLeaveAtDoor || o == signoff.OutcomeLocker) {
		t.offerWith(t.cat.Text(why), t.mainMenu())
		return
	}
	if o == signoff.OutcomeVideo {
		t.startVideo()
		return
	}
	if o == signoff.OutcomeReschedule {
		t.s.State = signoff.StateConfirming
		t.s.Pending = pendingSlot
		t.offerSlots("slot.ask")
		return
	}
	t.record(o, key, raw, ch)
}

func (t *turn) record(o signoff.Outcome, key, raw string, ch signoff.Channel) {
	t.s.Outcome = o
	t.s.State = signoff.StateArranged
	t.s.Pending = ""
	t.s.Consent = &signoff.Consent{Text: raw, Channel: ch, Offer: key, At: t.now}
	t.s.HandoffReason = ""
	t.stopWaiting()
	t.acts = append(t.acts, signoff.Action{Kind: signoff.ActRecord, Outcome: o})
	var text string
	switch o {
	case signoff.OutcomePickupStation:
		station := ""
		if st := t.d.PickupStation; st != nil && st.Name != "" {
			station = "“" + st.Name + "”"
			if t.s.Locale == signoff.LocaleEN {
				station = " " + st.Name
			}
		}
		text = t.cat.Text("chosen.pickup_station", "station", station)
	case signoff.OutcomeReschedule:
		text = t.cat.Text("chosen.reschedule", "slot", t.slotLabel(t.s.Slot))
	default:
		text = t.cat.Text("chosen." + string(o))
	}
	t.say(text+t.sep()+t.cat.Text("change.hint"), t.mainMenu())
}

func (t *turn) sep() string {
	if t.s.Locale == signoff.LocaleEN {
		return " "
	}
	return ""
}

// slot reads r against the offered delivery windows.
func (t *turn) slot(r Reply, raw string, ch signoff.Channel) {
	switch r.Kind {
	case ReplyKey:
		if !r.Digit && r.Key != "9" && r.Key != "0" {
			// A phrase names a main-menu choice: a change of mind.
			t.leaveSlot()
			t.choose(r.Key, raw, ch)
			return
		}
		switch r.Key {
		case "9":
			t.repeat()
			return
		case "0":
			t.leaveSlot()
			t.handoff(ReasonAsked, "handoff")
			return
		}
		i := int(r.Key[0] - '1')
		if i < 0 || i >= len(t.s.SlotOffer) {
			t.offerSlots("not_offered")
			return
		}
		t.s.Slot = t.s.SlotOffer[i]
		t.s.SlotOffer = nil
		t.record(signoff.OutcomeReschedule, "5", raw, ch)
	case ReplyQuestion:
		t.say(t.answer(r.Topic), nil)
		t.offerSlots("slot.ask")
	case ReplyNo:
		t.leaveSlot()
		t.offer("slot.back")
	case ReplyAmbiguous:
		t.ambiguous(r, t.s.Offered)
	default:
		t.unclear(r)
	}
}

func (t *turn) leaveSlot() {
	t.s.Pending = ""
	t.s.SlotOffer = nil
	t.s.State = t.restState()
}

// restState is where a conversation rests when nothing is pending.
func (t *turn) restState() signoff.State {
	if t.d.Status == signoff.StatusDelivered {
		return signoff.StateAwaitingReceipt
	}
	if t.s.Outcome != signoff.OutcomeNone && t.s.Outcome != signoff.OutcomeHandoff {
		return signoff.StateArranged
	}
	return signoff.StateAwaitingChoice
}

// receipt reads r against "1 I have it, 2 I can't find it".
func (t *turn) receipt(r Reply, raw string, ch signoff.Channel) {
	key := ""
	switch r.Kind {
	case ReplyKey:
		key = r.Key
	case ReplyYes:
		key = "1"
	case ReplyNo:
		key = "2"
	case ReplyQuestion:
		t.say(t.answer(r.Topic), nil)
		t.offerReceipt()
		return
	}
	switch key {
	case "1":
		t.s.State = signoff.StateSigned
		t.s.Consent = &signoff.Consent{Text: raw, Channel: ch, Offer: "1", At: t.now}
		t.stopWaiting()
		t.say(t.cat.Text("receipt.ok"), nil)
		t.acts = append(t.acts, signoff.Action{Kind: signoff.ActClose})
	case "2":
		t.handoff(ReasonMissing, "receipt.missing")
	case "6":
		if !videoRequired(t.cfg, t.d) {
			t.unclear(r)
			return
		}
		t.startVideo()
	case "0":
		t.handoff(ReasonAsked, "handoff")
	case "9":
		t.repeat()
	default:
		t.unclear(r)
	}
}

func (t *turn) ambiguous(r Reply, offered []signoff.Option) {
	var names []string
	var opts []signoff.Option
	for _, k := range r.Candidates {
		label := ""
		for _, o := range offered {
			if o.Key == k {
				label = o.Label
			}
		}
		if label == "" {
			label = t.cat.Text("menu." + k)
		}
		names = append(names, k+" "+label)
		opts = append(opts, signoff.Option{Key: k, Label: label})
	}
	if len(names) < 2 {
		t.unclear(r)
		return
	}
	or := "、"
	if t.s.Locale == signoff.LocaleEN {
		or = ", "
	}
	t.offerWith(t.cat.Text("ambiguous", "a", strings.Join(names[:len(names)-1], or), "b", names[len(names)-1]), opts)
}

func (t *turn) unclear(r Reply) {
	if t.helped(r) {
		return
	}
	t.s.Unclear++
	head := t.cat.Text("unclear")
	if len(r.Negated) > 0 && t.s.State != signoff.StateAwaitingReceipt {
		head = t.cat.Text("negated", "label", t.cat.Text("menu."+r.Negated[0]))
	}
	if t.s.Unclear >= 3 {
		head = t.cat.Text("unclear.person")
	}
	opts := t.current()
	if len(r.Negated) > 0 {
		kept := opts[:0:0]
		for _, o := range opts {
			if !contains(r.Negated, o.Key) {
				kept = append(kept, o)
			}
		}
		opts = kept
	}
	t.offerWith(head, opts)
}

func contains(keys []string, k string) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// repeat says the last offer again.
func (t *turn) repeat() {
	if m := t.s.LastOffer; m != nil && len(m.Options) > 0 {
		t.offerWith(m.Text, m.Options)
		return
	}
	t.offer("menu.head")
}

func (t *turn) handoff(reason, textKey string) {
	t.s.State = signoff.StateHandoff
	t.s.HandoffReason = reason
	t.s.HandoffAt = t.now
	t.s.Pending, t.s.PendingText = "", ""
	t.s.SlotOffer = nil
	if t.s.Outcome == signoff.OutcomeNone {
		t.s.Outcome = signoff.OutcomeHandoff
	}
	t.acts = append(t.acts, signoff.Action{Kind: signoff.ActHandoff, Reason: reason})
	t.say(t.cat.Text(textKey), nil)
	t.wait(t.cfg.HandoffTimeout)
}

func (t *turn) timeout() {
	switch t.s.State {
	case signoff.StateHandoff:
		t.s.State = t.restState()
		if t.s.Outcome == signoff.OutcomeHandoff {
			t.s.Outcome = signoff.OutcomeNone
			t.s.State = t.restState()
		}
		t.s.HandoffReason = ""
		t.say(t.cat.Text("handoff.unclaimed"), t.current())
		t.stopWaiting() // told once; no more pings
	case signoff.StateVideo:
		t.videoTimeout()
	case signoff.StateAwaitingChoice, signoff.StateConfirming, signoff.StateAwaitingReceipt:
		if t.s.Reprompts < t.cfg.MaxReprompts {
			t.s.Reprompts++
			t.offerWith(t.cat.Text("reprompt"), t.current())
			return
		}
		t.s.Reprompts = 0
		t.handoff(ReasonNoReply, "no_reply")
	default:
		t.stopWaiting()
	}
}

// allowed reports whether key may be chosen for this delivery.
func (t *turn) allowed(key string) bool {
	o := keyOutcome[key]
	return restricted(t.cfg, t.d) == "" || (o != signoff.OutcomeLeaveAtDoor && o != signoff.OutcomeLocker)
}

func (t *turn) readBackOptions() []signoff.Option {
	return []signoff.Option{
		{Key: "1", Label: t.cat.Text("readback.yes")},
		{Key: "2", Label: t.cat.Text("readback.no")},
		{Key: "0", Label: t.cat.Text("menu.0")},
		{Key: "9", Label: t.cat.Text("menu.9")},
	}
}

// readBack reads r as the answer to "you chose <key>, right?".
func (t *turn) readBack(r Reply, key, raw string, ch signoff.Channel) {
	heard := t.s.PendingText
	yes := r.Kind == ReplyYes || (r.Kind == ReplyKey && r.Digit && r.Key == "1")
	no := r.Kind == ReplyNo || (r.Kind == ReplyKey && r.Digit && r.Key == "2")
	switch {
	case yes:
		t.s.Pending, t.s.PendingText = "", ""
		t.s.State = t.restState()
		t.choose(key, heard+" / "+raw, ch)
	case no:
		t.s.Pending, t.s.PendingText = "", ""
		t.s.State = t.restState()
		t.offer("readback.again")
	case r.Kind == ReplyKey && r.Key == "9":
		t.repeat()
	case r.Kind == ReplyKey && r.Key == "0":
		t.s.Pending, t.s.PendingText = "", ""
		t.handoff(ReasonAsked, "handoff")
	case r.Kind == ReplyKey && !r.Digit:
		// A phrase names another choice: read that one back instead.
		t.s.Pending, t.s.PendingText = "", ""
		t.s.State = t.restState()
		t.choice(r, raw, ch)
	case r.Kind == ReplyQuestion:
		t.say(t.answer(r.Topic), nil)
		t.offerWith(t.cat.Text("readback", "key", key, "label", t.cat.Text("menu."+key)), t.readBackOptions())
	default:
		t.unclear(r)
	}
}

// current is the offer the recipient is answering now.
func (t *turn) current() []signoff.Option {
	switch {
	case t.s.State == signoff.StateConfirming && t.s.Pending == pendingSlot:
		return t.slotOptions()
	case t.s.State == signoff.StateConfirming && strings.HasPrefix(t.s.Pending, pendingReadBack):
		return t.readBackOptions()
	case t.s.State == signoff.StateAwaitingReceipt:
		return t.receiptOptions()
	case t.s.State == signoff.StateVideo && t.s.Pending != pendingRinging:
		return t.videoOptions()
	}
	return t.mainMenu()
}

func (t *turn) mainMenu() []signoff.Option { return Menu(t.cfg, t.s.Locale, t.d) }

// offer says the prompt named head with the current options and waits.
func (t *turn) offer(head string) { t.offerWith(t.cat.Text(head), t.current()) }

// offerWith says text with opts and, if the conversation awaits an answer,
// starts the reply timer.
func (t *turn) offerWith(text string, opts []signoff.Option) {
	t.say(text, opts)
	switch {
	case t.s.State == signoff.StateAwaitingChoice, t.s.State == signoff.StateConfirming, t.s.State == signoff.StateAwaitingReceipt,
		t.s.State == signoff.StateVideo && t.s.Pending == pendingEnded:
		t.wait(t.cfg.ReplyTimeout)
	default:
		t.stopWaiting()
	}
}

func (t *turn) label(o signoff.Outcome) string {
	if k := outcomeKey(o); k != "" {
		return t.cat.Text("menu." + k)
	}
	return t.cat.Text("menu.0")
}

func (t *turn) answer(topic Topic) string {
	d, cat := t.d, t.cat
	loc := d.Location()
	switch topic {
	case TopicWhere:
		loc0, at := d.LastLocation, d.AsOf
		if st, ok := d.Stamps["last_location"]; ok {
			at = st
		}
		if n := len(d.Events); n > 0 && d.Events[n-1].Location != "" && !d.Events[n-1].At.Before(d.AsOf) {
			loc0, at = d.Events[n-1].Location, d.Events[n-1].At
		}
		if loc0 == "" {
			return cat.Text("answer.where.unknown")
		}
		return cat.Text("answer.where", "location", loc0, "at", cat.When(at.In(loc), t.now))
	case TopicWhen:
		if d.ETA.IsZero() {
			return cat.Text("answer.when.unknown")
		}
		return cat.Text("answer.when", "eta", cat.When(d.ETA.In(loc), t.now))
	case TopicWho:
		if d.Courier.Name == "" {
			return cat.Text("answer.who.unknown")
		}
		return cat.Text("answer.who", "courier", string(d.Courier.Name))
	case TopicPhone:
		if d.Courier.Phone == "" {
			return cat.Text("answer.phone.unknown")
		}
		return cat.Text("answer.phone", "courier", string(d.Courier.Name), "phone", d.Courier.Phone.Masked())
	case TopicStation:
		st := d.PickupStation
		if st == nil || st.Name == "" {
			return cat.Text("answer.station.unknown")
		}
		return cat.Text("answer.station", "name", st.Name, "address", st.Address, "hours", st.Hours)
	}
	return cat.Text("answer.status", "status", t.status(d.Status))
}

func (t *turn) status(s string) string {
	key := "status." + s
	if s == "" || !t.cat.Has(key) {
		return t.cat.Text("status.unknown")
	}
	return t.cat.Text(key)
}

// Update tells the conversation that the delivery's facts changed from
// before to after through an order event of type ev. Pure, like Step.
func Update(cfg Config, s signoff.Session, before, after signoff.Delivery, ev signoff.EventType, now time.Time) (signoff.Session, []signoff.Action) {
	if s.State.Ended() {
		return s, nil
	}
	t := newTurn(cfg, s, &after, now)
	silent := s.State == signoff.StateHandoff // a person owns the conversation
	switch {
	case ev == signoff.EventDelivered || (after.Status == signoff.StatusDelivered && before.Status != signoff.StatusDelivered):
		if silent {
			return s, nil
		}
		if s.Outcome == signoff.OutcomeDeliverNow {
			t.s.State = signoff.StateSigned
			t.stopWaiting()
			t.say(t.cat.Text("delivered.signed"), nil)
			t.acts = append(t.acts, signoff.Action{Kind: signoff.ActClose})
			break
		}
		t.s.State = signoff.StateAwaitingReceipt
		t.s.Pending = ""
		t.s.Reprompts = 0
		t.offerReceipt()
	case ev == signoff.EventFailed || (after.Status == signoff.StatusFailed && before.Status != signoff.StatusFailed):
		t.s.State = signoff.StateFailed
		t.stopWaiting()
		reason := ""
		if after.FailureReason != "" {
			reason = t.cat.Text("failed.reason", "reason", after.FailureReason)
		}
		t.say(t.cat.Text("failed", "reason", reason), nil)
		t.acts = append(t.acts, signoff.Action{Kind: signoff.ActClose})
	case silent:
		return s, nil
	case after.Status != before.Status && after.Status != "" && before.Status != "":
		t.say(t.cat.Text("update.status", "status", t.status(after.Status)), nil)
	case !after.ETA.IsZero() && absDur(after.ETA.Sub(before.ETA)) >= t.cfg.ETAChange:
		t.say(t.cat.Text("update.eta", "eta", t.cat.When(after.ETA.In(after.Location()), now)), nil)
	default:
		return s, nil
	}
	return t.result()
}

// offerReceipt asks whether the recipient has the parcel, naming where it
// was left when they chose a place.
func (t *turn) offerReceipt() {
	text := t.cat.Text("delivered.ask.plain")
	if t.s.Outcome.NeedsConsent() {
		text = t.cat.Text("delivered.ask", "label", t.label(t.s.Outcome))
	}
	t.offerWith(text, t.receiptOptions())
}

func (t *turn) receiptOptions() []signoff.Option {
	opts := []signoff.Option{
		{Key: "1", Label: t.cat.Text("receipt.1")},
		{Key: "2", Label: t.cat.Text("receipt.2")},
	}
	if videoRequired(t.cfg, t.d) {
		opts = append(opts, signoff.Option{Key: "6", Label: t.cat.Text("receipt.6")})
	}
	return append(opts, signoff.Option{Key: "0", Label: t.cat.Text("menu.0")}, signoff.Option{Key: "9", Label: t.cat.Text("menu.9")})
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
