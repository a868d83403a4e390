package speech

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"

	"github.com/signoff/signoff"
)

// chunk returns a RIFF chunk: id, size and body, padded to an even length.
func chunk(id string, body []byte) []byte {
	b := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// fmtBody returns the body of a 16-byte fmt chunk.
func fmtBody(tag, channels, rate, bits int) []byte {
	h := wavHeader(tag, channels, rate, bits, 0)
	return h[20:36]
}

// extensibleBody returns a 40-byte WAVE_FORMAT_EXTENSIBLE fmt body.
func extensibleBody(sub, channels, rate, bits int) []byte {
	b := fmtBody(wavExtensible, channels, rate, bits)
	b = binary.LittleEndian.AppendUint16(b, 22)           // cbSize
	b = binary.LittleEndian.AppendUint16(b, uint16(bits)) // valid bits
	b = binary.LittleEndian.AppendUint32(b, 3)            // channel mask
	b = binary.LittleEndian.AppendUint16(b, uint16(sub))
	return append(b, ksSubformatTail...)
}

// riff wraps chunks in a RIFF WAVE header.
func riff(chunks ...[]byte) []byte {
	body := []byte("WAVE")
	for _, c := range chunks {
		body = append(body, c...)
	}
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

func le16s(v ...int16) []byte {
	var b []byte
	for _, s := range v {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

// wavSeeds are files ReadWAV must read, with what it must return; the fuzz
// target starts from them.
var wavSeeds = []struct {
	name string
	file []byte
	pcm  []int16
	rate int
}{
	{"16-bit mono", riff(chunk("fmt ", fmtBody(1, 1, 16000, 16)), chunk("data", le16s(0, 1, -1, 32767, -32768))), []int16{0, 1, -1, 32767, -32768}, 16000},
	{"16-bit stereo", riff(chunk("fmt ", fmtBody(1, 2, 48000, 16)), chunk("data", le16s(1000, 3000, -32768, -32768, 5, -6))), []int16{2000, -32768, -1}, 48000},
	{"8-bit mono (unsigned)", riff(chunk("fmt ", fmtBody(1, 1, 8000, 8)), chunk("data", []byte{0x80, 0xFF, 0x00})), []int16{0, 32512, -32768}, 8000},
	{"8-bit stereo", riff(chunk("fmt ", fmtBody(1, 2, 8000, 8)), chunk("data", []byte{0x80, 0x90, 0x00, 0x00})), []int16{2048, -32768}, 8000},
	{"24-bit mono", riff(chunk("fmt ", fmtBody(1, 1, 44100, 24)), chunk("data", []byte{0x56, 0x34, 0x12, 0x00, 0x00, 0x80})), []int16{0x1234, -32768}, 44100},
	{"32-bit stereo", riff(chunk("fmt ", fmtBody(1, 2, 96000, 32)), chunk("data", []byte{0, 0, 0, 0x10, 0, 0, 0, 0x30})), []int16{0x2000}, 96000},
	{"μ-law", riff(chunk("fmt ", fmtBody(wavMulaw, 1, 8000, 8)), chunk("data", []byte{0xFF, 0x80, 0x00})), []int16{0, 32124, -32124}, 8000},
	{"A-law stereo", riff(chunk("fmt ", fmtBody(wavAlaw, 2, 8000, 8)), chunk("data", []byte{0xD5, 0x55, 0xAA, 0xAA})), []int16{0, 32256}, 8000},
	{"extensible PCM", riff(chunk("fmt ", extensibleBody(1, 1, 16000, 16)), chunk("data", le16s(7, 8))), []int16{7, 8}, 16000},
	{"LIST before fmt, odd chunk, junk after data", riff(chunk("LIST", []byte("INFOISFT\x05\x00\x00\x00hello")), chunk("junk", []byte{1, 2, 3}),
		chunk("fmt ", fmtBody(1, 1, 16000, 16)), chunk("data", le16s(9)), chunk("LIST", []byte("INFO"))), []int16{9}, 16000},
	{"fmt of 18 bytes", riff(chunk("fmt ", append(fmtBody(1, 1, 16000, 16), 0, 0)), chunk("data", le16s(3))), []int16{3}, 16000},
	{"data size never filled in", append(riff(chunk("fmt ", fmtBody(1, 1, 16000, 16)))[:0:0], slices.Concat(
		riff(chunk("fmt ", fmtBody(1, 1, 16000, 16))), []byte("data\xff\xff\xff\xff"), le16s(4, 5, 6))...), []int16{4, 5, 6}, 16000},
	{"data longer than the file, half a sample", slices.Concat(
		riff(chunk("fmt ", fmtBody(1, 1, 16000, 16))), []byte("data\x00\x10\x00\x00"), le16s(4, 5), []byte{1}), []int16{4, 5}, 16000},
	{"empty data", riff(chunk("fmt ", fmtBody(1, 1, 8000, 16)), chunk("data", nil)), []int16{}, 8000},
	// The go-audio bomb: a LIST entry claiming 4 GiB. ReadWAV never shows
	// it to go-audio.
	{"LIST entry of 4 GiB", riff(chunk("fmt ", fmtBody(1, 1, 16000, 16)), chunk("LIST", []byte("INFOINAM\xff\xff\xff\xffx")), chunk("data", le16s(1))), []int16{1}, 16000},
}

func TestReadWAV(t *testing.T) {
	for _, tt := range wavSeeds {
		t.Run(tt.name, func(t *testing.T) {
			pcm, rate, err := ReadWAV(bytes.NewReader(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if rate != tt.rate || !slices.Equal(pcm, tt.pcm) {
				t.Errorf("got %v at %d Hz, want %v at %d Hz", pcm, rate, tt.pcm, tt.rate)
			}
		})
	}
}

func TestReadWAVErrors(t *testing.T) {
	mono := func(d []byte) []byte { return chunk("data", d) }
	tests := []struct {
		name string
		file []byte
	}{
		{"empty", nil},
		{"short", []byte("RIFF\x00\x00")},
		{"not RIFF", slices.Concat([]byte("RIFX"), riff()[4:])},
		{"not WAVE", slices.Concat(riff()[:8], []byte("AVI "))},
		{"no fmt", riff(mono(le16s(1)))},
		{"no data", riff(chunk("fmt ", fmtBody(1, 1, 16000, 16)))},
		{"fmt of 14 bytes", riff(chunk("fmt ", fmtBody(1, 1, 16000, 16)[:14]), mono(le16s(1)))},
		{"two fmt", riff(chunk("fmt ", fmtBody(1, 1, 16000, 16)), chunk("fmt ", fmtBody(1, 1, 16000, 16)), mono(le16s(1)))},
		{"two data before fmt", riff(mono(le16s(1)), mono(le16s(1)), chunk("fmt ", fmtBody(1, 1, 16000, 16)))},
		{"float", riff(chunk("fmt ", fmtBody(3, 1, 16000, 32)), mono(le16s(1, 1)))},
		{"12-bit", riff(chunk("fmt ", fmtBody(1, 1, 16000, 12)), mono(le16s(1)))},
		{"16-bit μ-law", riff(chunk("fmt ", fmtBody(wavMulaw, 1, 16000, 16)), mono(le16s(1)))},
		{"3 channels", riff(chunk("fmt ", fmtBody(1, 3, 16000, 16)), mono(le16s(1, 2, 3)))},
		{"no channels", riff(chunk("fmt ", fmtBody(1, 0, 16000, 16)), mono(le16s(1)))},
		{"rate 0", riff(chunk("fmt ", fmtBody(1, 1, 0, 16)), mono(le16s(1)))},
		{"rate 4 GHz", riff(chunk("fmt ", fmtBody(1, 1, -1, 16)), mono(le16s(1)))},
		{"extensible, unknown sub-format", riff(chunk("fmt ", slices.Concat(extensibleBody(1, 1, 16000, 16)[:30], make([]byte, 10))), mono(le16s(1)))},
		{"extensible, float", riff(chunk("fmt ", extensibleBody(3, 1, 16000, 32)), mono(le16s(1, 1)))},
		{"extensible, short", riff(chunk("fmt ", extensibleBody(1, 1, 16000, 16)[:24]), mono(le16s(1)))},
		{"chunk past the end before fmt", slices.Concat(riff(), []byte("LIST\xff\xff\xff\x7f"), chunk("fmt ", fmtBody(1, 1, 16000, 16)))},
		{"fmt past the end", slices.Concat(riff(), []byte("fmt \x28\x00\x00\x00"), fmtBody(1, 1, 16000, 16))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pcm, rate, err := ReadWAV(bytes.NewReader(tt.file))
			if !errors.Is(err, signoff.ErrInvalid) {
				t.Fatalf("got %d samples at %d Hz, error %v; want an error of kind ErrInvalid", len(pcm), rate, err)
			}
		})
	}
}

// hugeFile claims to be larger than MaxWAVSize without holding anything.
type hugeFile struct{ pos int64 }

func (h *hugeFile) Read(p []byte) (int, error) { clear(p); h.pos += int64(len(p)); return len(p), nil }
func (h *hugeFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += h.pos
	case io.SeekEnd:
		off += MaxWAVSize + 1
	}
	h.pos = off
	return off, nil
}

func TestReadWAVTooLarge(t *testing.T) {
	if _, _, err := ReadWAV(&hugeFile{}); !errors.Is(err, signoff.ErrTooLarge) {
		t.Errorf("got %v, want an error of kind ErrTooLarge", err)
	}
}

// TestReadWAVOffset: ReadWAV starts where r is, not at 0.
func TestReadWAVOffset(t *testing.T) {
	file := slices.Concat([]byte("some container header"), wavSeeds[0].file)
	r := bytes.NewReader(file)
	r.Seek(int64(len("some container header")), io.SeekStart)
	pcm, _, err := ReadWAV(r)
	if err != nil || !slices.Equal(pcm, wavSeeds[0].pcm) {
		t.Errorf("got %v, %v; want %v", pcm, err, wavSeeds[0].pcm)
	}
}

func TestWriteWAV(t *testing.T) {
	for _, tt := range []struct {
		pcm  []int16
		rate int
	}{
		{nil, 16000},
		{[]int16{0, 1, -1, 32767, -32768}, 8000},
		{noise(1, 5000, 48000), 48000},
		{sine(440, 10000, 22050, 22050), 22050},
	} {
		b, err := EncodeWAV(tt.pcm, tt.rate)
		if err != nil {
			t.Fatal(err)
		}
		// Exactly a canonical file: the header, then the samples.
		h := wavHeader(wavPCM, 1, tt.rate, 16, uint32(2*len(tt.pcm)))
		if want := slices.Concat(h[:], le16s(tt.pcm...)); !bytes.Equal(b, want) {
			t.Errorf("%d samples at %d Hz: got % x..., want % x...", len(tt.pcm), tt.rate, b[:min(len(b), 48)], want[:min(len(want), 48)])
		}
		pcm, rate, err := ReadWAV(bytes.NewReader(b))
		if err != nil || rate != tt.rate || !slices.Equal(pcm, tt.pcm) && len(tt.pcm) > 0 {
			t.Errorf("round trip of %d samples at %d Hz: got %d samples at %d Hz, %v", len(tt.pcm), tt.rate, len(pcm), rate, err)
		}
	}
	// To a real file.
	path := filepath.Join(t.TempDir(), "x.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	in := sine(1000, 8000, 16000, 16000)
	if err := WriteWAV(f, in, 16000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	f, _ = os.Open(path)
	defer f.Close()
	if pcm, rate, err := ReadWAV(f); err != nil || rate != 16000 || !slices.Equal(pcm, in) {
		t.Errorf("file round trip: got %d samples at %d Hz, %v", len(pcm), rate, err)
	}
}

func TestWriteWAVErrors(t *testing.T) {
	for _, rate := range []int{0, 999, 400000} {
		if err := WriteWAV(&memFile{}, nil, rate); !errors.Is(err, signoff.ErrInvalid) {
			t.Errorf("rate %d: got %v, want ErrInvalid", rate, err)
		}
	}
	m := &memFile{}
	m.Write([]byte("x"))
	if err := WriteWAV(m, nil, 16000); !errors.Is(err, signoff.ErrInvalid) {
		t.Errorf("at offset 1: got %v, want ErrInvalid", err)
	}
}

// readStereo decodes a 16-bit stereo WAV with go-audio, independently of
// ReadWAV, into its two channels.
func readStereo(t *testing.T, b []byte) (left, right []int16, rate int) {
	t.Helper()
	d := wav.NewDecoder(bytes.NewReader(b))
	buf, err := d.FullPCMBuffer()
	if err != nil {
		t.Fatal(err)
	}
	if d.NumChans != 2 || d.BitDepth != 16 {
		t.Fatalf("got %d channels of %d bits, want 2 of 16", d.NumChans, d.BitDepth)
	}
	for i := 0; i+1 < len(buf.Data); i += 2 {
		left = append(left, int16(buf.Data[i]))
		right = append(right, int16(buf.Data[i+1]))
	}
	return left, right, int(d.SampleRate)
}

func TestRecorder(t *testing.T) {
	var m memFile
	m.Write([]byte("prefix")) // a recording need not start at 0
	r, err := NewRecorder(&m, SampleRate)
	if err != nil {
		t.Fatal(err)
	}
	caller := sine(300, 8000, 3*SampleRate, SampleRate)
	bot := sine(700, 6000, 2*SampleRate, SampleRate)
	var wantL, wantR []int16
	for i, f := range frames(caller, FrameSamples) {
		b := []int16(nil) // the bot is quiet in the first second and the last
		if i >= 50 && i < 100 {
			b = bot[(i-50)*FrameSamples : (i-49)*FrameSamples]
		}
		if i == 120 {
			b = bot[:FrameSamples/2] // half a frame: padded
		}
		if err := r.Write(f, b); err != nil {
			t.Fatal(err)
		}
		wantL = append(wantL, f...)
		wantR = append(wantR, b...)
		wantR = append(wantR, make([]int16, FrameSamples-len(b))...)
		if i == 60 {
			// Before any Flush, what is on disk is readable: the sizes
			// say "to the end".
			pcm, rate, err := ReadWAV(bytes.NewReader(m.b[6:]))
			if err != nil || rate != SampleRate || len(pcm) == 0 || len(pcm)%FrameSamples != 0 {
				t.Errorf("before Flush: got %d samples at %d Hz, %v; want the buffers written so far", len(pcm), rate, err)
			}
		}
	}
	if got, want := r.Duration(), 3*time.Second; got != want {
		t.Errorf("Duration: got %v, want %v", got, want)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	if err := r.Write(caller[:10], nil); err == nil {
		t.Errorf("Write after Close: got no error")
	}
	left, right, rate := readStereo(t, m.b[6:])
	if rate != SampleRate || !slices.Equal(left, wantL) || !slices.Equal(right, wantR) {
		t.Errorf("got %d+%d samples at %d Hz, want the caller left and the bot right, %d each at %d Hz", len(left), len(right), rate, len(wantL), SampleRate)
	}
	if h := wavHeader(wavPCM, 2, SampleRate, 16, uint32(4*len(wantL))); !bytes.Equal(m.b[6:50], h[:]) {
		t.Errorf("header: got % x, want % x", m.b[6:50], h[:])
	}
}

// failFile fails every write after the first n bytes.
type failFile struct {
	memFile
	n int
}

func (f *failFile) Write(p []byte) (int, error) {
	if f.pos+len(p) > f.n {
		return 0, errors.New("disk full")
	}
	return f.memFile.Write(p)
}

func TestRecorderErrors(t *testing.T) {
	if _, err := NewRecorder(&memFile{}, 0); !errors.Is(err, signoff.ErrInvalid) {
		t.Errorf("rate 0: got %v, want ErrInvalid", err)
	}
	if _, err := NewRecorder(&failFile{n: 10}, 8000); err == nil {
		t.Errorf("a failing header write: got no error")
	}
	r, err := NewRecorder(&failFile{n: 1000}, 8000)
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, 160)
	var werr error
	for i := 0; i < 200 && werr == nil; i++ {
		werr = r.Write(frame, frame)
	}
	if werr == nil || r.Write(frame, nil) == nil || r.Flush() == nil || r.Close() == nil {
		t.Errorf("after a failed write: got %v, want every call to fail", werr)
	}
}

// discard is an io.WriteSeeker that keeps nothing.
type discard struct{ pos int64 }

func (d *discard) Write(p []byte) (int, error)          { d.pos += int64(len(p)); return len(p), nil }
func (d *discard) Seek(off int64, _ int) (int64, error) { return off, nil }

func TestRecorderAllocs(t *testing.T) {
	r, _ := NewRecorder(&discard{}, SampleRate)
	caller, bot := noise(1, 1000, FrameSamples), noise(2, 1000, FrameSamples)
	if n := testing.AllocsPerRun(500, func() { r.Write(caller, bot) }); n != 0 {
		t.Errorf("got %v allocations a frame, want 0", n)
	}
}

func BenchmarkRecorder(b *testing.B) {
	r, _ := NewRecorder(&discard{}, SampleRate)
	caller, bot := noise(1, 1000, FrameSamples), noise(2, 1000, FrameSamples)
	benchFrames(b, func() { r.Write(caller, bot) })
}

// BenchmarkGoAudioEncoderFrame is why Recorder does not use go-audio's
// encoder: it allocates for every sample.
func BenchmarkGoAudioEncoderFrame(b *testing.B) {
	enc := wav.NewEncoder(&discard{}, SampleRate, 16, 2, 1)
	buf := &audio16{}
	ib := buf.frame(noise(1, 1000, 2*FrameSamples))
	benchFrames(b, func() { enc.Write(ib) })
}

func BenchmarkReadWAV(b *testing.B) {
	file, _ := EncodeWAV(noise(1, 3000, 10*SampleRate), SampleRate)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		ReadWAV(bytes.NewReader(file))
	}
}

func FuzzReadWAV(f *testing.F) {
	for _, s := range wavSeeds {
		f.Add(s.file)
	}
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, file []byte) {
		pcm, rate, err := ReadWAV(bytes.NewReader(file))
		if err != nil {
			if !errors.Is(err, signoff.ErrInvalid) && !errors.Is(err, signoff.ErrTooLarge) {
				t.Fatalf("error %v is of no kind", err)
			}
			return
		}
		if rate < 1000 || rate > 384000 {
			t.Fatalf("rate %d Hz", rate)
		}
		if len(pcm) > len(file) {
			t.Fatalf("%d samples from %d bytes", len(pcm), len(file))
		}
		b, err := EncodeWAV(pcm, rate)
		if err != nil {
			t.Fatal(err)
		}
		back, rate2, err := ReadWAV(bytes.NewReader(b))
		if err != nil || rate2 != rate || !slices.Equal(back, pcm) && len(pcm) > 0 {
			t.Fatalf("rewritten: got %d samples at %d Hz, %v; want %d at %d", len(back), rate2, err, len(pcm), rate)
		}
	})
}

// audio16 builds go-audio buffers of stereo frames for the benchmark.
type audio16 struct{}

func (audio16) frame(x []int16) *audio.IntBuffer {
	data := make([]int, len(x))
	for i, s := range x {
		data[i] = int(s)
	}
	return &audio.IntBuffer{Data: data, Format: &audio.Format{NumChannels: 2, SampleRate: SampleRate}, SourceBitDepth: 16}
}
