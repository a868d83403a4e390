package video

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/ivfwriter"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
)

// recorder writes one published track to disk as it arrives: VP8 into IVF
// (whole frames, from the first keyframe), Opus into Ogg. finish names the
// file by its SHA-256, so the evidence log refers to it by hash.
type recorder struct {
	dir, tmp    string
	role, kind  string
	codec       string
	ext         string
	clock       uint32
	ivf         *ivfwriter.IVFWriter
	ogg         *oggwriter.OggWriter
	frames      int
	keyframes   int
	seenKey     bool
	first, last uint32
	started     bool
	err         error
	at          time.Time
}

// newRecorder starts the recording of pub, or returns nil when calls are
// not recorded or the codec is not recordable.
func (h *Handler) newRecorder(pub *publication, now time.Time) *recorder {
	if h.cfg.BlobDir == "" {
		return nil
	}
	c := pub.remote.Codec()
	rec := &recorder{dir: h.cfg.BlobDir, role: pub.role, kind: pub.remote.Kind().String(), codec: strings.ToLower(c.MimeType),
		clock: c.ClockRate, at: now}
	tmp, err := os.CreateTemp(h.cfg.BlobDir, ".rec-*.part")
	if err != nil {
		h.logErr("video: recording", err)
		return nil
	}
	rec.tmp = tmp.Name()
	tmp.Close()
	switch {
	case strings.EqualFold(c.MimeType, webrtc.MimeTypeVP8):
		rec.ext = ".ivf"
		rec.ivf, err = ivfwriter.New(rec.tmp, ivfwriter.WithCodec(webrtc.MimeTypeVP8))
	case strings.EqualFold(c.MimeType, webrtc.MimeTypeOpus):
		rec.ext = ".ogg"
		rec.ogg, err = oggwriter.New(rec.tmp, 48000, 2)
	default:
		err = fmt.Errorf("video: cannot record %s", c.MimeType)
	}
	if err != nil {
		os.Remove(rec.tmp)
		h.logErr("video: recording", err)
		return nil
	}
	return rec
}

// write adds one packet. After an error the recorder keeps the error and
// writes nothing more.
func (r *recorder) write(p *rtp.Packet) {
	if r.err != nil || len(p.Payload) == 0 {
		return
	}
	if r.ivf != nil {
		if key, start := vp8Keyframe(p.Payload); start && key {
			r.seenKey = true
			r.keyframes++
		}
		if !r.seenKey {
			return
		}
		if p.Marker {
			r.frames++
		}
		r.err = r.ivf.WriteRTP(p)
	} else {
		r.frames++
		r.err = r.ogg.WriteRTP(p)
	}
	if !r.started {
		r.first, r.started = p.Timestamp, true
	}
	r.last = p.Timestamp
}

// vp8Keyframe reports whether a VP8 payload starts a frame, and whether
// that frame is a keyframe.
func vp8Keyframe(payload []byte) (key, start bool) {
	var vp8 codecs.VP8Packet
	if _, err := vp8.Unmarshal(payload); err != nil || len(vp8.Payload) == 0 {
		return false, false
	}
	start = vp8.S == 1 && vp8.PID == 0
	return start && vp8.Payload[0]&0x01 == 0, start
}

// finish closes the file, names it <sha256><ext> and returns the fields of
// its video_recording log entry.
func (r *recorder) finish() (map[string]string, error) {
	var cerr error
	if r.ivf != nil {
		cerr = r.ivf.Close()
	} else {
		cerr = r.ogg.Close()
	}
	if r.err == nil {
		r.err = cerr
	}
	if r.err != nil {
		os.Remove(r.tmp)
		return nil, r.err
	}
	f, err := os.Open(r.tmp)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	f.Close()
	if err != nil {
		os.Remove(r.tmp)
		return nil, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	name := sum + r.ext
	if err := os.Rename(r.tmp, filepath.Join(r.dir, name)); err != nil {
		os.Remove(r.tmp)
		return nil, err
	}
	dur := time.Duration(0)
	if r.started && r.clock > 0 {
		dur = time.Duration(uint64(r.last-r.first) * uint64(time.Second) / uint64(r.clock))
	}
	return map[string]string{
		"hash": sum, "file": name, "role": r.role, "kind": r.kind, "codec": r.codec,
		"duration_ms": strconv.FormatInt(dur.Milliseconds(), 10), "frames": strconv.Itoa(r.frames),
		"keyframes": strconv.Itoa(r.keyframes), "bytes": strconv.FormatInt(n, 10),
		"started_at": r.at.UTC().Format(time.RFC3339Nano),
	}, nil
}
