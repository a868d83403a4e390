package speech_test

import (
	"fmt"
	"time"

	"github.com/signoff/signoff/speech"
)

// A PCMU frame from the wire becomes a pipeline frame: decode, then
// resample 8 kHz to 16 kHz. The buffers are reused frame after frame.
func ExampleResampler() {
	up, err := speech.NewResampler(8000, speech.SampleRate)
	if err != nil {
		panic(err)
	}
	payload := make([]byte, 160) // 20 ms of PCMU from an RTP packet
	var pcm8, pcm16 []int16
	for range 3 {
		pcm8 = speech.AppendMulawPCM(pcm8[:0], payload)
		pcm16 = up.Resample(pcm16[:0], pcm8)
	}
	fmt.Println(len(pcm8), len(pcm16), up)
	// Output: 160 320 8000→16000 Hz, 2 phases × 28 taps
}

// The VAD tells the call's goroutine when the caller starts and stops
// talking; while the bot talks, it is given the level of what is played.
func ExampleVAD() {
	vad, err := speech.NewVAD(speech.VADConfig{})
	if err != nil {
		panic(err)
	}
	quiet := make([]int16, speech.FrameSamples)
	loud := speech.GenerateDTMF('5', speech.FrameDuration, speech.SampleRate) // any loud sound
	for i := range 100 {
		frame := quiet
		if i >= 20 && i < 40 {
			frame = loud
		}
		if ev := vad.Process(frame, 0); ev.Kind != speech.VADNone {
			fmt.Printf("%v at %v, reported at %v\n", ev.Kind, ev.At, vad.Elapsed())
		}
	}
	// Output:
	// onset at 400ms, reported at 460ms
	// end at 800ms, reported at 1.3s
}

// Keypad presses arrive as RFC 4733 packets, each event many times over.
func ExampleEventDeduper() {
	var d speech.EventDeduper
	packets := []struct {
		ts      uint32
		payload []byte
	}{
		{1000, []byte{2, 10, 0, 0}},      // '2' begins
		{1000, []byte{2, 10, 0, 160}},    // still '2'
		{1000, []byte{2, 0x8a, 1, 64}},   // '2' ends, sent three times
		{1000, []byte{2, 0x8a, 1, 64}},   //
		{1000, []byte{2, 0x8a, 1, 64}},   //
		{3000, []byte{11, 0x8a, 1, 64}},  // '#', only its end arrived
		{3000, []byte{200, 0x8a, 1, 64}}, // not an event we know
	}
	for _, p := range packets {
		ev, err := speech.ParseTelephoneEvent(p.payload)
		if err != nil {
			fmt.Println(err)
			continue
		}
		if key, ok := d.Push(p.ts, ev); ok {
			fmt.Printf("key %c\n", key)
		}
	}
	// Output:
	// key 2
	// key #
	// unknown_telephone_event: telephone-event 200 is not a key
}

// In-band keypad tones, for callers whose tones come inside the audio.
func ExampleDTMFDetector() {
	det, err := speech.NewDTMFDetector(8000)
	if err != nil {
		panic(err)
	}
	var audio []int16
	for _, key := range []byte("09#") {
		audio = append(audio, speech.GenerateDTMF(key, 60*time.Millisecond, 8000)...)
		audio = append(audio, make([]int16, 480)...)
	}
	for i := 0; i < len(audio); i += 160 {
		if ev := det.Process(audio[i:min(i+160, len(audio))]); ev.Key != 0 {
			fmt.Printf("%c at %v\n", ev.Key, ev.At.Round(time.Millisecond))
		}
	}
	// Output:
	// 0 at 0s
	// 9 at 128ms
	// # at 242ms
}
