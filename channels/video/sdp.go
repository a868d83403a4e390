package video

import (
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/signoff/signoff"
)

// CheckOffer parses an SDP offer and checks that a participant of role may
// make it. Errors are signoff.ErrInvalid with these codes:
//   - bad_sdp: the body is not SDP;
//   - no_media: it has no audio or video section;
//   - viewer_cannot_send: staff offered to send (a section that is not
//     recvonly or inactive);
//   - no_common_codec: a sender offers neither VP8 video nor Opus audio.
func CheckOffer(offer, role string) error {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return signoff.Wrap(signoff.ErrInvalid, "bad_sdp", "the body is not an SDP offer", err)
	}
	media, common := 0, false
	for _, m := range d.MediaDescriptions {
		kind := m.MediaName.Media
		if kind != "audio" && kind != "video" {
			continue
		}
		media++
		if m.MediaName.Port.Value == 0 {
			continue // rejected section
		}
		if role == RoleStaff && sends(m) {
			return signoff.Errorf(signoff.ErrInvalid, "viewer_cannot_send", "a viewer's offer must be receive-only (a=recvonly)")
		}
		want := " vp8/90000"
		if kind == "audio" {
			want = " opus/48000"
		}
		for _, a := range m.Attributes {
			if a.Key == "rtpmap" && strings.Contains(strings.ToLower(a.Value), want) {
				common = true
			}
		}
	}
	switch {
	case media == 0:
		return signoff.Errorf(signoff.ErrInvalid, "no_media", "the offer has no audio or video section")
	case !common && role != RoleStaff:
		return signoff.Errorf(signoff.ErrInvalid, "no_common_codec", "the offer has neither VP8 video nor Opus audio, which the call speaks")
	}
	return nil
}

// sends reports whether a media section offers to send: sendrecv (also the
// default when no direction is given) or sendonly.
func sends(m *sdp.MediaDescription) bool {
	for _, a := range m.Attributes {
		switch a.Key {
		case "recvonly", "inactive":
			return false
		case "sendrecv", "sendonly":
			return true
		}
	}
	return true
}

// checkSDP checks that a body parses as SDP (an answer). Errors are
// signoff.ErrInvalid.
func checkSDP(body string) error {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(body); err != nil {
		return signoff.Wrap(signoff.ErrInvalid, "bad_sdp", "the body is not an SDP answer", err)
	}
	return nil
}
