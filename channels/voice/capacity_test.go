package voice

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/signoff/signoff/speech"
)

// slowTTS is a Synthesizer that takes a while and counts its calls.
type slowTTS struct {
	calls atomic.Int32
	delay time.Duration
}

func (s *slowTTS) Synthesize(ctx context.Context, text, lang string, slow bool) ([]int16, error) {
	s.calls.Add(1)
	time.Sleep(s.delay)
	return tone(500*time.Millisecond, 400, -14), nil
}

// TestSynthesizeOnce: fifty calls that start at once and ask for the same
// greeting get one synthesis, and share its clip.
func TestSynthesizeOnce(t *testing.T) {
	tts := &slowTTS{delay: 100 * time.Millisecond}
	h := &Handler{log: testLog(t), tts: tts, tc: newTTSCache(8)}
	var wg sync.WaitGroup
	clips := make([]*clip, 50)
	for i := range clips {
		wg.Go(func() {
			c, err := h.synthesize(context.Background(), "Hello! Your parcel is on its way.", "en", false)
			if err != nil {
				t.Error(err)
			}
			clips[i] = c
		})
	}
	wg.Wait()
	if n := tts.calls.Load(); n != 1 {
		t.Errorf("the sentence was synthesised %d times, want once", n)
	}
	for i, c := range clips {
		if c != clips[0] {
			t.Fatalf("call %d got a clip of its own", i)
		}
	}
	if _, err := h.synthesize(context.Background(), "Press 2 for Leave at my door.", "en", false); err != nil {
		t.Fatal(err)
	}
	if n := tts.calls.Load(); n != 2 {
		t.Errorf("a second sentence made %d syntheses in all, want 2", n)
	}
}

// TestClip: a sentence is cut into 20 ms frames, the last padded, each
// with its RMS and a PCMU payload that decodes to the same sound.
func TestClip(t *testing.T) {
	pcm := tone(210*time.Millisecond, 400, -14)
	c, err := newClip(pcm)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.frames) != 11 || len(c.pcmu) != 11 || len(c.rms) != 11 {
		t.Fatalf("got %d frames, %d payloads, %d levels, want 11 each", len(c.frames), len(c.pcmu), len(c.rms))
	}
	want := speech.DBFSToRMS(-14)
	for i := range 10 {
		if len(c.frames[i]) != speech.FrameSamples || len(c.pcmu[i]) != speech.FrameSamples/2 {
			t.Fatalf("frame %d: %d samples, %d bytes, want %d and %d", i, len(c.frames[i]), len(c.pcmu[i]), speech.FrameSamples, speech.FrameSamples/2)
		}
		if c.rms[i] < want*0.9 || c.rms[i] > want*1.1 {
			t.Errorf("frame %d RMS %.0f, want about %.0f", i, c.rms[i], want)
		}
		if i > 0 {
			got := speech.RMS(speech.AppendMulawPCM(nil, c.pcmu[i]))
			if got < want*0.8 || got > want*1.2 {
				t.Errorf("frame %d decodes to RMS %.0f, want about %.0f", i, got, want)
			}
		}
	}
	if r := c.rms[10] / c.rms[9]; r < 0.6 || r > 0.8 {
		t.Errorf("the last frame (10 ms of sound, 10 of padding) has RMS %.0f, want about 0.71 of %.0f", c.rms[10], c.rms[9])
	}
	op := c.opusPackets()
	if len(op) != 11 || len(op[5]) == 0 {
		t.Errorf("got %d Opus packets (the 6th of %d bytes), want 11, none empty", len(op), len(op[5]))
	}
}

// TestPaceCatchesUp: a late wake-up sends every frame that fell due, and
// counts those more than 40 ms behind; a stall longer than maxCatchUp
// starts the schedule afresh.
func TestPaceCatchesUp(t *testing.T) {
	c := fuzzCall(t)
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, "audio", "test")
	if err != nil {
		t.Fatal(err)
	}
	c.out, c.connected = track, true
	cl, err := newClip(tone(6*time.Second, 400, -14))
	if err != nil {
		t.Fatal(err)
	}
	c.enqueue(&sentence{utt: &utterance{}}, cl)
	queued := len(c.queue)
	now := time.Unix(100, 0)

	next := c.pace(now.Add(-100*time.Millisecond), now)
	if sent := queued - len(c.queue); sent != 6 {
		t.Errorf("100 ms late: sent %d frames, want 6 (due at -100, -80, … 0 ms)", sent)
	}
	if c.lateFrames != 3 {
		t.Errorf("late frames %d, want 3 (-100, -80 and -60 ms are more than 40 ms behind)", c.lateFrames)
	}
	if want := now.Add(speech.FrameDuration); !next.Equal(want) {
		t.Errorf("next frame due %v, want %v", next.Sub(now), want.Sub(now))
	}

	queued, late := len(c.queue), c.lateFrames
	now = now.Add(500 * time.Millisecond)
	next = c.pace(next, now)
	if sent := queued - len(c.queue); sent != 25 {
		t.Errorf("after a 500 ms stall: sent %d frames, want the 25 that fell due", sent)
	}
	if c.lateFrames-late != 22 {
		t.Errorf("a 500 ms stall counted %d late frames, want 22 (60 to 480 ms behind)", c.lateFrames-late)
	}
	if want := now.Add(speech.FrameDuration); !next.Equal(want) {
		t.Errorf("next frame due %v after the stall, want %v", next.Sub(now), want.Sub(now))
	}

	queued, late = len(c.queue), c.lateFrames
	now = now.Add(3 * time.Second)
	next = c.pace(next, now)
	if sent := queued - len(c.queue); sent != 1 {
		t.Errorf("after a 3 s stall: sent %d frames, want 1 (the schedule starts afresh)", sent)
	}
	if c.lateFrames-late < 140 {
		t.Errorf("a 3 s stall counted %d late frames, want about 149", c.lateFrames-late)
	}
	if want := now.Add(speech.FrameDuration); !next.Equal(want) {
		t.Errorf("next frame due %v after the stall, want %v", next.Sub(now), want.Sub(now))
	}
}
