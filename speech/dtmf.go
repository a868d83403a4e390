package speech

import (
	"math"
	"time"

	"github.com/signoff/signoff"
)

// The DTMF grid (ITU-T Q.23): a key is one tone of the low (row) group plus
// one of the high (column) group.
var (
	dtmfRows = [4]float64{697, 770, 852, 941}
	dtmfCols = [4]float64{1209, 1336, 1477, 1633}
	dtmfKeys = [4][4]byte{
		{'1', '2', '3', 'A'},
		{'4', '5', '6', 'B'},
		{'7', '8', '9', 'C'},
		{'*', '0', '#', 'D'},
	}
)

// What a block must show to count as a key. ITU-T Q.24 asks a receiver to
// take tones of 40 ms and more and to refuse those much shorter, so a key
// needs two consecutive blocks of 12.75 ms, each almost all tone: a tone
// that is only partly in a block gives it too little of its energy.
const (
	dtmfBlock       = 12750 * time.Microsecond
	dtmfHits        = 2    // consecutive blocks for a key: 25.5 ms
	dtmfMisses      = 2    // consecutive blocks without it for a release
	dtmfMinDBFS     = -40  // level of each tone, at least
	dtmfNormalTwist = 8.0  // dB the high tone may exceed the low one by
	dtmfRevTwist    = 4.0  // dB the low tone may exceed the high one by
	dtmfRelPeakDB   = 6.0  // dB each tone must exceed the others of its group by
	dtmfHarmonicDB  = 15.0 // dB the two tones must exceed each second harmonic by
	dtmfPurity      = 0.8  // share of the block's energy in the two tones, at least
)

// A DTMFEvent is a key pressed, reported once per press. At is where on the
// stream's time line (the audio given to Process so far, from 0) its tone
// began, to within a block.
type DTMFEvent struct {
	Key byte          // '0'-'9', '*', '#', 'A'-'D'; 0 for no event
	At  time.Duration // where its tone began
}

// A DTMFDetector finds keypad tones in a stream of PCM (in-band DTMF, for
// callers whose tones come as audio rather than RFC 4733 events). It runs the
// Goertzel algorithm for the 8 DTMF frequencies on blocks of 12.75 ms and
// accepts a block only if one tone of each group stands out (relative peaks),
// their levels are close (twist), they hold at least 80% of its energy and
// their second harmonics are weak, which speech and music do not manage for
// long. A key is reported once two blocks in a row agree (every tone of 40 ms
// or more is; tones of 20 ms or less never are, as a tone must fill 80% of
// two blocks) and reported again only after a gap of two blocks.
//
// It does not allocate after NewDTMFDetector. A DTMFDetector is for one
// stream and one goroutine.
type DTMFDetector struct {
	rate    int
	block   []float64 // the block being filled
	fill    int
	rowC    [4]float64 // Goertzel coefficients 2cos(2πf/rate)
	colC    [4]float64
	rowH    [4]float64 // and of the second harmonics
	colH    [4]float64
	hann    []float64 // window for the harmonics
	hannSum float64

	samples   int64
	cand      byte // key of the last blocks
	hits      int
	candStart int64
	down      byte // key reported and not yet released
	misses    int

	queue [4]DTMFEvent
	qHead int
	qLen  int
}

// NewDTMFDetector returns a detector for PCM at rate Hz, from 8 to 48 kHz;
// another rate is an error of kind signoff.ErrInvalid.
func NewDTMFDetector(rate int) (*DTMFDetector, error) {
	if rate < 8000 || rate > 48000 {
		return nil, signoff.Errorf(signoff.ErrInvalid, "bad_sample_rate", "DTMF sample rate %d Hz: want 8 to 48 kHz", rate)
	}
	d := &DTMFDetector{rate: rate, block: make([]float64, Samples(dtmfBlock, rate))}
	coef := func(f float64) float64 { return 2 * math.Cos(2*math.Pi*f/float64(rate)) }
	for i := range 4 {
		d.rowC[i], d.rowH[i] = coef(dtmfRows[i]), coef(2*dtmfRows[i])
		d.colC[i], d.colH[i] = coef(dtmfCols[i]), coef(2*dtmfCols[i])
	}
	d.hann = make([]float64, len(d.block))
	for i := range d.hann {
		d.hann[i] = 0.5 - 0.5*math.Cos(2*math.Pi*(float64(i)+0.5)/float64(len(d.hann)))
		d.hannSum += d.hann[i]
	}
	return d, nil
}

// Reset forgets the stream; the time line starts again at 0.
func (d *DTMFDetector) Reset() {
	d.fill, d.samples = 0, 0
	d.cand, d.hits, d.candStart, d.down, d.misses = 0, 0, 0, 0, 0
	d.qHead, d.qLen = 0, 0
}

// Process takes the next frame and returns the key whose press it completed,
// or an event with Key 0. Frames may have any length; a frame long enough
// to complete several presses returns the rest from the next calls.
func (d *DTMFDetector) Process(frame []int16) DTMFEvent {
	for len(frame) > 0 {
		n := min(len(frame), len(d.block)-d.fill)
		for i, s := range frame[:n] {
			d.block[d.fill+i] = float64(s)
		}
		d.fill += n
		d.samples += int64(n)
		frame = frame[n:]
		if d.fill == len(d.block) {
			d.fill = 0
			d.decide(d.classify())
		}
	}
	if d.qLen == 0 {
		return DTMFEvent{}
	}
	ev := d.queue[d.qHead]
	d.qHead = (d.qHead + 1) % len(d.queue)
	d.qLen--
	return ev
}

// goertzel returns the squared magnitude of x's DFT at the frequency whose
// coefficient is c.
func goertzel(x []float64, c float64) float64 {
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = v+c*s1-s2, s1
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

// goertzelHann is goertzel of x weighted by the window w.
func goertzelHann(x, w []float64, c float64) float64 {
	w = w[:len(x)]
	var s1, s2 float64
	for i, v := range x {
		s1, s2 = v*w[i]+c*s1-s2, s1
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

// classify returns the key the full block holds, or 0.
func (d *DTMFDetector) classify() byte {
	x := d.block
	n := float64(len(x))
	var sum, sq float64
	for _, v := range x {
		sum += v
		sq += v * v
	}
	energy := sq/n - (sum/n)*(sum/n) // mean square without DC
	if energy < dtmfMinTone {
		return 0
	}
	// Mean square of each tone: a sine of amplitude a has |X| = a·n/2.
	norm := 2 / (n * n)
	var rows, cols [4]float64
	r, c := 0, 0
	for i := range 4 {
		rows[i] = goertzel(x, d.rowC[i]) * norm
		cols[i] = goertzel(x, d.colC[i]) * norm
		if rows[i] > rows[r] {
			r = i
		}
		if cols[i] > cols[c] {
			c = i
		}
	}
	row, col := rows[r], cols[c]
	switch {
	case row < dtmfMinTone || col < dtmfMinTone:
		return 0
	case col > row*dtmfNormal || row > col*dtmfReverse:
		return 0
	case row+col < dtmfPurity*energy:
		return 0
	}
	for i := range 4 {
		if (i != r && rows[i]*dtmfRelPeak > row) || (i != c && cols[i]*dtmfRelPeak > col) {
			return 0
		}
	}
	// Second harmonics: a pure tone has none, a voice has plenty. They are
	// measured through a Hann window, so that the other tone's energy does
	// not leak in, and the low tone's only where the high tone is more than
	// the window's main lobe (2 bins) away from it.
	hnorm := 2 / (d.hannSum * d.hannSum)
	if goertzelHann(x, d.hann, d.colH[c])*hnorm*dtmfHarmonic > row+col {
		return 0
	}
	bin := float64(d.rate) / n
	if math.Abs(2*dtmfRows[r]-dtmfCols[c]) > 2*bin && goertzelHann(x, d.hann, d.rowH[r])*hnorm*dtmfHarmonic > row+col {
		return 0
	}
	return dtmfKeys[r][c]
}

// The thresholds as power ratios.
var (
	dtmfMinTone  = math.Pow(DBFSToRMS(dtmfMinDBFS), 2)
	dtmfNormal   = dbPow(dtmfNormalTwist)
	dtmfReverse  = dbPow(dtmfRevTwist)
	dtmfRelPeak  = dbPow(dtmfRelPeakDB)
	dtmfHarmonic = dbPow(dtmfHarmonicDB)
)

// dbPow converts decibels to a power ratio.
func dbPow(db float64) float64 { return math.Pow(10, db/10) }

// decide runs the press and release state machine on a block's key.
func (d *DTMFDetector) decide(key byte) {
	start := d.samples - int64(len(d.block))
	if key != 0 && key == d.cand {
		d.hits++
	} else {
		d.cand, d.hits, d.candStart = key, 0, start
		if key != 0 {
			d.hits = 1
		}
	}
	if key == d.down {
		d.misses = 0
	} else if d.misses++; d.misses >= dtmfMisses {
		d.down = 0
	}
	if d.cand != 0 && d.hits >= dtmfHits && d.cand != d.down {
		d.down, d.misses = d.cand, 0
		if d.qLen == len(d.queue) {
			d.qHead = (d.qHead + 1) % len(d.queue)
			d.qLen--
		}
		d.queue[(d.qHead+d.qLen)%len(d.queue)] = DTMFEvent{Key: d.cand, At: duration64(d.candStart, d.rate)}
		d.qLen++
	}
}

// GenerateDTMF returns the tone of key ('0'-'9', '*', '#', 'A'-'D' or
// 'a'-'d') lasting dur at rate Hz: two tones of equal amplitude, 0.3 of full
// scale (-13.5 dBFS each, peaks at 0.6), with 2 ms fades, for in-band
// signalling and tests. It
// returns nil for any other key or a rate below 8 kHz.
func GenerateDTMF(key byte, dur time.Duration, rate int) []int16 {
	if key >= 'a' && key <= 'd' {
		key -= 'a' - 'A'
	}
	r, c := -1, -1
	for i := range 4 {
		for j := range 4 {
			if dtmfKeys[i][j] == key {
				r, c = i, j
			}
		}
	}
	if r < 0 || rate < 8000 {
		return nil
	}
	n := Samples(dur, rate)
	fade := Samples(2*time.Millisecond, rate)
	amp := 0.3 * fullScale
	wr, wc := 2*math.Pi*dtmfRows[r]/float64(rate), 2*math.Pi*dtmfCols[c]/float64(rate)
	out := make([]int16, n)
	for i := range out {
		g := amp
		if j := min(i, n-1-i); j < fade {
			g *= 0.5 - 0.5*math.Cos(math.Pi*float64(j)/float64(fade))
		}
		out[i] = clamp16(math.Round(g * (math.Sin(wr*float64(i)) + math.Sin(wc*float64(i)))))
	}
	return out
}
