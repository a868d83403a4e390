package receipt

import (
	"strconv"

	"github.com/signoff/signoff/dialog/evidence"
)

// Receipt is the payload of a signed receipt.
type Receipt struct {
	Type     string `json:"typ"`      // always "signoff-receipt/1"
	Delivery string `json:"delivery"` // the delivery id
	Issued   string `json:"issued"`   // when the receipt was signed, RFC 3339

	Summary

	Head     string                       `json:"head"`               // hash of the last record
	Log      []evidence.Record            `json:"log"`                // the whole evidence log, oldest first
	Openings map[string]evidence.Openings `json:"openings,omitempty"` // sealed values still kept, by seq
}

// TypeV1 is Receipt.Type.
const TypeV1 = "signoff-receipt/1"

// Summary is what the log says, in short. Verify recomputes it from the log
// and names any field that disagrees.
type Summary struct {
	Outcome   string `json:"outcome,omitempty"`   // the last recorded outcome
	State     string `json:"state,omitempty"`     // the conversation's last state
	Consent   *Words `json:"consent,omitempty"`   // the recipient's consent to the outcome
	Confirmed *Words `json:"confirmed,omitempty"` // the recipient's confirmation of receipt
	Proof     *Proof `json:"proof,omitempty"`     // the courier's last proof of delivery
	Opened    string `json:"opened,omitempty"`    // the first record's time
	Closed    string `json:"closed,omitempty"`    // when the conversation ended, if it did
	Erased    bool   `json:"erased,omitempty"`    // personal values were erased
}

// Words is what the recipient said or pressed, and how and when. Text is
// empty once erased; Sealed always holds its hash.
type Words struct {
	Text    string `json:"text,omitempty"`
	Sealed  string `json:"sealed,omitempty"`
	Channel string `json:"channel,omitempty"`
	Offer   string `json:"offer,omitempty"`
	At      string `json:"at"`
	Record  int    `json:"record"` // the seq of the record it comes from
}

// Proof is the courier's proof of delivery.
type Proof struct {
	Photo   string `json:"photo"` // hex SHA-256 of the photo
	Type    string `json:"type,omitempty"`
	Lat     string `json:"lat,omitempty"`
	Lng     string `json:"lng,omitempty"`
	Courier string `json:"courier,omitempty"`
	At      string `json:"at"`
	Record  int    `json:"record"`
}

// Build returns the receipt of delivery id from its evidence log and the
// openings still kept, issued at issued (RFC 3339).
func Build(id, issued string, recs []evidence.Record, open map[int]evidence.Openings) Receipt {
	r := Receipt{Type: TypeV1, Delivery: id, Issued: issued, Log: recs}
	r.Summary = Summarize(recs, open)
	_, r.Head = evidence.Head(recs)
	if len(open) > 0 {
		r.Openings = make(map[string]evidence.Openings, len(open))
		for seq, o := range open {
			r.Openings[strconv.Itoa(seq)] = o
		}
	}
	if r.Log == nil {
		r.Log = []evidence.Record{}
	}
	return r
}

// Summarize reads the summary out of a log.
func Summarize(recs []evidence.Record, open map[int]evidence.Openings) Summary {
	var s Summary
	if len(recs) > 0 {
		s.Opened = recs[0].At
	}
	var lastReply *evidence.Record
	for i := range recs {
		r := &recs[i]
		v := func(k string) string {
			if x, ok := r.Fields[k]; ok {
				return x
			}
			return open[r.Seq][k].Value
		}
		switch r.Kind {
		case "reply":
			lastReply = r
		case "outcome":
			s.Outcome = r.Fields["outcome"]
			s.Consent = nil
			if _, ok := r.Sealed["consent_text"]; ok || r.Fields["consent_channel"] != "" {
				s.Consent = &Words{Text: v("consent_text"), Sealed: r.Sealed["consent_text"], Channel: r.Fields["consent_channel"],
					Offer: r.Fields["consent_offer"], At: r.Fields["consent_at"], Record: r.Seq}
			}
		case "state":
			s.State = r.Fields["to"]
			switch s.State {
			case "signed":
				if lastReply != nil {
					o := open[lastReply.Seq]
					s.Confirmed = &Words{Text: o["text"].Value, Sealed: lastReply.Sealed["text"], Channel: lastReply.Fields["channel"],
						Offer: "1", At: lastReply.At, Record: lastReply.Seq}
				}
				s.Closed = r.At
			case "expired", "failed":
				s.Closed = r.At
			}
		case "proof":
			s.Proof = &Proof{Photo: r.Fields["photo"], Type: r.Fields["type"], Lat: v("lat"), Lng: v("lng"),
				Courier: r.Fields["courier"], At: r.At, Record: r.Seq}
		case "personal_data_erased":
			s.Erased = true
		}
	}
	return s
}
