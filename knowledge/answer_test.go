package knowledge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/prompts"
)

func ask(t *testing.T, a *Answerer, ctx context.Context, q dialog.Question) dialog.Answer {
	t.Helper()
	ans, err := a.Answer(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	return ans
}

// TestAnswerWithoutModel: the best passage's first sentences, two at most
// in a call, handed to the sentence sink too; nothing for what the corpus
// does not hold.
func TestAnswerWithoutModel(t *testing.T) {
	a := testAnswerer(t)
	for _, tc := range []struct {
		l    signoff.Locale
		q    string
		ch   signoff.Channel
		doc  string
		most int
	}{
		{signoff.LocaleZH, "包裹破损怎么办", signoff.ChannelChat, "damaged-parcel", 3},
		{signoff.LocaleZH, "驿站几点关门", signoff.ChannelVoice, "station-hours", 2},
		{signoff.LocaleZH, "能改地址吗", signoff.ChannelChat, "address-change", 3},
		{signoff.LocaleEN, "can I change the address?", signoff.ChannelChat, "address-change", 3},
		{signoff.LocaleEN, "what time does the pickup station close", signoff.ChannelVoice, "station-hours", 2},
	} {
		var said []string
		ctx := dialog.WithSentences(t.Context(), func(s string) { said = append(said, s) })
		ans := ask(t, a, ctx, dialog.Question{Locale: tc.l, Channel: tc.ch, Text: tc.q})
		if !slices.Equal(ans.Sources, []string{tc.doc}) || ans.Phrased || ans.Text == "" {
			t.Errorf("%q: %+v, want an answer from %s", tc.q, ans, tc.doc)
			continue
		}
		if len(said) == 0 || len(said) > tc.most || strings.Join(said, sepFor(tc.l)) != ans.Text {
			t.Errorf("%q: sentences %q for answer %q, want at most %d", tc.q, said, ans.Text, tc.most)
		}
		c, _ := Embedded(tc.l)
		if !strings.HasPrefix(c[tc.doc].Sections[0].Text+c[tc.doc].Sections[len(c[tc.doc].Sections)-1].Text, "") ||
			!strings.Contains(strings.Join(sectionTexts(c[tc.doc]), " "), said[0]) {
			t.Errorf("%q: %q is not from %s", tc.q, said[0], tc.doc)
		}
	}
	if ans := ask(t, a, t.Context(), dialog.Question{Locale: signoff.LocaleEN, Text: "what is the capital of France"}); ans.Text != "" {
		t.Errorf("an answer to an off-topic question: %+v", ans)
	}
}

func sectionTexts(d Document) []string {
	var out []string
	for _, s := range d.Sections {
		out = append(out, s.Text)
	}
	return out
}

// phraser is a scripted Phraser.
type phraser struct {
	text string
	err  error
	got  PhraseRequest
}

func (p *phraser) Phrase(_ context.Context, req PhraseRequest, sentence func(string)) (string, error) {
	p.got = req
	if p.err != nil {
		return "", p.err
	}
	for _, s := range Sentences(p.text) {
		sentence(s)
	}
	return p.text, nil
}

// TestAnswerPhrased: a model's answer is given the retrieved passages; its
// [k] markers are stripped and become the answer's sources.
func TestAnswerPhrased(t *testing.T) {
	p := &phraser{text: "Report the damage within 48 hours with photos. [1] Reply 0 for a person. [1]"}
	a := testAnswerer(t, WithPhraser(p, "m1"))
	var said []string
	ctx := dialog.WithSentences(t.Context(), func(s string) { said = append(said, s) })
	ans := ask(t, a, ctx, dialog.Question{Locale: signoff.LocaleEN, Text: "my parcel arrived damaged, what now?"})
	if ans.Text != "Report the damage within 48 hours with photos. Reply 0 for a person." || !ans.Phrased ||
		!slices.Equal(ans.Sources, []string{"damaged-parcel"}) || ans.Model != "m1" {
		t.Errorf("phrased answer %+v", ans)
	}
	if !slices.Equal(said, []string{"Report the damage within 48 hours with photos.", "Reply 0 for a person."}) {
		t.Errorf("sentences %q", said)
	}
	if len(p.got.Passages) == 0 || p.got.Sentences != 3 {
		t.Errorf("phrase request %+v", p.got)
	}

	// A model that does not know, or fails, leaves the answer to the best
	// passage.
	for _, p := range []*phraser{{text: "I don't know."}, {err: errors.New("model down")}, {text: "Something uncited."}} {
		a := testAnswerer(t, WithPhraser(p, "m1"))
		ans := ask(t, a, t.Context(), dialog.Question{Locale: signoff.LocaleEN, Channel: signoff.ChannelVoice, Text: "my parcel arrived damaged, what now?"})
		switch {
		case p.text == "Something uncited.":
			if ans.Text != "Something uncited." || !ans.Phrased {
				t.Errorf("uncited answer already said: %+v", ans)
			}
		case ans.Phrased || !slices.Equal(ans.Sources, []string{"damaged-parcel"}) || len(Sentences(ans.Text)) > 2:
			t.Errorf("phraser %+v: %+v, want the passage's first two sentences", p, ans)
		}
	}
}

// TestFactsAnswers: a tracking question is answered from the delivery's own
// facts, right for every status, and the ETA, station, courier and
// signature, in both languages.
func TestFactsAnswers(t *testing.T) {
	a := testAnswerer(t)
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	base := signoff.Delivery{ID: "D1", Recipient: signoff.Recipient{TimeZone: "Asia/Shanghai"},
		Courier: signoff.Courier{Name: "Li", Phone: "13800001111"}, ETA: now.Add(2 * time.Hour),
		PickupStation: &signoff.Station{Name: "Harbour Station", Address: "10 Harbour Rd", Hours: "08:00-21:00"},
		LastLocation:  "Harbour depot", AsOf: now}
	questions := map[signoff.Locale]map[dialog.Topic]string{
		signoff.LocaleEN: {dialog.TopicStatus: "what's the status of my order", dialog.TopicWhen: "what time will it arrive today",
			dialog.TopicStation: "which station is my parcel going to", dialog.TopicWho: "which courier is bringing my parcel",
			dialog.TopicPhone: "what is the courier's phone number", dialog.TopicSignature: "does it need a signature"},
		signoff.LocaleZH: {dialog.TopicStatus: "我的快递现在是什么状态", dialog.TopicWhen: "快递几点能到",
			dialog.TopicStation: "我去哪个驿站取件", dialog.TopicWho: "谁给我送快递",
			dialog.TopicPhone: "快递员的手机号码是多少", dialog.TopicSignature: "需要本人签收吗"},
	}
	for _, l := range Locales {
		cat := prompts.For(l)
		for _, status := range []string{signoff.StatusOutForDelivery, signoff.StatusArriving, signoff.StatusDelivered,
			signoff.StatusFailed, "", "customs_hold"} {
			d := base
			d.Status = status
			facts := dialog.QuestionFacts(dialog.Config{}, l, d, now)
			want := cat.Text("answer.status", "status", cat.Text("status."+status))
			if status == "" || status == "customs_hold" {
				want = cat.Text("answer.status", "status", cat.Text("status.unknown"))
			}
			ans := ask(t, a, t.Context(), dialog.Question{Locale: l, Text: questions[l][dialog.TopicStatus], Facts: facts})
			if ans.Text != want || !slices.Equal(ans.Sources, []string{FactsDoc}) {
				t.Errorf("%s status %q: %+v, want %q", l, status, ans, want)
			}
		}
		for _, tc := range []struct {
			name  string
			d     func(signoff.Delivery) signoff.Delivery
			topic dialog.Topic
			has   string
		}{
			{"eta", func(d signoff.Delivery) signoff.Delivery { return d }, dialog.TopicWhen, "19:00"},
			{"no eta", func(d signoff.Delivery) signoff.Delivery { d.ETA = time.Time{}; return d }, dialog.TopicWhen, cat.Text("answer.when.unknown")},
			{"station", func(d signoff.Delivery) signoff.Delivery { return d }, dialog.TopicStation, "Harbour Station"},
			{"courier", func(d signoff.Delivery) signoff.Delivery { return d }, dialog.TopicWho, "Li"},
			{"masked phone", func(d signoff.Delivery) signoff.Delivery { return d }, dialog.TopicPhone, "138****1111"},
			{"signature none", func(d signoff.Delivery) signoff.Delivery { return d }, dialog.TopicSignature, cat.Text("facts.signature.none")},
			{"signature required", func(d signoff.Delivery) signoff.Delivery { d.RequiresSignature = true; return d }, dialog.TopicSignature, cat.Text("facts.signature.required")},
			{"high value", func(d signoff.Delivery) signoff.Delivery { d.DeclaredValueCents = 800_00; return d }, dialog.TopicSignature, cat.Text("facts.signature.high_value")},
		} {
			d := tc.d(base)
			ans := ask(t, a, t.Context(), dialog.Question{Locale: l, Text: questions[l][tc.topic], Facts: dialog.QuestionFacts(dialog.Config{}, l, d, now)})
			if !strings.Contains(ans.Text, tc.has) || !slices.Equal(ans.Sources, []string{FactsDoc}) {
				t.Errorf("%s %s: %+v, want it to hold %q", l, tc.name, ans, tc.has)
			}
			if strings.Contains(ans.Text, "13800001111") {
				t.Errorf("%s %s: the courier's whole number in %q", l, tc.name, ans.Text)
			}
		}
	}
}

// processCPU is the CPU time the process has used, all threads together.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSearch500 times retrieval over a corpus of 500 documents and
// reports p50 and p99 per question.
func BenchmarkSearch500(b *testing.B) {
	for _, l := range Locales {
		b.Run(string(l), func(b *testing.B) {
			c, err := Embedded(l)
			if err != nil {
				b.Fatal(err)
			}
			base := make([]Document, 0, len(c))
			for _, d := range c {
				base = append(base, d)
			}
			big := Corpus{}
			for i := 0; len(big) < 500; i++ {
				d := base[i%len(base)]
				d.ID = fmt.Sprintf("%s-%03d", d.ID, i)
				d.Title = fmt.Sprintf("%s %d", d.Title, i)
				big[d.ID] = d
			}
			ix, err := Build(l, big)
			if err != nil {
				b.Fatal(err)
			}
			defer ix.Close()
			qs := heldOut[l]
			lat := make([]time.Duration, 0, b.N)
			cpu := make([]time.Duration, 0, b.N)
			// The process's CPU time shows the search's cost apart from time
			// spent waiting for a core on a loaded machine.
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start, c0 := time.Now(), processCPU()
				if _, err := ix.Search(qs[i%len(qs)].q, 3); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
				cpu = append(cpu, processCPU()-c0)
			}
			b.StopTimer()
			slices.Sort(lat)
			slices.Sort(cpu)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(cpu[len(cpu)*99/100].Microseconds())/1000, "cpu-p99-ms")
		})
	}
}
