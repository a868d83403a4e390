package espeak

import (
	"slices"
	"testing"
)

func TestSplitSentences(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"Hello. Reply 2 to leave it at the door!", []string{"Hello.", "Reply 2 to leave it at the door!"}},
		{"您好！您的快递正在派送中。请回复数字：", []string{"您好！", "您的快递正在派送中。", "请回复数字："}},
		{"好的；放门口？是", []string{"好的；", "放门口？", "是"}},
		{"One; two", []string{"One;", "two"}},
		{"Menu:\n1 Deliver now\n\n2 Leave at door\r\n", []string{"Menu:", "1 Deliver now", "2 Leave at door"}},
		{"Really?! Yes...", []string{"Really?!", "Yes..."}},
		{"It weighs 3.5 kg. Track it at example.com now.", []string{"It weighs 3.5 kg.", "Track it at example.com now."}},
		{"他说：“好。”然后走了。", []string{"他说：“好。”", "然后走了。"}},
		{`He said "go." Then left.`, []string{`He said "go."`, "Then left."}},
		{"(Reply 0.) Or wait", []string{"(Reply 0.)", "Or wait"}},
		{"  no terminator  ", []string{"no terminator"}},
		{"。。！", []string{"。。！"}},
		{"", nil},
		{" \n\t ", nil},
	} {
		if got := SplitSentences(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("SplitSentences(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
