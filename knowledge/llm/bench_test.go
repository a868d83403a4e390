package llm

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/internal/openaitest"
	"github.com/signoff/signoff/knowledge"
)

// BenchmarkFirstSentence reports how long after the model's first token,
// and after the token holding the first end mark, the first sentence is
// handed on (p50), with tokens back to back and 20 ms apart.
func BenchmarkFirstSentence(b *testing.B) {
	for _, tc := range []struct {
		name   string
		l      signoff.Locale
		tokens []string
		mark   int // the index of the token with the first end mark
	}{
		{"zh", signoff.LocaleZH, []string{"请在", "签收后", "48小时内", "报告破损。", "[1]", "回复0", "转人工。"}, 3},
		{"en", signoff.LocaleEN, []string{"Report", " damage", " within", " 48 hours.", " [1]", " Reply 0", " for a person."}, 3},
	} {
		for _, gap := range []time.Duration{0, 20 * time.Millisecond} {
			b.Run(tc.name+"/gap="+gap.String(), func(b *testing.B) {
				srv := openaitest.New(b, func(openaitest.Request) openaitest.Reply { return openaitest.Stream(gap, tc.tokens...) })
				c := client(b, srv, 10*time.Second)
				var fromFirst, fromMark []time.Duration
				for i := 0; i < b.N; i++ {
					var at time.Time
					_, err := c.Phrase(context.Background(), knowledge.PhraseRequest{Locale: tc.l, Question: "q", Passages: []string{"p"}},
						func(string) {
							if at.IsZero() {
								at = time.Now()
							}
						})
					if err != nil {
						b.Fatal(err)
					}
					sent := srv.TokenTimes()
					fromFirst = append(fromFirst, at.Sub(sent[0]))
					fromMark = append(fromMark, at.Sub(sent[tc.mark]))
				}
				slices.Sort(fromFirst)
				slices.Sort(fromMark)
				b.ReportMetric(float64(fromFirst[len(fromFirst)/2].Microseconds())/1000, "first-token-p50-ms")
				b.ReportMetric(float64(fromMark[len(fromMark)/2].Microseconds())/1000, "end-mark-p50-ms")
			})
		}
	}
}

// FuzzParseChoice: any arguments parse to an allowed key or fail.
func FuzzParseChoice(f *testing.F) {
	for _, s := range []string{`{"choice":"3"}`, `{"choice": "question"}`, `{"choice":"7"}`, `{"choice":3}`, `{}`, `{"choice":"3"} x`, `[`} {
		f.Add(s)
	}
	allowed := []string{"1", "3", "0", "question", "unclear"}
	f.Fuzz(func(t *testing.T, args string) {
		c, err := ParseChoice(args, allowed)
		if err == nil && !slices.Contains(allowed, c) {
			t.Fatalf("ParseChoice(%q) = %q, not allowed", args, c)
		}
	})
}
