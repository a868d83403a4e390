package dialog

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/signoff/signoff"
)

// Understander places a free-text reply that the rules could not place,
// usually with a language model. Package knowledge/llm provides one.
type Understander interface {
	// Understand returns the key of one option of req.Offered, or
	// ChoiceQuestion, or ChoiceUnclear. An answer outside that list is an
	// error, never an outcome.
	Understand(ctx context.Context, req UnderstandRequest) (Understanding, error)
}

// The choices an Understander may return besides an offered key.
const (
	ChoiceQuestion = "question" // the recipient asked something
	ChoiceUnclear  = "unclear"  // the reply places nowhere
)

// UnderstandRequest is one free-text reply and what it answers.
type UnderstandRequest struct {
	Locale  signoff.Locale
	Text    string           // the recipient's words
	Prompt  string           // what the bot last asked
	Offered []signoff.Option // the options offered now
}

// Understanding is an Understander's reading of a reply.
type Understanding struct {
	Choice string // an offered key, ChoiceQuestion or ChoiceUnclear
	Model  string // the model that chose, for the log
}

// Answerer answers a recipient's question from what Signoff knows: the help
// centre and the delivery's own facts. Package knowledge provides one.
type Answerer interface {
	// Answer returns an empty Answer when it does not know. Sentences
	// written so far go to the sink of WithSentences(ctx) as they are
	// finished.
	Answer(ctx context.Context, q Question) (Answer, error)
}

// Question is what a recipient asked, with the delivery's facts already
// told as sentences, one per Topic (and TopicSignature).
type Question struct {
	Locale  signoff.Locale
	Channel signoff.Channel
	Text    string
	Facts   map[Topic]string
}

// TopicSignature is the fact of whether the parcel must be signed for.
const TopicSignature Topic = "signature"

// Answer is an Answerer's reply.
type Answer struct {
	Text    string   // "" when the answerer does not know
	Sources []string // the documents the answer came from
	Score   float64  // the retrieval confidence, 0..1
	Phrased bool     // written by a model, not quoted
	Model   string   // the model that phrased it
}

// MaxVoiceSentences bounds an answer read out in a call.
const MaxVoiceSentences = 2

type sentencesKey struct{}

type modelDownKey struct{}

// ModelDown reports whether the model already failed during this input, so
// that an Answerer answers without it rather than wait a second timeout.
func ModelDown(ctx context.Context) bool { return ctx.Value(modelDownKey{}) != nil }

// WithSentences returns ctx carrying f, which receives each sentence of an
// answer as soon as it is written, before the turn is committed: a voice
// call speaks the first one while the rest is still coming.
func WithSentences(ctx context.Context, f func(string)) context.Context {
	return context.WithValue(ctx, sentencesKey{}, f)
}

// Sentences returns the sink WithSentences put in ctx, or a sink that drops
// everything.
func Sentences(ctx context.Context) func(string) {
	if f, ok := ctx.Value(sentencesKey{}).(func(string)); ok && f != nil {
		return f
	}
	return func(string) {}
}

// WithUnderstander lets the engine ask u about replies the rules could not
// place.
func WithUnderstander(u Understander) EngineOption { return func(e *Engine) { e.under = u } }

// WithAnswerer lets the engine answer free-text questions with a.
func WithAnswerer(a Answerer) EngineOption { return func(e *Engine) { e.answerer = a } }

// Help is what the engine found out about one unplaced reply, given to the
// pure step the second time round.
type Help struct {
	Choice   string  // the model's choice; "" without a model or when it failed
	ModelErr string  // why the model gave nothing usable
	Model    string  // the model asked
	Answer   *Answer // the answerer's reply to the reply read as a question
	rejected string  // set by the step: why Choice was not followed
}

// helpState is the part of a turn that concerns help.
type helpState struct {
	help     *Help
	raw      string
	ch       signoff.Channel
	needHelp bool
}

// StepHelp is Step with help for a reply the rules could not place. It
// reports needHelp when the reply could not be placed and help was nil:
// the caller may find help and step again. Pure, like Step.
func StepHelp(cfg Config, s signoff.Session, d signoff.Delivery, in signoff.Input, help *Help) (signoff.Session, []signoff.Action, bool) {
	t := newTurn(cfg, s, &d, in.At)
	t.hs = helpState{help: help, raw: in.Text, ch: in.Channel}
	switch in.Kind {
	case signoff.InputText:
		t.text(in)
	default:
		next, acts := Step(cfg, s, d, in)
		return next, acts, false
	}
	next, acts := t.result()
	return next, acts, t.hs.needHelp
}

// helped handles an unplaced reply with the help found for it, and reports
// whether it did; when there is no help yet it marks the turn as needing
// some and lets the rules answer.
func (t *turn) helped(r Reply) bool {
	raw := []rune(strings.TrimSpace(t.hs.raw))
	// A yes or no where it means nothing is free text too when it is a
	// whole sentence ("我家仓鼠可以寄吗" holds 可以).
	sentence := (r.Kind == ReplyYes || r.Kind == ReplyNo) && len(raw) >= 5
	if (r.Kind != ReplyUnclear && !sentence) || len(r.Negated) > 0 || len(raw) == 0 {
		return false
	}
	h := t.hs.help
	if h == nil {
		t.hs.needHelp = true
		return false
	}
	menu := t.s.State == signoff.StateAwaitingChoice || t.s.State == signoff.StateArranged
	switch c := h.Choice; {
	case c == "" || c == ChoiceQuestion || c == ChoiceUnclear:
	case !menu:
		h.rejected = "not_at_menu"
	case !slices.ContainsFunc(t.mainMenu(), func(o signoff.Option) bool { return o.Key == c }):
		h.rejected = "not_offered"
	case !t.allowed(c):
		h.rejected = "not_allowed"
	case c == "0" || c == "9":
		t.s.Unclear = 0
		t.choose(c, t.hs.raw, t.hs.ch)
		return true
	default:
		// Read the model's reading back; it is recorded only after a yes.
		t.s.Unclear = 0
		t.s.State = signoff.StateConfirming
		t.s.Pending = pendingReadBack + c
		t.s.PendingText = t.hs.raw
		t.offerWith(t.cat.Text("readback", "key", c, "label", t.cat.Text("menu."+c)), t.readBackOptions())
		return true
	}
	if a := h.Answer; a != nil && a.Text != "" {
		t.s.Unclear = 0
		t.say(a.Text, nil)
		t.offerWith(t.cat.Text("menu.again"), t.current())
		return true
	}
	if h.Choice == ChoiceQuestion || (h.Choice == "" && h.ModelErr == "" && h.Answer != nil) {
		// A question nobody here can answer: say so and offer a person.
		t.s.Unclear++
		head := "help.unknown"
		if t.s.Unclear >= 3 {
			head = "unclear.person"
		}
		t.offerWith(t.cat.Text(head), t.current())
		return true
	}
	return false
}

// TrackingAnswer tells the delivery's fact on topic in locale l, as the
// rules answer a tracking question; TopicSignature tells whether the parcel
// must be signed for.
func TrackingAnswer(cfg Config, l signoff.Locale, d signoff.Delivery, topic Topic, now time.Time) string {
	t := newTurn(cfg, signoff.Session{Locale: l}, &d, now)
	if topic == TopicSignature {
		switch restricted(t.cfg, &d) {
		case "high_value":
			return t.cat.Text("facts.signature.high_value")
		case "signature_required":
			return t.cat.Text("facts.signature.required")
		}
		return t.cat.Text("facts.signature.none")
	}
	return t.answer(topic)
}

// factTopics are the facts every question carries.
var factTopics = []Topic{TopicStatus, TopicWhen, TopicWhere, TopicStation, TopicWho, TopicPhone, TopicSignature}

// QuestionFacts tells every fact of d a question carries, as
// TrackingAnswer does.
func QuestionFacts(cfg Config, l signoff.Locale, d signoff.Delivery, now time.Time) map[Topic]string {
	m := make(map[Topic]string, len(factTopics))
	for _, tp := range factTopics {
		m[tp] = TrackingAnswer(cfg, l, d, tp, now)
	}
	return m
}

// step decides one input, asking for help once when the rules could not
// place a reply. help is what an earlier attempt of the same input found;
// the help used is returned for the next attempt.
func (e *Engine) step(ctx context.Context, s signoff.Session, d signoff.Delivery, in signoff.Input, help *Help) (signoff.Session, []signoff.Action, *Help) {
	next, acts, need := StepHelp(e.cfg, s, d, in, help)
	if !need || help != nil || (e.under == nil && e.answerer == nil) {
		return next, acts, help
	}
	help = e.ask(ctx, s, d, in)
	next, acts, _ = StepHelp(e.cfg, s, d, in, help)
	return next, acts, help
}

// ask finds help for the unplaced reply in: the model's reading, then, for
// a question or when the model could not help, the answerer's reply.
func (e *Engine) ask(ctx context.Context, s signoff.Session, d signoff.Delivery, in signoff.Input) *Help {
	h := &Help{}
	text := in.Text
	if len([]rune(text)) > MaxTextRunes {
		text = string([]rune(text)[:MaxTextRunes])
	}
	if e.under != nil && (s.State == signoff.StateAwaitingChoice || s.State == signoff.StateArranged) {
		prompt := ""
		if s.LastOffer != nil {
			prompt = s.LastOffer.Text
		}
		u, err := e.under.Understand(ctx, UnderstandRequest{Locale: s.Locale, Text: text, Prompt: prompt, Offered: Menu(e.cfg, s.Locale, &d)})
		switch {
		case err != nil:
			ctx = context.WithValue(ctx, modelDownKey{}, true)
			h.ModelErr = err.Error()
			if errors.Is(err, context.DeadlineExceeded) {
				h.ModelErr = "timeout: " + h.ModelErr
			}
		default:
			h.Choice, h.Model = u.Choice, u.Model
		}
	}
	if e.answerer != nil && (h.Choice == "" || h.Choice == ChoiceQuestion) {
		q := Question{Locale: s.Locale, Channel: in.Channel, Text: text, Facts: QuestionFacts(e.cfg, s.Locale, d, in.At)}
		a, err := e.answerer.Answer(ctx, q)
		if err != nil {
			e.log.Warn("answerer failed", "session", s.ID, "err", err)
		} else {
			h.Answer = &a
		}
	}
	return h
}

// helpLog is the evidence of the help used in one step: the model's
// decision, or why it was refused, and the sources of an answer.
func helpLog(h *Help, s signoff.Session) []LogEntry {
	if h == nil {
		return nil
	}
	sid := string(s.ID)
	var log []LogEntry
	if h.Choice != "" || h.ModelErr != "" {
		data := map[string]string{"session": sid, "choice": h.Choice, "model": h.Model}
		switch {
		case h.ModelErr != "":
			data["decision"], data["error"] = "failed", h.ModelErr
		case h.rejected != "":
			data["decision"], data["reason"] = "rejected", h.rejected
		default:
			data["decision"] = "accepted"
		}
		log = append(log, LogEntry{Kind: "model", At: s.UpdatedAt, Data: data})
	}
	if a := h.Answer; a != nil {
		data := map[string]string{"session": sid, "sources": strings.Join(a.Sources, ","),
			"score": strconv.FormatFloat(a.Score, 'f', 3, 64), "phrased": strconv.FormatBool(a.Phrased)}
		if a.Model != "" {
			data["model"] = a.Model
		}
		if a.Text == "" {
			data["answered"] = "false"
		}
		log = append(log, LogEntry{Kind: "answer", At: s.UpdatedAt, Data: data})
	}
	return log
}
