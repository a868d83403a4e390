package espeak

import "testing"

func TestToPinyin(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"放门口", "fang4 men2 kou3"},
		{"按2", "an4 er4"},
		{"Press 2 按2", "Press er4 an4 er4"},
		{"请回复数字二", "qing3 hui2 fu4 shu4 zi4 er4"},
		{"回复0转人工", "hui2 fu4 ling2 zhuan3 ren2 gong1"},
		{"1234567890", "yi1 er4 san1 si4 wu3 liu4 qi1 ba1 jiu3 ling2"},
		{"１２", "yi1 er4"}, // full-width digits
		{"3.5公斤", "san1 dian3 wu3 gong1 jin1"},
		{"好的，快递员会送上门。", "hao3 de, kuai4 di4 yuan2 hui4 song4 shang4 men2."},
		{"您好！您的快递正在派送中", "nin2 hao3. nin2 de kuai4 di4 zheng4 zai4 pai4 song4 zhong1"},
		{"驿站：菜鸟驿站，地址：", "yi4 zhan4, cai4 niao3 yi4 zhan4, di4 zhi3,"},
		{"放驿站/代收点", "fang4 yi4 zhan4, dai4 shou1 dian3"},
		{"不选“放门口”。", "bu4 xuan3 fang4 men2 kou3."}, // quotes: no pause
		{"重听", "chong2 ting1"},                     // not zhong4, "hard of hearing"
		{"人工客服处理", "ren2 gong1 ke4 fu2 chu3 li3"},
		{"绿色", "lv4 se4"}, // ü as v, as the pinyin voice reads it
		{"SF Express的快递", "SF Express de kuai4 di4"},
		{"don't按", "don't an4"},
		{"。，好？！", "hao3."}, // no leading pause, the stronger of two
		{"", ""},
		{"¥ +", ""},
	} {
		if got := toPinyin(tc.in); got != tc.want {
			t.Errorf("toPinyin(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
