package voice

import (
	"fmt"
	"strings"
	"time"

	libopus "github.com/hraban/opus"
	"github.com/pion/interceptor"
	"github.com/pion/opus"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels/rtc"
	"github.com/signoff/signoff/speech"
)

// MimeTelephoneEvent is the media type of RFC 4733 keypad events.
const MimeTelephoneEvent = "audio/telephone-event"

// The payload types offered by this package's own offers (Caller). An
// answer takes the caller's numbers; these only have to be distinct.
const (
	ptPCMU    = 0
	ptOpus    = 111
	ptEvent8  = 101
	ptEvent48 = 110
)

// payloadKind is what the packets of one payload type carry.
type payloadKind uint8

const (
	kindUnknown payloadKind = iota
	kindPCMU
	kindOpus
	kindEvent // RFC 4733 telephone-event, at any clock rate
)

func (k payloadKind) String() string {
	switch k {
	case kindPCMU:
		return "pcmu"
	case kindOpus:
		return "opus"
	case kindEvent:
		return "telephone-event"
	}
	return "unknown"
}

func kindOf(mime string) payloadKind {
	switch strings.ToLower(mime) {
	case strings.ToLower(webrtc.MimeTypePCMU):
		return kindPCMU
	case strings.ToLower(webrtc.MimeTypeOpus):
		return kindOpus
	case MimeTelephoneEvent:
		return kindEvent
	}
	return kindUnknown
}

// opusCapability is Opus as the call registers it, and as the bot speaks it
// (SDP always says two channels; the bot sends mono).
var opusCapability = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}

// The bot's Opus: 20 ms frames of its 16 kHz voice, mono, for speech, at
// about 24 kbit/s, timed on Opus's 48 kHz RTP clock.
const (
	opusBitrate    = 24000
	opusFrameTicks = 48000 / 1000 * uint32(speech.FrameDuration/time.Millisecond)
	maxOpusPacket  = 1275 // RFC 6716's largest frame
)

// newOpusEncoder returns the encoder of one call's voice (libopus, cgo).
// It is not safe for concurrent use: the call's owner alone encodes.
func newOpusEncoder() (*libopus.Encoder, error) {
	enc, err := libopus.NewEncoder(speech.SampleRate, 1, libopus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("voice: opus encoder: %w", err)
	}
	if err := enc.SetBitrate(opusBitrate); err != nil {
		return nil, fmt.Errorf("voice: opus bitrate: %w", err)
	}
	return enc, nil
}

// newMediaEngine registers what a call speaks: Opus and PCMU audio, and
// telephone-event at 8 kHz and 48 kHz, so that a browser can send keypad
// presses on either clock (it sends them on the clock of the audio codec in
// use).
func newMediaEngine() (*webrtc.MediaEngine, error) {
	m := &webrtc.MediaEngine{}
	for _, c := range []webrtc.RTPCodecParameters{
		{RTPCodecCapability: opusCapability, PayloadType: ptOpus},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: ptPCMU},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: MimeTelephoneEvent, ClockRate: 48000, SDPFmtpLine: "0-16"}, PayloadType: ptEvent48},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: MimeTelephoneEvent, ClockRate: 8000, SDPFmtpLine: "0-16"}, PayloadType: ptEvent8},
	} {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, fmt.Errorf("voice: register %s: %w", c.MimeType, err)
		}
	}
	return m, nil
}

// newAPI returns a pion API for one call: its own MediaEngine (pion's may not
// be shared between peer connections), RTCP reports and, in loopback mode,
// ICE on 127.0.0.1 over UDP only, without mDNS.
func newAPI(cfg *Config) (*webrtc.API, error) {
	m, err := newMediaEngine()
	if err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	// RTCP reports only: NACK, TWCC and statistics interceptors cost every
	// packet a copy or a look-up, and a voice call retransmits nothing.
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("voice: interceptors: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.SetICETimeouts(5*time.Second, 15*time.Second, 2*time.Second)
	if cfg.Loopback {
		loopbackOnly(&se)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// loopbackOnly makes ICE gather and accept only 127.0.0.1 over UDP, with
// mDNS off: for tests and single-machine demos.
func loopbackOnly(se *webrtc.SettingEngine) { rtc.LoopbackOnly(se) }

// iceServers parses Config.ICEServers (see rtc.ICEServers).
func iceServers(urls []string) ([]webrtc.ICEServer, error) { return rtc.ICEServers(urls) }

// checkOffer parses an SDP offer and checks that it can be answered: at
// least one audio section that offers PCMU, which the bot can always speak
// (it speaks Opus instead when the offer has it too).
// Errors are signoff.ErrInvalid.
func checkOffer(offer string) error {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return signoff.Wrap(signoff.ErrInvalid, "bad_sdp", "the body is not an SDP offer", err)
	}
	for _, m := range d.MediaDescriptions {
		if m.MediaName.Media != "audio" {
			continue
		}
		for _, f := range m.MediaName.Formats {
			if f == "0" {
				return nil
			}
		}
		for _, a := range m.Attributes {
			if a.Key == "rtpmap" && strings.Contains(strings.ToUpper(a.Value), " PCMU/8000") {
				return nil
			}
		}
	}
	return signoff.Errorf(signoff.ErrInvalid, "no_common_codec", "the offer has no audio section with PCMU (G.711 μ-law), which the call speaks")
}

// offersOpus reports whether an offer has Opus at 48 kHz in an audio
// section: the answer then has it too, and the bot speaks it.
func offersOpus(offer string) bool {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return false
	}
	for _, m := range d.MediaDescriptions {
		if m.MediaName.Media != "audio" {
			continue
		}
		for _, a := range m.Attributes {
			if a.Key == "rtpmap" && strings.Contains(strings.ToLower(a.Value), " opus/48000") {
				return true
			}
		}
	}
	return false
}

// decoder turns the payloads of one audio stream into 16 kHz PCM. It keeps
// a decoder and a resampler per codec, so a stream may switch codec.
type decoder struct {
	pcm8  []int16
	r8    *speech.Resampler
	opus  *opus.Decoder
	pcm48 []int16
	r48   *speech.Resampler
	last  int // samples (16 kHz) of the last packet, for concealment
}

// maxOpusSamples is the longest Opus packet (120 ms) at 48 kHz.
const maxOpusSamples = 5760

// decode appends the 16 kHz PCM of payload to dst. A payload that does not
// decode is an error; dst is returned unchanged.
func (d *decoder) decode(dst []int16, k payloadKind, payload []byte) ([]int16, error) {
	switch k {
	case kindPCMU:
		if d.r8 == nil {
			r, err := speech.NewResampler(8000, speech.SampleRate)
			if err != nil {
				return dst, err
			}
			d.r8 = r
		}
		d.pcm8 = speech.AppendMulawPCM(d.pcm8[:0], payload)
		n := len(dst)
		dst = d.r8.Resample(dst, d.pcm8)
		d.last = len(dst) - n
		return dst, nil
	case kindOpus:
		if d.opus == nil {
			dec, err := opus.NewDecoderWithOutput(48000, 1)
			if err != nil {
				return dst, err
			}
			r, err := speech.NewResampler(48000, speech.SampleRate)
			if err != nil {
				return dst, err
			}
			d.opus, d.r48, d.pcm48 = &dec, r, make([]int16, maxOpusSamples)
		}
		n, err := d.opus.DecodeToInt16(payload, d.pcm48)
		if err != nil {
			return dst, err
		}
		m := len(dst)
		dst = d.r48.Resample(dst, d.pcm48[:n])
		d.last = len(dst) - m
		return dst, nil
	}
	return dst, fmt.Errorf("voice: cannot decode %s", k)
}
