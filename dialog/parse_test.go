package dialog

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// Helpers that build the Reply a case wants.

// digit is a key given as a digit in some form.
func digit(k string, negated ...string) Reply {
	return Reply{Kind: ReplyKey, Key: k, Digit: true, Negated: negated}
}

// phrase is a key named by a phrase.
func phrase(k string, negated ...string) Reply {
	return Reply{Kind: ReplyKey, Key: k, Negated: negated}
}

func ambiguous(keys ...string) Reply { return Reply{Kind: ReplyAmbiguous, Candidates: keys} }

// unclear is ReplyUnclear, with the options the reply refused.
func unclear(negated ...string) Reply { return Reply{Kind: ReplyUnclear, Negated: negated} }

func question(t Topic) Reply { return Reply{Kind: ReplyQuestion, Topic: t} }

var (
	empty  = Reply{Kind: ReplyEmpty}
	yes    = Reply{Kind: ReplyYes}
	no     = Reply{Kind: ReplyNo}
	thanks = Reply{Kind: ReplyThanks}
)

type parseCase struct {
	in   string
	want Reply
}

// parseCases is the table of TestParseReply; the fuzz test is seeded from it.
var parseCases = []parseCase{
	// Digits: ASCII, full-width, keycap, circled, Roman.
	{"2", digit("2")},
	{"0", digit("0")},
	{"1", digit("1")},
	{"9", digit("9")},
	{"7", digit("7")}, // not a main-menu key, but a slot or receipt entry
	{"8", digit("8")},
	{" 2 ", digit("2")},
	{"２", digit("2")},
	{"０", digit("0")},
	{"　２　", digit("2")},
	{"2\uFE0F\u20E3", digit("2")},
	{"2\u20E3", digit("2")},
	{"０\uFE0F\u20E3", digit("0")},
	{"9\uFE0F\u20E3", digit("9")},
	{"1\uFE0F\u20E3 3\uFE0F\u20E3", ambiguous("1", "3")},
	{"2\uFE0F\u20E33\uFE0F\u20E3", ambiguous("2", "3")},
	{"①", digit("1")},
	{"❷", digit("2")},
	{"Ⅱ", digit("2")},
	// Digits with their punctuation.
	{"2.", digit("2")},
	{"2。", digit("2")},
	{"2！", digit("2")},
	{"(2)", digit("2")},
	{"（２）", digit("2")},
	{"2)", digit("2")},
	{"【2】", digit("2")},
	{"「2」", digit("2")},
	{"#2", digit("2")},
	{"2#", digit("2")},
	{"*2*", digit("2")},
	{"--2--", digit("2")},
	{"2~", digit("2")},
	{"No.2", digit("2")},
	// Chinese numerals.
	{"二", digit("2")},
	{"两", digit("2")},
	{"贰", digit("2")},
	{"貳", digit("2")},
	{"一", digit("1")},
	{"幺", digit("1")},
	{"壹", digit("1")},
	{"叁", digit("3")},
	{"肆", digit("4")},
	{"伍", digit("5")},
	{"陆", digit("6")},
	{"玖", digit("9")},
	{"零", digit("0")},
	{"〇", digit("0")},
	{"七", digit("7")},
	// Digit words in Chinese.
	{"第二个", digit("2")},
	{"第2个", digit("2")},
	{"第 2 个", digit("2")},
	{"第二", digit("2")},
	{"第一个", digit("1")},
	{"第三个", digit("3")},
	{"第九个", digit("9")},
	{"选第二个", digit("2")},
	{"按2", digit("2")},
	{"按二", digit("2")},
	{"按2号键", digit("2")},
	{"选2", digit("2")},
	{"选二", digit("2")},
	{"选项2", digit("2")},
	{"我选2", digit("2")},
	{"我 选 二", digit("2")},
	{"我想选三", digit("3")},
	{"我选择2号", digit("2")},
	{"2号", digit("2")},
	{"2 号", digit("2")},
	{"二号", digit("2")},
	{"三 号", digit("3")},
	{"零号", digit("0")},
	{"贰号", digit("2")},
	{"我要二号", digit("2")},
	{"2号吧", digit("2")},
	{"2吧", digit("2")},
	{"二吧", digit("2")},
	{"就2吧", digit("2")},
	{"那就二吧", digit("2")},
	{"要2", digit("2")},
	{"是2", digit("2")},
	{"是二", digit("2")},
	{"就是2", digit("2")},
	{"就选2", digit("2")},
	{"好的，2", digit("2")},
	{"嗯，选2", digit("2")},
	{"2对", digit("2")},
	{"還是2吧", digit("2")},
	// Digit words in English.
	{"two", digit("2")},
	{"Two", digit("2")},
	{"TWO", digit("2")},
	{"ｔｗｏ", digit("2")},
	{"number two", digit("2")},
	{"Option Two", digit("2")},
	{"option 2", digit("2")},
	{"press 2", digit("2")},
	{"press 9", digit("9")},
	{"dial 5", digit("5")},
	{"number nine", digit("9")},
	{"the second one", digit("2")},
	{"second", digit("2")},
	{"2nd", digit("2")},
	{"the 2nd", digit("2")},
	{"first", digit("1")},
	{"the first one", digit("1")},
	{"1st", digit("1")},
	{"third", digit("3")},
	{"the third option", digit("3")},
	{"3rd", digit("3")},
	{"fourth", digit("4")},
	{"5th", digit("5")},
	{"one", digit("1")},
	{"three", digit("3")},
	{"six", digit("6")},
	{"zero", digit("0")},
	{"press zero", digit("0")},
	{"option zero", digit("0")},
	{"oh", digit("0")},
	{"press oh", digit("0")},
	{"oh 2", digit("2")},
	{"2 please", digit("2")},
	{"2 is fine", digit("2")},
	{"2 thanks", digit("2")},
	{"I'll take 2", digit("2")},
	{"I want 2", digit("2")},
	{"ok 2", digit("2")},
	{"yes 2", digit("2")},
	{"2 ok", digit("2")},
	{"what about 3", digit("3")},
	{"2 2", digit("2")},
	{"2 2 2", digit("2")},
	{"two two", digit("2")},
	{"option 2, the door", phrase("2")},
	// Phrases, option 1: deliver now.
	{"现在送上门", phrase("1")},
	{"本人签收", phrase("1")},
	{"送上门", phrase("1")},
	{"我要本人签收", phrase("1")},
	{"送上门吧", phrase("1")},
	{"现在就送吧", phrase("1")},
	{"马上送过来", phrase("1")},
	{"我在家", phrase("1")},
	{"我现在在家，送上来吧", phrase("1")},
	{"deliver now", phrase("1")},
	{"please deliver now", phrase("1")},
	{"bring it", phrase("1")},
	{"bring it up please", phrase("1")},
	{"I'll sign", phrase("1")},
	{"in person", phrase("1")},
	// Option 2: leave at the door.
	{"放门口", phrase("2")},
	{"放在门口", phrase("2")},
	{"门口", phrase("2")},
	{"门口吧", phrase("2")},
	{"就放门口吧", phrase("2")},
	{"放门口就行", phrase("2")},
	{"请放在门口", phrase("2")},
	{"送到门口", phrase("2")},
	{"门口就行，谢谢", phrase("2")},
	{"放 门口", phrase("2")},
	{"放門口", phrase("2")},
	{"leave at door", phrase("2")},
	{"leave it at the door", phrase("2")},
	{"Leave It At The Door", phrase("2")},
	{"leave it outside", phrase("2")},
	{"the door", phrase("2")},
	{"at the door please", phrase("2")},
	{"2 - leave at door", phrase("2")},
	{"2号放门口", phrase("2")}, // digit and phrase agree; the phrase says it is the main menu
	{"那么就放门口吧", phrase("2")},
	{"我住3楼，放门口", phrase("2")},
	{"放门口，电话13912345678", phrase("2")},
	{"yes, leave it at the door", phrase("2")},
	{"二号放门口", phrase("2")},
	// Option 3: pickup station.
	{"驿站", phrase("3")},
	{"放驿站", phrase("3")},
	{"代收点", phrase("3")},
	{"放菜鸟驿站", phrase("3")},
	{"麻烦放驿站，谢谢", phrase("3")},
	{"麻烦你放一下驿站", phrase("3")},
	{"驛站", phrase("3")},
	{"pickup station", phrase("3")},
	{"collection point", phrase("3")},
	{"the pick-up station", phrase("3")},
	{"放驿站好吗", phrase("3")},
	{"放驿站怎么样", phrase("3")},
	// Option 4: locker.
	{"快递柜", phrase("4")},
	{"丰巢", phrase("4")},
	{"柜子", phrase("4")},
	{"快递放丰巢吧", phrase("4")},
	{"帮我存快递柜", phrase("4")},
	{"帮我放到快递柜里", phrase("4")},
	{"locker", phrase("4")},
	{"LOCKER", phrase("4")},
	{"ｌｏｃｋｅｒ", phrase("4")},
	{"parcel locker", phrase("4")},
	{"how about the locker", phrase("4")},
	{"could you put it in the locker please", phrase("4")},
	{"I'd rather the locker", phrase("4")},
	// Option 5: reschedule.
	{"改时间", phrase("5")},
	{"改约", phrase("5")},
	{"晚点送", phrase("5")},
	{"明天送", phrase("5")},
	{"明天", phrase("5")},
	{"改天吧", phrase("5")},
	{"下周送", phrase("5")},
	{"晚上再送吧", phrase("5")},
	{"换个时间送", phrase("5")},
	{"明天上午送", phrase("5")},
	{"明天下午3点", phrase("5")},
	{"明天3点", phrase("5")},
	{"3号下午送", phrase("5")},
	{"可以晚点送吗", phrase("5")},
	{"今天不在家，明天送吧", phrase("5")},
	{"later", phrase("5")},
	{"another time", phrase("5")},
	{"reschedule", phrase("5")},
	{"reschedule please", phrase("5")},
	{"tomorrow", phrase("5")},
	{"come back tomorrow", phrase("5")},
	{"can you deliver later?", phrase("5")},
	// Option 6: video call.
	{"视频", phrase("6")},
	{"视频通话吧", phrase("6")},
	{"和快递员视频", phrase("6")},
	{"video call", phrase("6")},
	// Option 0: a person.
	{"人工", phrase("0")},
	{"转人工", phrase("0")},
	{"轉人工", phrase("0")},
	{"客服", phrase("0")},
	{"真人", phrase("0")},
	{"找人工客服", phrase("0")},
	{"我要投诉", phrase("0")},
	{"agent", phrase("0")},
	{"human", phrase("0")},
	{"person", phrase("0")},
	{"operator", phrase("0")},
	{"I want to speak to a human", phrase("0")},
	{"customer service please", phrase("0")},
	// Option 9: repeat.
	{"重听", phrase("9")},
	{"重聽", phrase("9")},
	{"再说一遍", phrase("9")},
	{"没听清", phrase("9")},
	{"没听清？", phrase("9")},
	{"你说什么", phrase("9")},
	{"repeat", phrase("9")},
	{"again", phrase("9")},
	{"say that again", phrase("9")},
	{"say that again?", phrase("9")},
	{"what did you say", phrase("9")},
	{"menu", phrase("9")},
	{"one more time", phrase("9")},
	// Polite requests are choices, not questions.
	{"可以放门口吗？", phrase("2")},
	{"放门口可以吗", phrase("2")},
	{"能放快递柜吗", phrase("4")},
	{"can you leave it at the door?", phrase("2")},
	{"is it ok to leave it at the door?", phrase("2")},
	// Negation.
	{"不要放门口", unclear("2")},
	{"别放门口", unclear("2")},
	{"不是放门口", unclear("2")},
	{"不要送上门", unclear("1")},
	{"门口不要", unclear("2")},
	{"门口和驿站都不要", unclear("2", "3")},
	{"不要放门口或者快递柜", unclear("2", "4")},
	{"不要2", unclear("2")},
	{"不3", unclear("3")},
	{"don't leave it at the door", unclear("2")},
	{"don't just leave it at the door", unclear("2")},
	{"I don't want it at the door", unclear("2")},
	{"not the locker", unclear("4")},
	{"not in the locker", unclear("4")},
	{"don't leave it at the door or the locker", unclear("2", "4")},
	{"neither the door nor the locker", unclear("2", "4")},
	{"no 3", unclear("3")},
	{"不要放门口，放驿站", phrase("3", "2")},
	{"不要放门口,放驿站", phrase("3", "2")},
	{"别放门口，放快递柜吧", phrase("4", "2")},
	{"门口不行，放驿站", phrase("3", "2")},
	{"不用送上门，放驿站", phrase("3", "1")},
	{"放门口不要放快递柜", phrase("2", "4")},
	{"不是2是3", digit("3", "2")},
	{"不要2要3", digit("3", "2")},
	{"2 not 3", digit("2", "3")},
	{"not 2, 3", digit("3", "2")},
	{"the door not the locker", phrase("2", "4")},
	{"the locker instead of the door", phrase("4", "2")},
	{"instead of the door, the locker", phrase("4", "2")},
	{"rather than the door, the locker", phrase("4", "2")},
	// A negator that refuses no option leaves the option alone.
	{"我不在家放门口吧", phrase("2")},
	{"我不在家，放门口吧", phrase("2")},
	{"不在家，放驿站", phrase("3")},
	{"家里没人，放快递柜吧", phrase("4")},
	{"放门口不要敲门", phrase("2")},
	{"不要敲门，放门口", phrase("2")},
	{"别打电话，放门口", phrase("2")},
	{"I'm not home leave it at the door", phrase("2")},
	{"no I want the locker", phrase("4")},
	{"no, I want the locker", phrase("4")},
	{"no just leave it at the door", phrase("2")},
	{"明天不在家", unclear()},
	{"I'm not home tomorrow", unclear()},
	{"我不在家", unclear()},
	{"not now", unclear()},
	// Corrections: what follows the last marker wins.
	{"不对，放驿站", phrase("3")},
	{"不對，放驛站", phrase("3")},
	{"2，不对，3", digit("3")},
	{"2,不对,3", digit("3")},
	{"放门口……算了还是放驿站吧", phrase("3")},
	{"放门口...算了，还是放驿站吧", phrase("3")},
	{"还是2吧", digit("2")},
	{"改成3", digit("3")},
	{"2改3", digit("3")},
	{"等一下，放驿站", phrase("3")},
	{"对不起，放驿站", phrase("3")},
	{"不，3", digit("3")},
	{"不不不，放驿站", phrase("3")},
	{"不要，放驿站", phrase("3")},
	{"no wait, 3", digit("3")},
	{"no, 3", digit("3")},
	{"2, no, 3", digit("3")},
	{"2 no 3", digit("3")},
	{"actually the locker", phrase("4")},
	{"the door, actually the locker", phrase("4")},
	{"I mean 3", digit("3")},
	{"3, I mean 4", digit("4")},
	{"2 or rather 3", digit("3")},
	{"2, sorry, 3", digit("3")},
	{"wait, 3", digit("3")},
	{"不要门口，不对，门口吧", phrase("2")},
	{"不要门口，不对，驿站", phrase("3", "2")},
	{"2，不对", unclear()},
	{"2，算了", unclear()},
	{"放门口算了", unclear()},
	{"2 sorry", unclear()},
	// Two different options and no correction.
	{"2或3", ambiguous("2", "3")},
	{"2 3", ambiguous("2", "3")},
	{"2,3", ambiguous("2", "3")},
	{"2，3", ambiguous("2", "3")},
	{"2、3", ambiguous("2", "3")},
	{"1 2", ambiguous("1", "2")},
	{"one two", ambiguous("1", "2")},
	{"2 or 3", ambiguous("2", "3")},
	{"either 2 or 3", ambiguous("2", "3")},
	{"2 and 3", ambiguous("2", "3")},
	{"2还是3", ambiguous("2", "3")},
	{"2号还是3号", ambiguous("2", "3")},
	{"第二个还是第三个", ambiguous("2", "3")},
	{"门口或者驿站", ambiguous("2", "3")},
	{"门口还是驿站", ambiguous("2", "3")},
	{"门口或者驿站都行", ambiguous("2", "3")},
	{"2号放驿站", ambiguous("2", "3")},
	{"2 the locker", ambiguous("2", "4")},
	{"press 2 for the locker", ambiguous("2", "4")},
	{"door or locker", ambiguous("2", "4")},
	{"2\xff3", ambiguous("2", "3")},
	// Numbers that are not keys.
	{"13912345678", unclear()},
	{"139 1234 5678", unclear()},
	{"12", unclear()},
	{"10", unclear()},
	{"00", unclear()},
	{"22", unclear()},
	{"222", unclear()},
	{"2.5", unclear()},
	{"3:30", unclear()},
	{"2-3", unclear()},
	{"3点", unclear()},
	{"两点", unclear()},
	{"下午3点", unclear()},
	{"三点钟", unclear()},
	{"3pm", unclear()},
	{"3 pm", unclear()},
	{"at 3", unclear()},
	{"at two", unclear()},
	{"by 2", unclear()},
	{"two o'clock", unclear()},
	{"2 hours", unclear()},
	{"in 2 hours", unclear()},
	{"2个包裹", unclear()},
	{"两个", unclear()},
	{"2 packages", unclear()},
	{"two packages", unclear()},
	{"11月26号", unclear()},
	{"3号送", unclear()},
	{"2号到", unclear()},
	{"on the 2nd", unclear()},
	{"nov 2", unclear()},
	{"2楼", unclear()},
	{"三楼", unclear()},
	{"2号楼", unclear()},
	{"room 2", unclear()},
	{"floor 2", unclear()},
	{"2nd floor", unclear()},
	{"second floor", unclear()},
	{"十二", unclear()},
	{"二十", unclear()},
	{"一二", unclear()},
	{"twenty two", unclear()},
	{"2 apples", unclear()},
	{"one second", unclear()},
	{"wait a second", unclear()},
	{"at first", unclear()},
	{"first of all", unclear()},
	// Numerals inside words are not digits.
	{"一下", unclear()},
	{"等一下", unclear()},
	{"一起", unclear()},
	{"统一", unclear()},
	{"一样", unclear()},
	{"一点", unclear()},
	{"第一次", unclear()},
	{"第二天", unclear()},
	{"that one", unclear()},
	{"no one", unclear()},
	// Tracking questions.
	{"快递到哪了", question(TopicWhere)},
	{"到哪儿了", question(TopicWhere)},
	{"在哪", question(TopicWhere)},
	{"快递到哪里了？", question(TopicWhere)},
	{"我的快递在哪儿", question(TopicWhere)},
	{"where is my parcel", question(TopicWhere)},
	{"where's my package", question(TopicWhere)},
	{"Where’s my package?", question(TopicWhere)},
	{"where's the courier", question(TopicWhere)},
	{"什么时候到", question(TopicWhen)},
	{"几点到", question(TopicWhen)},
	{"幾點到", question(TopicWhen)},
	{"多久", question(TopicWhen)},
	{"还要多久", question(TopicWhen)},
	{"快递员什么时候来", question(TopicWhen)},
	{"今天能到吗", question(TopicWhen)},
	{"when will it arrive", question(TopicWhen)},
	{"what time", question(TopicWhen)},
	{"ETA", question(TopicWhen)},
	{"how long", question(TopicWhen)},
	{"how long will it take", question(TopicWhen)},
	{"谁送的", question(TopicWho)},
	{"快递员是谁", question(TopicWho)},
	{"快递员叫什么名字", question(TopicWho)},
	{"who is delivering", question(TopicWho)},
	{"who's the courier", question(TopicWho)},
	{"courier name", question(TopicWho)},
	{"快递员电话", question(TopicPhone)},
	{"电话多少", question(TopicPhone)},
	{"联系方式", question(TopicPhone)},
	{"快递员的电话是多少", question(TopicPhone)},
	{"给我快递员的手机号", question(TopicPhone)},
	{"courier's phone", question(TopicPhone)},
	{"phone number", question(TopicPhone)},
	{"call the courier", question(TopicPhone)},
	{"what's the courier's phone number", question(TopicPhone)},
	{"驿站在哪", question(TopicStation)},
	{"驿站几点关门", question(TopicStation)},
	{"驿站几点关门？", question(TopicStation)},
	{"驿站什么时候关门", question(TopicStation)},
	{"驿站地址", question(TopicStation)},
	{"营业时间", question(TopicStation)},
	{"快递柜在哪", question(TopicStation)},
	{"station hours", question(TopicStation)},
	{"where is the pickup station", question(TopicStation)},
	{"when does the station close", question(TopicStation)},
	{"where is the locker", question(TopicStation)},
	{"状态", question(TopicStatus)},
	{"怎么样了", question(TopicStatus)},
	{"快递怎么样了", question(TopicStatus)},
	{"物流信息", question(TopicStatus)},
	{"到了吗", question(TopicStatus)},
	{"status", question(TopicStatus)},
	{"what's the status", question(TopicStatus)},
	{"any update?", question(TopicStatus)},
	// A question wins over the options it mentions.
	{"放驿站，什么时候能到", question(TopicWhen)},
	{"好的，快递员电话多少", question(TopicPhone)},
	{"快递到哪了谢谢", question(TopicWhere)},
	// Questions that fit no topic, and doubt, are asked again.
	{"2是什么", unclear()},
	{"what is option 2", unclear()},
	{"2?", unclear()},
	{"2？", unclear()},
	{"放门口吗？", unclear()},
	{"放门口安全吗", unclear()},
	{"which one", unclear()},
	{"哪个", unclear()},
	{"是吗", unclear()},
	{"可以吗", unclear()},
	{"yes?", unclear()},
	{"随便", unclear()},
	{"whatever", unclear()},
	{"maybe 2", unclear()},
	{"也许放门口", unclear()},
	{"不知道", unclear()},
	// Yes.
	{"是", yes},
	{"是的", yes},
	{"对", yes},
	{"对的", yes},
	{"对的对的", yes},
	{"好", yes},
	{"好的", yes},
	{"好嘞", yes},
	{"可以", yes},
	{"行", yes},
	{"嗯", yes},
	{"嗯嗯", yes},
	{"确认", yes},
	{"收到了", yes},
	{"没问题", yes},
	{"yes", yes},
	{"Yes.", yes},
	{"yeah", yes},
	{"yep", yes},
	{"ok", yes},
	{"OK", yes},
	{"ＯＫ", yes},
	{"okay!", yes},
	{"sure", yes},
	{"confirm", yes},
	{"yes please", yes},
	{"👍", yes},
	{"👍🏻", yes},
	{"👍👍", yes},
	{"✅", yes},
	{"ok👍", yes},
	{"oh ok", yes},
	{"好的谢谢", yes},
	{"ok thanks", yes},
	{"不对，是的", yes},
	{"no, yes", yes},
	// No.
	{"不", no},
	{"不是", no},
	{"不是的", no},
	{"不用", no},
	{"不用了", no},
	{"不要", no},
	{"不要。", no},
	{"没有", no},
	{"不行", no},
	{"不对", no},
	{"算了", no},
	{"没收到", no},
	{"还没收到", no},
	{"no", no},
	{"No!", no},
	{"nope", no},
	{"nah", no},
	{"👎", no},
	{"🙅\u200d♂️", no},
	{"no thanks", no},
	{"不用了谢谢", no},
	{"不用，谢谢", no},
	{"好的，不对", no},
	// Thanks.
	{"谢谢", thanks},
	{"謝謝", thanks},
	{"多谢", thanks},
	{"谢了", thanks},
	{"谢谢师傅", thanks},
	{"辛苦了", thanks},
	{"thanks", thanks},
	{"thank you", thanks},
	{"Thank you so much!", thanks},
	{"thx", thanks},
	{"🙏", thanks},
	{"谢谢，放门口", phrase("2")},
	// Mixed answers are asked again.
	{"yes but not today", unclear()},
	{"好的但是我不在家", unclear()},
	{"ok, don't come", unclear()},
	{"wait", unclear()},
	{"actually", unclear()},
	{"sorry", unclear()},
	{"对不起", unclear()},
	{"家里没人", unclear()},
	{"吧", unclear()},
	{"按", unclear()},
	{"option", unclear()},
	{"hello", unclear()},
	{"放门卫", unclear()},
	{"leave it with the neighbour", unclear()},
	{"asdfgh", unclear()},
	{"こんにちは", unclear()},
	// Blank, punctuation and emoji.
	{"", empty},
	{"   ", empty},
	{"\t\n", empty},
	{"\u3000", empty},
	{"。。。", empty},
	{"...", empty},
	{"?", empty},
	{"？", empty},
	{"!!!", empty},
	{"#", empty},
	{"\x00", empty},
	{"\u200b", empty},
	{"\uFE0F", empty},
	{"😀", unclear()},
	{"😀😀", unclear()},
	{"❤️", unclear()},
	{"😀2", digit("2")},
	// Invalid UTF-8.
	{"\xff", unclear()},
	{"\xff\xfe", unclear()},
	{"\xc3\x28", unclear()},
	{"\xed\xa0\x80", unclear()},
	{"\xff2\xff", digit("2")},
	{"2\x002", digit("2")},
	{"放门口\xff", phrase("2")},
	{"\xe4\xb8", unclear()},
	// Long input.
	{strings.Repeat(" ", 1000) + "2" + strings.Repeat(" ", 1000), digit("2")},
	{strings.Repeat("门口", 250), phrase("2")},
	{strings.Repeat("门口", 251), unclear()},
	{strings.Repeat("2", 600), unclear()},
	{strings.Repeat("2 ", 300), unclear()},
	{strings.Repeat("放门口", 1000), unclear()},
	{"2" + strings.Repeat("。", 499), digit("2")},
	{"2" + strings.Repeat("。", 500), unclear()},
	{strings.Repeat("\xff", 10000), unclear()},
	{strings.Repeat("a ", 249) + "2", digit("2")},
}

func TestParseReply(t *testing.T) {
	for _, c := range parseCases {
		if got := ParseReply(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseReply(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestParseReplyCaseCount(t *testing.T) {
	const least = 300
	n := len(parseCases)
	if n < least {
		t.Errorf("TestParseReply has %d cases, want at least %d", n, least)
	}
	t.Logf("TestParseReply has %d cases", n)
}

// TestParseReplyTables checks the word tables against ParseReply: every
// phrase that names an option parses, alone, to that option, and every topic
// phrase to a question on its topic.
func TestParseReplyTables(t *testing.T) {
	if len(lexiconConflicts) > 0 {
		t.Errorf("phrases listed twice with different meanings: %q", lexiconConflicts)
	}
	for key, list := range keyPhrases {
		for _, p := range list {
			want := phrase(string(key))
			if got := ParseReply(p); !reflect.DeepEqual(got, want) {
				t.Errorf("ParseReply(%q) = %+v, want %+v", p, got, want)
			}
		}
	}
	for _, p := range bareTimes {
		want := phrase("5")
		if got := ParseReply(p); !reflect.DeepEqual(got, want) {
			t.Errorf("ParseReply(%q) = %+v, want %+v", p, got, want)
		}
	}
	for _, tp := range topicPhrases {
		for _, p := range tp.phrase {
			want := question(tp.topic)
			if got := ParseReply(p); !reflect.DeepEqual(got, want) {
				t.Errorf("ParseReply(%q) = %+v, want %+v", p, got, want)
			}
		}
	}
}

// TestParseReplyConcurrent runs the table from several goroutines at once;
// with -race it shows ParseReply shares no mutable state.
func TestParseReplyConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, c := range parseCases {
				if got := ParseReply(c.in); !reflect.DeepEqual(got, c.want) {
					t.Errorf("ParseReply(%q) = %+v, want %+v", c.in, got, c.want)
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkParseReply(b *testing.B) {
	inputs := []string{
		"2", "２", "第二个", "按2", "two", "the second one", "放门口", "leave it at the door",
		"不要放门口，放驿站", "放门口……算了还是放驿站吧", "no wait, 3", "2或3", "13912345678",
		"下午3点", "快递到哪了", "驿站几点关门", "where is my parcel", "好的", "谢谢", "👍", "",
		"我不在家，麻烦帮我放到楼下的快递柜里，谢谢师傅", "I'm not home today, could you please leave it at the door? thanks",
		strings.Repeat("放门口", 160),
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ParseReply(inputs[i%len(inputs)])
		i++
	}
}

// startsCJK reports whether a table phrase is Chinese.
func startsCJK(p string) bool {
	for _, r := range p {
		return isCJK(r)
	}
	return false
}

// TestParseReplyNegatedPhrases negates every option phrase and checks that
// the option is never chosen: a refused option must not become the answer.
func TestParseReplyNegatedPhrases(t *testing.T) {
	for key, list := range keyPhrases {
		for _, p := range list {
			negs := []string{"don't ", "not ", "no ", "do not ", "I don't want ", "never "}
			if startsCJK(p) {
				negs = []string{"不要", "别", "不想", "我不要", "千万别", "不要给我", "不需要", "不是", "不用"}
			}
			for _, n := range negs {
				in := n + p
				if got := ParseReply(in); got.Kind == ReplyKey && got.Key == string(key) || got.Kind == ReplyAmbiguous {
					t.Errorf("ParseReply(%q) = %+v, want %q refused", in, got, key)
				}
			}
		}
	}
}

// TestParseReplyPhraseCorrections checks "A, no wait, B" for every option A
// and another option B: B wins.
func TestParseReplyPhraseCorrections(t *testing.T) {
	for key, list := range keyPhrases {
		for _, p := range list {
			for key2, list2 := range keyPhrases {
				if key2 == key {
					continue
				}
				in := p + "，不对，" + list2[0]
				if !startsCJK(p) {
					in = p + ", no wait, " + list2[len(list2)-1]
				}
				if got, want := ParseReply(in), phrase(string(key2)); !reflect.DeepEqual(got, want) {
					t.Errorf("ParseReply(%q) = %+v, want %+v", in, got, want)
				}
			}
		}
	}
}

// TestParseReplyPhraseForms wraps every option phrase in the words people put
// around an answer.
func TestParseReplyPhraseForms(t *testing.T) {
	zh := []string{"我要%s", "%s吧", "%s，谢谢", "请%s", "麻烦%s", "嗯，%s", "好的，%s", "那就%s吧", "%s。", "就%s", "%s就行", "%s可以吗"}
	en := []string{"please %s", "%s please", "ok, %s", "yes, %s", "%s, thanks", "%s.", "I'd like %s", "%s!", "can you %s?"}
	for key, list := range keyPhrases {
		for _, p := range list {
			forms := en
			if startsCJK(p) {
				forms = zh
			}
			for _, f := range forms {
				in := fmt.Sprintf(f, p)
				if got, want := ParseReply(in), phrase(string(key)); !reflect.DeepEqual(got, want) {
					t.Errorf("ParseReply(%q) = %+v, want %+v", in, got, want)
				}
			}
		}
	}
}

// TestParseReplyDigitForms writes every digit in every form people type or a
// recogniser transcribes.
func TestParseReplyDigitForms(t *testing.T) {
	han := map[string][]string{
		"0": {"零", "〇"}, "1": {"一", "幺", "壹"}, "2": {"二", "两", "贰", "貳"}, "3": {"三", "叁"},
		"4": {"四", "肆"}, "5": {"五", "伍"}, "6": {"六", "陆"}, "7": {"七", "柒"}, "8": {"八", "捌"}, "9": {"九", "玖"},
	}
	en := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	for k, hs := range han {
		word := en[k[0]-'0']
		full := string(rune(k[0]) + 0xFEE0)
		forms := []string{
			k, full, k + "\uFE0F\u20E3", "按" + k, "选" + k, "第" + k + "个", k + "号", "我选" + k, "就" + k + "吧",
			k + "吧", "好的，" + k, k + "，谢谢", "选项" + k, "按" + k + "键", "(" + k + ")", "（" + full + "）", k + ".",
			"option " + k, "press " + k, "number " + k, word, "press " + word, "option " + word, word + " please",
			"I'll take " + word, "ok " + word, "Number " + word + ".",
		}
		for _, h := range hs {
			forms = append(forms, h, "按"+h, "选"+h, "第"+h+"个", h+"号", "我选"+h, "就"+h+"吧", h+"吧", "好的，"+h,
				h+"，谢谢", "选项"+h, "第"+h, "要"+h, "是"+h)
		}
		for _, in := range forms {
			if got, want := ParseReply(in), digit(k); !reflect.DeepEqual(got, want) {
				t.Errorf("ParseReply(%q) = %+v, want %+v", in, got, want)
			}
		}
	}
}
