package speech

import (
	"math/bits"
	"slices"
)

// G.711 (ITU-T, 1988) companding: PCMU (μ-law, RTP payload type 0) and PCMA
// (A-law, payload type 8), both 8 kHz and one byte a sample. Decoding is a
// table lookup; encoding finds the segment with one bit-length instruction.
// The 16-bit forms here are the G.711 tables scaled by 4 (μ-law, 14-bit) and
// 8 (A-law, 13-bit), as in the reference code of G.191.

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

// MulawEncode returns the μ-law code of a 16-bit sample. Magnitudes above
// 32635 saturate to the largest code.
func MulawEncode(s int16) byte {
	x := int32(s)
	sign := byte(0)
	if x < 0 {
		x = -x
		sign = 0x80
	}
	x = min(x, mulawClip) + mulawBias
	// x is in [0x84, 0x7FFF]: bit length 8..15 is segment 0..7.
	seg := bits.Len32(uint32(x)) - 8
	mant := byte(x>>(seg+3)) & 0x0F
	return ^(sign | byte(seg)<<4 | mant)
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

// AlawEncode returns the A-law code of a 16-bit sample.
func AlawEncode(s int16) byte {
	x := int32(s) >> 3 // 13-bit
	mask := byte(0xD5)
	if x < 0 {
		mask = 0x55
		x = -x - 1
	}
	// x is in [0, 4095]: segment 0 and 1 share a step; above, the bit
	// length fixes the segment.
	var b byte
	if x < 32 {
		b = byte(x >> 1)
	} else {
		seg := bits.Len32(uint32(x)) - 5
		b = byte(seg)<<4 | byte(x>>seg)&0x0F
	}
	return b ^ mask
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
