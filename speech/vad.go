package speech

import (
	"math"
	"time"

	"github.com/signoff/signoff"
)

// VADConfig tunes a VAD. The zero value of every field selects its default.
type VADConfig struct {
	// SampleRate of the frames in Hz; default SampleRate (16 kHz).
	SampleRate int
	// MinSpeech is how long the input must stay above the speech threshold
	// before an onset is reported, so that a click, a knock or a short
	// cough does not cut the bot off; default 60 ms.
	MinSpeech time.Duration
	// Hangover is how long the input must stay below the threshold after
	// speech before its end is reported, so that the pauses between words
	// do not end a turn; default 500 ms.
	Hangover time.Duration
	// ThresholdDB is how far above the noise floor a 10 ms block must be
	// to count as speech; default 10 dB.
	ThresholdDB float64
	// MinLevelDBFS is the level below which nothing is speech, however
	// quiet the line; default -50 dBFS.
	MinLevelDBFS float64
	// FloorWindow is how far back the noise floor looks: it is the
	// quietest 10 ms of the last FloorWindow, so it follows a noisier
	// room within that time and does not climb during speech, which
	// always has quieter moments; default 2 s.
	FloorWindow time.Duration
	// EchoRatio is the loudest echo of the bot's own voice expected on the
	// input, as a ratio of the input's RMS to the RMS being played: 0.1 is
	// an echo path that loses at least 20 dB, which any phone or browser
	// with echo cancellation beats; default 0.1.
	EchoRatio float64
	// EchoMarginDB is how far above the expected echo the input must be,
	// while the bot plays, to count as speech (barge-in); default 6 dB.
	EchoMarginDB float64
	// EchoTail is how long after a sound is played its echo may still
	// arrive: the network round trip, the jitter buffers and the room;
	// default 500 ms.
	EchoTail time.Duration
}

// VADEventKind says what a VADEvent reports.
type VADEventKind uint8

// The kinds of VADEvent.
const (
	VADNone  VADEventKind = iota // nothing happened
	VADOnset                     // speech began (MinSpeech of it has been heard)
	VADEnd                       // speech ended (Hangover of silence has followed it)
)

// String returns "none", "onset" or "end".
func (k VADEventKind) String() string {
	switch k {
	case VADOnset:
		return "onset"
	case VADEnd:
		return "end"
	}
	return "none"
}

// VADEvent is a change between silence and speech. At is where on the
// stream's time line (the audio given to Process so far, from 0) it
// happened: for VADOnset the start of the first speech block, for VADEnd the
// end of the last one. It is reported later than At, by MinSpeech or by
// Hangover; VAD.Elapsed says when.
type VADEvent struct {
	Kind VADEventKind  // VADNone, VADOnset or VADEnd
	At   time.Duration // where the speech began or ended
}

// A VAD is a voice activity detector for turn-taking and barge-in. It
// measures the energy of the input in 10 ms blocks (after removing DC),
// compares it with an adaptive noise floor, reports an onset once speech has
// lasted MinSpeech and an end once silence has lasted Hangover, and, while
// the bot is playing, ignores what could be the echo of its own voice.
//
// Blocks are counted whole, so a sound up to MinSpeech-20 ms long (a click, a
// cough) never makes an onset, whatever its alignment, and speech of
// MinSpeech+10 ms above the threshold always does.
//
// It is deterministic and does not allocate after NewVAD. A VAD is for one
// stream and one goroutine.
type VAD struct {
	cfg       VADConfig
	block     int     // samples in a 10 ms block
	minRun    int     // blocks of speech for an onset
	hangRun   int     // blocks of silence for an end
	threshold float64 // ThresholdDB as a power ratio
	minLevel  float64 // MinLevelDBFS as mean square
	echoGain  float64 // EchoRatio·EchoMargin as an amplitude ratio

	// The block being measured: samples, their sum and sum of squares.
	fill    int
	sum, sq int64

	floors   []float64 // energies of the last FloorWindow of blocks
	floorPos int
	floorN   int
	plays    []float64 // the RMS played during the last EchoTail of blocks
	playPos  int

	samples  int64 // processed so far
	speaking bool
	run      int   // consecutive speech blocks (silence) or silent blocks (speaking)
	runStart int64 // sample where the current speech run began
	lastEnd  int64 // sample where the last speech block ended

	queue [4]VADEvent // events not yet returned, for frames longer than MinSpeech
	qHead int
	qLen  int
}

// minFloor keeps the floor above zero in digital silence: -100 dBFS.
var minFloor = math.Pow(DBFSToRMS(-100), 2)

// NewVAD returns a VAD for cfg with defaults filled in. It returns an error of
// kind signoff.ErrInvalid for a negative duration or ratio or a sample rate
// that is not a multiple of 100 Hz from 8 to 48 kHz.
func NewVAD(cfg VADConfig) (*VAD, error) {
	def := func(d *time.Duration, v time.Duration) bool {
		if *d == 0 {
			*d = v
		}
		return *d > 0
	}
	deff := func(f *float64, v float64) {
		if *f == 0 {
			*f = v
		}
	}
	if cfg.SampleRate == 0 {
		cfg.SampleRate = SampleRate
	}
	ok := def(&cfg.MinSpeech, 60*time.Millisecond) && def(&cfg.Hangover, 500*time.Millisecond) &&
		def(&cfg.FloorWindow, 2*time.Second) && def(&cfg.EchoTail, 500*time.Millisecond)
	deff(&cfg.ThresholdDB, 10)
	deff(&cfg.MinLevelDBFS, -50)
	deff(&cfg.EchoRatio, 0.1)
	deff(&cfg.EchoMarginDB, 6)
	if !ok || cfg.ThresholdDB < 0 || cfg.EchoRatio < 0 || cfg.EchoMarginDB < 0 {
		return nil, signoff.Errorf(signoff.ErrInvalid, "bad_vad_config", "VAD durations, threshold and echo settings must not be negative")
	}
	if cfg.SampleRate < 8000 || cfg.SampleRate > 48000 || cfg.SampleRate%100 != 0 {
		return nil, signoff.Errorf(signoff.ErrInvalid, "bad_sample_rate", "VAD sample rate %d Hz: want a multiple of 100 Hz from 8 to 48 kHz", cfg.SampleRate)
	}
	const blockDur = 10 * time.Millisecond
	blocks := func(d time.Duration) int { return max(1, int((d+blockDur-1)/blockDur)) }
	v := &VAD{
		cfg:       cfg,
		block:     cfg.SampleRate / 100,
		minRun:    blocks(cfg.MinSpeech),
		hangRun:   blocks(cfg.Hangover),
		threshold: math.Pow(10, cfg.ThresholdDB/10),
		minLevel:  math.Pow(DBFSToRMS(cfg.MinLevelDBFS), 2),
		echoGain:  cfg.EchoRatio * Gain(cfg.EchoMarginDB),
		floors:    make([]float64, blocks(cfg.FloorWindow)),
		plays:     make([]float64, blocks(cfg.EchoTail)),
	}
	v.Reset()
	return v, nil
}

// Config returns the configuration in force, defaults filled in.
func (v *VAD) Config() VADConfig { return v.cfg }

// Reset forgets the stream: the noise floor is learnt anew and the time line
// starts again at 0.
func (v *VAD) Reset() {
	cfg, block, minRun, hangRun, thr, minLevel, echo, floors, plays :=
		v.cfg, v.block, v.minRun, v.hangRun, v.threshold, v.minLevel, v.echoGain, v.floors, v.plays
	clear(floors)
	clear(plays)
	*v = VAD{cfg: cfg, block: block, minRun: minRun, hangRun: hangRun, threshold: thr,
		minLevel: minLevel, echoGain: echo, floors: floors, plays: plays}
}

// Process takes the next frame of input and playing, the RMS (in sample
// units, as from RMS) of what the bot is playing to the caller at the same
// time, 0 when it is silent. It returns the event the frame completed, or
// one of Kind VADNone. Frames may have any length; with frames no longer than
// MinSpeech (20 ms frames always are) every event is returned by the call
// that completed it, and longer frames return the rest from the next calls.
func (v *VAD) Process(frame []int16, playing float64) VADEvent {
	for len(frame) > 0 {
		n := min(len(frame), v.block-v.fill)
		v.measure(frame[:n])
		frame = frame[n:]
		v.fill += n
		if v.fill == v.block {
			v.decide(playing)
		}
	}
	if v.qLen == 0 {
		return VADEvent{}
	}
	ev := v.queue[v.qHead]
	v.qHead = (v.qHead + 1) % len(v.queue)
	v.qLen--
	return ev
}

// measure adds x to the sums of the current block.
func (v *VAD) measure(x []int16) {
	sum, sq := v.sum, v.sq
	for _, s := range x {
		sum += int64(s)
		sq += int64(s) * int64(s)
	}
	v.sum, v.sq = sum, sq
	v.samples += int64(len(x))
}

// decide classifies the finished block and advances the state machine.
func (v *VAD) decide(playing float64) {
	// The block's variance: its energy without DC, which a cheap
	// microphone may add; per block, so no filter tail outlives a click.
	n := int64(v.block)
	e := float64(v.sq*n-v.sum*v.sum) / float64(n*n)
	v.sum, v.sq, v.fill = 0, 0, 0

	v.floors[v.floorPos] = max(e, minFloor)
	v.floorPos = (v.floorPos + 1) % len(v.floors)
	v.floorN = min(v.floorN+1, len(v.floors))
	floor := v.floor()

	v.plays[v.playPos] = playing
	v.playPos = (v.playPos + 1) % len(v.plays)
	echo := 0.0
	for _, p := range v.plays {
		echo = max(echo, p)
	}
	echo *= v.echoGain

	speech := e > floor*v.threshold && e > v.minLevel && e > echo*echo
	end := v.samples
	start := end - int64(v.block)
	switch {
	case !v.speaking && speech:
		if v.run == 0 {
			v.runStart = start
		}
		v.run++
		if v.run >= v.minRun {
			v.speaking, v.run, v.lastEnd = true, 0, end
			v.emit(VADOnset, v.runStart)
		}
	case !v.speaking:
		v.run = 0
	case speech:
		v.run, v.lastEnd = 0, end
	default:
		v.run++
		if v.run >= v.hangRun {
			v.speaking, v.run = false, 0
			v.emit(VADEnd, v.lastEnd)
		}
	}
}

func (v *VAD) emit(k VADEventKind, at int64) {
	ev := VADEvent{Kind: k, At: duration64(at, v.cfg.SampleRate)}
	if v.qLen == len(v.queue) { // only with frames of seconds: keep the newest
		v.qHead = (v.qHead + 1) % len(v.queue)
		v.qLen--
	}
	v.queue[(v.qHead+v.qLen)%len(v.queue)] = ev
	v.qLen++
}

// Speaking reports whether the VAD is in speech: after an onset and before
// its end.
func (v *VAD) Speaking() bool { return v.speaking }

// Elapsed returns how much audio Process has taken since NewVAD or Reset: the
// time line of VADEvent.At.
func (v *VAD) Elapsed() time.Duration { return duration64(v.samples, v.cfg.SampleRate) }

// NoiseFloor returns the current noise floor as an RMS in sample units.
func (v *VAD) NoiseFloor() float64 {
	if v.floorN == 0 {
		return 0
	}
	return math.Sqrt(v.floor())
}

// floor is the quietest block energy in the window; until the ring has filled
// once, only its first floorN slots are set.
func (v *VAD) floor() float64 {
	f := math.Inf(1)
	for _, e := range v.floors[:v.floorN] {
		f = min(f, e)
	}
	return f
}
