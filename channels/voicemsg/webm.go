package voicemsg

import (
	"math/bits"

	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// Matroska element IDs the WebM walk needs (markers included, as written).
const (
	idEBML         = 0x1A45DFA3
	idSegment      = 0x18538067
	idCluster      = 0x1F43B675
	idTracks       = 0x1654AE6B
	idTrackEntry   = 0xAE
	idTrackNumber  = 0xD7
	idCodecID      = 0x86
	idCodecPrivate = 0x63A2
	idBlockGroup   = 0xA0
	idBlock        = 0xA1
	idSimpleBlock  = 0xA3
)

// ebmlID reads an element ID of one to four bytes from b and returns it with
// its length; n is 0 if b does not start with one.
func ebmlID(b []byte) (id uint32, n int) {
	if len(b) == 0 || b[0] == 0 {
		return 0, 0
	}
	n = bits.LeadingZeros8(b[0]) + 1
	if n > 4 || len(b) < n {
		return 0, 0
	}
	for _, c := range b[:n] {
		id = id<<8 | uint32(c)
	}
	return id, n
}

// ebmlVint reads a variable-size integer of one to eight bytes from b (its
// length marker removed) and returns it, its length, and whether all its
// bits are set (an element of unknown size); n is 0 if b does not start with
// one.
func ebmlVint(b []byte) (v uint64, n int, unknown bool) {
	if len(b) == 0 || b[0] == 0 {
		return 0, 0, false
	}
	n = bits.LeadingZeros8(b[0]) + 1
	if len(b) < n {
		return 0, 0, false
	}
	v = uint64(b[0] & (0xFF >> n))
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
	}
	return v, n, v == 1<<(7*n)-1
}

// webmTrack is what the walk learns of one TrackEntry.
type webmTrack struct {
	num     uint64
	codec   string
	private []byte
}

// webmPackets reads the Opus packets of the first Opus track of a WebM (or
// Matroska) file. It walks the elements front to back and descends into
// Segment, Cluster, Tracks, TrackEntry and BlockGroup without regard to their
// sizes, which MediaRecorder leaves unknown while it streams; every other
// element must have a known size within the file and is skipped unless the
// walk needs it. Laced blocks are refused: MediaRecorder and ffmpeg do not
// lace Opus.
func webmPackets(data []byte) packetSource {
	return func(yield func(*oggreader.OggHeader, []byte) bool) error {
		if id, _ := ebmlID(data); id != idEBML {
			return badAudio("not a WebM file")
		}
		var (
			tracks []webmTrack
			head   *oggreader.OggHeader
			track  uint64
		)
		for off := 0; off < len(data); {
			id, n := ebmlID(data[off:])
			if n == 0 {
				return badAudio("no WebM element at byte %d", off)
			}
			size, m, unknown := ebmlVint(data[off+n:])
			if m == 0 {
				return badAudio("no element size at byte %d", off+n)
			}
			off += n + m
			switch id {
			case idSegment, idCluster, idTracks, idBlockGroup:
				continue
			case idTrackEntry:
				tracks = append(tracks, webmTrack{})
				continue
			}
			if unknown || size > uint64(len(data)-off) {
				return badAudio("element %#x at byte %d runs past the end", id, off)
			}
			body := data[off : off+int(size)]
			off += int(size)
			last := len(tracks) - 1
			switch {
			case id == idTrackNumber && last >= 0 && len(body) <= 8:
				tracks[last].num = 0
				for _, c := range body {
					tracks[last].num = tracks[last].num<<8 | uint64(c)
				}
			case id == idCodecID && last >= 0:
				tracks[last].codec = string(body)
			case id == idCodecPrivate && last >= 0:
				tracks[last].private = body
			case id == idSimpleBlock || id == idBlock:
				if head == nil {
					var err error
					if head, track, err = opusTrack(tracks); err != nil {
						return err
					}
				}
				tn, k, _ := ebmlVint(body)
				if k == 0 || len(body) < k+3 {
					return badAudio("a block of %d bytes", len(body))
				}
				if tn != track {
					continue
				}
				if body[k+2]&0x06 != 0 {
					return badAudio("laced blocks are not supported")
				}
				if !yield(head, body[k+3:]) {
					return nil
				}
			}
		}
		if head == nil {
			return badAudio("no Opus audio")
		}
		return nil
	}
}

// opusTrack returns the OpusHead and number of the first Opus track.
func opusTrack(tracks []webmTrack) (*oggreader.OggHeader, uint64, error) {
	for _, t := range tracks {
		if t.codec != "A_OPUS" {
			continue
		}
		if len(t.private) == 0 {
			return &oggreader.OggHeader{Channels: 1, SampleRate: opusRate}, t.num, nil
		}
		h, err := opusHead(t.private)
		if err != nil {
			return nil, 0, err
		}
		return h, t.num, nil
	}
	return nil, 0, badAudio("no Opus track before the first block")
}
