package speech

import (
	"math"
	"testing"
)

// The ITU-T G.191 reference code (STL g711.c), transliterated from C, to
// compare against for every input.
func g191UlawCompress(x int16) byte {
	var absno int16
	if x < 0 {
		absno = (^x)>>2 + 33
	} else {
		absno = x>>2 + 33
	}
	if absno > 0x1FFF {
		absno = 0x1FFF
	}
	i := absno >> 6
	segno := int16(1)
	for i != 0 {
		segno++
		i >>= 1
	}
	high := 0x0008 - segno
	low := 0x000F - (absno>>segno)&0x000F
	out := high<<4 | low
	if x >= 0 {
		out |= 0x0080
	}
	return byte(out)
}

func g191UlawExpand(b byte) int16 {
	sign := int32(1)
	if b < 0x80 {
		sign = -1
	}
	m := int32(^b)
	exp := (m >> 4) & 7
	seg := exp + 1
	m &= 0x0F
	step := int32(4) << seg
	return int16(sign * ((0x80 << exp) + step*m + step/2 - 4*33))
}

func g191AlawCompress(x int16) byte {
	var ix int16
	if x < 0 {
		ix = (^x) >> 4
	} else {
		ix = x >> 4
	}
	if ix > 15 {
		iexp := int16(1)
		for ix > 16+15 {
			ix >>= 1
			iexp++
		}
		ix -= 16
		ix += iexp << 4
	}
	if x >= 0 {
		ix |= 0x0080
	}
	return byte(ix ^ 0x0055)
}

func g191AlawExpand(b byte) int16 {
	ix := int32(b^0x55) & 0x7F
	iexp := ix >> 4
	mant := ix & 0x0F
	if iexp > 0 {
		mant += 16
	}
	mant = mant<<4 + 8
	if iexp > 1 {
		mant <<= iexp - 1
	}
	if b > 127 {
		return int16(mant)
	}
	return int16(-mant)
}

// TestG711Reference: every sample and every code, against G.191.
func TestG711Reference(t *testing.T) {
	for x := math.MinInt16; x <= math.MaxInt16; x++ {
		s := int16(x)
		if got, want := MulawEncode(s), g191UlawCompress(s); got != want {
			t.Fatalf("MulawEncode(%d): got %#02x, want %#02x", s, got, want)
		}
		if got, want := AlawEncode(s), g191AlawCompress(s); got != want {
			t.Fatalf("AlawEncode(%d): got %#02x, want %#02x", s, got, want)
		}
	}
	for c := 0; c < 256; c++ {
		if got, want := MulawDecode(byte(c)), g191UlawExpand(byte(c)); got != want {
			t.Fatalf("MulawDecode(%#02x): got %d, want %d", c, got, want)
		}
		if got, want := AlawDecode(byte(c)), g191AlawExpand(byte(c)); got != want {
			t.Fatalf("AlawDecode(%#02x): got %d, want %d", c, got, want)
		}
	}
}

// TestG711Vectors: known values of the G.711 tables. The positive ones agree
// with Python's audioop too, whose Sun-derived encoder rounds negatives
// differently from G.191.
func TestG711Vectors(t *testing.T) {
	tests := []struct {
		s      int16
		ulaw   byte
		alaw   byte
		ulawPC int16 // decoded
		alawPC int16
	}{
		{0, 0xFF, 0xD5, 0, 8},
		{-1, 0x7F, 0x55, 0, -8},
		{8, 0xFE, 0xD5, 8, 8},
		{100, 0xF2, 0xD3, 104, 104},
		{-100, 0x73, 0x53, -96, -104}, // G.191: negatives by one's complement
		{1000, 0xCE, 0xFA, 988, 1008},
		{-1000, 0x4E, 0x7A, -988, -1008},
		{4000, 0xAF, 0x9A, 4092, 4032},
		{16000, 0x90, 0xBA, 15996, 16128},
		{32767, 0x80, 0xAA, 32124, 32256},
		{-32768, 0x00, 0x2A, -32124, -32256},
	}
	for _, tt := range tests {
		if got := MulawEncode(tt.s); got != tt.ulaw {
			t.Errorf("MulawEncode(%d): got %#02x, want %#02x", tt.s, got, tt.ulaw)
		}
		if got := AlawEncode(tt.s); got != tt.alaw {
			t.Errorf("AlawEncode(%d): got %#02x, want %#02x", tt.s, got, tt.alaw)
		}
		if got := MulawDecode(tt.ulaw); got != tt.ulawPC {
			t.Errorf("MulawDecode(%#02x): got %d, want %d", tt.ulaw, got, tt.ulawPC)
		}
		if got := AlawDecode(tt.alaw); got != tt.alawPC {
			t.Errorf("AlawDecode(%#02x): got %d, want %d", tt.alaw, got, tt.alawPC)
		}
	}
}

// TestG711RoundTrip: decoding an encoded sample errs by at most half the step
// of its segment (plus the one's complement's 1 for negatives), except where
// μ-law saturates; and a decoded code encodes to itself.
func TestG711RoundTrip(t *testing.T) {
	laws := []struct {
		name   string
		enc    func(int16) byte
		dec    func(byte) int16
		step   func(byte) int32
		maxOut int32
	}{
		{"μ-law", MulawEncode, MulawDecode, func(c byte) int32 { return 8 << ((^c >> 4) & 7) }, 32124},
		{"A-law", AlawEncode, AlawDecode, func(c byte) int32 {
			if seg := ((c ^ 0x55) >> 4) & 7; seg > 1 {
				return 16 << (seg - 1)
			}
			return 16
		}, 32256},
	}
	for _, law := range laws {
		for x := math.MinInt16; x <= math.MaxInt16; x++ {
			c := law.enc(int16(x))
			y := int32(law.dec(c))
			if abs32(int32(x)) > law.maxOut {
				if abs32(y) != law.maxOut {
					t.Fatalf("%s: %d saturates to %d, want ±%d", law.name, x, y, law.maxOut)
				}
				continue
			}
			if err, bound := abs32(y-int32(x)), law.step(c)/2+1; err > bound {
				t.Fatalf("%s: %d → %#02x → %d: error %d, want ≤ %d", law.name, x, c, y, err, bound)
			}
		}
		for c := 0; c < 256; c++ {
			if c == 0x7F && law.name == "μ-law" {
				continue // negative zero decodes to 0, which is positive zero
			}
			if got := law.enc(law.dec(byte(c))); got != byte(c) {
				t.Errorf("%s: %#02x → %d → %#02x", law.name, c, law.dec(byte(c)), got)
			}
		}
	}
}

// TestG711SNR: a speech-level tone keeps the 33-38 dB that G.711 is
// known for, and the batch functions agree with the per-sample ones.
func TestG711SNR(t *testing.T) {
	in := sine(1000, DBFSToRMS(-15)*math.Sqrt2, 8000, 8000)
	for _, law := range []struct {
		name string
		rt   func([]int16) []int16
	}{
		{"μ-law", func(x []int16) []int16 { return AppendMulawPCM(nil, AppendMulaw(nil, x)) }},
		{"A-law", func(x []int16) []int16 { return AppendAlawPCM(nil, AppendAlaw(nil, x)) }},
	} {
		out := law.rt(in)
		var sig, noise float64
		for i := range in {
			sig += float64(in[i]) * float64(in[i])
			d := float64(out[i]) - float64(in[i])
			noise += d * d
		}
		if snr := 10 * math.Log10(sig/noise); snr < 33 {
			t.Errorf("%s: SNR %.1f dB, want ≥ 33", law.name, snr)
		}
	}
	buf := AppendMulaw([]byte{1, 2}, []int16{0, -1})
	if string(buf) != "\x01\x02\xff\x7f" {
		t.Errorf("AppendMulaw: got % x, want 01 02 ff 7f", buf)
	}
}

func abs32(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

func TestG711Allocs(t *testing.T) {
	pcm := noise(1, 3000, 160)
	ulaw := make([]byte, 0, 160)
	out := make([]int16, 0, 160)
	if n := testing.AllocsPerRun(100, func() {
		ulaw = AppendMulaw(ulaw[:0], pcm)
		out = AppendMulawPCM(out[:0], ulaw)
	}); n != 0 {
		t.Errorf("got %v allocations a frame, want 0", n)
	}
}

func BenchmarkG711(b *testing.B) {
	pcm := noise(1, 3000, 160) // a 20 ms frame at 8 kHz
	buf := make([]byte, 0, 160)
	out := make([]int16, 0, 160)
	b.Run("MulawEncode", func(b *testing.B) { benchFrames(b, func() { buf = AppendMulaw(buf[:0], pcm) }) })
	b.Run("MulawDecode", func(b *testing.B) { benchFrames(b, func() { out = AppendMulawPCM(out[:0], buf) }) })
	b.Run("AlawEncode", func(b *testing.B) { benchFrames(b, func() { buf = AppendAlaw(buf[:0], pcm) }) })
	b.Run("AlawDecode", func(b *testing.B) { benchFrames(b, func() { out = AppendAlawPCM(out[:0], buf) }) })
}
