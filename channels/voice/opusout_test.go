package voice

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	libopus "github.com/hraban/opus"
	"github.com/pion/webrtc/v4"

	"github.com/signoff/signoff/speech"
)

// TestGreetingInOpus: a caller that offers Opus first, then PCMU, as
// browsers do, hears the greeting in Opus: 20 ms packets on the 48 kHz
// clock that libopus decodes to audible audio.
func TestGreetingInOpus(t *testing.T) {
	conv := newFakeConv()
	_, base := server(t, Config{}, conv, conv, &toneTTS{}, nil)

	m := &webrtc.MediaEngine{}
	for _, c := range []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: ptOpus},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: ptPCMU},
	} {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	se := webrtc.SettingEngine{}
	loopbackOnly(&se)
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}

	// The reader decodes every packet and reports, once, what it heard:
	// the loudest 20 ms, or why it stopped.
	type heard struct {
		rms  float64
		err  string
		mime string
	}
	result := make(chan heard, 1)
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		dec, err := libopus.NewDecoder(48000, 1)
		if err != nil {
			result <- heard{err: err.Error()}
			return
		}
		pcm := make([]int16, maxOpusSamples)
		var h heard
		h.mime = tr.Codec().MimeType
		loud, lastSeq, lastTS, first := 0, uint16(0), uint32(0), true
		for loud < 10 {
			p, _, err := tr.ReadRTP()
			if err != nil {
				h.err = "read: " + err.Error()
				break
			}
			if !strings.EqualFold(h.mime, webrtc.MimeTypeOpus) {
				h.err = "the bot speaks " + h.mime
				break
			}
			if !first && p.SequenceNumber == lastSeq+1 && p.Timestamp-lastTS != 960 {
				h.err = fmt.Sprintf("timestamp step %d ticks, want 960", p.Timestamp-lastTS)
				break
			}
			first, lastSeq, lastTS = false, p.SequenceNumber, p.Timestamp
			n, err := dec.Decode(p.Payload, pcm)
			if err != nil {
				h.err = "decode: " + err.Error()
				break
			}
			if n != 960 {
				h.err = fmt.Sprintf("a packet of %d samples, want 960", n)
				break
			}
			rms := speech.RMS(pcm[:n])
			h.rms = max(h.rms, rms)
			if rms > speech.DBFSToRMS(-24) {
				loud++
			}
		}
		result <- h
		for { // drain, so that pion is not held up
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
		}
	})

	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	<-g
	resp, answer := do(t, http.MethodPost, base+"/v1/sessions/s_test/call", "application/sdp", conv.token, pc.LocalDescription().SDP)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST = %d %s", resp.StatusCode, answer)
	}
	if !strings.Contains(strings.ToLower(answer), "opus/48000") {
		t.Fatalf("the answer lacks Opus:\n%s", answer)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	select {
	case h := <-result:
		if h.err != "" {
			t.Fatalf("%s (codec %s, loudest %.0f)", h.err, h.mime, h.rms)
		}
		t.Logf("greeting heard in %s, loudest 20 ms at RMS %.0f", h.mime, h.rms)
	case <-time.After(10 * time.Second):
		t.Fatal("no audible Opus greeting within 10 s")
	}
}
