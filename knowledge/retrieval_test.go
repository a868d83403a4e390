package knowledge

import (
	"strings"
	"testing"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
)

// heldOut are questions written apart from the corpus (none is one of its
// "q:" lines), each with the document that must rank first.
var heldOut = map[signoff.Locale][]struct{ q, doc string }{
	signoff.LocaleEN: {
		{"until what time is the parcel station open tonight?", "station-hours"},
		{"does the collection point open on saturdays", "station-hours"},
		{"how many days will the station hold my package before sending it back", "station-hours"},
		{"my friend wants to collect the parcel for me, is that ok?", "station-hours"},
		{"I typed the code but the locker door stays shut", "locker"},
		{"is there a charge if I leave it in the locker overnight", "locker"},
		{"how do I get my package out of the smart box", "locker"},
		{"the box came crushed and the vase inside is cracked", "damaged-parcel"},
		{"I only noticed the damage after signing, can I still claim?", "damaged-parcel"},
		{"how much compensation for a broken item", "damaged-parcel"},
		{"the packaging is soaked, should I accept it", "damaged-parcel"},
		{"I gave the wrong street, can you fix the address?", "address-change"},
		{"please send it to my work address instead of home", "address-change"},
		{"does it cost anything to redirect to another city", "address-change"},
		{"I will be out all day, can you bring it tomorrow", "redelivery"},
		{"can the courier come back in the evening instead", "redelivery"},
		{"the courier rang but I was in the shower, what happens now", "redelivery"},
		{"is there a fee for a second delivery attempt", "redelivery"},
		{"why does the courier need to see my identity card", "high-value-id"},
		{"can my wife sign for the expensive laptop", "high-value-id"},
		{"rules for parcels worth more than 500 yuan", "high-value-id"},
		{"just drop it outside my flat", "leave-at-door"},
		{"who is liable if the parcel is stolen from my doorstep", "leave-at-door"},
		{"do you take a picture when leaving it at the door", "leave-at-door"},
		{"I never ordered this, I don't want it", "refusal"},
		{"if I reject the package will I be charged", "refusal"},
		{"I refused it, how do I get a refund", "refusal"},
		{"tracking says delivered but nothing is here", "lost-parcel"},
		{"no tracking updates for four days, is it lost?", "lost-parcel"},
		{"what compensation do I get for a lost package", "lost-parcel"},
		{"is my personal information shared with anyone", "privacy"},
		{"please delete everything you store about me", "privacy"},
		{"how long is my data kept", "privacy"},
		{"I want to speak with a human agent", "reach-person"},
		{"I'd like to make a complaint", "reach-person"},
		{"is customer service available at night", "reach-person"},
		{"can the courier show me the goods on a video call before I accept", "video-inspection"},
		{"is the video inspection call recorded", "video-inspection"},
		{"does a video check cost extra", "video-inspection"},
		{"do I have to pay the courier when it arrives", "cash-on-delivery"},
		{"can I pay with Alipay on delivery", "cash-on-delivery"},
		{"the courier wants me to transfer money to his own account", "cash-on-delivery"},
		{"the courier is not answering his phone", "courier-contact"},
		{"why is the courier's number hidden", "courier-contact"},
		{"I want to report a rude courier", "courier-contact"},
		{"when is my parcel going to be delivered", FactsDoc},
		{"who is bringing my package today", FactsDoc},
		{"does this parcel need my signature", FactsDoc},
	},
	signoff.LocaleZH: {
		{"驿站今晚开到几点", "station-hours"},
		{"代收点周六营业吗", "station-hours"},
		{"包裹在驿站放几天会被退回", "station-hours"},
		{"朋友能替我去驿站拿快递吗", "station-hours"},
		{"输了取件码柜门还是不开", "locker"},
		{"快递放柜子里过夜要收费吗", "locker"},
		{"怎么从智能快递柜里拿包裹", "locker"},
		{"箱子压扁了里面的花瓶碎了", "damaged-parcel"},
		{"签收以后才发现东西坏了还能赔吗", "damaged-parcel"},
		{"东西坏了能赔多少", "damaged-parcel"},
		{"外箱全湿了要不要签收", "damaged-parcel"},
		{"我地址写错了能帮我改吗", "address-change"},
		{"别送家里了改送到单位", "address-change"},
		{"转寄到外地要不要钱", "address-change"},
		{"我今天一天都不在，明天送可以吗", "redelivery"},
		{"快递员能晚上再来一趟吗", "redelivery"},
		{"快递员敲门我没听见现在怎么办", "redelivery"},
		{"第二次派送要收钱吗", "redelivery"},
		{"为什么快递员要看我的身份证", "high-value-id"},
		{"贵的笔记本电脑我老婆能代签吗", "high-value-id"},
		{"价值超过500元的包裹有什么规定", "high-value-id"},
		{"直接放我家门外就好", "leave-at-door"},
		{"放门口的包裹被人拿走了谁负责", "leave-at-door"},
		{"放门口的时候会拍照吗", "leave-at-door"},
		{"这个东西我根本没买，不要了", "refusal"},
		{"拒收的话要我出钱吗", "refusal"},
		{"我拒签了钱怎么退回来", "refusal"},
		{"物流显示已签收可是我家没有", "lost-parcel"},
		{"物流四天没更新了是不是丢了", "lost-parcel"},
		{"包裹丢了赔多少", "lost-parcel"},
		{"你们会把我的个人信息给别人吗", "privacy"},
		{"请把我的个人数据全部删掉", "privacy"},
		{"我的信息你们要保存多长时间", "privacy"},
		{"我想和真人客服说话", "reach-person"},
		{"我要投诉你们", "reach-person"},
		{"晚上还有人工客服吗", "reach-person"},
		{"签收前快递员能视频给我看看货吗", "video-inspection"},
		{"视频验货的时候会录像吗", "video-inspection"},
		{"视频验货要另外收钱吗", "video-inspection"},
		{"送到的时候要给快递员付钱吗", "cash-on-delivery"},
		{"到付能用支付宝吗", "cash-on-delivery"},
		{"快递员让我转账到他个人账户", "cash-on-delivery"},
		{"快递员电话打不通", "courier-contact"},
		{"为什么看不到快递员的真实号码", "courier-contact"},
		{"我要举报快递员态度差", "courier-contact"},
		{"我的包裹大概几点能送到", FactsDoc},
		{"今天是哪位快递员给我送", FactsDoc},
		{"这件包裹要我本人签字吗", FactsDoc},
	},
}

func testAnswerer(t testing.TB, opts ...Option) *Answerer {
	t.Helper()
	a, err := NewAnswerer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// allFacts tells every fact, so that a fact passage is never left out.
func allFacts(l signoff.Locale) map[dialog.Topic]string {
	m := map[dialog.Topic]string{}
	for _, tp := range []dialog.Topic{dialog.TopicStatus, dialog.TopicWhen, dialog.TopicWhere, dialog.TopicStation,
		dialog.TopicWho, dialog.TopicPhone, dialog.TopicSignature} {
		m[tp] = "fact " + string(tp) + "."
	}
	return m
}

// TestRetrievalHeldOut reports top-1 accuracy on the held-out questions and
// holds it at 90% or more per language.
func TestRetrievalHeldOut(t *testing.T) {
	a := testAnswerer(t)
	for _, l := range Locales {
		c, err := Embedded(l)
		if err != nil {
			t.Fatal(err)
		}
		asked := map[string]bool{}
		for _, d := range c {
			for _, q := range d.Questions {
				asked[strings.ToLower(q)] = true
			}
			for _, s := range d.Sections {
				for _, q := range s.Questions {
					asked[strings.ToLower(q)] = true
				}
			}
		}
		set := heldOut[l]
		if len(set) < 40 {
			t.Fatalf("%s: %d held-out questions, want at least 40", l, len(set))
		}
		right, answered := 0, 0
		for _, h := range set {
			if asked[strings.ToLower(h.q)] {
				t.Errorf("%s: %q is a q: line of the corpus, not held out", l, h.q)
			}
			if _, ok := c[h.doc]; !ok && h.doc != FactsDoc {
				t.Fatalf("%s: no document %q", l, h.doc)
			}
			hits, err := a.Retrieve(dialog.Question{Locale: l, Text: h.q, Facts: allFacts(l)}, 3)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case len(hits) == 0:
				t.Logf("%s: %q: nothing found, want %s", l, h.q, h.doc)
			case hits[0].Doc != h.doc:
				t.Logf("%s: %q: %s first (%.2f), want %s", l, h.q, hits[0].ID, hits[0].Confidence, h.doc)
			default:
				right++
				if hits[0].Confidence >= DefaultThreshold[l] {
					answered++
				} else {
					t.Logf("%s: %q: right, but confidence %.2f is under the threshold", l, h.q, hits[0].Confidence)
				}
			}
		}
		acc := float64(right) / float64(len(set))
		t.Logf("%s: top-1 %.1f%% (%d/%d); right and above the threshold %.1f%%", l, 100*acc, right, len(set),
			100*float64(answered)/float64(len(set)))
		if acc < 0.9 {
			t.Errorf("%s: top-1 accuracy %.1f%%, floor 90%%", l, 100*acc)
		}
	}
}

// offTopic are questions the help centre does not answer.
var offTopic = map[signoff.Locale][]string{
	signoff.LocaleEN: {
		"what's the weather like tomorrow", "tell me a joke", "who won the football match yesterday",
		"recommend a good restaurant nearby", "how do I cook rice", "what is the capital of France",
		"can you help with my homework", "what's the exchange rate of the dollar", "sing me a song",
		"how old are you", "play some music", "is the stock market up today",
	},
	signoff.LocaleZH: {
		"明天天气怎么样", "给我讲个笑话", "昨天足球比赛谁赢了", "附近有什么好吃的餐馆", "米饭怎么煮",
		"法国的首都是哪里", "帮我写作业", "美元汇率多少", "给我唱首歌", "你今年几岁", "放一首音乐", "今天股市涨了吗",
	},
}

// TestOffTopic: at least 10 of 12 off-topic questions in each language get
// no answer (the bot says it does not know and offers a person).
func TestOffTopic(t *testing.T) {
	a := testAnswerer(t)
	for _, l := range Locales {
		refused := 0
		for _, q := range offTopic[l] {
			ans, err := a.Answer(t.Context(), dialog.Question{Locale: l, Text: q, Facts: allFacts(l)})
			if err != nil {
				t.Fatal(err)
			}
			if ans.Text == "" {
				refused++
			} else {
				t.Logf("%s: %q answered from %v (%.2f): %s", l, q, ans.Sources, ans.Score, ans.Text)
			}
		}
		t.Logf("%s: %d/%d off-topic questions left unanswered", l, refused, len(offTopic[l]))
		if refused < len(offTopic[l])-2 {
			t.Errorf("%s: only %d/%d off-topic questions left unanswered", l, refused, len(offTopic[l]))
		}
	}
}
