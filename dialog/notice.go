package dialog

import "github.com/signoff/signoff"

// Notice is what the engine tells the order system about one webhook. It is
// stored with the webhook id, so a repeated id gets the same Notice back with
// Duplicate set.
type Notice struct {
	// Opened is true when this event opened the conversation.
	Opened bool `json:"opened"`
	// SessionID is the delivery's open session, if any.
	SessionID signoff.SessionID `json:"session_id,omitempty"`
	// Token is the recipient's bearer token; set only when Opened.
	Token string `json:"recipient_token,omitempty"`
	// CourierID is the delivery's courier, when known; set only when
	// Opened, so the answer can carry the courier's token.
	CourierID string `json:"courier_id,omitempty"`
	// Duplicate is true when the webhook id had been processed before.
	Duplicate bool `json:"-"`
}
