package voice

import (
	"slices"
	"time"

	"github.com/signoff/signoff/speech"
)

// The caller's turn, on the call's goroutine.
//
// The VAD reports a pause after Config.EarlyAfter of silence (200 ms).
// The stretch of speech before it is then recognised on a worker, with its
// intonation, and the result is posted back here. If the caller has not
// spoken again meanwhile (the pause counter is unchanged), the result sets
// when the turn ends (speech.Completion): at once for a whole answer, after
// Config.Hold for a digit that may go on, after Config.EndSilence
// otherwise. Speech before the turn ends continues the turn, and its
// stretches' results are joined ("two … three" is "two three").
// Without early recognition (EarlyAfter < 0) the turn ends after
// EndSilence and is recognised whole.

// The joining of speech to a number that ended its turn early: see
// beginTurn.
const (
	joinWindow = time.Second
	joinPlayed = 300 * time.Millisecond
)

// early reports whether stretches of speech are recognised in the pauses.
func (c *call) early() bool { return c.h.cfg.EarlyAfter > 0 && c.h.asr != nil }

// beginTurn starts a turn with the utterance just begun at at. Speech that
// starts within joinWindow of a number that ended its turn early, before
// joinPlayed of the answer has played, continues that number: "two. … one"
// reaches the engine as "two" then "two one", never as a bare "one", which
// the read-back of "two" would take for yes.
func (c *call) beginTurn(at time.Duration) {
	c.cur = &turnState{}
	if c.joinText != "" && at < c.joinUntil && c.joinPlayed < joinPlayed {
		c.cur.prefix = c.joinText
	}
	c.joinText = ""
	c.pausing, c.deciding = false, false
	c.segStart = 0
	c.pauses++
}

// resume continues the turn: the caller spoke again, at at, before it
// ended.
func (c *call) resume(at time.Duration) {
	c.pausing, c.deciding = false, false
	c.pauses++
	c.segStart = min(len(c.utt), max(0, speech.Samples(at-preRoll-c.uttStart, speech.SampleRate)))
}

// onPause takes the VAD's report that the speech stopped at at: the turn
// ends after the end-of-turn silence unless the stretch just spoken,
// recognised now, says otherwise.
func (c *call) onPause(at time.Duration) {
	c.pausing = true
	c.pauses++
	c.speechEnd = at
	c.endAt = at + c.h.cfg.EndSilence
	if c.early() && c.cur != nil && c.inbandKey < c.uttStart-preRoll {
		end := min(len(c.utt), speech.Samples(at+postRoll-c.uttStart, speech.SampleRate))
		if end > c.segStart {
			c.recognizeStretch(c.cur, slices.Clone(c.utt[c.segStart:end]))
			c.deciding = true
		}
	}
	if c.turnOver() {
		c.endTurn()
	}
}

// turnOver reports whether the pause has lasted long enough to end the
// turn. While the stretch before it is being recognised the turn waits
// for the result, which may hold it ("two, …").
func (c *call) turnOver() bool {
	return c.pausing && !c.deciding && c.vad.Elapsed() >= c.endAt
}

// recognizeStretch recognises one stretch of speech of turn ts on a
// worker, with the intonation at its end when it is a digit.
func (c *call) recognizeStretch(ts *turnState, pcm []int16) {
	seg, pause := len(ts.segs), c.pauses
	ts.segs = append(ts.segs, speech.Result{})
	ts.pending++
	g := speech.MenuGrammar(c.offered, c.cat.Locale)
	c.spawn(func() {
		ev := asrDone{ts: ts, seg: seg, pause: pause}
		if !voiced(pcm) {
			ev.res = speech.Result{Rejected: true, Silence: true}
		} else {
			ev.res, ev.err = c.h.asr.Recognize(c.ctx, pcm, g)
			if ev.err == nil && speech.IsDigitAnswer(ev.res) {
				ev.into = speech.EndIntonation(pcm, speech.SampleRate)
			}
		}
		c.post(ev)
	})
}

// recognizeWhole recognises a whole turn on a worker.
func (c *call) recognizeWhole(ts *turnState, pcm []int16) {
	g := speech.MenuGrammar(c.offered, c.cat.Locale)
	c.spawn(func() {
		ev := asrDone{ts: ts, seg: -1}
		if !voiced(pcm) {
			// A noise, not a word: never let the recogniser guess.
			ev.res = speech.Result{Rejected: true, Silence: true}
		} else {
			ev.res, ev.err = c.h.asr.Recognize(c.ctx, pcm, g)
		}
		c.post(ev)
	})
}

// endTurn ends the turn being spoken: its answer goes on once every
// stretch of it has been recognised.
func (c *call) endTurn() {
	ts, wasPausing := c.cur, c.pausing
	c.cur, c.capturing, c.pausing, c.deciding = nil, false, false, false
	pcm := c.utt
	c.utt = nil
	if ts == nil || c.inbandKey >= c.uttStart-preRoll || c.h.asr == nil {
		return // a keypad tone, or nobody to listen
	}
	c.utterances++
	if wasPausing {
		pcm = pcm[:min(len(pcm), speech.Samples(c.speechEnd+postRoll-c.uttStart, speech.SampleRate))]
	}
	ts.ended, ts.pcm = true, pcm
	if !c.early() || !wasPausing {
		// Recognised whole: no early recognition, or the turn was cut at
		// maxUtterance mid-speech.
		ts.segs, ts.pending = nil, 1
		c.recognizeWhole(ts, pcm)
		return
	}
	c.finishTurn(ts)
}

// finishTurn delivers the answer of an ended turn once its stretches are
// all recognised. When one stretch was off the menu among others, the
// turn is tried once more as a whole: "number … two" said with a pause.
func (c *call) finishTurn(ts *turnState) {
	if ts.pending > 0 {
		return
	}
	res := speech.JoinResults(ts.segs)
	if res.Rejected && !res.Silence && heardStretches(ts.segs) > 1 && ts.pcm != nil {
		pcm := ts.pcm
		ts.pcm, ts.segs, ts.pending = nil, nil, 1
		c.recognizeWhole(ts, pcm)
		return
	}
	ts.pcm = nil
	c.deliver(ts, res, nil)
}

// heardStretches counts the stretches with more than noise in them.
func heardStretches(rs []speech.Result) int {
	n := 0
	for _, r := range rs {
		if !r.Silence {
			n++
		}
	}
	return n
}

// onRecognized takes a result of the recogniser.
func (c *call) onRecognized(ev asrDone) {
	ts := ev.ts
	ts.pending--
	if ev.seg < 0 {
		c.deliver(ts, ev.res, ev.err)
		return
	}
	if ev.err != nil {
		c.h.logErr("voice: recognition failed", ev.err, "call", c.id)
		ev.res = speech.Result{Rejected: true}
	}
	ts.segs[ev.seg] = ev.res
	if ts.ended {
		c.finishTurn(ts)
		return
	}
	if ts != c.cur || !c.pausing || ev.pause != c.pauses {
		return // the caller spoke again: the turn goes on
	}
	d := speech.Completion(ev.res, ev.into)
	if d == speech.TurnEnd && speech.IsDigitAnswer(ev.res) {
		c.joinText, c.joinUntil, c.joinPlayed = speech.JoinResults(ts.segs).Text, c.speechEnd+joinWindow, 0
	}
	c.h.log.Debug("voice: early recognition", "call", c.id, "key", ev.res.Key, "rejected", ev.res.Rejected,
		"intonation", ev.into, "decision", d, "after", c.vad.Elapsed()-c.speechEnd)
	c.endAt = c.speechEnd + speech.EndAfter(d, c.h.cfg.EndSilence, c.h.cfg.Hold)
	c.deciding = false
	if c.turnOver() {
		c.endTurn()
	}
}
