package voice

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/redisstore"
	"github.com/signoff/signoff/internal/redistest"
	"github.com/signoff/signoff/knowledge"
	"github.com/signoff/signoff/prompts"
	"github.com/signoff/signoff/speech"
)

func TestUnsaid(t *testing.T) {
	for _, tt := range []struct {
		text       string
		said       []string
		want       string
		wantUnused []string
	}{
		{"A one. A two. Choose again:", []string{"A one.", "A two."}, " Choose again:", nil},
		{"A one.", []string{"A one.", "A two."}, "", []string{"A two."}},
		{"Choose again:", []string{"A one."}, "Choose again:", []string{"A one."}},
		{"包裹在车上。今天送到。请选择：", []string{"包裹在车上。", "今天送到。"}, "请选择：", nil},
		{"Hello.", nil, "Hello.", nil},
	} {
		got, unused := unsaid(tt.text, tt.said)
		if strings.TrimSpace(got) != strings.TrimSpace(tt.want) || !slices.Equal(unused, tt.wantUnused) {
			t.Errorf("unsaid(%q, %q) = %q, %q; want %q, %q", tt.text, tt.said, got, unused, tt.want, tt.wantUnused)
		}
	}
}

// streamConv is a fakeConv whose engine hands the first sentence of its
// answer to the sentence sink, then keeps writing until the caller has
// heard it (or 5 s), as a model answering a question does.
type streamConv struct {
	*fakeConv
	heard    chan struct{} // closed by the test when the caller hears the answer
	mu       sync.Mutex
	returned time.Time // when Reply returned
}

const (
	streamFirst  = "OK, it is on the van." // toneTTS speaks "OK..." at the answer level
	streamSecond = "It comes before six."
)

func (s *streamConv) Reply(ctx context.Context, id signoff.SessionID, token string, in signoff.Input) (dialog.Turn, error) {
	dialog.Sentences(ctx)(streamFirst)
	select {
	case <-s.heard:
	case <-time.After(5 * time.Second):
	}
	turn, err := s.fakeConv.Reply(ctx, id, token, in)
	s.mu.Lock()
	s.returned = time.Now()
	s.mu.Unlock()
	return turn, err
}

// TestStreamedAnswerSpokenEarly: the first sentence of an answer is heard
// while the engine is still writing the turn, and when the turn arrives
// only the rest of its line (the second sentence, the menu) is spoken: the
// first sentence is heard once.
func TestStreamedAnswerSpokenEarly(t *testing.T) {
	conv := &streamConv{fakeConv: newFakeConv(), heard: make(chan struct{})}
	conv.answer = func(signoff.Input) signoff.Message {
		return signoff.Message{From: signoff.FromBot, Text: streamFirst + " " + streamSecond + " Choose again:"}
	}
	tts := &toneTTS{}
	_, base := server(t, Config{}, conv, conv, tts, nil)
	c, _ := dial(t, base, conv.s.ID, conv.token, CallerOptions{})
	loudFor(t, c, 200*time.Millisecond, 3*time.Second) // the greeting
	sent, err := c.Press('1')
	if err != nil {
		t.Fatal(err)
	}
	pressed := <-sent
	inAnswer := func(f HeardFrame) bool { return f.RMS > loud && f.RMS < answerRMS*1.5 }
	var answered time.Time
	waitFor(t, 4*time.Second, "the answer's first sentence was not heard while the engine was writing", func() bool {
		fr := c.Heard()
		for i := 0; i+5 <= len(fr); i++ {
			if fr[i].At.After(pressed) && !slices.ContainsFunc(fr[i:i+5], func(f HeardFrame) bool { return !inAnswer(f) }) {
				answered = fr[i].At
				return true
			}
		}
		return false
	})
	close(conv.heard)
	waitFor(t, 5*time.Second, "the rest of the answer was not spoken", func() bool {
		return slices.Contains(tts.Texts(), "Choose again:")
	})
	conv.mu.Lock()
	returned := conv.returned
	conv.mu.Unlock()
	if returned.IsZero() || !answered.Before(returned) {
		t.Fatalf("the first sentence was heard at %v, Reply returned at %v: want it heard before", answered.Format("15:04:05.000"), returned.Format("15:04:05.000"))
	}
	t.Logf("keypad → first sentence at the caller %v, while the engine wrote for %v more",
		answered.Sub(pressed).Round(time.Millisecond), returned.Sub(answered).Round(time.Millisecond))

	// Let the rest play to its end (600 ms of silence: longer than the
	// pause between sentences), then count how often the first sentence
	// (the only one at the answer level) was heard: runs of answer-level
	// frames, five at least.
	waitFor(t, 10*time.Second, "the bot did not finish the answer", func() bool {
		_, ok := silenceFrom(c.Heard(), answered, 30)
		return ok
	})
	runs, n := 0, 0
	for _, f := range c.Heard() {
		if !f.At.After(pressed) {
			continue
		}
		if inAnswer(f) {
			n++
			continue
		}
		if n >= 5 {
			runs++
		}
		n = 0
	}
	if n >= 5 {
		runs++
	}
	if runs != 1 {
		t.Errorf("the first sentence was heard %d times, want once", runs)
	}
	texts := tts.Texts()
	i, j := slices.Index(texts, streamSecond), slices.Index(texts, "Choose again:")
	if i < 0 || j < i {
		t.Errorf("synthesised %q: want the second sentence, then the menu", texts)
	}
	if k := slices.Index(texts, streamFirst); k < 0 || k > i {
		t.Errorf("synthesised %q: want the first sentence before the second", texts)
	}
}

// TestStreamedAfterBargeIn: a sentence of a reply that arrives after the
// caller cut the bot off is not spoken, nor said again with the turn; one
// of an older reply is not spoken at all.
func TestStreamedAfterBargeIn(t *testing.T) {
	c := &call{h: &Handler{}, replying: true, replyN: 2, replyGen: 3, gen: 3, streamU: &utterance{}, synthBusy: true}
	c.onSentence(sentenceEvent{n: 2, text: "One. Two."})
	c.onSentence(sentenceEvent{n: 1, text: "Old."})
	if len(c.script) != 2 || c.script[0].text != "One." || c.script[1].text != "Two." {
		t.Fatalf("script %v, want the two sentences of reply 2", c.script)
	}
	c.gen++ // a barge-in
	c.script = nil
	c.onSentence(sentenceEvent{n: 2, text: "Three."})
	if len(c.script) != 0 {
		t.Errorf("a sentence after the barge-in was queued: %q", c.script[0].text)
	}
	if !slices.Equal(c.streamed, []string{"One. Two.", "Three."}) {
		t.Errorf("streamed %q: want every sentence of reply 2, so the turn does not say them again", c.streamed)
	}
}

// gatedAnswerer is a dialog.Answerer that hands its first sentence on,
// then writes until open is closed (or 5 s), as a model does.
type gatedAnswerer struct{ open chan struct{} }

func (a gatedAnswerer) Answer(ctx context.Context, q dialog.Question) (dialog.Answer, error) {
	dialog.Sentences(ctx)(streamFirst)
	select {
	case <-a.open:
	case <-time.After(5 * time.Second):
	}
	dialog.Sentences(ctx)(streamSecond)
	return dialog.Answer{Text: streamFirst + " " + streamSecond, Sources: []string{"test"}, Score: 1}, nil
}

// TestStreamedAnswerWithEngine: a spoken question through the real engine
// (on redis) and its answer line: the first sentence is heard before the
// turn commits, and neither sentence is spoken again with the turn; the
// menu offered again is.
func TestStreamedAnswerWithEngine(t *testing.T) {
	addr, db := redistest.DB(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	t.Cleanup(func() { rdb.Close() })
	log := testLog(t)
	store := redisstore.New(rdb, log)
	t.Cleanup(func() { store.Close() })
	gate := gatedAnswerer{open: make(chan struct{})}
	engine := dialog.New(store, dialog.MergeFunc(knowledge.Merge), dialog.Config{}, log, dialog.WithAnswerer(gate))
	w := &world{engine: engine, store: store}
	w.did, w.n = w.open(t, "D-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	tts := &toneTTS{}
	asr := &scriptASR{answers: []speech.Result{{Text: "what is your refund policy"}}}
	_, base := server(t, Config{}, engine, store, tts, asr)
	c, _ := dial(t, base, w.n.SessionID, w.n.Token, CallerOptions{})
	loudFor(t, c, 200*time.Millisecond, 3*time.Second) // the greeting
	<-c.Say(buzz(500*time.Millisecond, -20))
	inAnswer := func(f HeardFrame) bool { return f.RMS > loud && f.RMS < answerRMS*1.5 }
	var answered time.Time
	waitFor(t, 6*time.Second, "the answer's first sentence was not heard while the engine was writing", func() bool {
		fr := c.Heard()
		for i := 0; i+5 <= len(fr); i++ {
			if !slices.ContainsFunc(fr[i:i+5], func(f HeardFrame) bool { return !inAnswer(f) }) {
				answered = fr[i].At
				return true
			}
		}
		return false
	})
	if n := len(w.log(t, "answer")); n != 0 {
		t.Fatalf("the turn was committed (%d answer entries) before the first sentence was heard", n)
	}
	close(gate.open)
	menuAgain := prompts.For(signoff.LocaleEN).Text("menu.again")
	waitFor(t, 5*time.Second, "the menu was not offered again", func() bool {
		return slices.Contains(tts.Texts(), splitSentences(menuAgain)[0])
	})
	// The second sentence is louder. Both were handed on before the turn
	// committed: said again, the first would follow the second, so listen
	// for as long as both take after the second begins.
	var second time.Time
	waitFor(t, 10*time.Second, "the second sentence was not heard", func() bool {
		fr := c.Heard()
		for i := 0; i+5 <= len(fr); i++ {
			if fr[i].At.After(answered) && !slices.ContainsFunc(fr[i:i+5], func(f HeardFrame) bool { return f.RMS < answerRMS*1.5 }) {
				second = fr[i].At
				return true
			}
		}
		return false
	})
	time.Sleep(time.Until(second.Add(3500 * time.Millisecond)))
	runs, n := 0, 0
	for _, f := range c.Heard() {
		if inAnswer(f) {
			n++
			continue
		}
		if n >= 5 {
			runs++
		}
		n = 0
	}
	if n >= 5 {
		runs++
	}
	if runs != 1 {
		t.Errorf("the first sentence was heard %d times, want once", runs)
	}
	if !slices.Contains(tts.Texts(), streamSecond) {
		t.Errorf("synthesised %q: want the second sentence", tts.Texts())
	}
	if n := len(w.log(t, "answer")); n != 1 {
		t.Errorf("%d answer entries in the log, want 1", n)
	}
}
