package sphinx

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	signoff "github.com/signoff/signoff"
)

var report = flag.Bool("report", false, "log recognition accuracy over several espeak-ng voices (slow; for tuning Threshold)")

// The voice the acceptance tests speak with.
const (
	testVoice = "en-us"
	testRate  = 140
)

var (
	shared     *Recognizer
	sharedErr  error
	sharedOnce sync.Once
)

// recognizer returns a Recognizer shared by the tests (decoders are slow to
// make). A missing model fails the test with what to install.
func recognizer(t testing.TB) *Recognizer {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = New(Options{Decoders: 4}) })
	if sharedErr != nil {
		t.Fatalf("the PocketSphinx model is missing: run `make deps` (or sudo apt-get install pocketsphinx-en-us libpocketsphinx-dev): %v", sharedErr)
	}
	return shared
}

// menu is the grammar of the main sign-off menu, as the voice channel
// would build it.
func menu() Grammar {
	g := Grammar{Phrases: []Phrase{
		{Key: "0", Say: []string{"zero", "agent", "person", "operator", "number zero", "option zero"}},
		{Key: "9", Say: []string{"nine", "repeat", "again", "number nine", "option nine"}},
		{Key: "yes", Say: []string{"yes", "yeah", "correct"}},
		{Key: "no", Say: []string{"no"}},
	}}
	for i, d := range strings.Fields("one two three four five six seven eight") {
		g.Phrases = append(g.Phrases, Phrase{Key: fmt.Sprint(i + 1), Say: []string{d, "number " + d, "option " + d}})
	}
	return g
}

// answers are what the acceptance test says, with the key each must give.
var answers = []struct{ say, key string }{
	{"zero", "0"}, {"one", "1"}, {"two", "2"}, {"three", "3"}, {"four", "4"},
	{"five", "5"}, {"six", "6"}, {"seven", "7"}, {"eight", "8"}, {"nine", "9"},
	{"yes", "yes"}, {"no", "no"}, {"repeat", "9"}, {"agent", "0"},
}

// offList is speech no menu accepts; every one must come back Rejected.
var offList = []string{"banana", "hello there how are you"}

func TestRecognizeAnswers(t *testing.T) {
	r := recognizer(t)
	ctx := t.Context()
	misses := 0
	for _, a := range answers {
		res, err := r.Recognize(ctx, speak(t, testVoice, testRate, a.say), menu())
		if err != nil {
			t.Fatalf("Recognize(%q): %v", a.say, err)
		}
		switch {
		case res.Rejected:
			misses++
			t.Logf("%q: rejected (score %.1f); want key %q", a.say, res.Score, a.key)
		case res.Key != a.key:
			t.Errorf("%q: got key %q (heard %q, score %.1f), want %q", a.say, res.Key, res.Text, res.Score, a.key)
		default:
			t.Logf("%q → %q (heard %q, score %.1f, confidence %.2f)", a.say, res.Key, res.Text, res.Score, res.Confidence)
		}
	}
	t.Logf("accuracy: %d/%d answers recognised", len(answers)-misses, len(answers))
	if misses > 1 {
		t.Errorf("%d answers rejected; want at most 1", misses)
	}
}

func TestRecognizeRejectsOffList(t *testing.T) {
	r := recognizer(t)
	inputs := []struct {
		name string
		pcm  []int16
	}{
		{"silence", noise(1, noiseFloor, 1)},
		{"digital silence", make([]int16, SampleRate)},
		{"nothing", nil},
		{"quiet noise", noise(1, 300, 2)},
		{"white noise", noise(1, 3000, 3)},
		{"loud noise burst", noise(0.3, 8000, 4)},
		{"short noise burst", noise(0.1, 5000, 5)},
		{"cough", cough(6)},
	}
	for _, s := range offList {
		inputs = append(inputs, struct {
			name string
			pcm  []int16
		}{s, speak(t, testVoice, testRate, s)})
	}
	for _, in := range inputs {
		res, err := r.Recognize(t.Context(), in.pcm, menu())
		if err != nil {
			t.Fatalf("Recognize(%s): %v", in.name, err)
		}
		if !res.Rejected || res.Key != "" {
			t.Errorf("%s: got key %q (heard %q, score %.1f), want Rejected", in.name, res.Key, res.Text, res.Score)
			continue
		}
		t.Logf("%s: rejected (silence %v, score %.1f)", in.name, res.Silence, res.Score)
	}
}

// TestRecognizeSmallGrammar checks the rejection of digits a prompt does
// not offer: a yes/no question hears "seven" as nothing.
func TestRecognizeSmallGrammar(t *testing.T) {
	r := recognizer(t)
	yesNo := Grammar{Phrases: []Phrase{
		{Key: "yes", Say: []string{"yes", "yeah", "correct"}},
		{Key: "no", Say: []string{"no"}},
		{Key: "0", Say: []string{"agent", "person", "operator", "zero"}},
		{Key: "9", Say: []string{"repeat", "again"}},
	}}
	for _, c := range []struct{ say, key string }{
		{"yes", "yes"}, {"no", "no"}, {"agent", "0"}, {"repeat", "9"},
		{"seven", ""}, {"three", ""}, {"banana", ""},
	} {
		res, err := r.Recognize(t.Context(), speak(t, testVoice, testRate, c.say), yesNo)
		if err != nil {
			t.Fatal(err)
		}
		if res.Key != c.key {
			t.Errorf("%q: got key %q (score %.1f), want %q", c.say, res.Key, res.Score, c.key)
		}
	}
}

func TestRecognizeConcurrent(t *testing.T) {
	r := recognizer(t)
	says := []string{"two", "yes", "banana", "seven", "agent"}
	want := make(map[string]Result)
	for _, s := range says {
		res, err := r.Recognize(t.Context(), speak(t, testVoice, testRate, s), menu())
		if err != nil {
			t.Fatal(err)
		}
		want[s] = res
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			for j := range 2 {
				s := says[(i+j)%len(says)]
				got, err := r.Recognize(t.Context(), speak(t, testVoice, testRate, s), menu())
				if err != nil {
					errs <- err
					return
				}
				if got != want[s] {
					errs <- fmt.Errorf("goroutine %d, %q: got %+v, want %+v as alone", i, s, got, want[s])
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestRecognizeEvictsGrammars(t *testing.T) {
	r, err := New(Options{Decoders: 1, Grammars: 2})
	if err != nil {
		t.Fatalf("run `make deps`: %v", err)
	}
	defer r.Close()
	two := speak(t, testVoice, testRate, "two")
	for i := range 6 {
		g := menu()
		g.Phrases = g.Phrases[:len(g.Phrases)-i%3] // three grammars, all with "two"
		res, err := r.Recognize(t.Context(), two, g)
		if err != nil {
			t.Fatal(err)
		}
		if res.Key != "2" {
			t.Errorf("round %d: got %+v, want key 2", i, res)
		}
	}
}

func TestRecognizeErrors(t *testing.T) {
	r := recognizer(t)
	pcm := speak(t, testVoice, testRate, "two")
	cases := []struct {
		name string
		g    Grammar
		kind error
		msg  string
	}{
		{"unknown word", Grammar{Phrases: []Phrase{{Key: "1", Say: []string{"one"}}, {Key: "2", Say: []string{"zwiebelkuchen"}}}}, signoff.ErrInvalid, "zwiebelkuchen"},
		{"empty", Grammar{}, signoff.ErrInvalid, "no phrases"},
		{"no key", Grammar{Phrases: []Phrase{{Say: []string{"one"}}}}, signoff.ErrInvalid, "no key"},
		{"nothing to say", Grammar{Phrases: []Phrase{{Key: "1"}}}, signoff.ErrInvalid, "nothing to say"},
		{"not a word", Grammar{Phrases: []Phrase{{Key: "1", Say: []string{"option 1"}}}}, signoff.ErrInvalid, `"1" is not a word`},
		{"ambiguous", Grammar{Phrases: []Phrase{{Key: "1", Say: []string{"one"}}, {Key: "2", Say: []string{"One"}}}}, signoff.ErrInvalid, "both"},
	}
	for _, c := range cases {
		_, err := r.Recognize(t.Context(), pcm, c.g)
		if !errors.Is(err, c.kind) || err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: got error %v, want %v mentioning %q", c.name, err, c.kind, c.msg)
		}
	}
	_, err := r.Recognize(t.Context(), make([]int16, MaxUtterance+1), menu())
	if !errors.Is(err, signoff.ErrTooLarge) {
		t.Errorf("overlong audio: got error %v, want ErrTooLarge", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := r.Recognize(ctx, pcm, menu()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got error %v, want context.Canceled", err)
	}
}

// TestRecognizeWaitsForDecoder checks that a call waiting for a busy
// decoder gives up when its context ends.
func TestRecognizeWaitsForDecoder(t *testing.T) {
	r, err := New(Options{Decoders: 1})
	if err != nil {
		t.Fatalf("run `make deps`: %v", err)
	}
	defer r.Close()
	d, err := r.acquire(t.Context()) // the only decoder, held
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = r.Recognize(ctx, speak(t, testVoice, testRate, "two"), menu())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got error %v, want context.DeadlineExceeded", err)
	}
	r.release(d)
	if res, err := r.Recognize(t.Context(), speak(t, testVoice, testRate, "two"), menu()); err != nil || res.Key != "2" {
		t.Errorf("after release: got %+v, %v; want key 2", res, err)
	}
	r.Close()
	if _, err := r.Recognize(t.Context(), speak(t, testVoice, testRate, "two"), menu()); !errors.Is(err, signoff.ErrUnavailable) {
		t.Errorf("after Close: got error %v, want ErrUnavailable", err)
	}
}

func TestNewMissingModel(t *testing.T) {
	_, err := New(Options{ModelDir: t.TempDir()})
	if !errors.Is(err, signoff.ErrUnavailable) {
		t.Fatalf("got error %v, want ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "apt-get install pocketsphinx-en-us libpocketsphinx-dev") {
		t.Errorf("error %q does not say what to install", err)
	}
}

func TestGarbageLeavesOutHomophones(t *testing.T) {
	c, err := compile(Grammar{Phrases: []Phrase{{Key: "2", Say: []string{"two"}}, {Key: "no", Say: []string{"no"}}}})
	if err != nil {
		t.Fatal(err)
	}
	prons := map[string][]string{"two": {"T UW"}, "too": {"T UW"}, "no": {"N OW"}, "know": {"N OW"}, "nine": {"N AY N"}}
	j := c.garbageJSGF(func(w string) []string { return prons[w] })
	for _, w := range []string{" two ", " too ", " no ", " know "} {
		if strings.Contains(strings.NewReplacer("|", " ", ";", " ").Replace(j), w) {
			t.Errorf("rejection grammar has %q:\n%s", w, j)
		}
	}
	if !strings.Contains(j, "nine") {
		t.Errorf("rejection grammar lacks %q:\n%s", "nine", j)
	}
}

// TestReport logs accuracy and rejection over several voices and many
// off-list phrases, to tune Threshold:
//
//	go test -v -run Report ./speech/sphinx -args -report
func TestReport(t *testing.T) {
	if !*report {
		t.Skip("tuning report; run with -report")
	}
	r := recognizer(t)
	more := []string{"I don't know", "what", "pineapple", "tomorrow", "wait a moment", "okay", "sorry",
		"who is this", "eleven", "twenty", "seventeen", "delivery", "cancel", "someone", "nothing", "thank you",
		"excuse me", "what did you say", "I want to speak to someone", "leave it outside", "uh huh", "never mind",
		"fine", "nineteen", "forty", "attention", "twelve", "hold on", "just a second", "lemon", "seventy"}
	for _, v := range []struct {
		voice string
		rate  int
	}{{"en-us", 140}, {"en-us", 170}, {"en-gb", 130}, {"en-us+f3", 140}} {
		right, wrong, rejected, falseKeys := 0, []string{}, 0, []string{}
		for _, a := range answers {
			res, err := r.Recognize(t.Context(), speak(t, v.voice, v.rate, a.say), menu())
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case res.Key == a.key:
				right++
			case !res.Rejected:
				wrong = append(wrong, a.say+"→"+res.Key)
			}
		}
		for _, s := range append(append([]string{}, offList...), more...) {
			res, err := r.Recognize(t.Context(), speak(t, v.voice, v.rate, s), menu())
			if err != nil {
				t.Fatal(err)
			}
			if res.Rejected {
				rejected++
			} else {
				falseKeys = append(falseKeys, fmt.Sprintf("%s→%s(%.0f)", s, res.Key, res.Score))
			}
		}
		t.Logf("%s at %d wpm: %d/%d answers right, wrong keys %v; %d/%d off-list rejected, accepted %v",
			v.voice, v.rate, right, len(answers), wrong, rejected, len(offList)+len(more), falseKeys)
	}
}

// oneSecond is "two" padded or cut to exactly one second.
func oneSecond(b *testing.B) []int16 {
	pcm := speak(b, testVoice, testRate, "two")
	out := make([]int16, SampleRate)
	copy(out, pcm)
	return out
}

func BenchmarkRecognize(b *testing.B) {
	r := recognizer(b)
	pcm := oneSecond(b)
	g := menu()
	if _, err := r.Recognize(b.Context(), pcm, g); err != nil { // compile the grammar
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Recognize(b.Context(), pcm, g); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/utterance")
}

// BenchmarkRecognizeParallel is the throughput of the decoder pool.
func BenchmarkRecognizeParallel(b *testing.B) {
	r := recognizer(b)
	pcm := oneSecond(b)
	g := menu()
	ctx := b.Context()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Recognize(ctx, pcm, g); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/utterance")
}
