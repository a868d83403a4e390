package dialog_test

import (
	"errors"
	"testing"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
)

// TestReplyBound: a channel that identified the sender itself replies
// without the token, and the reply is recorded with its channel.
func TestReplyBound(t *testing.T) {
	e, _, clk := newEngine(t, dialog.Config{})
	n, err := e.Notify(t.Context(), openingEvent("D-bound", "wh-bound", clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	turn, err := e.ReplyBound(t.Context(), n.SessionID, signoff.Input{Kind: signoff.InputText, Text: "3", Channel: signoff.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	if turn.Session.Outcome != signoff.OutcomePickupStation || turn.Session.Consent == nil || turn.Session.Consent.Channel != signoff.ChannelSMS {
		t.Errorf("outcome %q consent %+v, want pickup_station by sms", turn.Session.Outcome, turn.Session.Consent)
	}
	if len(turn.Replies) < 2 || turn.Replies[0].From != signoff.FromRecipient || turn.Replies[0].Channel != signoff.ChannelSMS {
		t.Errorf("replies %+v, want the recipient's SMS then the bot", turn.Replies)
	}
	// The bearer route still asks for the token.
	if _, err := e.Reply(t.Context(), n.SessionID, "", signoff.Input{Kind: signoff.InputText, Text: "1"}); !errors.Is(err, signoff.ErrUnauthorized) {
		t.Errorf("Reply without a token: %v, want ErrUnauthorized", err)
	}
	if _, err := e.ReplyBound(t.Context(), "s_nosuchsession", signoff.Input{Kind: signoff.InputText, Text: "1"}); !errors.Is(err, signoff.ErrNotFound) {
		t.Errorf("ReplyBound to no session: %v, want ErrNotFound", err)
	}
}
