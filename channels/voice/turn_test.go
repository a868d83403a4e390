package voice

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signoff/signoff/speech"
)

// The turn-taking tests run real espeak-ng speech through a pion caller
// into a call with real PocketSphinx, against a fake engine that records
// the inputs it is given and when.

// spoken returns the caller's audio for the parts, each espeak-ng speech
// or (for a part "…Nms") that much silence, and how long from the first
// speech sent to the end of the last.
func spoken(t *testing.T, parts ...string) ([]int16, time.Duration) {
	t.Helper()
	var pcm []int16
	for _, p := range parts {
		if d, err := time.ParseDuration(strings.TrimPrefix(p, "…")); err == nil && strings.HasPrefix(p, "…") {
			pcm = append(pcm, make([]int16, speech.Samples(d, speech.SampleRate))...)
			continue
		}
		pcm = append(pcm, say(t, p)...)
	}
	r, err := speech.NewResampler(speech.SampleRate, 8000)
	if err != nil {
		t.Fatal(err)
	}
	first, last := speechSpan(r.Resample(nil, pcm))
	if first < 0 {
		t.Fatal("the speech is silent")
	}
	return pcm, time.Duration(last-first+1) * speech.FrameDuration
}

// turnCall makes a call with cfg and real engines, says pcm once the
// greeting has begun, and returns when the speech ended at the caller and
// the inputs the engine got with when each came, waiting until settle has
// passed with no new one after the first.
type timedInput struct {
	text string
	at   time.Time
}

func turnCall(t *testing.T, cfg Config, pcm []int16, span time.Duration, settle time.Duration) (time.Time, []timedInput) {
	t.Helper()
	conv := newFakeConv()
	_, base := server(t, cfg, conv, conv, synthesiser(t), recogniser(t))
	c, _ := dial(t, base, conv.s.ID, conv.token, CallerOptions{NoiseDBFS: -60})
	loudFor(t, c, 200*time.Millisecond, 5*time.Second)
	onset := <-c.Say(pcm)
	end := onset.Add(span)
	var got []timedInput
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		in := conv.Inputs()
		for len(got) < len(in) {
			got = append(got, timedInput{in[len(got)].Text, time.Now()})
		}
		if len(got) > 0 && time.Since(got[len(got)-1].at) > settle {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return end, got
}

// TestTurnEndsOnClearAnswer: with an end-of-turn silence of 3 s, a digit
// said as a statement ("two.", falling) and "yes" reach the engine well
// before the silence could have ended the turn; "two," (rising, maybe the
// first of several) waits for it, as does every answer when early
// recognition is off (a remote recogniser).
func TestTurnEndsOnClearAnswer(t *testing.T) {
	const silence = 3 * time.Second
	for _, tc := range []struct {
		text  string
		want  string
		early bool
		after time.Duration // Config.EarlyAfter
	}{
		{"two.", "two", true, 0},
		{"two,", "two", false, 0},
		{"two.", "two", false, -1},
	} {
		pcm, span := spoken(t, tc.text)
		end, got := turnCall(t, Config{EndSilence: silence, Hold: 2 * time.Second, EarlyAfter: tc.after}, pcm, span, time.Second)
		if len(got) != 1 || got[0].text != tc.want {
			t.Fatalf("%q: the engine got %v, want one input %q", tc.text, got, tc.want)
		}
		after := got[0].at.Sub(end)
		t.Logf("%q: end of speech at the caller → input at the engine %v", tc.text, after.Round(time.Millisecond))
		switch {
		case tc.early && after >= silence-500*time.Millisecond:
			t.Errorf("%q reached the engine %v after the speech, want the turn ended early (before the %v silence)", tc.text, after, silence)
		case !tc.early && after < silence-300*time.Millisecond:
			t.Errorf("%q reached the engine %v after the speech, want the turn held for the %v silence", tc.text, after, silence)
		}
	}
}

// TestTurnNumberGoingOn: "two, … three." with a 700 ms pause, longer than
// the end-of-turn silence (300 ms), is one turn when "two" is said as the
// first of several (held for 2 s); "two. … three." is two turns when "two"
// is said as a whole answer.
func TestTurnNumberGoingOn(t *testing.T) {
	cfg := Config{EndSilence: 300 * time.Millisecond, Hold: 2 * time.Second}
	for _, tc := range []struct {
		parts []string
		want  []string
	}{
		{[]string{"two,", "…700ms", "three."}, []string{"two three"}},
		// A longer pause here: under load the early recognition of "two."
		// may take most of a second, and the turn waits for it.
		{[]string{"two.", "…1500ms", "three."}, []string{"two", "three"}},
	} {
		pcm, span := spoken(t, tc.parts...)
		_, got := turnCall(t, cfg, pcm, span, 4*time.Second)
		var texts []string
		for _, in := range got {
			texts = append(texts, in.text)
		}
		if strings.Join(texts, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%q: the engine got %q, want %q", tc.parts, texts, tc.want)
		}
	}
}

// TestTurnCorrection: "two." ends its turn early, and "one" said right
// after it ("two. one") continues it: the engine gets "two one" (which it
// asks again about), never a bare "one", which the read-back of "two"
// would take for yes. Under load the two may arrive as one turn; either
// way no bare "one" is sent.
func TestTurnCorrection(t *testing.T) {
	pcm, span := spoken(t, "two.", "…100ms", "one.")
	_, got := turnCall(t, Config{EndSilence: 2 * time.Second}, pcm, span, 3*time.Second)
	var texts []string
	for _, in := range got {
		texts = append(texts, in.text)
	}
	t.Logf("the engine got %q", texts)
	if len(texts) == 0 || texts[len(texts)-1] != "two one" || slices.Contains(texts, "one") {
		t.Errorf("the engine got %q, want \"two one\" last and no bare \"one\"", texts)
	}
}
