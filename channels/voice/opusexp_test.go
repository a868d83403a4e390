package voice

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"testing"

	hopus "github.com/hraban/opus"
	popus "github.com/pion/opus"
	"github.com/signoff/signoff/speech"
)

func TestOpusExperiment(t *testing.T) {
	f := t.TempDir() + "/a.wav"
	if out, err := exec.Command("espeak-ng", "-v", "en-us", "-w", f, "two. leave it at my door please").CombinedOutput(); err != nil {
		t.Fatal(err, string(out))
	}
	b, _ := os.ReadFile(f)
	pcm, rate, err := speech.ReadWAV(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := speech.NewResampler(rate, 48000)
	pcm48 := rs.Resample(nil, pcm)
	for _, mode := range []struct {
		name string
		app  hopus.Application
		br   int
		ch   int
	}{{"voip32k-mono", hopus.AppVoIP, 32000, 1}, {"voip32k-stereo", hopus.AppVoIP, 32000, 2}, {"voip12k", hopus.AppVoIP, 12000, 1}, {"audio64k", hopus.AppAudio, 64000, 2}, {"lowdelay", hopus.AppRestrictedLowdelay, 48000, 2}, {"voip20k", hopus.AppVoIP, 20000, 2}} {
		enc, err := hopus.NewEncoder(48000, mode.ch, mode.app)
		if err != nil {
			t.Fatal(err)
		}
		enc.SetBitrate(mode.br)
		pd, _ := popus.NewDecoderWithOutput(48000, 1)
		hd, _ := hopus.NewDecoder(48000, 1)
		var sig, diff float64
		var perr int
		buf := make([]byte, 1500)
		in := make([]int16, 960*mode.ch)
		po := make([]int16, 960*2*6)
		ho := make([]int16, 960*2*6)
		for i := 0; i+960 <= len(pcm48); i += 960 {
			for j := 0; j < 960; j++ {
				for c := 0; c < mode.ch; c++ {
					in[j*mode.ch+c] = pcm48[i+j]
				}
			}
			n, err := enc.Encode(in, buf)
			if err != nil {
				t.Fatal(err)
			}
			pkt := buf[:n]
			hn, err := hd.Decode(pkt, ho)
			if err != nil {
				t.Fatal(err)
			}
			pn, err := pd.DecodeToInt16(pkt, po)
			if err != nil {
				perr++
				continue
			}
			if pn != hn {
				t.Logf("%s: sample count %d vs %d", mode.name, pn, hn)
			}
			for j := 0; j < min(pn, hn); j++ {
				s := float64(ho[j])
				d := float64(po[j]) - s
				sig += s * s
				diff += d * d
			}
		}
		t.Logf("%s: toc config of last packet %d; pion vs libopus SNR %.1f dB, pion errors %d", mode.name, buf[0]>>3, 10*math.Log10(sig/max(diff, 1e-9)), perr)
	}
}
