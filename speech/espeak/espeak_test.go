package espeak

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signoff/signoff"
)

// newSynth returns a Synth on the real espeak-ng, and fails, not skips,
// without it: New's error says what to install.
func newSynth(t testing.TB, opts Options) *Synth {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// countRuns makes s count its espeak-ng runs.
func countRuns(s *Synth) *atomic.Int64 {
	var n atomic.Int64
	run := s.run
	s.run = func(ctx context.Context, args []string, stdin string) ([]byte, error) {
		n.Add(1)
		return run(ctx, args, stdin)
	}
	return &n
}

func seconds(pcm []int16) float64 { return float64(len(pcm)) / SampleRate }

// silenceRMS is the RMS below which audio counts as silence: -50 dBFS.
var silenceRMS = dbfsToRMS(-50)

func TestNew(t *testing.T) {
	s := newSynth(t, Options{})
	if !strings.HasPrefix(s.String(), "espeak-ng ") {
		t.Errorf("String() = %q, want espeak-ng <version> (...)", s.String())
	}
	t.Logf("%s", s)
	for _, tc := range []struct {
		lang, want string
	}{
		{"en", "en-us"}, {"en-US", "en-us"}, {"zh-CN", s.mandarin}, {"zh", s.mandarin}, {"cmn", s.mandarin},
	} {
		if got, err := s.Voice(tc.lang); err != nil || got != tc.want {
			t.Errorf("Voice(%q) = %q, %v; want %q", tc.lang, got, err, tc.want)
		}
	}
	if _, err := s.Voice("fr"); !errors.Is(err, signoff.ErrInvalid) {
		t.Errorf("Voice(fr) error = %v, want ErrInvalid", err)
	}
}

// TestMandarinVoice pins down the choice documented on Synthesize: where
// espeak-ng has cmn-latn-pinyin (it does in Debian's 1.51), it is used.
func TestMandarinVoice(t *testing.T) {
	s := newSynth(t, Options{})
	if s.mandarin != voicePinyin {
		t.Errorf("Mandarin voice = %q, want %q: espeak-ng --voices=cmn lists it here", s.mandarin, voicePinyin)
	}
}

func TestNewMissingProgram(t *testing.T) {
	_, err := New(Options{Program: "/nonexistent/espeak-ng"})
	if !errors.Is(err, signoff.ErrUnavailable) {
		t.Fatalf("New with no espeak-ng: error %v, want ErrUnavailable", err)
	}
	if got := signoff.ErrorMessage(err); got != "espeak-ng not found: apt-get install espeak-ng (or run make deps)" {
		t.Errorf("message = %q, want the install hint", got)
	}
}

func TestNewBadOptions(t *testing.T) {
	for _, o := range []Options{{Rate: 20}, {SlowRate: 1000}, {Rate: -1}} {
		if _, err := New(o); !errors.Is(err, signoff.ErrInvalid) {
			t.Errorf("New(%+v) error = %v, want ErrInvalid", o, err)
		}
	}
}

func TestSynthesizeEnglish(t *testing.T) {
	s := newSynth(t, Options{})
	start := time.Now()
	pcm, err := s.Synthesize(t.Context(), "Reply two to leave it at the door", "en", false)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if d := seconds(pcm); d < 1 || d > 6 {
		t.Errorf("got %.2f s of audio, want 1 to 6 s", d)
	}
	if rms := rms(pcm); rms < 10*silenceRMS {
		t.Errorf("got RMS %.0f (%.1f dBFS), want above %.0f", rms, rmsToDBFS(rms), 10*silenceRMS)
	}
	t.Logf("English: %.2f s of audio, RMS %.0f (%.1f dBFS), synthesised in %v", seconds(pcm), rms(pcm), dbfs(pcm), took)
}

func TestSynthesizeMandarin(t *testing.T) {
	s := newSynth(t, Options{})
	start := time.Now()
	pcm, err := s.Synthesize(t.Context(), "请回复数字二", "zh-CN", false)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	// Six syllables at 150 words a minute: about a second and a half.
	if d := seconds(pcm); d < 0.8 || d > 5 {
		t.Errorf("got %.2f s of audio, want 0.8 to 5 s", d)
	}
	if rms := rms(pcm); rms < 10*silenceRMS {
		t.Errorf("got RMS %.0f (%.1f dBFS), want above %.0f", rms, rmsToDBFS(rms), 10*silenceRMS)
	}
	t.Logf("Mandarin (%s): %.2f s of audio, RMS %.0f (%.1f dBFS), synthesised in %v", s.mandarin, seconds(pcm), rms(pcm), dbfs(pcm), took)
}

func TestSlowIsLonger(t *testing.T) {
	s := newSynth(t, Options{})
	for _, tc := range []struct{ text, lang string }{
		{"Reply two to leave it at the door", "en"},
		{"请回复数字二", "zh-CN"},
	} {
		normal, err := s.Synthesize(t.Context(), tc.text, tc.lang, false)
		if err != nil {
			t.Fatal(err)
		}
		slow, err := s.Synthesize(t.Context(), tc.text, tc.lang, true)
		if err != nil {
			t.Fatal(err)
		}
		if seconds(slow) < 1.15*seconds(normal) {
			t.Errorf("%s: slow %.2f s, normal %.2f s; want slow at least 15%% longer", tc.lang, seconds(slow), seconds(normal))
		}
		t.Logf("%s: normal %.2f s, slow %.2f s", tc.lang, seconds(normal), seconds(slow))
	}
}

func TestSynthesizeCancel(t *testing.T) {
	s := newSynth(t, Options{CacheSize: -1})
	long := strings.Repeat("Reply two to leave it at the door, or three for the locker. ", 40)

	// Cancelled before: no process at all.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	runs := countRuns(s)
	if _, err := s.Synthesize(ctx, long, "en", false); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before: error %v, want context.Canceled", err)
	}
	if runs.Load() != 0 {
		t.Errorf("cancelled before: espeak-ng ran %d times, want 0", runs.Load())
	}

	// Cancelled while espeak-ng runs: killed, and back quickly.
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := s.Synthesize(ctx, long, "en", false)
	took := time.Since(start)
	if err != context.Canceled {
		t.Errorf("cancelled during: error %v, want context.Canceled itself", err)
	}
	if took > time.Second {
		t.Errorf("cancelled during: returned after %v, want well under a second", took)
	}
	t.Logf("cancelled 50 ms in, returned after %v", took)

	// Deadline: its own error.
	ctx, cancel2 := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel2()
	if _, err := s.Synthesize(ctx, long, "zh-CN", true); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: error %v, want context.DeadlineExceeded", err)
	}
}

func TestCache(t *testing.T) {
	s := newSynth(t, Options{CacheSize: 2})
	runs := countRuns(s)
	ctx := t.Context()
	say := func(text, lang string, slow bool) []int16 {
		t.Helper()
		pcm, err := s.Synthesize(ctx, text, lang, slow)
		if err != nil {
			t.Fatal(err)
		}
		return pcm
	}
	first := say("Reply two", "en", false)
	again := say("Reply two", "en", false)
	if runs.Load() != 1 {
		t.Fatalf("espeak-ng ran %d times for the same sentence twice, want 1", runs.Load())
	}
	if len(first) == 0 || !slices.Equal(first, again) {
		t.Fatalf("cache hit returned %d samples, first run %d: want the same audio", len(again), len(first))
	}
	// Callers own what they get: scribbling on it leaves the cache alone.
	clear(again)
	if third := say("Reply two", "en", false); !slices.Equal(first, third) {
		t.Error("modifying a result changed the cached audio")
	}
	// Language and pace are part of the key; "en-US" shares "en"'s voice.
	say("Reply two", "en", true)
	say("Reply two", "en-US", false)
	if runs.Load() != 2 {
		t.Errorf("espeak-ng ran %d times, want 2 (slow is a new entry, en-US is en)", runs.Load())
	}
	// Two entries: a third pushes out the least recently used, the slow one.
	say("放门口", "zh-CN", false)
	say("Reply two", "en", false)
	say("Reply two", "en", true)
	if runs.Load() != 4 {
		t.Errorf("espeak-ng ran %d times, want 4 (the slow entry was evicted)", runs.Load())
	}
	if n := s.cache.len(); n != 2 {
		t.Errorf("cache holds %d entries, want 2", n)
	}
}

func TestNoCache(t *testing.T) {
	s := newSynth(t, Options{CacheSize: -1})
	runs := countRuns(s)
	for range 2 {
		if _, err := s.Synthesize(t.Context(), "Two", "en", false); err != nil {
			t.Fatal(err)
		}
	}
	if runs.Load() != 2 {
		t.Errorf("espeak-ng ran %d times with no cache, want 2", runs.Load())
	}
}

func TestNothingToSay(t *testing.T) {
	s := newSynth(t, Options{})
	runs := countRuns(s)
	for _, tc := range []struct{ text, lang string }{{"", "en"}, {"  \n", "en"}, {"。！", "zh-CN"}, {"...", "en"}} {
		pcm, err := s.Synthesize(t.Context(), tc.text, tc.lang, false)
		if err != nil || len(pcm) != 0 {
			t.Errorf("Synthesize(%q) = %d samples, %v; want none and no error", tc.text, len(pcm), err)
		}
	}
	if runs.Load() != 0 {
		t.Errorf("espeak-ng ran %d times for nothing, want 0", runs.Load())
	}
}

// TestHostileText checks that text reaches espeak-ng as text: not as an
// option, not through a shell, not as SSML.
func TestHostileText(t *testing.T) {
	s := newSynth(t, Options{CacheSize: -1})
	pwned := filepath.Join(t.TempDir(), "pwned")
	for _, text := range []string{"-v fr --help", "$(touch " + pwned + "); `touch " + pwned + "`", "<speak><break time=\"20s\"/></speak>"} {
		pcm, err := s.Synthesize(t.Context(), text, "en", false)
		if err != nil {
			t.Errorf("Synthesize(%q): %v", text, err)
			continue
		}
		if d := seconds(pcm); d < 0.3 || d > 60 {
			t.Errorf("Synthesize(%q) gave %.2f s of audio, want it read out", text, d)
		}
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Error("the text ran a shell command")
	}
}

func TestSynthesizeError(t *testing.T) {
	s := newSynth(t, Options{CacheSize: -1})
	for _, prog := range []string{"false", "true"} { // fails; says nothing
		path, err := exec.LookPath(prog)
		if err != nil {
			t.Fatal(err)
		}
		s.program = path // as if espeak-ng broke after New
		if _, err := s.Synthesize(t.Context(), "你好", "zh-CN", false); !errors.Is(err, signoff.ErrUnavailable) {
			t.Errorf("espeak-ng replaced by %s: error %v, want ErrUnavailable", prog, err)
		}
	}
	if _, err := s.Synthesize(t.Context(), "bonjour", "fr", false); !errors.Is(err, signoff.ErrInvalid) {
		t.Errorf("lang fr: error %v, want ErrInvalid", err)
	}
}

// TestConcurrent runs many syntheses at once through one Synth, under
// -race, and checks that at most 2×GOMAXPROCS processes ran at a time.
func TestConcurrent(t *testing.T) {
	s := newSynth(t, Options{CacheSize: 4})
	var running, peak atomic.Int64
	run := s.run
	s.run = func(ctx context.Context, args []string, stdin string) ([]byte, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		return run(ctx, args, stdin)
	}
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Go(func() {
			text := fmt.Sprintf("Reply %d", i%8)
			pcm, err := s.Synthesize(t.Context(), text, []string{"en", "zh-CN"}[i%2], i%3 == 0)
			if err != nil || len(pcm) == 0 {
				t.Errorf("Synthesize(%q) = %d samples, %v", text, len(pcm), err)
			}
		})
	}
	wg.Wait()
	if p, limit := peak.Load(), int64(cap(s.sem)); p > limit {
		t.Errorf("%d espeak-ng processes at once, want at most %d", p, limit)
	}
}

func TestCappedBuffer(t *testing.T) {
	b := &cappedBuffer{max: 4}
	if _, err := b.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Write([]byte("de")); err == nil || !b.full {
		t.Errorf("writing past max: err %v, full %v; want an error and full", err, b.full)
	}
	q := &cappedBuffer{max: 4, quiet: true}
	if n, err := q.Write([]byte("abcdef")); n != 6 || err != nil || q.String() != "abcd" {
		t.Errorf("quiet: Write = %d, %v, kept %q; want 6, nil, \"abcd\"", n, err, q.String())
	}
}

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		out, want string
		ok        bool
	}{
		{"eSpeak NG text-to-speech: 1.51  Data at: /usr/lib/x86_64-linux-gnu/espeak-ng-data\n", "1.51", true},
		{"eSpeak NG text-to-speech: 1.52-dev  Data at: /usr/share/espeak-ng-data\n", "1.52-dev", true},
		{"eSpeak text-to-speech: 1.48.15  16.Apr.15  Data at: /usr/share/espeak-data\n", "", false},
	} {
		if got, ok := parseVersion(tc.out); got != tc.want || ok != tc.ok {
			t.Errorf("parseVersion(%q) = %q, %v; want %q, %v", tc.out, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseVoices(t *testing.T) {
	out := `Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  cmn             --/M      Chinese_(Mandarin,_latin_as_English) sit/cmn              (zh-cmn 5)(zh 5)
 5  cmn-latn-pinyin --/M      Chinese_(Mandarin,_latin_as_Pinyin) sit/cmn-Latn-pinyin  (zh-cmn 5)(zh 5)
 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)
`
	got := parseVoices(out)
	for _, v := range []string{"cmn", "cmn-latn-pinyin", "en-us"} {
		if !got[v] {
			t.Errorf("parseVoices: no %q in %v", v, got)
		}
	}
	if len(got) != 3 {
		t.Errorf("parseVoices found %d languages, want 3: %v", len(got), got)
	}
}

// BenchmarkSynthesize measures one sentence of a menu, cold (espeak-ng
// runs) and cached.
func BenchmarkSynthesize(b *testing.B) {
	for _, tc := range []struct{ name, text, lang string }{
		{"en", "Reply two to leave it at the door", "en"},
		{"zh", "请回复数字二", "zh-CN"},
	} {
		b.Run("cold/"+tc.name, func(b *testing.B) {
			s := newSynth(b, Options{CacheSize: -1})
			for b.Loop() {
				if _, err := s.Synthesize(b.Context(), tc.text, tc.lang, false); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed())/float64(time.Millisecond)/float64(b.N), "ms/op")
		})
		b.Run("cached/"+tc.name, func(b *testing.B) {
			s := newSynth(b, Options{})
			if _, err := s.Synthesize(b.Context(), tc.text, tc.lang, false); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := s.Synthesize(b.Context(), tc.text, tc.lang, false); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed())/float64(time.Millisecond)/float64(b.N), "ms/op")
		})
	}
}
