package dialog

// The word tables of ParseReply. Chinese entries are written in simplified
// characters (normalizeReply folds the common traditional forms onto them);
// English entries are lower case, words separated by one space. A phrase is
// matched longest first, so "不在家" is read before "在家" and "in person"
// before "person".

// lexKind is what a word or phrase does in a reply.
type lexKind uint8

const (
	lkSep      lexKind = iota // clause boundary: punctuation, unknown symbol
	lkOther                   // an unknown word or character
	lkFiller                  // a known word that changes nothing (我, 把, the, it)
	lkKey                     // a main-menu option named by a phrase or a digit
	lkCand                    // a digit in some form, not yet judged a key
	lkNumber                  // a number that is not a menu key (12, 3点, 3pm)
	lkPrefix                  // says a digit follows: 按, 选, 第, press, option
	lkHao                     // 号, as in 2号
	lkOrdSuf                  // 个/项/种 after 第N
	lkTimePre                 // makes a following (or preceding) number a time or date: 下午, 月, at, by
	lkUnit                    // makes a preceding number a quantity or time: pm, hours, packages
	lkMonth                   // an English month name
	lkAddr                    // makes a following number an address: room, gate, 楼
	lkNeg                     // negates the option that follows: 别, don't, not
	lkNegCorr                 // 不/不要/no: negation before an option, else a refusal or correction
	lkCorr                    // correction marker: 不对, 算了, actually, I mean
	lkHaishi                  // 还是: "or" between two options, else a correction
	lkConj                    // 或/和/、/or/and
	lkQ                       // interrogative word: 什么, 哪, 几, where, what
	lkQWeak                   // 吗, ?: a question only if not a polite request
	lkReq                     // polite request: 可以…吗, can you, how about
	lkTopic                   // names a tracking topic without asking: 快递员电话, status
	lkStation                 // asks about the pickup station: 营业时间, opening hours
	lkPlace                   // 地址, address: a station question when a station is named
	lkYes                     // 好, 是的, ok, 👍
	lkNo                      // 不行, 没有, no thanks, 👎
	lkThanks                  // 谢谢, thanks, 🙏
	lkBut                     // 但是, but
	lkUnsure                  // 也许, 随便, maybe, not sure
	lkParticle                // 了, 吧, 啊: ends a negation's reach
	// Kinds set while resolving; never in the tables.
	lkNegUsed  // a negator that found its option
	lkDangling // a negator that negated nothing placeable ("我不在家")
)

// lexFlag refines a lexKind.
type lexFlag uint32

const (
	lfReq      lexFlag = 1 << iota // also a polite request (可以, please)
	lfNo                           // alone, means no (不对, 算了, 不要)
	lfPost                         // may negate the option before it (门口不要)
	lfBreak                        // right after 不/no, shows it stood alone (不我要…, no I…)
	lfRepeat                       // a "say again" phrase: a question mark does not make it a question
	lfDi                           // 第
	lfBare                         // bare 不: reaches only an adjacent option
	lfNarrow                       // no/not: reaches past known filler words only
	lfSecond                       // "second": also a unit of time
	lfOrd                          // an ordinal: first, second, 2nd
	lfDet                          // the/this/which…: "one" after it is a pronoun
	lfArticle                      // a/an: "a second" is time
	lfOn                           // "on": "on the 2nd" is a date
	lfThe                          // "the"
	lfDateVerb                     // 送/到/来: N号 before it is a date (3号送)
	lfAbsent                       // 不在家, not home: a bare day beside it is not a choice
	lfBareTime                     // 明天, tomorrow: option 5 unless the clause says "I'm away then"
)

// lexEntry is one word or phrase of the tables.
type lexEntry struct {
	kind  lexKind
	key   byte // lkKey: '0'..'9'
	topic Topic
	flags lexFlag
}

// keyPhrases name the main-menu options.
var keyPhrases = map[byte][]string{
	'1': {
		"现在送上门", "现在送", "现在就送", "马上送", "立即送", "立刻送", "直接送", "送上门", "送货上门", "上门",
		"本人签收", "本人签", "亲自签收", "我签收", "我来签收", "我自己签收", "送过来", "送来", "送到家",
		"送到家里", "送家里", "送上来", "拿上来", "在家", "我在家",
		"deliver now", "deliver it now", "deliver right now", "deliver to me", "deliver it to me",
		"deliver to my door", "deliver to the door", "deliver in person", "bring it", "bring it up",
		"bring it over", "bring it now", "bring it to me", "bring it to my door", "bring it to the door",
		"bring it up to me", "i'll sign", "i will sign", "i can sign", "sign for it", "i'll sign for it",
		"in person", "hand it to me", "hand deliver", "come now", "come right now", "come up", "come over",
		"i'm home", "im home", "i am home", "i'm at home", "i am at home",
	},
	'2': {
		"放门口", "放在门口", "放到门口", "门口", "放家门口", "家门口", "放在家门口", "放门外", "放在门外",
		"门外", "放门边", "门边", "挂门上", "门把手",
		"leave at door", "leave at the door", "leave at my door", "leave it at the door",
		"leave it at my door", "leave it at door", "leave it outside", "leave it outside the door",
		"leave outside", "leave by the door", "leave it by the door", "at the door", "at my door",
		"by the door", "by my door", "outside the door", "outside my door", "the door", "my door", "door",
		"front door", "doorstep", "door step", "porch", "on the porch", "outside", "at door", "doorway",
	},
	'3': {
		"驿站", "菜鸟驿站", "放驿站", "放到驿站", "放在驿站", "驿站代收", "代收点", "放代收点", "代收",
		"快递站", "快递点", "自提点", "取件点", "兔喜",
		"pickup station", "pick up station", "pickup point", "pick up point", "collection point",
		"station", "parcel station", "post station", "courier station", "collection station",
		"cainiao", "cainiao station", "pickup spot",
	},
	'4': {
		"快递柜", "放快递柜", "丰巢", "丰巢柜", "放丰巢", "柜子", "放柜子", "放柜子里", "放柜里", "柜",
		"智能柜", "自提柜", "储物柜", "存柜", "快递箱", "格口",
		"locker", "lockers", "parcel locker", "package locker", "smart locker", "pickup locker",
		"hive box", "hivebox", "locker box",
	},
	'5': {
		"改时间", "改约", "改约时间", "改期", "改天", "改天送", "改日", "换个时间", "换时间", "另约",
		"另约时间", "约时间", "预约", "晚点送", "晚点", "晚一点", "晚一点送", "晚些", "晚些送", "稍后送",
		"等会儿送", "过会儿送", "一会儿送", "待会儿送", "明天送", "明天送上门", "明天再送", "后天送", "明天上门", "下次送", "以后送", "以后再送", "过两天", "过几天", "推迟", "延后", "延迟",
		"再约", "重新约", "下午送", "晚上送", "今晚送", "周末送", "别的时间", "另外时间", "晚上再送",
		"下午再送", "改天再送", "下周送", "下个星期送", "周末",
		"later", "later please", "another time", "reschedule", "schedule", "deliver later",
		"deliver tomorrow", "deliver it later", "deliver it tomorrow", "come back later", "come later",
		"come tomorrow", "come back tomorrow", "different time", "a different time", "another day",
		"some other time", "other time", "change the time", "change time", "postpone", "delay",
		"next time",
	},
	'6': {
		"视频", "视频通话", "视频电话", "开视频", "视频聊天", "视频连线", "视频一下", "视讯",
		"和快递员视频", "跟快递员视频", "与快递员视频",
		"video", "video call", "video chat", "videocall", "facetime", "on video", "video the courier",
		"video call the courier", "video call with the courier", "video call with courier",
	},
	'0': {
		"人工", "转人工", "人工客服", "人工服务", "找人工", "接人工", "转接人工", "人工台", "客服",
		"找客服", "转客服", "联系客服", "真人", "真人客服", "工作人员", "投诉", "我要投诉",
		"agent", "an agent", "live agent", "human", "a human", "person", "a person", "real person",
		"a real person", "live person", "operator", "customer service", "customer support", "support",
		"representative", "rep", "staff", "manager", "complaint", "complain", "talk to someone",
		"speak to someone", "speak with someone", "talk to a person", "speak to a person",
		"talk to a human", "speak to a human",
	},
	'9': {
		"重听", "再听一遍", "再说一遍", "再说一次", "再讲一遍", "再讲一次", "再念一遍", "再来一遍",
		"再来一次", "重复", "重复一遍", "重复一下", "重新说", "重播", "没听清", "没听清楚", "没听见",
		"没听到", "没听懂", "听不清", "听不清楚", "听不到", "你说什么", "你说啥", "说什么", "说啥",
		"菜单", "再说",
		"repeat", "repeat that", "repeat please", "again", "say again", "say that again", "say it again",
		"come again", "pardon", "pardon me", "menu", "main menu", "the menu", "options",
		"what are the options", "what are my options", "list the options", "what did you say",
		"what was that", "didn't catch that", "didnt catch that", "i didn't hear", "didn't hear",
		"can't hear", "cant hear", "one more time",
	},
}

// bareTimes are the days that choose option 5 on their own (明天 → "5"), but
// not beside an absence (明天不在家).
var bareTimes = []string{"明天", "后天", "下次", "下周", "下个星期", "tomorrow", "next week", "the day after tomorrow"}

// topicPhrases name a tracking topic; asked (lkQ) or just named (lkTopic).
var topicPhrases = []struct {
	kind   lexKind
	topic  Topic
	phrase []string
}{
	{lkQ, TopicWhere, []string{
		"哪", "哪里", "哪儿", "哪了", "哪儿了", "哪里了", "在哪", "在哪里", "在哪儿", "到哪", "到哪了",
		"到哪儿了", "到哪里了", "到哪儿", "到哪里",
		"where", "where's", "wheres", "where is my parcel", "where is my package", "where's my parcel",
		"where's my package", "where is it",
	}},
	{lkTopic, TopicWhere, []string{"位置", "定位", "location", "whereabouts"}},
	{lkQ, TopicWhen, []string{
		"能到吗", "能送到吗", "今天到吗", "今天能到吗", "几点", "几号", "几天", "几时", "多久", "多长时间", "要多久", "什么时候", "啥时候", "何时", "什么时间",
		"when", "when's", "whens", "what time", "how long", "how soon",
	}},
	{lkTopic, TopicWhen, []string{
		"到达时间", "送达时间", "预计", "预计时间", "预计送达", "eta", "arrival", "arrive", "arriving",
		"arrival time", "delivery time",
	}},
	{lkQ, TopicWho, []string{
		"谁", "是谁", "谁送", "谁送的", "谁啊", "哪位", "叫什么", "叫啥", "姓什么",
		"who", "who's", "whos", "whose", "whom",
	}},
	{lkTopic, TopicWho, []string{
		"名字", "快递员名字", "快递员姓名", "快递员的名字", "courier name", "courier's name", "driver name",
		"driver's name", "name", "name of the courier",
	}},
	{lkQ, TopicPhone, []string{"怎么联系", "电话多少", "号码多少"}},
	{lkTopic, TopicPhone, []string{
		"电话", "快递员电话", "快递员的电话", "电话号码", "手机号", "手机号码", "手机", "联系方式", "联系电话",
		"打电话", "打个电话", "联系快递员", "联系他", "联系她",
		"phone", "phone number", "telephone", "mobile", "contact", "contact number", "contact info",
		"courier's phone", "courier phone", "courier's number", "courier number", "driver's number",
		"his number", "her number", "your number", "call the courier", "call courier", "call him",
		"call her", "call me", "call",
	}},
	{lkQ, TopicStatus, []string{"怎么样了", "怎么还没到", "怎么还没送", "到了吗", "到了没", "到了没有", "送到了吗", "发货了吗", "how's", "hows"}},
	{lkTopic, TopicStatus, []string{
		"状态", "进度", "物流", "物流信息", "查快递", "查一下", "查询", "情况", "还没到",
		"status", "update", "updates", "any update", "tracking", "track", "progress", "tracking number",
		"what's happening",
	}},
	{lkStation, TopicStation, []string{
		"营业时间", "营业", "几点关门", "关门", "几点开门", "开门", "开到几点",
		"opening hours", "business hours", "station hours", "pickup station hours", "open hours",
		"working hours", "office hours", "your hours", "the hours", "open", "opens", "opening", "close",
		"closes", "closing", "closed",
	}},
}

// wordTable lists the other words and phrases by what they do.
var wordTable = []struct {
	e      lexEntry
	phrase []string
}{
	{lexEntry{kind: lkYes}, []string{
		"是", "是的", "是啊", "是呀", "对", "对的", "对啊", "对呀", "好", "好的", "好啊", "好吧", "好嘞", "好滴",
		"好呀", "行", "行啊", "行吧", "嗯", "嗯嗯", "嗯呢", "恩", "恩恩", "确认", "确定", "确认收货", "收到",
		"收到了", "已收到", "没问题", "同意", "当然", "当然可以", "没错", "正确", "要得", "也行",
		"也可以", "就这样", "签收了", "已签收", "拿到了", "取到了",
		"yes", "yeah", "yea", "yep", "yup", "ya", "yah", "yes please", "ok", "okay", "okey", "sure",
		"sure thing", "confirm", "confirmed", "i confirm", "correct", "right", "that's right",
		"thats right", "alright", "all right", "fine", "that's fine", "thats fine", "sounds good", "good",
		"great", "perfect", "of course", "absolutely", "definitely", "agreed", "agree", "i agree",
		"received", "got it", "affirmative", "uh huh", "mhm", "that works", "works",
	}},
	{lexEntry{kind: lkYes, flags: lfReq}, []string{"可以", "可以的"}},
	{lexEntry{kind: lkNo}, []string{
		"没有", "没", "否", "不了", "不同意", "没收到", "没有收到", "还没收到", "还没有收到", "还没", "还没有",
		"不必了", "拒绝",
		"not really", "negative", "nah thanks",
	}},
	{lexEntry{kind: lkNo, flags: lfPost}, []string{"不行", "不好", "不太好", "不太行"}},
	{lexEntry{kind: lkNo}, []string{"no thanks", "no thank you", "不用了谢谢"}},
	{lexEntry{kind: lkThanks}, []string{
		"谢谢", "谢谢你", "谢谢您", "多谢", "谢了", "谢啦", "感谢", "感谢你", "非常感谢", "辛苦了", "辛苦",
		"麻烦了", "麻烦你了", "麻烦您了",
		"thanks", "thank you", "thank u", "thankyou", "thx", "ty", "tks", "thanks a lot", "many thanks",
		"thank you very much", "thank you so much", "cheers", "appreciate it",
	}},
	{lexEntry{kind: lkNegCorr, flags: lfNo | lfBare}, []string{"不"}},
	{lexEntry{kind: lkNegCorr, flags: lfNo}, []string{"不是", "不不", "不不不", "不是的"}},
	{lexEntry{kind: lkNegCorr, flags: lfNo | lfPost}, []string{"不要", "不用", "不需要", "不必", "不可以", "不能"}},
	{lexEntry{kind: lkNegCorr, flags: lfNo | lfNarrow}, []string{"no", "nope", "nah", "no no", "no no no", "no need"}},
	{lexEntry{kind: lkNeg}, []string{
		"别", "不想", "不想要", "不愿意", "不愿", "千万别", "不许", "不准", "甭", "勿", "莫", "拒收",
		"don't", "dont", "do not", "never", "without", "instead of", "rather than", "neither",
		"don't want", "won't", "wont", "can't", "cant", "cannot",
	}},
	{lexEntry{kind: lkNeg, flags: lfPost}, []string{"不方便", "不合适", "不安全"}},
	{lexEntry{kind: lkNeg, flags: lfNarrow}, []string{"not"}},
	{lexEntry{kind: lkCorr, flags: lfNo}, []string{
		"不对", "不对不对", "错了", "说错了", "按错了", "选错了", "算了", "那算了",
		"never mind", "nevermind", "forget it", "wrong", "that's wrong", "thats wrong",
	}},
	{lexEntry{kind: lkCorr}, []string{
		"改", "改成", "改为", "换成", "换", "等等", "等一下", "等下", "哦不", "噢不", "呃不", "哦不对",
		"我是说", "我的意思是", "应该是", "重新选", "更正", "对不起", "不好意思", "抱歉",
		"wait", "no wait", "wait no", "actually", "i mean", "i meant", "sorry", "oops", "scratch that",
		"or rather", "rather", "make it", "make that", "change to", "change it to", "correction",
		"on second thought", "hold on", "hang on", "let me change", "changed my mind",
		"i changed my mind", "my mistake",
	}},
	{lexEntry{kind: lkHaishi}, []string{"还是"}},
	{lexEntry{kind: lkConj}, []string{"或", "或者", "或是", "和", "跟", "与", "及", "还有", "要么", "or", "and", "nor", "and or"}},
	{lexEntry{kind: lkQ}, []string{
		"什么", "啥", "哪个", "哪一个", "哪些", "几", "几个", "第几", "第几个", "多少", "怎么", "怎么办",
		"为什么", "为啥", "是不是", "对不对", "好不好", "行不行", "要不要", "有没有", "是么",
		"what", "what's", "whats", "how", "why", "how much", "how many",
	}},
	{lexEntry{kind: lkQ, flags: lfDet}, []string{"which"}},
	{lexEntry{kind: lkUnsure, flags: lfDet}, []string{"any"}},
	{lexEntry{kind: lkQWeak}, []string{"吗", "么"}},
	{lexEntry{kind: lkReq}, []string{
		"能", "能不能", "可不可以", "可以吗", "行吗", "好吗", "行不", "成吗", "要不", "要不然", "麻烦",
		"can", "could", "would", "can you", "could you", "would you", "will you", "please", "pls", "plz",
		"how about", "what about", "is it ok", "is it okay", "is that ok", "is that okay",
		"would it be ok", "can i", "could i",
	}},
	{lexEntry{kind: lkReq, topic: TopicStatus}, []string{"怎么样", "如何"}},
	{lexEntry{kind: lkPlace}, []string{"地址", "address", "located"}},
	{lexEntry{kind: lkBut}, []string{"但", "但是", "不过", "可是", "然而", "只是", "but", "however", "though"}},
	{lexEntry{kind: lkUnsure}, []string{
		"也许", "或许", "可能", "不知道", "不确定", "不清楚", "不太清楚", "不晓得", "随便", "无所谓", "看着办",
		"maybe", "perhaps", "not sure", "i'm not sure", "im not sure", "don't know", "dont know",
		"i don't know", "i dont know", "idk", "dunno", "whatever", "either one", "anything",
		"probably", "i guess",
	}},
	{lexEntry{kind: lkParticle}, []string{
		"了", "吧", "啊", "呀", "呢", "哈", "嘛", "啦", "哦", "喔", "噢", "呗", "哟", "咯", "嘞", "呃", "额", "唔",
	}},
	{lexEntry{kind: lkPrefix}, []string{
		"按", "按键", "选", "选择", "选项", "我选", "我选择", "键", "拨", "输入", "数字", "编号",
		"press", "push", "hit", "tap", "dial", "enter", "type", "input", "option", "option number",
		"number", "choice", "choose", "select", "pick", "key", "button", "i'll take", "i choose",
		"i pick", "go with", "i'll go with",
	}},
	{lexEntry{kind: lkPrefix, flags: lfDi}, []string{"第"}},
	{lexEntry{kind: lkHao}, []string{"号"}},
	{lexEntry{kind: lkOrdSuf}, []string{"个", "项", "种", "条", "位", "样"}},
	{lexEntry{kind: lkTimePre}, []string{
		"下午", "上午", "晚上", "早上", "早晨", "中午", "凌晨", "傍晚", "今天", "今晚", "明早", "大概", "大约",
		"月", "周", "星期", "礼拜", "点钟",
		"at", "by", "after", "before", "around", "till", "until", "about", "past", "from", "between",
		"since", "today", "tonight",
	}},
	{lexEntry{kind: lkUnit}, []string{
		"pm", "am", "p", "oclock", "o'clock", "hour", "hours", "hr", "hrs", "minute", "minutes", "min",
		"mins", "seconds", "day", "days", "week", "weeks", "month", "months", "year", "years", "package",
		"packages", "parcel", "parcels", "box", "boxes", "item", "items", "thing", "things", "piece",
		"pieces", "bag", "bags", "people", "time", "times", "of", "percent", "dollars", "bucks", "yuan",
		"kg", "floor", "floors", "more", "less", "half", "thirty", "fifteen", "forty", "forty five",
	}},
	{lexEntry{kind: lkMonth}, []string{
		"january", "february", "march", "april", "june", "july", "august", "september", "october",
		"november", "december", "jan", "feb", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
	}},
	{lexEntry{kind: lkAddr}, []string{
		"room", "building", "gate", "unit", "apartment", "apt", "flat", "level", "block", "tower",
		"suite", "lane", "street", "road", "house", "bus", "line", "楼",
	}},
	{lexEntry{kind: lkFiller, flags: lfBreak}, []string{
		"我", "我要", "我想", "我想要", "就", "那", "那就", "直接",
		"i", "i'm", "im", "i'd", "i'll", "we", "let's", "lets", "just", "so", "then", "i want",
		"i would like", "i'd like", "i need",
	}},
	{lexEntry{kind: lkFiller, flags: lfDet}, []string{
		"this", "that", "every", "another", "other", "same", "last", "next", "each", "either", "no one",
	}},
	{lexEntry{kind: lkFiller, flags: lfThe | lfDet}, []string{"the"}},
	{lexEntry{kind: lkFiller, flags: lfArticle}, []string{"a", "an", "just a"}},
	{lexEntry{kind: lkFiller, flags: lfOn}, []string{"on"}},
	{lexEntry{kind: lkFiller, flags: lfAbsent}, []string{
		"不在家", "不在", "家里没人", "没人", "没在家", "不在家里", "人不在",
		"not home", "not at home", "won't be home", "wont be home", "not be home", "won't be there",
		"away",
	}},
	{lexEntry{kind: lkFiller, flags: lfDateVerb}, []string{"送", "到", "来", "送货", "派送", "配送", "再送"}},
	{lexEntry{kind: lkFiller}, []string{
		"那个", "这个", "这么", "那么", "那么就", "把", "给", "给我", "帮我", "帮", "请", "你", "你们", "您", "它", "快递", "包裹", "东西",
		"件", "的", "在", "放", "放在", "放到", "存", "存到", "去", "用", "先", "还", "都", "也",
		"都行", "都可以", "一下", "一会", "一会儿", "一起", "现在", "就行", "就好", "就可以", "一点", "好像", "好久",
		"好几", "别的", "特别", "什么时候都行", "哪个都行", "不用谢", "不客气",
		"不错", "没事", "没关系", "一般", "的话", "如果", "要是", "只要", "要", "想", "快递员", "师傅",
		"我的", "放着", "里", "家",
		"me", "my", "mine", "us", "you", "it", "it's", "its", "is", "are", "be", "was", "to", "for", "in",
		"into", "with", "want", "wanna", "like", "need", "take", "go", "do", "put", "leave", "use",
		"instead", "also", "too", "will", "now", "right now", "there", "here", "send", "keep", "drop",
		"please leave", "courier", "driver", "my parcel", "my package", "next door",
		"hello", "hi", "hey", "well", "um", "uh", "er", "hmm", "would like", "give me",
	}},
}

// lexSymbols are the emoji that answer by themselves.
var lexSymbols = map[rune]lexKind{
	'👍': lkYes, '👌': lkYes, '✅': lkYes, '✔': lkYes, '☑': lkYes, '🆗': lkYes, '🙆': lkYes,
	'👎': lkNo, '❌': lkNo, '✖': lkNo, '🙅': lkNo, '⛔': lkNo,
	'🙏': lkThanks,
}

// numberWords are the spoken digits.
var numberWords = map[string]byte{
	"zero": '0', "one": '1', "two": '2', "three": '3', "four": '4', "five": '5', "six": '6',
	"seven": '7', "eight": '8', "nine": '9', "oh": '0',
}

// ordinalWords are the spoken ordinals ("the second one").
var ordinalWords = map[string]byte{
	"first": '1', "second": '2', "third": '3', "fourth": '4', "fifth": '5', "sixth": '6',
	"seventh": '7', "eighth": '8', "ninth": '9',
}

// bigNumberWords are number words that are never a menu key.
var bigNumberWords = map[string]bool{
	"ten": true, "eleven": true, "twelve": true, "thirteen": true, "fourteen": true, "sixteen": true,
	"seventeen": true, "eighteen": true, "nineteen": true, "twenty": true, "fifty": true, "sixty": true,
	"seventy": true, "eighty": true, "ninety": true, "hundred": true, "thousand": true, "million": true,
	"dozen": true, "couple": true, "zeros": true,
}

// hanDigits are the Chinese numerals of one digit, plain and financial.
var hanDigits = map[rune]byte{
	'零': '0', '〇': '0', '一': '1', '幺': '1', '壹': '1', '二': '2', '两': '2', '贰': '2', '貳': '2',
	'三': '3', '叁': '3', '參': '3', '叄': '3', '四': '4', '肆': '4', '五': '5', '伍': '5', '六': '6',
	'陆': '6', '陸': '6', '七': '7', '柒': '7', '八': '8', '捌': '8', '九': '9', '玖': '9',
}

// hanMultipliers make a numeral run a number (十二, 二十, 一百).
var hanMultipliers = map[rune]bool{
	'十': true, '拾': true, '百': true, '佰': true, '千': true, '仟': true, '万': true, '萬': true,
	'亿': true, '億': true, '廿': true, '卅': true,
}

// traditionalChars folds the traditional characters the tables need onto
// their simplified forms.
var traditionalChars = map[rune]rune{
	'門': '门', '驛': '驿', '櫃': '柜', '遞': '递', '轉': '转', '聽': '听', '說': '说', '視': '视',
	'頻': '频', '時': '时', '間': '间', '謝': '谢', '對': '对', '別': '别', '這': '这', '個': '个',
	'號': '号', '點': '点', '話': '话', '電': '电', '員': '员', '誰': '谁', '麼': '么', '還': '还',
	'裡': '里', '後': '后', '幾': '几', '約': '约', '碼': '码', '聯': '联', '繫': '系', '態': '态',
	'營': '营', '業': '业', '關': '关', '開': '开', '確': '确', '認': '认', '沒': '没', '樣': '样',
	'們': '们', '選': '选', '擇': '择', '請': '请', '問': '问', '豐': '丰', '應': '应', '該': '该',
	'錯': '错', '煩': '烦', '給': '给', '幫': '帮', '來': '来', '過': '过', '兩': '两', '鐘': '钟',
	'單': '单', '樓': '楼', '層': '层', '嗎': '吗', '讓': '让', '貨': '货', '處': '处', '鳥': '鸟',
	'親': '亲', '簽': '签', '談': '谈', '訊': '讯', '複': '复', '條': '条', '種': '种',
	'項': '项', '鍵': '键', '撥': '拨', '輸': '输', '數': '数', '編': '编', '補': '补', '題': '题',
	'歡': '欢', '見': '见', '無': '无', '隨': '随', '許': '许', '準': '准', '願': '愿',
	'將': '将', '現': '现', '馬': '马', '達': '达', '預': '预', '計': '计',
}

// hanPhraseMax and wordPhraseMax bound a phrase in runes and in words.
var hanPhraseMax, wordPhraseMax int

// lexNode is what the lexicon knows of a string: the phrase it is, if any,
// and whether a longer phrase starts with it, so that matching stops as soon
// as no phrase can follow.
type lexNode struct {
	e      lexEntry
	full   bool // e is a phrase of the tables
	prefix bool // some longer phrase starts with this string
}

// lexicon is every table above, keyed by normalized phrase and by every
// proper prefix of a phrase (whole runes for Chinese, whole words for
// English).
var lexicon = buildLexicon()

// lexiconConflicts lists phrases that two tables disagree on; a test keeps it
// empty.
var lexiconConflicts []string

func buildLexicon() map[string]lexNode {
	m := make(map[string]lexNode, 3000)
	add := func(phrase string, e lexEntry) {
		if old := m[phrase]; old.full && old.e != e {
			lexiconConflicts = append(lexiconConflicts, phrase)
		}
		n := m[phrase]
		n.e, n.full = e, true
		m[phrase] = n
		size, han := phraseLen(phrase)
		if han {
			hanPhraseMax = max(hanPhraseMax, size)
		} else {
			wordPhraseMax = max(wordPhraseMax, size)
		}
		for i, r := range phrase {
			if i == 0 || han && !isCJK(r) || !han && r != ' ' {
				continue
			}
			pre := m[phrase[:i]]
			pre.prefix = true
			m[phrase[:i]] = pre
		}
	}
	for key, list := range keyPhrases {
		var flags lexFlag
		if key == '9' {
			flags = lfRepeat
		}
		for _, p := range list {
			add(p, lexEntry{kind: lkKey, key: key, flags: flags})
		}
	}
	for _, p := range bareTimes {
		add(p, lexEntry{kind: lkKey, key: '5', flags: lfBareTime})
	}
	for _, t := range topicPhrases {
		for _, p := range t.phrase {
			add(p, lexEntry{kind: t.kind, topic: t.topic})
		}
	}
	for _, w := range wordTable {
		for _, p := range w.phrase {
			add(p, w.e)
		}
	}
	return m
}

// phraseLen is the length of a table phrase: runes if it is Chinese, words if
// not.
func phraseLen(p string) (n int, han bool) {
	words := 1
	for _, r := range p {
		if isCJK(r) {
			han = true
		}
		if r == ' ' {
			words++
		}
		n++
	}
	if !han {
		return words, false
	}
	return n, true
}
