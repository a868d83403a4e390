package voicemsg

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/hraban/opus"
)

// The Opus test files are made here: packets from libopus (hraban/opus, cgo;
// neither opusenc nor ffmpeg is installed) in an Ogg or WebM container
// written by the test.

const testPreSkip = 312

// tone returns secs seconds of a 440 Hz tone at rate Hz.
func tone(rate int, secs float64) []int16 {
	out := make([]int16, int(float64(rate)*secs))
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
	}
	return out
}

// opusPackets encodes pcm (48 kHz mono) as 20 ms Opus packets, the last
// frame padded with silence.
func opusPackets(t testing.TB, pcm []int16) [][]byte {
	t.Helper()
	enc, err := opus.NewEncoder(48000, 1, opus.AppVoIP)
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.SetBitrate(24000); err != nil {
		t.Fatal(err)
	}
	if err := enc.SetMaxBandwidth(opus.Wideband); err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for i := 0; i < len(pcm); i += 960 {
		frame := make([]int16, 960)
		copy(frame, pcm[i:])
		buf := make([]byte, 1500)
		n, err := enc.Encode(frame, buf)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, buf[:n])
	}
	return out
}

func opusHeadPacket(channels byte) []byte {
	b := []byte("OpusHead")
	b = append(b, 1, channels)
	b = binary.LittleEndian.AppendUint16(b, testPreSkip)
	b = binary.LittleEndian.AppendUint32(b, 48000)
	b = append(b, 0, 0, 0) // gain, mapping family 0
	return b
}

var oggCRC = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

// oggPage writes one page holding packets.
func oggPage(w *bytes.Buffer, flags byte, granule uint64, seq uint32, packets ...[]byte) {
	var lacing, body []byte
	for _, p := range packets {
		n := len(p)
		for ; n >= 255; n -= 255 {
			lacing = append(lacing, 255)
		}
		lacing = append(lacing, byte(n))
		body = append(body, p...)
	}
	h := []byte("OggS")
	h = append(h, 0, flags)
	h = binary.LittleEndian.AppendUint64(h, granule)
	h = binary.LittleEndian.AppendUint32(h, 0x5157)
	h = binary.LittleEndian.AppendUint32(h, seq)
	h = append(h, 0, 0, 0, 0, byte(len(lacing)))
	page := append(append(h, lacing...), body...)
	var crc uint32
	for _, c := range page {
		crc = crc<<8 ^ oggCRC[byte(crc>>24)^c]
	}
	binary.LittleEndian.PutUint32(page[22:], crc)
	w.Write(page)
}

// oggOpus makes an Ogg Opus file of packets, five to a page.
func oggOpus(packets [][]byte) []byte {
	var w bytes.Buffer
	oggPage(&w, 2, 0, 0, opusHeadPacket(1))
	oggPage(&w, 0, 0, 1, append([]byte("OpusTags"), 4, 0, 0, 0, 't', 'e', 's', 't', 0, 0, 0, 0))
	seq := uint32(2)
	for i := 0; i < len(packets); i += 5 {
		end := min(i+5, len(packets))
		flags := byte(0)
		if end == len(packets) {
			flags = 4
		}
		oggPage(&w, flags, uint64(end*960), seq, packets[i:end]...)
		seq++
	}
	return w.Bytes()
}

// ebml returns an element: id (with its marker bits), size, body. unknown
// writes the unknown size, as MediaRecorder does for Segment and Cluster.
func ebml(id uint32, body []byte, unknown bool) []byte {
	var b []byte
	for s := 24; s >= 0; s -= 8 {
		if c := byte(id >> s); c != 0 || len(b) > 0 {
			b = append(b, c)
		}
	}
	if unknown {
		b = append(b, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)
	} else {
		b = binary.BigEndian.AppendUint64(b, uint64(len(body))|1<<56) // an 8-byte size
	}
	return append(b, body...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// webmOpus makes a WebM file of packets the way Chrome's MediaRecorder
// does: a Segment and Clusters of unknown size, one SimpleBlock a packet.
func webmOpus(packets [][]byte) []byte {
	header := ebml(idEBML, ebml(0x4282, []byte("webm"), false), false)
	tracks := ebml(idTracks, ebml(idTrackEntry, cat(
		ebml(idTrackNumber, []byte{1}, false),
		ebml(0x83, []byte{2}, false), // TrackType audio
		ebml(idCodecID, []byte("A_OPUS"), false),
		ebml(idCodecPrivate, opusHeadPacket(1), false),
	), false), false)
	var clusters []byte
	for i := 0; i < len(packets); i += 50 {
		c := ebml(0xE7, []byte{byte(i / 50)}, false) // Timecode
		for j := i; j < min(i+50, len(packets)); j++ {
			tc := (j - i) * 20
			c = append(c, ebml(idSimpleBlock, cat([]byte{0x81, byte(tc >> 8), byte(tc), 0x80}, packets[j]), false)...)
		}
		clusters = append(clusters, ebml(idCluster, c, true)...)
	}
	return cat(header, ebml(idSegment, cat(ebml(0x1549A966, nil, false), tracks, clusters), true))
}
