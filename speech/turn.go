package speech

import (
	"strings"
	"time"
)

// Turn-taking. A caller's turn is one or more stretches of speech with
// pauses between them. A pause is first reported by the VAD after a short
// silence (the early point, 200 ms); the speech so far is recognised then,
// and what was heard decides when the turn ends: at once, after the usual
// end-of-turn silence, or after a longer hold while a number may go on.

// TurnDecision is what the recognition of a stretch of speech, made early
// in the pause after it, means for the end of the turn.
type TurnDecision uint8

// The kinds of TurnDecision.
const (
	// TurnWait ends the turn after the usual end-of-turn silence: nothing
	// was understood, or something that may still be changed.
	TurnWait TurnDecision = iota
	// TurnEnd ends the turn at once: the answer is whole and nothing said
	// after it could change it (yes, no, repeat, agent, or a digit said
	// with a falling voice).
	TurnEnd
	// TurnHold waits the longer hold: a digit said with a level or rising
	// voice, which may be the first of several ("two, … three").
	TurnHold
)

// String returns "wait", "end" or "hold".
func (d TurnDecision) String() string {
	switch d {
	case TurnEnd:
		return "end"
	case TurnHold:
		return "hold"
	}
	return "wait"
}

// Completion decides what res, heard in the stretch of speech before a
// pause, means for the turn; into is that stretch's intonation at its end
// (EndIntonation). Only answers of the menu grammar (MenuGrammar) are
// judged: a rejected result waits.
func Completion(res Result, into Intonation) TurnDecision {
	if res.Rejected || res.Text == "" {
		return TurnWait
	}
	words := strings.Fields(res.Text)
	last := words[len(words)-1]
	if isDigitWord(last) {
		if into == IntonationFalling {
			return TurnEnd
		}
		return TurnHold
	}
	for _, set := range [][]string{yesWords, noWords, repeatWords, personWords} {
		for _, w := range set {
			if res.Text == w {
				return TurnEnd
			}
		}
	}
	return TurnWait
}

// IsDigitAnswer reports whether res is an accepted answer that ends in a
// spoken digit: one that may be the first of several.
func IsDigitAnswer(res Result) bool {
	if res.Rejected {
		return false
	}
	words := strings.Fields(res.Text)
	return len(words) > 0 && isDigitWord(words[len(words)-1])
}

func isDigitWord(w string) bool {
	for _, d := range digitWords {
		if w == d {
			return true
		}
	}
	return false
}

// EndAfter returns how long after the end of the last speech a turn ends
// for decision d: 0 for TurnEnd, hold for TurnHold and silence otherwise.
// A hold shorter than silence is silence.
func EndAfter(d TurnDecision, silence, hold time.Duration) time.Duration {
	switch d {
	case TurnEnd:
		return 0
	case TurnHold:
		return max(hold, silence)
	}
	return silence
}

// JoinResults makes one answer of the results of a turn's stretches of
// speech, in order: the accepted ones' words joined ("two three"), their
// keys joined by spaces and the lowest confidence. Stretches rejected as
// silence or noise (a cough between two words) are left out. A turn with
// any other rejected stretch is rejected, as is one with nothing accepted
// (Silence when every stretch was noise).
func JoinResults(rs []Result) Result {
	var keys, words []string
	out := Result{Confidence: 1}
	for _, r := range rs {
		switch {
		case r.Rejected && r.Silence:
			continue
		case r.Rejected:
			return Result{Rejected: true, Score: r.Score, Confidence: r.Confidence}
		}
		keys = append(keys, r.Key)
		words = append(words, r.Text)
		out.Confidence = min(out.Confidence, r.Confidence)
		out.Score = r.Score
	}
	if len(keys) == 0 {
		return Result{Rejected: true, Silence: true}
	}
	out.Key = strings.Join(keys, " ")
	out.Text = strings.Join(words, " ")
	return out
}
