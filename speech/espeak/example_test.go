package espeak_test

import (
	"context"
	"fmt"

	"github.com/signoff/signoff/speech/espeak"
)

func ExampleSplitSentences() {
	for _, s := range espeak.SplitSentences("您好！请回复数字。Reply 2 to leave it at the door.") {
		fmt.Println(s)
	}
	// Output:
	// 您好！
	// 请回复数字。
	// Reply 2 to leave it at the door.
}

func ExampleSynth_Synthesize() {
	tts, err := espeak.New(espeak.Options{})
	if err != nil {
		fmt.Println(err) // espeak-ng not found: apt-get install espeak-ng (or run make deps)
		return
	}
	ctx := context.TODO() // a call's context in real use
	for _, s := range espeak.SplitSentences("您好！请回复数字二。") {
		pcm, err := tts.Synthesize(ctx, s, "zh-CN", false)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: %v\n", s, len(pcm) > espeak.SampleRate/4)
	}
	// Output:
	// 您好！: true
	// 请回复数字二。: true
}
