package espeak

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// parseWAV reads the 16-bit PCM WAV that espeak-ng writes to stdout. Writing
// to a pipe it cannot seek back to fill in the sizes, so the RIFF and data
// sizes are placeholders (0x7fffffff) and the data runs to the end.
func parseWAV(b []byte) (pcm []int16, rate int, err error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errors.New("not a RIFF/WAVE stream")
	}
	var channels, bits int
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int(binary.LittleEndian.Uint32(b[off+4 : off+8]))
		body := b[off+8:]
		switch id {
		case "fmt ":
			if size < 16 || len(body) < 16 {
				return nil, 0, errors.New("short fmt chunk")
			}
			if f := binary.LittleEndian.Uint16(body[0:2]); f != 1 {
				return nil, 0, fmt.Errorf("WAV format %d, want PCM", f)
			}
			channels = int(binary.LittleEndian.Uint16(body[2:4]))
			rate = int(binary.LittleEndian.Uint32(body[4:8]))
			bits = int(binary.LittleEndian.Uint16(body[14:16]))
		case "data":
			if channels != 1 || bits != 16 || rate <= 0 {
				return nil, 0, fmt.Errorf("WAV of %d channels, %d bits, %d Hz; want mono 16-bit", channels, bits, rate)
			}
			if size > len(body) || size == 0x7fffffff || size == 0xffffffff {
				size = len(body)
			}
			pcm = make([]int16, size/2)
			for i := range pcm {
				pcm[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			return pcm, rate, nil
		}
		if size > len(body) {
			break
		}
		off += 8 + size + size%2
	}
	return nil, 0, errors.New("no data chunk")
}
