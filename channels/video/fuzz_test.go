package video

import (
	"errors"
	"testing"

	"github.com/signoff/signoff"
)

const browserOffer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\na=rtpmap:96 VP8/90000\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=recvonly\r\na=rtpmap:111 opus/48000/2\r\n"

// TestCheckOffer: who may offer what.
func TestCheckOffer(t *testing.T) {
	recvOnly := "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\n"
	h264 := "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 102\r\na=mid:0\r\na=sendrecv\r\na=rtpmap:102 H264/90000\r\n"
	for _, tt := range []struct {
		offer, role, code string
	}{
		{browserOffer, RoleRecipient, ""},
		{browserOffer, RoleCourier, ""},
		{browserOffer, RoleStaff, "viewer_cannot_send"},
		{recvOnly, RoleStaff, ""},
		{h264, RoleCourier, "no_common_codec"},
		{"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", RoleRecipient, "no_media"},
		{"hello", RoleRecipient, "bad_sdp"},
	} {
		err := CheckOffer(tt.offer, tt.role)
		if got := signoff.ErrorCode(err); (err == nil) != (tt.code == "") || (err != nil && got != tt.code) {
			t.Errorf("CheckOffer(%s, %.30q) = %v, want code %q", tt.role, tt.offer, err, tt.code)
		}
	}
}

// FuzzCheckOffer: any body is answered by a verdict, never a panic, and a
// refusal is always signoff.ErrInvalid.
func FuzzCheckOffer(f *testing.F) {
	f.Add(browserOffer, RoleRecipient)
	f.Add(browserOffer, RoleStaff)
	f.Add("v=0\r\nm=audio 0 RTP/AVP 0\r\n", RoleCourier)
	f.Fuzz(func(t *testing.T, offer, role string) {
		if err := CheckOffer(offer, role); err != nil && !errors.Is(err, signoff.ErrInvalid) {
			t.Fatalf("CheckOffer: %v is not ErrInvalid", err)
		}
	})
}
