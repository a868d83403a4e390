package dialog

// ReplyKind says what a recipient's reply was understood to be.
type ReplyKind int

// The kinds of reply ParseReply recognises.
const (
	ReplyUnclear   ReplyKind = iota // nothing placeable: ask again, never guess
	ReplyEmpty                      // blank, whitespace or punctuation only
	ReplyKey                        // one menu key: Key is "0".."9"
	ReplyAmbiguous                  // fits two or more keys: Candidates lists them
	ReplyQuestion                   // a tracking question: Topic says which
	ReplyYes                        // 是/对/好/yes/ok/👍
	ReplyNo                         // 不/不是/no
	ReplyThanks                     // 谢谢/thanks (and nothing else)
)

// Topic is what a tracking question asks about.
type Topic string

// The tracking topics.
const (
	TopicWhere   Topic = "where"   // 快递到哪了, where is my parcel
	TopicWhen    Topic = "when"    // 什么时候到, when will it arrive
	TopicWho     Topic = "who"     // 谁送的, who is delivering
	TopicPhone   Topic = "phone"   // 快递员电话, courier's phone
	TopicStation Topic = "station" // 驿站在哪/几点关门, pickup station hours
	TopicStatus  Topic = "status"  // 状态, what's the status
)

// Reply is a recipient's reply as understood by ParseReply.
type Reply struct {
	Kind ReplyKind
	// Key is the menu key for ReplyKey: "0".."9". Phrases map onto the main
	// menu's keys (放门口 → "2", 人工 → "0", 重听 → "9").
	Key string
	// Digit is true when Key came from a digit in any form (２, 二, two,
	// 第二个, 按2) rather than from a phrase, so that a sub-menu (slots,
	// receipt confirmation) reads a digit as its own entry but a phrase as
	// the main menu's.
	Digit bool
	// Candidates are the keys a ReplyAmbiguous reply fits, ascending.
	Candidates []string
	// Negated are the main-menu keys the reply refused ("不要放门口" → "2").
	Negated []string
	// Topic is the subject of a ReplyQuestion.
	Topic Topic
}
