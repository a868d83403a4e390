package video

import (
	"fmt"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/signoff/signoff/channels/rtc"
)

// The codecs a room forwards: VP8 video and Opus audio, with the feedback
// that keeps video flowing: NACK, PLI, FIR, REMB and transport-wide
// congestion control.
var (
	videoFeedback = []webrtc.RTCPFeedback{
		{Type: webrtc.TypeRTCPFBGoogREMB}, {Type: webrtc.TypeRTCPFBTransportCC},
		{Type: webrtc.TypeRTCPFBCCM, Parameter: "fir"}, {Type: webrtc.TypeRTCPFBNACK}, {Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
	}
	vp8Codec  = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFeedback}
	opusCodec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
		RTCPFeedback: []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}}}
)

// Payload types of the server's own offers; answers take the peer's.
const (
	ptVP8  = 96
	ptOpus = 111
)

// newAPI returns a pion API for one participant: its own MediaEngine (pion's
// may not be shared), the default interceptors (NACK, RTCP reports, TWCC
// feedback) plus the TWCC header extension, and in loopback mode ICE on
// 127.0.0.1 only.
func (h *Handler) newAPI() (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: vp8Codec, PayloadType: ptVP8}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("video: register VP8: %w", err)
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCodec, PayloadType: ptOpus}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("video: register Opus: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("video: interceptors: %w", err)
	}
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, ir); err != nil {
		return nil, fmt.Errorf("video: twcc: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.SetICETimeouts(5*time.Second, 15*time.Second, 2*time.Second)
	if h.cfg.Loopback {
		rtc.LoopbackOnly(&se)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}
