package speech

import (
	"math/bits"
	"slices"
)

// G.711 (ITU-T, 1988) companding: PCMU (μ-law, RTP payload type 0) and PCMA
// (A-law, payload type 8), both 8 kHz and one byte a sample. Decoding is a
// table lookup; encoding finds the segment with one bit-length instruction.
// Samples are 16-bit, the G.711 scales (14-bit μ-law, 13-bit A-law)
// left-justified, and every code and sample matches the ITU-T G.191
// reference code (g711.c of the Software Tool Library) bit for bit.

var (
	mulawTable = func() (t [256]int16) {
		for i := range t {
			t[i] = mulawToLinear(byte(i))
		}
		return t
	}()
	alawTable = func() (t [256]int16) {
		for i := range t {
			t[i] = alawToLinear(byte(i))
		}
		return t
	}()
)

const (
	mulawBias = 0x84  // 33 << 2: makes every segment start at a power of two
	mulawClip = 32635 // 32767 - mulawBias: the largest magnitude μ-law encodes
)

// MulawEncode returns the μ-law code of a 16-bit sample, as the G.191
// reference code does (negative samples by their one's complement, so that
// -1 is the negative zero 0x7F). Magnitudes above 32635 saturate.
func MulawEncode(s int16) byte {
	x := int32(s)
	neg := x >> 31 // -1 for negative samples: no branch to mispredict
	x = min(x^neg, mulawClip) + mulawBias
	// x is in [0x84, 0x7FFF]: bit length 8..15 is segment 0..7.
	seg := bits.Len32(uint32(x)) - 8
	mant := byte(x>>(seg+3)) & 0x0F
	return ^(byte(neg&0x80) | byte(seg)<<4 | mant)
}

// MulawDecode returns the 16-bit sample of a μ-law code (-32124..32124).
func MulawDecode(u byte) int16 { return mulawTable[u] }

func mulawToLinear(u byte) int16 {
	u = ^u
	t := (int32(u&0x0F)<<3 + mulawBias) << ((u & 0x70) >> 4)
	if u&0x80 != 0 {
		return int16(mulawBias - t)
	}
	return int16(t - mulawBias)
}

// AlawEncode returns the A-law code of a 16-bit sample (even bits inverted,
// as on the wire).
func AlawEncode(s int16) byte {
	x := int32(s) >> 3 // 13-bit
	neg := x >> 31
	x ^= neg // 0..4095
	// Segments 0 and 1 share a step; above, the bit length is the segment.
	seg := max(bits.Len32(uint32(x))-5, 0)
	b := byte(seg)<<4 | byte(x>>max(seg, 1))&0x0F
	return b ^ (0xD5 ^ byte(neg&0x80))
}

// AlawDecode returns the 16-bit sample of an A-law code (-32256..32256).
func AlawDecode(a byte) int16 { return alawTable[a] }

func alawToLinear(a byte) int16 {
	a ^= 0x55
	t := int32(a&0x0F) << 4
	switch seg := (a & 0x70) >> 4; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t = (t + 0x108) << (seg - 1)
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

// AppendMulaw appends the μ-law codes of pcm to dst and returns the extended
// slice; with dst[:0] of a reused buffer it does not allocate.
func AppendMulaw(dst []byte, pcm []int16) []byte {
	n := len(dst)
	dst = slices.Grow(dst, len(pcm))[:n+len(pcm)]
	out := dst[n:]
	for i, s := range pcm {
		out[i] = MulawEncode(s)
	}
	return dst
}

// AppendMulawPCM appends the samples of the μ-law codes in ulaw to dst and
// returns the extended slice.
func AppendMulawPCM(dst []int16, ulaw []byte) []int16 {
	n := len(dst)
	dst = slices.Grow(dst, len(ulaw))[:n+len(ulaw)]
	out := dst[n:]
	for i, u := range ulaw {
		out[i] = mulawTable[u]
	}
	return dst
}

// AppendAlaw appends the A-law codes of pcm to dst and returns the extended
// slice.
func AppendAlaw(dst []byte, pcm []int16) []byte {
	n := len(dst)
	dst = slices.Grow(dst, len(pcm))[:n+len(pcm)]
	out := dst[n:]
	for i, s := range pcm {
		out[i] = AlawEncode(s)
	}
	return dst
}

// AppendAlawPCM appends the samples of the A-law codes in alaw to dst and
// returns the extended slice.
func AppendAlawPCM(dst []int16, alaw []byte) []int16 {
	n := len(dst)
	dst = slices.Grow(dst, len(alaw))[:n+len(alaw)]
	out := dst[n:]
	for i, a := range alaw {
		out[i] = alawTable[a]
	}
	return dst
}
