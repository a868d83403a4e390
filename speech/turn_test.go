package speech

import (
	"testing"
	"time"
)

func TestCompletion(t *testing.T) {
	ok := func(key, text string) Result { return Result{Key: key, Text: text, Confidence: 0.8} }
	tests := []struct {
		res  Result
		into Intonation
		want TurnDecision
	}{
		{ok("2", "two"), IntonationFalling, TurnEnd},
		{ok("2", "two"), IntonationRising, TurnHold},
		{ok("2", "two"), IntonationLevel, TurnHold},
		{ok("2", "two"), IntonationUnknown, TurnHold},
		{ok("2", "number two"), IntonationFalling, TurnEnd},
		{ok("yes", "yes"), IntonationRising, TurnEnd},
		{ok("no", "nope"), IntonationUnknown, TurnEnd},
		{ok("9", "repeat"), IntonationLevel, TurnEnd},
		{ok("0", "operator"), IntonationRising, TurnEnd},
		{Result{Rejected: true}, IntonationFalling, TurnWait},
		{Result{Rejected: true, Silence: true}, IntonationFalling, TurnWait},
		{ok("x", "something else"), IntonationFalling, TurnWait},
	}
	for _, tc := range tests {
		if got := Completion(tc.res, tc.into); got != tc.want {
			t.Errorf("Completion(%q, %v) = %v, want %v", tc.res.Text, tc.into, got, tc.want)
		}
	}
}

func TestEndAfter(t *testing.T) {
	const silence, hold = 500 * time.Millisecond, time.Second
	for _, tc := range []struct {
		d    TurnDecision
		h    time.Duration
		want time.Duration
	}{
		{TurnEnd, hold, 0},
		{TurnWait, hold, silence},
		{TurnHold, hold, hold},
		{TurnHold, 100 * time.Millisecond, silence},
	} {
		if got := EndAfter(tc.d, silence, tc.h); got != tc.want {
			t.Errorf("EndAfter(%v, %v, %v) = %v, want %v", tc.d, silence, tc.h, got, tc.want)
		}
	}
}

func TestJoinResults(t *testing.T) {
	two := Result{Key: "2", Text: "two", Confidence: 0.9}
	three := Result{Key: "3", Text: "three", Confidence: 0.7}
	noise := Result{Rejected: true, Silence: true}
	banana := Result{Rejected: true, Confidence: 0.1}
	tests := []struct {
		name string
		in   []Result
		want Result
	}{
		{"one", []Result{two}, Result{Key: "2", Text: "two", Confidence: 0.9}},
		{"number going on", []Result{two, three}, Result{Key: "2 3", Text: "two three", Confidence: 0.7}},
		{"cough between", []Result{two, noise, three}, Result{Key: "2 3", Text: "two three", Confidence: 0.7}},
		{"off-list part", []Result{two, banana}, Result{Rejected: true, Confidence: 0.1}},
		{"only noise", []Result{noise, noise}, Result{Rejected: true, Silence: true}},
		{"nothing", nil, Result{Rejected: true, Silence: true}},
	}
	for _, tc := range tests {
		if got := JoinResults(tc.in); got != tc.want {
			t.Errorf("%s: JoinResults = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
