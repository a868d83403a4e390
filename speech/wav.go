package speech

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"

	"github.com/signoff/signoff"
)

// MaxWAVSize is the largest WAV file ReadWAV reads, in bytes: 64 MiB, half an
// hour of 16 kHz 16-bit stereo. Voice messages are uploaded by the public, so
// the limit is checked before anything is read.
const MaxWAVSize = 64 << 20

// WAVE format tags ReadWAV understands.
const (
	wavPCM        = 1
	wavAlaw       = 6
	wavMulaw      = 7
	wavExtensible = 0xFFFE
)

// ksSubformatTail is the GUID of a WAVE_FORMAT_EXTENSIBLE sub-format after
// its first two bytes, which hold the format tag.
const ksSubformatTail = "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"

// unknownSize is what streaming writers (and Recorder, until it is flushed)
// put in the size fields: read to the end of the file.
const unknownSize = math.MaxUint32

func badWAV(format string, args ...any) error {
	return signoff.Errorf(signoff.ErrInvalid, "bad_wav", "not a WAV file we can read: "+format, args...)
}

// ReadWAV reads the WAV file that starts at r's current offset and returns
// its samples, mixed down to mono, and its sample rate in Hz (convert with a
// Resampler). It reads integer PCM of 8, 16, 24 or 32 bits, G.711 μ-law and
// A-law, mono or stereo, plain or WAVE_FORMAT_EXTENSIBLE, with chunks in any
// order; a data chunk whose size was never filled in is read to the end.
//
// The input may be hostile: a file of more than MaxWAVSize returns an error
// of kind signoff.ErrTooLarge and anything else it cannot read one of kind
// signoff.ErrInvalid, without reading or allocating more than the file's
// size. Errors of r itself are returned wrapped.
func ReadWAV(r io.ReadSeeker) ([]int16, int, error) {
	start, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, 0, fmt.Errorf("speech: read WAV: %w", err)
	}
	end, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, 0, fmt.Errorf("speech: read WAV: %w", err)
	}
	size := end - start
	if size > MaxWAVSize {
		return nil, 0, signoff.Errorf(signoff.ErrTooLarge, "wav_too_large", "the WAV file is larger than %d MiB", MaxWAVSize>>20)
	}
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return nil, 0, fmt.Errorf("speech: read WAV: %w", err)
	}
	f, dataOff, dataLen, err := scanWAV(r, size)
	if err != nil {
		return nil, 0, err
	}
	if _, err := r.Seek(start+dataOff, io.SeekStart); err != nil {
		return nil, 0, fmt.Errorf("speech: read WAV: %w", err)
	}
	var pcm []int16
	if f.tag == wavPCM {
		pcm, err = decodePCM(r, f, dataLen)
	} else {
		pcm, err = decodeG711(r, f, dataLen)
	}
	if err != nil {
		return nil, 0, err
	}
	return pcm, f.rate, nil
}

// wavFormat is what ReadWAV needs of a fmt chunk.
type wavFormat struct {
	tag      int // wavPCM, wavAlaw or wavMulaw
	channels int // 1 or 2
	rate     int
	bits     int // 8, 16, 24 or 32
}

func (f wavFormat) block() int64 { return int64(f.channels * f.bits / 8) }

// scanWAV walks the RIFF chunks of a file of size bytes, r at its start, and
// returns the format and where the samples are (offset from the start, and a
// length that is a whole number of sample frames). It reads only chunk
// headers and the fmt chunk.
func scanWAV(r io.ReadSeeker, size int64) (f wavFormat, dataOff, dataLen int64, err error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return f, 0, 0, badWAV("it is %d bytes long", size)
	}
	if string(hdr[:4]) != "RIFF" || string(hdr[8:]) != "WAVE" {
		return f, 0, 0, badWAV("no RIFF WAVE header")
	}
	haveFmt := false
	dataOff = -1
	for pos := int64(12); pos+8 <= size && !(haveFmt && dataOff >= 0); {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return f, 0, 0, fmt.Errorf("speech: read WAV: %w", err)
		}
		pos += 8
		n, rest := int64(binary.LittleEndian.Uint32(ch[4:])), size-pos
		switch string(ch[:4]) {
		case "fmt ":
			if haveFmt {
				return f, 0, 0, badWAV("two fmt chunks")
			}
			if n < 16 || n > rest {
				return f, 0, 0, badWAV("fmt chunk of %d bytes", n)
			}
			var b [40]byte
			if _, err := io.ReadFull(r, b[:min(n, 40)]); err != nil {
				return f, 0, 0, fmt.Errorf("speech: read WAV: %w", err)
			}
			if f, err = parseFmt(b[:min(n, 40)]); err != nil {
				return f, 0, 0, err
			}
			haveFmt = true
		case "data":
			if dataOff >= 0 {
				return f, 0, 0, badWAV("two data chunks")
			}
			if n > rest {
				n = rest // a streamed file whose size was never filled in
			}
			dataOff, dataLen = pos, n
		default:
			if n > rest {
				return f, 0, 0, badWAV("chunk %q of %d bytes in %d", ch[:4], n, rest)
			}
		}
		pos += n + n&1 // chunks are padded to even sizes
		if _, err := r.Seek(pos-size, io.SeekEnd); err != nil {
			return f, 0, 0, fmt.Errorf("speech: read WAV: %w", err)
		}
	}
	if !haveFmt {
		return f, 0, 0, badWAV("no fmt chunk")
	}
	if dataOff < 0 {
		return f, 0, 0, badWAV("no data chunk")
	}
	return f, dataOff, dataLen - dataLen%f.block(), nil
}

// parseFmt reads the first 16 (or, for WAVE_FORMAT_EXTENSIBLE, 40) bytes of
// a fmt chunk.
func parseFmt(b []byte) (wavFormat, error) {
	le16 := func(i int) int { return int(binary.LittleEndian.Uint16(b[i:])) }
	f := wavFormat{
		tag:      le16(0),
		channels: le16(2),
		rate:     int(binary.LittleEndian.Uint32(b[4:])),
		bits:     le16(14),
	}
	if f.tag == wavExtensible {
		if len(b) < 40 || le16(16) < 22 || string(b[26:40]) != ksSubformatTail {
			return f, badWAV("WAVE_FORMAT_EXTENSIBLE without a known sub-format")
		}
		f.tag = le16(24)
	}
	switch {
	case f.tag == wavPCM && (f.bits == 8 || f.bits == 16 || f.bits == 24 || f.bits == 32):
	case (f.tag == wavAlaw || f.tag == wavMulaw) && f.bits == 8:
	default:
		return f, badWAV("format %d with %d bits a sample (want PCM of 8 to 32 bits, μ-law or A-law)", f.tag, f.bits)
	}
	if f.channels != 1 && f.channels != 2 {
		return f, badWAV("%d channels (want mono or stereo)", f.channels)
	}
	if f.rate < 1000 || f.rate > 384000 {
		return f, badWAV("sample rate %d Hz", f.rate)
	}
	return f, nil
}

// decodePCM decodes integer PCM with go-audio/wav. It hands the decoder a
// canonical file (a 44-byte header and the samples, read straight from r)
// rather than the upload itself: go-audio's decoder trusts the sizes inside
// LIST, smpl and cue chunks, and a few bytes could ask it for gigabytes.
func decodePCM(r io.Reader, f wavFormat, n int64) ([]int16, error) {
	hdr := wavHeader(f.tag, f.channels, f.rate, f.bits, uint32(n))
	dec := wav.NewDecoder(&wavView{hdr: hdr[:], r: r, left: n})
	if err := dec.FwdToPCM(); err != nil || dec.PCMChunk == nil {
		return nil, fmt.Errorf("speech: read WAV: go-audio: %v", err)
	}
	out := make([]int16, 0, n/f.block())
	buf := &audio.IntBuffer{Data: make([]int, 4096*f.channels)}
	// To 16 bits: 8-bit samples are unsigned, wider ones lose their low
	// bits; int64, so that two 32-bit samples add up on any platform.
	sample := func(v int) int64 { return int64(v) >> (f.bits - 16) }
	if f.bits == 8 {
		sample = func(v int) int64 { return int64(v-128) << 8 }
	}
	for {
		m, err := dec.PCMBuffer(buf)
		if err != nil {
			return nil, fmt.Errorf("speech: read WAV: %w", err)
		}
		if m == 0 {
			break
		}
		data := buf.Data[:m-m%f.channels]
		if f.channels == 1 {
			for _, v := range data {
				out = append(out, int16(sample(v)))
			}
			continue
		}
		for i := 0; i+1 < len(data); i += 2 {
			out = append(out, int16((sample(data[i])+sample(data[i+1]))>>1))
		}
	}
	return out, nil
}

// decodeG711 decodes μ-law or A-law samples, which go-audio does not.
func decodeG711(r io.Reader, f wavFormat, n int64) ([]int16, error) {
	table := &mulawTable
	if f.tag == wavAlaw {
		table = &alawTable
	}
	out := make([]int16, 0, n/f.block())
	var buf [4096]byte
	for n > 0 {
		m, err := io.ReadFull(r, buf[:min(n, int64(len(buf)))])
		if err != nil {
			return nil, fmt.Errorf("speech: read WAV: %w", err)
		}
		n -= int64(m)
		if f.channels == 1 {
			for _, b := range buf[:m] {
				out = append(out, table[b])
			}
			continue
		}
		for i := 0; i+1 < m; i += 2 {
			out = append(out, int16((int32(table[buf[i]])+int32(table[buf[i+1]]))>>1))
		}
	}
	return out, nil
}

// wavView is the canonical file decodePCM gives go-audio: hdr, then left
// bytes of r. Its reads are whole (io.ReadFull), because go-audio decodes
// only what one Read returns and drops a sample cut in two. It cannot seek;
// go-audio does not need to on a canonical file.
type wavView struct {
	hdr  []byte
	r    io.Reader
	left int64
}

// Read reads the header, then the samples, whole.
func (v *wavView) Read(p []byte) (int, error) {
	if len(v.hdr) > 0 {
		n := copy(p, v.hdr)
		v.hdr = v.hdr[n:]
		return n, nil
	}
	if v.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > v.left {
		p = p[:v.left]
	}
	n, err := io.ReadFull(v.r, p)
	v.left -= int64(n)
	if n > 0 {
		return n, nil
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return 0, err
}

// Seek fails: a wavView is read once, front to back.
func (v *wavView) Seek(int64, int) (int64, error) {
	return 0, errors.New("speech: canonical WAV view cannot seek")
}

// wavHeader returns a canonical 44-byte WAV header for dataLen bytes of
// samples.
func wavHeader(tag, channels, rate, bits int, dataLen uint32) [44]byte {
	var h [44]byte
	block := channels * bits / 8
	copy(h[0:], "RIFF")
	riff := dataLen + 36
	if dataLen == unknownSize {
		riff = unknownSize
	}
	binary.LittleEndian.PutUint32(h[4:], riff)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], uint16(tag))
	binary.LittleEndian.PutUint16(h[22:], uint16(channels))
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*block))
	binary.LittleEndian.PutUint16(h[32:], uint16(block))
	binary.LittleEndian.PutUint16(h[34:], uint16(bits))
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], dataLen)
	return h
}

// maxWAVData is the most sample bytes a WAV file can declare.
const maxWAVData = math.MaxUint32 - 36 - 1

// WriteWAV writes pcm as a 16-bit mono WAV file at rate Hz to w with
// go-audio/wav. w must be at offset 0 (the header's sizes are written last,
// by seeking back); it is not closed. A rate outside 1 to 384 kHz or an
// offset other than 0 is an error of kind signoff.ErrInvalid, and more than
// 4 GiB of samples one of kind signoff.ErrTooLarge.
func WriteWAV(w io.WriteSeeker, pcm []int16, rate int) error {
	if rate < 1000 || rate > 384000 {
		return signoff.Errorf(signoff.ErrInvalid, "bad_sample_rate", "WAV sample rate %d Hz: want 1 to 384 kHz", rate)
	}
	if int64(len(pcm))*2 > maxWAVData {
		return signoff.Errorf(signoff.ErrTooLarge, "wav_too_large", "more than 4 GiB of samples for one WAV file")
	}
	if pos, err := w.Seek(0, io.SeekCurrent); err != nil {
		return fmt.Errorf("speech: write WAV: %w", err)
	} else if pos != 0 {
		return signoff.Errorf(signoff.ErrInvalid, "bad_wav_writer", "WriteWAV needs a writer at offset 0, not %d", pos)
	}
	enc := wav.NewEncoder(w, rate, 16, 1, wavPCM)
	buf := &audio.IntBuffer{Format: &audio.Format{NumChannels: 1, SampleRate: rate}, SourceBitDepth: 16}
	data := make([]int, min(len(pcm), 4096))
	for first := true; first || len(pcm) > 0; first = false {
		n := min(len(pcm), len(data))
		for i, s := range pcm[:n] {
			data[i] = int(s)
		}
		pcm = pcm[n:]
		buf.Data = data[:n]
		if err := enc.Write(buf); err != nil {
			return fmt.Errorf("speech: write WAV: %w", err)
		}
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("speech: write WAV: %w", err)
	}
	return nil
}

// EncodeWAV returns pcm as the bytes of a 16-bit mono WAV file at rate Hz, for
// engines that send audio over HTTP. Its errors are those of WriteWAV.
func EncodeWAV(pcm []int16, rate int) ([]byte, error) {
	var f memFile
	f.b = make([]byte, 0, 44+2*len(pcm))
	if err := WriteWAV(&f, pcm, rate); err != nil {
		return nil, err
	}
	return f.b, nil
}

// memFile is an in-memory io.WriteSeeker.
type memFile struct {
	b   []byte
	pos int
}

// Write writes p at the current offset, growing the file as needed.
func (m *memFile) Write(p []byte) (int, error) {
	if need := m.pos + len(p); need > len(m.b) {
		m.b = append(m.b, make([]byte, need-len(m.b))...)
	}
	copy(m.b[m.pos:], p)
	m.pos += len(p)
	return len(p), nil
}

// Seek moves the offset, which may not go below 0 or past 2 GiB.
func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += int64(m.pos)
	case io.SeekEnd:
		off += int64(len(m.b))
	}
	if off < 0 || off > math.MaxInt32 {
		return 0, errors.New("speech: seek out of range")
	}
	m.pos = int(off)
	return off, nil
}

// A Recorder writes a call recording: a 16-bit stereo WAV file with the
// caller on the left channel (1) and the bot on the right (2), as frames
// arrive. It buffers about a second and writes it in one go, and fills in the
// sizes in the header on Flush and Close; until then they read "unknown",
// which ReadWAV and most players take as "to the end of the file", so a
// recording cut short by a crash is still readable.
//
// A Recorder is for one call and one goroutine. After an error every method
// returns it again.
type Recorder struct {
	w      io.WriteSeeker
	rate   int
	start  int64 // offset of the header in w
	frames int64 // sample frames written or buffered
	buf    []byte
	err    error
	closed bool
}

// recorderBuffer is how much a Recorder buffers: about 1 s at 16 kHz.
const recorderBuffer = 64 << 10

var errRecorderClosed = errors.New("speech: Recorder is closed")

// NewRecorder writes the header of a recording at rate Hz to w, at w's
// current offset, and returns a Recorder for the rest. A rate outside 1 to
// 384 kHz is an error of kind signoff.ErrInvalid; errors of w are wrapped.
func NewRecorder(w io.WriteSeeker, rate int) (*Recorder, error) {
	if rate < 1000 || rate > 384000 {
		return nil, signoff.Errorf(signoff.ErrInvalid, "bad_sample_rate", "recording sample rate %d Hz: want 1 to 384 kHz", rate)
	}
	start, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("speech: recorder: %w", err)
	}
	h := wavHeader(wavPCM, 2, rate, 16, unknownSize)
	if _, err := w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("speech: recorder: %w", err)
	}
	return &Recorder{w: w, rate: rate, start: start, buf: make([]byte, 0, recorderBuffer+4*FrameSamples*3)}, nil
}

// Write appends the next stretch of the call: caller, what the caller said,
// and bot, what the bot played, over the same time, at the Recorder's rate.
// The shorter is padded with silence (pass nil while the bot is quiet). It
// does not allocate; it writes to w about once a second.
func (r *Recorder) Write(caller, bot []int16) error {
	if r.err != nil {
		return r.err
	}
	if r.closed {
		return errRecorderClosed
	}
	n := max(len(caller), len(bot))
	if (r.frames+int64(n))*4 > maxWAVData {
		r.err = signoff.Errorf(signoff.ErrTooLarge, "recording_too_long", "a recording cannot exceed 4 GiB")
		return r.err
	}
	for i := 0; i < n; i++ {
		var c, b int16
		if i < len(caller) {
			c = caller[i]
		}
		if i < len(bot) {
			b = bot[i]
		}
		r.buf = binary.LittleEndian.AppendUint16(r.buf, uint16(c))
		r.buf = binary.LittleEndian.AppendUint16(r.buf, uint16(b))
	}
	r.frames += int64(n)
	if len(r.buf) >= recorderBuffer {
		return r.writeOut()
	}
	return nil
}

func (r *Recorder) writeOut() error {
	if len(r.buf) == 0 {
		return nil
	}
	if _, err := r.w.Write(r.buf); err != nil {
		r.err = fmt.Errorf("speech: recorder: %w", err)
		return r.err
	}
	r.buf = r.buf[:0]
	return nil
}

// Flush writes what is buffered and fills in the header's sizes, so that the
// file is a complete WAV file up to here.
func (r *Recorder) Flush() error {
	if r.err != nil {
		return r.err
	}
	if r.closed {
		return errRecorderClosed
	}
	if err := r.writeOut(); err != nil {
		return err
	}
	data := uint32(r.frames * 4)
	var b [4]byte
	for _, f := range []struct {
		off int64
		v   uint32
	}{{4, data + 36}, {40, data}} {
		binary.LittleEndian.PutUint32(b[:], f.v)
		if _, err := r.w.Seek(r.start+f.off, io.SeekStart); err != nil {
			r.err = fmt.Errorf("speech: recorder: %w", err)
			return r.err
		}
		if _, err := r.w.Write(b[:]); err != nil {
			r.err = fmt.Errorf("speech: recorder: %w", err)
			return r.err
		}
	}
	if _, err := r.w.Seek(r.start+44+int64(data), io.SeekStart); err != nil {
		r.err = fmt.Errorf("speech: recorder: %w", err)
		return r.err
	}
	return nil
}

// Close flushes the recording and finalises its header. It does not close w.
// Closing twice returns nil.
func (r *Recorder) Close() error {
	if r.closed {
		return r.err
	}
	err := r.Flush()
	r.closed = true
	return err
}

// Duration returns how long the recording is so far.
func (r *Recorder) Duration() time.Duration { return duration64(r.frames, r.rate) }
