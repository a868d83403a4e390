package voice

import (
	"testing"
	"time"
)

func heardAt(t0 time.Time, rms float64, ms ...int) []HeardFrame {
	fr := make([]HeardFrame, len(ms))
	for i, m := range ms {
		fr[i] = HeardFrame{At: t0.Add(time.Duration(m) * time.Millisecond), RMS: rms}
	}
	return fr
}

func TestCountLate(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		name  string
		ms    []int
		rms   float64
		late  int
		worst time.Duration
		gaps  int
		wgap  time.Duration
	}{
		{"on time", []int{0, 20, 40, 60, 80}, 1000, 0, 0, 0, 0},
		{"jitter under the limit", []int{0, 25, 38, 79, 80}, 1000, 0, 21 * time.Millisecond, 0, 21 * time.Millisecond}, // 79 is due at 38+20,
		// A 100 ms stall, then a burst that catches up: 80, 60, 40, 20, 0 behind.
		// A frame skipped: every later one is 20 ms further behind.
		{"skipped frames", []int{0, 40, 80, 120, 160}, 1000, 2, 80 * time.Millisecond, 0, 20 * time.Millisecond},
		{"stall then burst", []int{0, 20, 120, 120, 120, 120, 120, 140}, 1000, 2, 80 * time.Millisecond, 1, 80 * time.Millisecond},
		// Early frames move the schedule earlier.
		{"early then late", []int{0, 5, 10, 75}, 1000, 1, 45 * time.Millisecond, 1, 45 * time.Millisecond},
		{"exactly at the limit", []int{0, 60}, 1000, 0, 40 * time.Millisecond, 0, 40 * time.Millisecond},
		{"silence is not counted", []int{0, 200, 400}, 0, 0, 0, 0, 0},
		{"empty", nil, 1000, 0, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := CountLate(heardAt(t0, tc.rms, tc.ms...), LateAfter)
			want := len(tc.ms)
			if tc.rms < benchQuiet {
				want = 0
			}
			if l.Frames != want || l.Late != tc.late || l.Worst != tc.worst || l.Gaps != tc.gaps || l.WorstGap != tc.wgap {
				t.Errorf("got %+v, want %d frames, %d late, worst %v, %d gaps, worst gap %v", l, want, tc.late, tc.worst, tc.gaps, tc.wgap)
			}
		})
	}
}

func TestCountLateOnlySpeaking(t *testing.T) {
	t0 := time.Unix(1000, 0)
	fr := heardAt(t0, 0, 0, 20, 140, 160)
	fr[3].RMS = 1000 // due at 60 (after the quiet, late one at 140): 100 ms behind
	l := CountLate(fr, LateAfter)
	if l.Frames != 1 || l.Late != 1 || l.Worst != 100*time.Millisecond || l.Gaps != 0 {
		t.Errorf("got %+v, want 1 frame, 1 late, worst 100ms, no gap", l)
	}
}

func TestSpeechSpan(t *testing.T) {
	pcm := make([]int16, 160*10+40)
	loud := buzz(20*time.Millisecond, -20)
	copy(pcm[3*160:], loud[:160])
	copy(pcm[7*160+100:], loud[:40])
	if f, l := speechSpan(pcm); f != 3 || l != 7 {
		t.Errorf("speechSpan: got %d, %d, want 3, 7", f, l)
	}
	copy(pcm[10*160:], loud[:40]) // the short last frame counts
	if f, l := speechSpan(pcm); f != 3 || l != 10 {
		t.Errorf("speechSpan with a short last frame: got %d, %d, want 3, 10", f, l)
	}
	if f, l := speechSpan(make([]int16, 480)); f != -1 || l != -1 {
		t.Errorf("speechSpan(silence): got %d, %d, want -1, -1", f, l)
	}
}

func TestQuietFor(t *testing.T) {
	t0 := time.Unix(1000, 0)
	fr := append(heardAt(t0, 1000, 0, 20), heardAt(t0, 50, 40, 60, 80)...)
	if !quietFor(fr, 3) || quietFor(fr, 4) || quietFor(fr[:1], 2) {
		t.Error("quietFor: wrong")
	}
}
