package sphinx

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestTune(t *testing.T) {
	extra := strings.Fields(os.Getenv("SPHINX_ARGS"))
	if v := os.Getenv("MINPH"); v != "" {
		garbageMinPhones, _ = strconv.Atoi(v)
		extra = append(extra, "-minph"+v)
	}
	r, err := newRecognizer(Options{Threshold: -1e9, Decoders: 1}, extra[:len(extra)-min(1, len(os.Getenv("MINPH")))])
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	g := Grammar{Phrases: []Phrase{
		{Key: "0", Say: []string{"zero", "agent", "person", "operator", "number zero", "option zero"}},
		{Key: "yes", Say: []string{"yes", "yeah", "correct"}},
		{Key: "no", Say: []string{"no"}},
		{Key: "9", Say: []string{"nine", "repeat", "again", "number nine", "option nine"}},
	}}
	for _, d := range []string{"one", "two", "three", "four", "five", "six", "seven", "eight"} {
		k := fmt.Sprint(1 + strings.Index("one two three four five six seven eight", d)/4)
		_ = k
	}
	digits := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	for i, d := range digits[1:9] {
		g.Phrases = append(g.Phrases, Phrase{Key: fmt.Sprint(i + 1), Say: []string{d, "number " + d, "option " + d}})
	}
	want := map[string]string{"agent": "0", "yes": "yes", "no": "no", "repeat": "9", "number two": "2"}
	for i, d := range digits {
		want[d] = fmt.Sprint(i)
	}
	type in struct {
		name, word string
		pcm        []int16
	}
	var ins []in
	for _, v := range []struct {
		voice string
		rate  int
	}{{"en-us", 140}, {"en-us", 170}, {"en-gb", 130}, {"en-us+f3", 140}} {
		for _, w := range append(digits, "yes", "no", "repeat", "agent", "number two", "banana", "hello there how are you", "I don't know", "what", "pineapple", "tomorrow", "wait a moment", "okay", "sorry", "who is this", "eleven", "twenty", "seventeen", "delivery", "cancel", "someone", "nothing", "thank you", "excuse me", "what did you say", "I want to speak to someone", "leave it outside", "uh huh", "never mind", "fine", "nineteen", "forty", "attention", "twelve", "hold on", "just a second", "can you say that again", "lemon", "seventy") {
			ins = append(ins, in{fmt.Sprintf("%s/%d %s", v.voice, v.rate, w), w, speak(t, v.voice, v.rate, w)})
		}
	}
	ins = append(ins, in{"<noise>", "", noise(1, 3000, 7)}, in{"<quietnoise>", "", noise(1, 300, 9)}, in{"<silence>", "", noise(1, 30, 8)}, in{"<burst>", "", noise(0.3, 8000, 5)})
	var lines []string
	var tm time.Duration
	for _, x := range ins {
		t0 := time.Now()
		c, _ := r.compile(g)
		d, _ := r.acquire(context.Background())
		s, _ := d.searches.get(d, c)
		a, _ := d.decode(s.answer, x.pcm)
		gb, _ := d.decode(s.garbage, x.pcm)
		r.release(d)
		tm += time.Since(t0)
		key := c.keys[strings.Join(hypWords(a.hyp), " ")]
		lines = append(lines, fmt.Sprintf("%s\t%s\t%s\t%s\t%.0f\t%d\t%d\t%.0f\t%d\t%d\t%s", x.name, want[x.word], key, a.hyp, a.score, a.frames, a.speechFrames(), gb.score, gb.speechFrames(), len(hypWords(gb.hyp)), gb.hyp))
	}
	sort.Strings(lines)
	os.WriteFile("/tmp/tune"+strings.Join(extra, "")+".tsv", []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	t.Logf("%d utterances in %v", len(ins), tm)
}
