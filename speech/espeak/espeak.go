package espeak

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/signoff/signoff"
)

// SampleRate is the rate of the audio Synthesize returns: 16 kHz mono,
// signed 16-bit, the rate of the voice pipeline.
const SampleRate = 16000

// The espeak-ng voices Synthesize uses.
const (
	voiceEnglish = "en-us"
	voicePinyin  = "cmn-latn-pinyin" // Mandarin, read from pinyin with tone numbers
	voiceHan     = "cmn"             // Mandarin, read from Han characters
)

// slowGap is the extra pause between words of slow speech, in espeak-ng's
// units of 10 ms at the default speed, which it stretches at slow ones: 2
// adds about 90 ms a word at 115 words a minute, enough to tell the words of
// a menu apart; 5 (160 ms) already sounds like a list being dictated.
const slowGap = 2

// maxStderr is how much of espeak-ng's error output an error keeps.
const maxStderr = 2048

// maxWAV is the most audio one run of espeak-ng may write, in bytes: 64 MiB,
// about 25 minutes at 22050 Hz. Prompts are sentences; this stops a runaway.
const maxWAV = 64 << 20

// installHint is the message of every error that means espeak-ng is not
// (properly) installed.
const installHint = "espeak-ng not found: apt-get install espeak-ng (or run make deps)"

// Options tune a Synth. The zero value is the default.
type Options struct {
	// Rate is the speed of normal speech in words per minute, 80 to 450;
	// default 150, a little slower than espeak-ng's 175, for the phone.
	Rate int
	// SlowRate is the speed of slow speech (elderly mode), 80 to 450;
	// default 115. Slow speech also pauses between words.
	SlowRate int
	// CacheSize is how many synthesised sentences are kept, least
	// recently used out first; default 256, negative for none.
	CacheSize int
	// Program is the espeak-ng executable, a path or a name looked up in
	// PATH; default "espeak-ng".
	Program string
}

func (o Options) withDefaults() Options {
	if o.Rate == 0 {
		o.Rate = 150
	}
	if o.SlowRate == 0 {
		o.SlowRate = 115
	}
	if o.CacheSize == 0 {
		o.CacheSize = 256
	}
	if o.Program == "" {
		o.Program = "espeak-ng"
	}
	return o
}

// Synth synthesises speech by running espeak-ng, one process a sentence, at
// most two per CPU at a time. It is safe for concurrent use.
type Synth struct {
	program  string // the resolved path of espeak-ng
	version  string // "1.51"
	mandarin string // voicePinyin or voiceHan
	opts     Options
	sem      chan struct{} // one token per running espeak-ng
	cache    *lru

	mu       sync.Mutex
	inflight map[cacheKey]*call // syntheses running, which callers of the same text share

	// run runs espeak-ng with args and stdin and returns its standard
	// output; tests wrap it to count runs.
	run func(ctx context.Context, args []string, stdin string) ([]byte, error)
	// started, if set, is told of each espeak-ng process exec starts (tests).
	started func(*os.Process)
}

// call is one synthesis in flight.
type call struct {
	done chan struct{}
	pcm  []int16
	err  error
}

// New checks that espeak-ng runs and has the voices Synthesize needs, and
// returns a Synth. Without espeak-ng (or its voice data) it returns an error
// of kind signoff.ErrUnavailable whose message says which Debian package to
// install; options out of range are of kind signoff.ErrInvalid.
//
// It runs espeak-ng twice and waits for it, which takes a few milliseconds;
// call it once at startup.
func New(opts Options) (*Synth, error) {
	opts = opts.withDefaults()
	for _, r := range []int{opts.Rate, opts.SlowRate} {
		if r < 80 || r > 450 {
			return nil, signoff.Errorf(signoff.ErrInvalid, "bad_speech_rate", "speech rate %d words a minute: want 80 to 450", r)
		}
	}
	program, err := exec.LookPath(opts.Program)
	if err != nil {
		return nil, signoff.Wrap(signoff.ErrUnavailable, "espeak_missing", installHint, err)
	}
	out, err := exec.Command(program, "--version").Output()
	if err != nil {
		return nil, signoff.Wrap(signoff.ErrUnavailable, "espeak_missing", installHint, fmt.Errorf("%s --version: %w", program, err))
	}
	version, ok := parseVersion(string(out))
	if !ok {
		return nil, signoff.Wrap(signoff.ErrUnavailable, "espeak_missing", installHint, fmt.Errorf("%s --version says %q, not eSpeak NG", program, strings.TrimSpace(string(out))))
	}
	out, err = exec.Command(program, "--voices").Output()
	if err != nil {
		return nil, signoff.Wrap(signoff.ErrUnavailable, "espeak_missing", installHint, fmt.Errorf("%s --voices: %w", program, err))
	}
	voices := parseVoices(string(out))
	s := &Synth{
		program:  program,
		version:  version,
		opts:     opts,
		sem:      make(chan struct{}, 2*runtime.GOMAXPROCS(0)),
		cache:    newLRU(opts.CacheSize),
		inflight: make(map[cacheKey]*call),
	}
	switch {
	case !voices[voiceEnglish]:
		return nil, missingVoice(voiceEnglish)
	case voices[voicePinyin]:
		s.mandarin = voicePinyin
	case voices[voiceHan]:
		s.mandarin = voiceHan
	default:
		return nil, missingVoice(voiceHan)
	}
	s.run = s.exec
	return s, nil
}

func missingVoice(v string) error {
	return signoff.Errorf(signoff.ErrUnavailable, "espeak_voice_missing",
		"espeak-ng has no %s voice: apt-get install espeak-ng-data (or run make deps)", v)
}

// parseVersion finds the version in the output of espeak-ng --version:
// "eSpeak NG text-to-speech: 1.51  Data at: ...".
func parseVersion(out string) (string, bool) {
	_, rest, ok := strings.Cut(out, "eSpeak NG text-to-speech:")
	if !ok {
		return "", false
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return "", false
	}
	return f[0], true
}

// parseVoices returns the set of languages in the output of espeak-ng
// --voices, a table whose second column is the language that -v takes:
//
//	Pty Language       Age/Gender VoiceName          File                 Other Languages
//	 5  cmn-latn-pinyin --/M      Chinese_(Mandarin,_latin_as_Pinyin) sit/cmn-Latn-pinyin  (zh-cmn 5)(zh 5)
func parseVoices(out string) map[string]bool {
	langs := make(map[string]bool)
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] != "Pty" {
			langs[strings.ToLower(f[1])] = true
		}
	}
	return langs
}

// String describes s for logs: "espeak-ng 1.51 (en-us, cmn-latn-pinyin)".
func (s *Synth) String() string {
	return fmt.Sprintf("espeak-ng %s (%s, %s)", s.version, voiceEnglish, s.mandarin)
}

// Voice returns the espeak-ng voice that Synthesize uses for lang: "en-us"
// for English ("en", "en-US", ...) and for Mandarin ("zh-CN", "zh", "cmn",
// ...) "cmn-latn-pinyin", or "cmn" where espeak-ng lacks that voice. Other
// languages are an error of kind signoff.ErrInvalid.
func (s *Synth) Voice(lang string) (string, error) {
	l := strings.ToLower(lang)
	switch {
	case l == "en" || strings.HasPrefix(l, "en-"):
		return voiceEnglish, nil
	case l == "zh" || strings.HasPrefix(l, "zh-") || l == "cmn" || strings.HasPrefix(l, "cmn-"):
		return s.mandarin, nil
	}
	return "", signoff.Errorf(signoff.ErrInvalid, "unsupported_language", "speech synthesis in %q: want en or zh-CN", lang)
}

// Synthesize speaks text in lang ("en" or "zh-CN", see Voice) and returns it
// as 16 kHz mono PCM; slow speaks slower, with pauses between words, for
// elderly mode. Text with nothing to say (empty, only punctuation) gives no
// samples and no error. Pass one sentence at a time (SplitSentences) to
// start playing early.
//
// English is spoken by the en-us voice. Mandarin is converted to pinyin with
// tone numbers (go-pinyin; digits read one by one as Chinese numbers, Latin
// words kept, punctuation a pause) and spoken by the cmn-latn-pinyin voice.
// That voice, not cmn, because espeak-ng 1.51's cmn voice ("latin as
// English") turns Han characters into pinyin and then reads the pinyin as
// English: "你好" comes out as "ni three hao three". Where cmn-latn-pinyin
// does not exist (see New), cmn is given the Han text as is.
//
// The result is the caller's to keep and modify: audio comes from a cache of
// Options.CacheSize entries keyed by text, voice and pace, and callers get a
// copy. Callers asking for the same uncached text at once (fifty calls
// reaching the same menu) share one run of espeak-ng.
//
// If ctx ends first, espeak-ng is killed and Synthesize returns ctx.Err().
// An unknown lang is an error of kind signoff.ErrInvalid; espeak-ng failing
// is one of kind signoff.ErrUnavailable, and more than 64 MiB of audio from
// one text one of kind signoff.ErrTooLarge.
func (s *Synth) Synthesize(ctx context.Context, text, lang string, slow bool) ([]int16, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	voice, err := s.Voice(lang)
	if err != nil {
		return nil, err
	}
	key := cacheKey{text: text, voice: voice, slow: slow}
	input := clean(text)
	if voice == voicePinyin {
		input = toPinyin(input)
	}
	if !strings.ContainsFunc(input, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
		return nil, nil
	}
	for {
		if pcm, ok := s.cache.get(key); ok {
			return slices.Clone(pcm), nil
		}
		s.mu.Lock()
		c, ok := s.inflight[key]
		if !ok {
			c = &call{done: make(chan struct{})}
			s.inflight[key] = c
		}
		s.mu.Unlock()
		if !ok {
			c.pcm, c.err = s.synthesize(ctx, input, voice, slow)
			if c.err == nil {
				s.cache.put(key, c.pcm)
			}
			s.mu.Lock()
			delete(s.inflight, key)
			s.mu.Unlock()
			close(c.done)
		} else {
			select {
			case <-c.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if c.err != nil && ctx.Err() == nil && isContextErr(c.err) {
				continue // the caller who ran it gave up; this one has not
			}
		}
		if c.err != nil {
			return nil, c.err
		}
		return slices.Clone(c.pcm), nil
	}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// clean keeps text text for espeak-ng: control characters become spaces, and
// "[[" and "]]", between which espeak-ng reads raw phoneme codes, are broken
// up. (Options, shell syntax and SSML are harmless already: the text goes in
// on standard input, without a shell, and -m is never given.)
func clean(text string) string {
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, text)
	for strings.Contains(text, "[[") || strings.Contains(text, "]]") {
		text = strings.NewReplacer("[[", "[ [", "]]", "] ]").Replace(text)
	}
	return text
}

// synthesize runs espeak-ng on input, once a process slot is free, and
// returns its audio at SampleRate.
func (s *Synth) synthesize(ctx context.Context, input, voice string, slow bool) ([]int16, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.sem }()
	args := []string{"--stdout", "-v", voice, "-s", strconv.Itoa(s.opts.Rate)}
	if slow {
		args = []string{"--stdout", "-v", voice, "-s", strconv.Itoa(s.opts.SlowRate), "-g", strconv.Itoa(slowGap)}
	}
	out, err := s.run(ctx, args, input)
	if err != nil {
		return nil, err
	}
	pcm, rate, err := parseWAV(out)
	if err != nil {
		return nil, signoff.Wrap(signoff.ErrUnavailable, "speech_unavailable", "espeak-ng's audio cannot be read", err)
	}
	return resamplerFor(rate, SampleRate).run(pcm), nil
}

// exec is the default run: espeak-ng with args, and the text on its standard
// input rather than in its arguments, where it could be taken for an option
// and other users of the machine could read it (ps), names and addresses
// included. No shell is involved.
func (s *Synth) exec(ctx context.Context, args []string, stdin string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, s.program, args...)
	cmd.Stdin = strings.NewReader(stdin)
	stdout := &cappedBuffer{max: maxWAV}
	stderr := &cappedBuffer{max: maxStderr, quiet: true}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = time.Second // do not wait for pipes a killed process left open
	err := cmd.Start()
	if err == nil {
		if s.started != nil {
			s.started(cmd.Process)
		}
		err = cmd.Wait()
	}
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case stdout.full:
		return nil, signoff.Errorf(signoff.ErrTooLarge, "speech_too_long", "the text is too long to synthesise at once")
	case err != nil:
		return nil, signoff.Wrap(signoff.ErrUnavailable, "speech_unavailable", "espeak-ng failed",
			fmt.Errorf("%w: %s", err, bytes.TrimSpace(stderr.Bytes())))
	}
	return stdout.Bytes(), nil
}

// cappedBuffer keeps what is written to it up to max bytes. Past that it
// sets full and fails (which stops espeak-ng with a broken pipe), or, if
// quiet, drops the rest.
type cappedBuffer struct {
	bytes.Buffer
	max   int
	quiet bool
	full  bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); len(p) > room {
		b.full = true
		if !b.quiet {
			return 0, fmt.Errorf("espeak: more than %d bytes of output", b.max)
		}
		b.Buffer.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return b.Buffer.Write(p)
}
