package voice

import (
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/prompts"
	"github.com/signoff/signoff/speech"
)

func TestSplitSentences(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"Hello! Your parcel is out for delivery, expected today 14:30. Reply with a number:", []string{"Hello!", "Your parcel is out for delivery, expected today 14:30.", "Reply with a number:"}},
		{"您好！您的快递正在派送，预计今天 14:30送达。请回复数字：", []string{"您好！", "您的快递正在派送，预计今天 14:30送达。", "请回复数字："}},
		{"It weighs 3.5 kg", []string{"It weighs 3.5 kg"}},
		{"", nil},
		{"  . ", []string{"."}},
	} {
		if got := splitSentences(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitSentences(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestGrammarAgreesWithParser: every phrase the recogniser may report is
// sent to the engine as the words heard, so ParseReply must read each one as
// its key (or yes, or no).
func TestGrammarAgreesWithParser(t *testing.T) {
	cat := prompts.For(signoff.LocaleEN)
	menu := []signoff.Option{{Key: "1"}, {Key: "2"}, {Key: "3"}, {Key: "4"}, {Key: "5"}, {Key: "6"}, {Key: "0"}, {Key: "9"}}
	readBack := []signoff.Option{{Key: "1", Label: cat.Text("readback.yes")}, {Key: "2", Label: cat.Text("readback.no")}, {Key: "0"}, {Key: "9"}}
	for _, tt := range []struct {
		name    string
		offered []signoff.Option
		keys    []string
	}{
		{"menu", menu, []string{"1", "2", "3", "4", "5", "6", "0", "9"}},
		{"read-back", readBack, []string{"1", "2", "0", "9", "yes", "no"}},
		{"slots", []signoff.Option{{Key: "1"}, {Key: "2"}}, []string{"1", "2", "9", "0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := speech.MenuGrammar(tt.offered, cat.Locale)
			var keys []string
			for _, p := range g.Phrases {
				keys = append(keys, p.Key)
				for _, say := range p.Say {
					r := dialog.ParseReply(say)
					var ok bool
					switch p.Key {
					case "yes":
						ok = r.Kind == dialog.ReplyYes
					case "no":
						ok = r.Kind == dialog.ReplyNo
					default:
						ok = r.Kind == dialog.ReplyKey && r.Key == p.Key
					}
					if !ok {
						t.Errorf("ParseReply(%q) = %+v, want key %s", say, r, p.Key)
					}
					if say != strings.ToLower(say) {
						t.Errorf("%q: the recogniser's words are lower case", say)
					}
				}
			}
			if !slices.Equal(keys, tt.keys) {
				t.Errorf("grammar keys %q, want %q", keys, tt.keys)
			}
		})
	}
}

func TestICEServers(t *testing.T) {
	s, err := iceServers([]string{"stun:stun.example.org:3478", " ", "turn:bob:s3cret@turn.example.org:3478?transport=udp"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 || s[0].URLs[0] != "stun:stun.example.org:3478" || s[1].URLs[0] != "turn:turn.example.org:3478?transport=udp" ||
		s[1].Username != "bob" || s[1].Credential != "s3cret" {
		t.Errorf("iceServers = %+v", s)
	}
	for _, bad := range []string{"http://x", "stun.example.org", "turnx:bob:pw@host"} {
		_, err := iceServers([]string{bad})
		if err == nil {
			t.Errorf("iceServers(%q): no error", bad)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("iceServers(%q): the error shows the password: %v", bad, err)
		}
	}
}

func TestParseSDPFrag(t *testing.T) {
	frag := "a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n" +
		"a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw network-id 1\r\n" +
		"a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host generation 0 ufrag EsAw network-id 2\r\n" +
		"a=end-of-candidates\r\n"
	c, err := parseSDPFrag(frag)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 2 || !strings.HasPrefix(c[0].Candidate, "candidate:1387637174 ") || c[1].SDPMid == nil || *c[1].SDPMid != "0" {
		t.Errorf("parseSDPFrag = %+v", c)
	}
	for _, bad := range []string{"hello", "a=candidate:1 1 udp\r\n"} {
		if _, err := parseSDPFrag(bad); err == nil {
			t.Errorf("parseSDPFrag(%q): no error", bad)
		}
	}
}

func seqs(items []jitterItem) string {
	var b strings.Builder
	for _, it := range items {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		if it.lost {
			b.WriteByte('x')
		}
		b.WriteString(strconv.Itoa(int(it.seq)))
	}
	return b.String()
}

func TestJitterBuffer(t *testing.T) {
	t0 := time.Unix(0, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	type step struct {
		seq    int // -1: Expire only
		at     int // ms
		wantGo string
	}
	for _, tt := range []struct {
		name  string
		steps []step
	}{
		{"in order goes at once", []step{{1, 0, "1"}, {2, 20, "2"}, {3, 40, "3"}}},
		{"reordered", []step{{1, 0, "1"}, {3, 20, ""}, {2, 25, "2 3"}, {4, 40, "4"}}},
		{"lost after the depth", []step{{1, 0, "1"}, {3, 40, ""}, {-1, 99, ""}, {-1, 100, "x2 3"}, {4, 120, "4"}}},
		{"lost when three are held", []step{{1, 0, "1"}, {3, 40, ""}, {4, 60, ""}, {5, 80, "x2 3 4 5"}}},
		{"late and duplicate dropped", []step{{1, 0, "1"}, {2, 20, "2"}, {1, 30, ""}, {4, 40, ""}, {4, 41, ""}, {3, 45, "3 4"}}},
		{"wraps", []step{{6, 0, "6"}, {8, 20, ""}, {7, 30, "7 8"}, {9, 40, "9"}}}, // 65534 65536=0 65535 1
	} {
		t.Run(tt.name, func(t *testing.T) {
			j := newJitterBuffer(jitterDepth)
			const base = uint16(65528) // so that "wraps" crosses 65535 → 0
			for i, s := range tt.steps {
				var out []jitterItem
				if s.seq < 0 {
					out = j.Expire(ms(s.at), nil)
				} else {
					out = j.Push(jitterItem{seq: base + uint16(s.seq), kind: kindPCMU}, ms(s.at), nil)
				}
				for k := range out {
					out[k].seq -= base
				}
				if got := seqs(out); got != s.wantGo {
					t.Errorf("step %d (seq %d at %d ms): out %q, want %q", i, s.seq, s.at, got, s.wantGo)
				}
			}
		})
	}
}

// FuzzSDPFrag: the trickle-ICE parser takes any body without panicking and
// returns only candidate lines.
func FuzzSDPFrag(f *testing.F) {
	f.Add("a=mid:0\r\na=candidate:1 1 udp 2122260223 192.0.2.1 61764 typ host\r\n")
	f.Add("a=end-of-candidates\n")
	f.Add("\x00=\r")
	f.Fuzz(func(t *testing.T, frag string) {
		cands, err := parseSDPFrag(frag)
		for _, c := range cands {
			if err == nil && !strings.HasPrefix(c.Candidate, "candidate:") {
				t.Fatalf("candidate %q", c.Candidate)
			}
		}
	})
}

// FuzzRTPIn: whatever RTP the caller sends (any payload type, sequence,
// timestamp and payload, telephone-events included) goes through the
// jitter buffer, the decoders, the keypad and the VAD without a panic, and
// the jitter buffer never lets a packet out twice or out of order.
func FuzzRTPIn(f *testing.F) {
	ev, _ := speech.TelephoneEvent{Event: 3, End: true, Duration: 480}.Marshal()
	pkt := func(kind payloadKind, seq uint16, ts uint32, payload []byte) []byte {
		b := []byte{byte(kind), 0, 0, 0, 0, 0, 0, byte(len(payload))}
		binary.BigEndian.PutUint16(b[1:], seq)
		binary.BigEndian.PutUint32(b[3:], ts)
		return append(b, payload...)
	}
	ulaw := speech.AppendMulaw(nil, tone(20*time.Millisecond, 400, -20)[:160])
	var seed []byte
	for i := range 10 {
		seed = append(seed, pkt(kindPCMU, uint16(i), uint32(160*i), ulaw)...)
	}
	seed = append(seed, pkt(kindEvent, 10, 1600, ev)...)
	seed = append(seed, pkt(kindOpus, 12, 0, []byte{0x78, 1, 2, 3})...)
	f.Add(seed)
	f.Add(pkt(kindOpus, 1, 0, []byte{0xff, 0xff, 0xff}))
	f.Fuzz(rtpIn)
}

func rtpIn(t *testing.T, data []byte) {
	c := fuzzCall(t)
	jb := newJitterBuffer(jitterDepth)
	now := time.Unix(0, 0)
	for k := 0; len(data) >= 8 && k < 100; k++ { // 2 s of packets at most, so the fuzzer keeps its pace
		kind := payloadKind(data[0] % 4)
		seq := binary.BigEndian.Uint16(data[1:])
		ts := binary.BigEndian.Uint32(data[3:])
		n := min(int(data[7]), len(data)-8)
		payload := data[8 : 8+n]
		data = data[8+n:]
		now = now.Add(time.Duration(ts%50) * time.Millisecond)

		// What one packet releases runs in sequence, with at most one
		// jump: where a packet far ahead restarts the buffer.
		out := jb.Push(jitterItem{seq: seq, kind: kind, payload: payload}, now, nil)
		jumps := 0
		for i := 1; i < len(out); i++ {
			if out[i].seq != out[i-1].seq+1 {
				jumps++
			}
		}
		if jumps > 1 || jb.held < 0 || jb.held > jitterSlots {
			t.Fatalf("push %d released %s (held %d)", seq, seqs(out), jb.held)
		}

		c.onPacket(rtpPacket{kind: kind, seq: seq, ts: ts, payload: payload}, now)
		c.pace(now, now)
	}
}

// fuzzCall is a call with no connection, whose inputs queue up (as if a
// reply were on its way) rather than reaching an engine.
func fuzzCall(t *testing.T) *call {
	t.Helper()
	vad, _ := speech.NewVAD(speech.VADConfig{})
	dtmf, _ := speech.NewDTMFDetector(speech.SampleRate)
	h := &Handler{log: testLog(t), cfg: Config{}.withDefaults()}
	c := &call{h: h, vad: vad, dtmf: dtmf, jb: newJitterBuffer(jitterDepth),
		records: make(chan record, 1024), replying: true, cat: prompts.For(signoff.LocaleEN)}
	return c
}
