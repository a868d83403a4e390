package voicemsg

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/pion/opus"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/speech"
)

// Format is a container the handler decodes.
type Format string

// The formats Decode reads.
const (
	FormatWAV  Format = "wav"  // RIFF WAVE: PCM, μ-law or A-law (speech.ReadWAV)
	FormatOgg  Format = "ogg"  // Opus in Ogg (RFC 7845)
	FormatWebM Format = "webm" // Opus in WebM/Matroska, as MediaRecorder makes it
)

// opusRate is the rate Opus is decoded at; Opus's own clock.
const opusRate = 48000

// maxOpusFrame is the longest Opus packet (120 ms) at 48 kHz.
const maxOpusFrame = 5760

func badAudio(format string, args ...any) error {
	return signoff.Errorf(signoff.ErrInvalid, "bad_audio", "the audio could not be decoded: "+format, args...)
}

func tooLong(limit time.Duration) error {
	return signoff.Errorf(signoff.ErrInvalid, "audio_too_long", "the audio is longer than %d seconds", int(limit/time.Second))
}

// Decode returns the audio of data, in format f, as 16 kHz mono PCM. Audio
// longer than limit is an error of kind signoff.ErrInvalid with code
// "audio_too_long"; anything it cannot read is one of kind
// signoff.ErrInvalid with code "bad_audio". data may be hostile: Decode
// never panics on it and allocates in proportion to len(data) and limit.
func Decode(data []byte, f Format, limit time.Duration) (pcm []int16, err error) {
	defer func() {
		// The Opus decoder is young code; a packet that trips it is bad
		// audio, not a crash of the server.
		if p := recover(); p != nil {
			pcm, err = nil, badAudio("the decoder failed (%v)", p)
		}
	}()
	maxSamples := int(limit / (time.Second / speech.SampleRate))
	switch f {
	case FormatWAV:
		raw, rate, err := speech.ReadWAV(bytes.NewReader(data))
		if err != nil {
			if signoff.ErrorCode(err) == "wav_too_large" {
				return nil, err
			}
			return nil, badAudio("%s", signoff.ErrorMessage(err))
		}
		if int64(len(raw))*speech.SampleRate > int64(maxSamples)*int64(rate) {
			return nil, tooLong(limit)
		}
		return resample(raw, rate)
	case FormatOgg:
		return decodeOpus(oggPackets(data), maxSamples, limit)
	case FormatWebM:
		return decodeOpus(webmPackets(data), maxSamples, limit)
	}
	return nil, badAudio("unknown format %q", f)
}

func resample(raw []int16, rate int) ([]int16, error) {
	if rate == speech.SampleRate {
		return raw, nil
	}
	r, err := speech.NewResampler(rate, speech.SampleRate)
	if err != nil {
		return nil, badAudio("sample rate %d Hz", rate)
	}
	return r.Resample(make([]int16, 0, int64(len(raw))*speech.SampleRate/int64(rate)+64), raw), nil
}

// packetSource yields an Opus stream: first its OpusHead, then its audio
// packets; ok is false at the end. An error ends the stream.
type packetSource func(yield func(head *oggreader.OggHeader, packet []byte) bool) error

// decodeOpus decodes the packets of src to 16 kHz, dropping the encoder's
// pre-skip, and stops with audio_too_long once more than maxSamples came out.
func decodeOpus(src packetSource, maxSamples int, limit time.Duration) ([]int16, error) {
	dec, err := opus.NewDecoderWithOutput(opusRate, 1)
	if err != nil {
		return nil, fmt.Errorf("voicemsg: opus decoder: %w", err)
	}
	rs, err := speech.NewResampler(opusRate, speech.SampleRate)
	if err != nil {
		return nil, fmt.Errorf("voicemsg: resampler: %w", err)
	}
	var (
		out    []int16
		buf    = make([]int16, maxOpusFrame)
		skip   int
		head   *oggreader.OggHeader
		derr   error
		frames int
	)
	serr := src(func(h *oggreader.OggHeader, packet []byte) bool {
		if head == nil {
			head, skip = h, int(h.PreSkip)
		}
		n, err := dec.DecodeToInt16(packet, buf)
		if err != nil {
			derr = badAudio("Opus packet %d: %v", frames, err)
			return false
		}
		frames++
		pcm := buf[:n]
		if skip > 0 {
			k := min(skip, len(pcm))
			pcm, skip = pcm[k:], skip-k
		}
		out = rs.Resample(out, pcm)
		if len(out) > maxSamples {
			derr = tooLong(limit)
			return false
		}
		return true
	})
	if derr != nil {
		return nil, derr
	}
	if serr != nil {
		return nil, serr
	}
	if head == nil || frames == 0 {
		return nil, badAudio("no Opus audio")
	}
	return out, nil
}

// opusHead parses an OpusHead packet; only mono and stereo streams (channel
// mapping family 0) are read.
func opusHead(p []byte) (*oggreader.OggHeader, error) {
	if len(p) < 19 || string(p[:8]) != "OpusHead" {
		return nil, badAudio("no OpusHead")
	}
	h, err := oggreader.ParseOpusHead(p)
	if err != nil {
		return nil, badAudio("OpusHead: %v", err)
	}
	if h.Version>>4 != 0 || h.Channels < 1 || h.Channels > 2 || h.ChannelMap != 0 {
		return nil, badAudio("an Opus stream of %d channels, mapping %d (want mono or stereo)", h.Channels, h.ChannelMap)
	}
	return h, nil
}

// oggPackets reads the packets of the first logical stream of an Ogg file.
// It does its own page walk rather than use oggreader.OggReader, which
// joins a page's packets into one payload and so cannot split them; pages of
// other streams are skipped, CRCs are not checked (the upload's bytes are
// kept as evidence either way).
func oggPackets(data []byte) packetSource {
	return func(yield func(*oggreader.OggHeader, []byte) bool) error {
		var (
			serial  uint32
			first   = true
			head    *oggreader.OggHeader
			tags    bool
			partial []byte
		)
		for off := 0; off < len(data); {
			if len(data)-off < 27 || string(data[off:off+4]) != "OggS" {
				return badAudio("no Ogg page at byte %d", off)
			}
			h := data[off : off+27]
			if h[4] != 0 {
				return badAudio("Ogg version %d", h[4])
			}
			nseg := int(h[26])
			if len(data)-off-27 < nseg {
				return badAudio("truncated Ogg page at byte %d", off)
			}
			lacing := data[off+27 : off+27+nseg]
			body := off + 27 + nseg
			size := 0
			for _, l := range lacing {
				size += int(l)
			}
			if len(data)-body < size {
				return badAudio("truncated Ogg page at byte %d", off)
			}
			off = body + size
			s := binary.LittleEndian.Uint32(h[14:18])
			if first {
				serial, first = s, false
			} else if s != serial {
				continue
			}
			for _, l := range lacing {
				partial = append(partial, data[body:body+int(l)]...)
				body += int(l)
				if l == 255 {
					continue // the packet goes on
				}
				p := partial
				partial = nil
				switch {
				case head == nil:
					var err error
					if head, err = opusHead(p); err != nil {
						return err
					}
				case !tags:
					if len(p) < 8 || string(p[:8]) != "OpusTags" {
						return badAudio("no OpusTags")
					}
					tags = true
				case len(p) == 0:
				default:
					if !yield(head, p) {
						return nil
					}
				}
			}
		}
		if head == nil {
			return badAudio("not an Ogg Opus file")
		}
		return nil
	}
}
