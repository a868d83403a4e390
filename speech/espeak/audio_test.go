package espeak

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Levels, as package speech measures them; the tests do not import it.

func rms(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var sum float64
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(pcm)))
}

func rmsToDBFS(r float64) float64 {
	if r <= 0 {
		return -100
	}
	return 20 * math.Log10(r/32768)
}

func dbfs(pcm []int16) float64 { return rmsToDBFS(rms(pcm)) }

func dbfsToRMS(db float64) float64 { return 32768 * math.Pow(10, db/20) }

func sine(rate int, hz, sec, amp float64) []int16 {
	out := make([]int16, int(float64(rate)*sec))
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return out
}

// TestResample checks the filter: espeak-ng's 22050 Hz down to 16 kHz keeps
// the speech band and removes what would alias above 8 kHz.
func TestResample(t *testing.T) {
	r := resamplerFor(22050, SampleRate)
	for _, tc := range []struct {
		hz       float64
		min, max float64 // gain in dB, measured away from the edges
	}{
		{300, -0.2, 0.2},
		{1000, -0.2, 0.2},
		{3400, -0.2, 0.2},
		{6500, -1, 0.2},
		{9000, -200, -45}, // would fold back to 7 kHz
		{10000, -200, -45},
	} {
		in := sine(22050, tc.hz, 1, 10000)
		out := r.run(in)
		if want := len(in) * 320 / 441; len(out) != want {
			t.Fatalf("%v Hz: %d samples out, want %d", tc.hz, len(out), want)
		}
		mid := out[len(out)/4 : 3*len(out)/4]
		gain := 20 * math.Log10(rms(mid)/rms(in[len(in)/4:3*len(in)/4]))
		if gain < tc.min || gain > tc.max {
			t.Errorf("%v Hz: gain %.2f dB, want %.1f to %.1f", tc.hz, gain, tc.min, tc.max)
		}
	}
	if got := resamplerFor(SampleRate, SampleRate).run([]int16{1, 2, 3}); len(got) != 3 || got[2] != 3 {
		t.Errorf("same rate: got %v, want a copy", got)
	}
	up := resamplerFor(8000, SampleRate).run(sine(8000, 1000, 0.5, 10000))
	if g := 20 * math.Log10(rms(up[2000:6000])/(10000/math.Sqrt2)); len(up) != 8000 || math.Abs(g) > 0.3 {
		t.Errorf("8 kHz up to 16 kHz: %d samples at %.2f dB, want 8000 at 0 dB", len(up), g)
	}
}

// TestParseWAV reads a WAV as espeak-ng streams it: sizes it could not fill
// in, and a chunk before the data.
func TestParseWAV(t *testing.T) {
	le := binary.LittleEndian
	var b []byte
	b = append(b, "RIFF"...)
	b = le.AppendUint32(b, 0x7fffffff)
	b = append(b, "WAVE"...)
	b = append(b, "fmt "...)
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, 1)     // PCM
	b = le.AppendUint16(b, 1)     // mono
	b = le.AppendUint32(b, 22050) // rate
	b = le.AppendUint32(b, 44100) // byte rate
	b = le.AppendUint16(b, 2)     // block align
	b = le.AppendUint16(b, 16)    // bits
	b = append(b, "LIST"...)
	b = le.AppendUint32(b, 3)
	b = append(b, 'a', 'b', 'c', 0) // odd size, padded
	b = append(b, "data"...)
	b = le.AppendUint32(b, 0x7fffffff)
	for _, v := range []int16{1, -2, 32767, -32768} {
		b = le.AppendUint16(b, uint16(v))
	}
	pcm, rate, err := parseWAV(b)
	if err != nil || rate != 22050 || len(pcm) != 4 || pcm[1] != -2 || pcm[3] != -32768 {
		t.Errorf("parseWAV = %v, %d, %v; want [1 -2 32767 -32768], 22050", pcm, rate, err)
	}
	stereo := append([]byte(nil), b...)
	le.PutUint16(stereo[22:], 2)
	for name, bad := range map[string][]byte{"empty": nil, "not RIFF": []byte("RIFX0000WAVE"), "stereo": stereo, "no data": b[:36]} {
		if _, _, err := parseWAV(bad); err == nil {
			t.Errorf("parseWAV(%s): no error", name)
		}
	}
}

// TestCancelKillsProcess checks that ending the context kills espeak-ng:
// once Synthesize returns, the process is gone.
func TestCancelKillsProcess(t *testing.T) {
	s := newSynth(t, Options{CacheSize: -1})
	pids := make(chan int, 1)
	s.started = func(p *os.Process) { pids <- p.Pid }
	ctx, cancel := context.WithCancel(t.Context())
	long := strings.Repeat("Reply two to leave it at the door, or three for the locker. ", 200)
	errc := make(chan error, 1)
	go func() {
		_, err := s.Synthesize(ctx, long, "en", false)
		errc <- err
	}()
	pid := <-pids
	time.Sleep(20 * time.Millisecond)
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("espeak-ng (pid %d) is not running before the cancel: %v", pid, err)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("espeak-ng (pid %d) after the cancel: kill -0 says %v, want no such process", pid, err)
	}
}

// TestSharedRun checks that callers asking for the same text at once share
// one run of espeak-ng.
func TestSharedRun(t *testing.T) {
	s := newSynth(t, Options{})
	runs := countRuns(s)
	errs := make(chan error, 10)
	for range 10 {
		go func() {
			pcm, err := s.Synthesize(t.Context(), "Reply nine to hear the menu again", "en", true)
			if err == nil && len(pcm) == 0 {
				err = errors.New("no audio")
			}
			errs <- err
		}()
	}
	for range 10 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("espeak-ng ran %d times for ten callers of one text, want 1", n)
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"Reply [[h@l'oU]] two": "Reply [ [h@l'oU] ] two",
		"[[[[x]]]]":            "[ [ [ [x] ] ] ]",
		"a\x00b\tc\nd":         "a b c d",
		"放门口":                  "放门口",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}
