package sphinx

import (
	"os"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

const sampleRate = 16000

var digitsWords = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

var phoneSet = strings.Fields("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH")

func TestExplore(t *testing.T) {
	type in struct {
		name string
		good bool
		pcm  []int16
	}
	var ins []in
	for _, v := range []struct {
		voice string
		rate  int
	}{{"en-us", 140}, {"en-us", 170}, {"en-gb", 130}} {
		for _, w := range append(digitsWords, "yes", "no", "repeat", "agent", "number two") {
			ins = append(ins, in{fmt.Sprintf("%s/%d %s", v.voice, v.rate, w), true, speak(t, v.voice, v.rate, w)})
		}
		for _, w := range []string{"banana", "hello there how are you", "I don't know", "what", "pineapple", "tomorrow", "wait a moment", "okay", "sorry", "who is this", "eleven", "twenty", "seventeen", "delivery", "cancel", "someone", "nothing", "thank you", "excuse me", "what did you say", "cough", "I want to speak to someone", "leave it outside", "uh huh", "never mind", "fine", "nineteen", "forty", "attention", "repeat that please", "twelve"} {
			ins = append(ins, in{fmt.Sprintf("%s/%d %s", v.voice, v.rate, w), false, speak(t, v.voice, v.rate, w)})
		}
	}
	ins = append(ins, in{"<noise>", false, noise(1, 3000, 7)}, in{"<quietnoise>", false, noise(1, 300, 9)}, in{"<silence>", false, noise(1, 30, 8)}, in{"<burst>", false, noise(0.3, 8000, 5)})
	cmd := "zero | one | two | three | four | five | six | seven | eight | nine | yes | no | repeat | agent | number two | option two"
	d, err := newDecoder([]string{"-hmm", "/usr/share/pocketsphinx/model/en-us/en-us", "-dict", "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict", "-compallsen", "yes"})
	if err != nil {
		t.Fatal(err)
	}
	var g []string
	for _, p := range phoneSet {
		w := "ph_" + strings.ToLower(p)
		d.addWord(w, p)
		g = append(g, w)
	}
	var fw []string
	for _, w := range fillerWords {
		if !strings.Contains(" "+strings.ReplaceAll(cmd, "|", " ")+" ", " "+w+" ") && w != "to" && w != "for" && w != "too" && w != "yeah" && w != "know" && w != "won" && w != "ate" && w != "again" {
			fw = append(fw, w)
		}
	}
	grams := map[string]string{
		"cmd":    "public <s> = " + cmd + ";",
		"words":  "<g> = " + strings.Join(fw, " | ") + ";\n<garbage> = <g> <g>*;\npublic <s> = <garbage>;",
		"phones": "<g> = " + strings.Join(g, " | ") + ";\n<garbage> = <g> <g>*;\npublic <s> = <garbage>;",
	}
	for n, j := range grams {
		if err := d.setJSGF(n, "#JSGF V1.0;\ngrammar g;\n"+j+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	type row struct {
		gw, gp float64
		line   string
	}
	var rows []row
	var csv []string
	var tm = map[string]time.Duration{}
	for _, x := range ins {
		res := map[string]stats{}
		for _, n := range []string{"cmd", "words", "phones"} {
			d.use(n)
			t0 := time.Now()
			st, _ := d.decode(x.pcm)
			tm[n] += time.Since(t0)
			res[n] = st
		}
		c := res["cmd"]
		sp := float64(max(1, c.frames-c.fillerFrames))
		gw := (c.score - res["words"].score) / sp
		gp := (c.score - res["phones"].score) / sp
		mark := " "
		if x.good {
			mark = "+"
		}
		csv = append(csv, fmt.Sprintf("%s\t%v\t%s\t%.0f\t%d\t%d\t%.0f\t%d\t%d\t%d\t%.0f\t%d\t%d\t%d", x.name, x.good, c.hyp, c.score, c.frames, c.frames-c.fillerFrames, res["words"].score, res["words"].words, res["words"].frames-res["words"].fillerFrames, len(strings.Fields(res["words"].hyp)), res["phones"].score, res["phones"].words, res["phones"].frames-res["phones"].fillerFrames, len(strings.Fields(res["phones"].hyp))))
		rows = append(rows, row{gw, gp, fmt.Sprintf("%s %-38s cmd=%-12q sp=%3.0f  gapW=%7.1f gapP=%7.1f  words=%q", mark, x.name, c.hyp, sp, gw, gp, trunc(res["words"].hyp))})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].gw > rows[j].gw })
	for _, r := range rows {
		t.Log(r.line)
	}
	t.Log(tm)
	os.WriteFile("/tmp/sphinx.tsv", []byte(strings.Join(csv, "\n")+"\n"), 0o644)
}

func trunc(s string) string {
	if len(s) > 30 {
		return s[:30]
	}
	return s
}
