package dialog

import (
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

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

var replyKindNames = [...]string{"unclear", "empty", "key", "ambiguous", "question", "yes", "no", "thanks"}

// String names the kind, for logs and test failures.
func (k ReplyKind) String() string {
	if k >= 0 && int(k) < len(replyKindNames) {
		return replyKindNames[k]
	}
	return "ReplyKind(" + strconv.Itoa(int(k)) + ")"
}

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

// maxReplyRunes bounds what ParseReply reads. A longer reply is not a menu
// answer an elderly recipient typed or said; it gets a re-ask, never a guess,
// and the bound keeps parsing cheap on hostile input.
const maxReplyRunes = 500

// ParseReply reads one recipient reply, typed or transcribed, in either
// language. It is pure, does no I/O and is safe for concurrent use.
//
// It reads, cheapest and surest first: digits in any form (2, ２, 二, 两,
// 第二个, 按2, 2号, 2️⃣, "two", "the second one"), then phrases naming a
// main-menu option (放门口, "leave it at the door"), tracking questions, and
// yes/no/thanks. Negated options ("不要放门口") go to Negated and never become
// the Key; after a correction ("不对", "actually", "I mean") only what
// follows counts. Two different options give ReplyAmbiguous; numbers that are
// times, dates, quantities or phone numbers are not keys; anything else it
// cannot place is ReplyUnclear: a wrong sign-off is worse than one more
// question. Input of more than 500 runes (after trimming) is ReplyUnclear.
// Invalid UTF-8 is read as unknown symbols.
func ParseReply(text string) Reply {
	s := strings.TrimSpace(text)
	if s == "" {
		return Reply{Kind: ReplyEmpty}
	}
	if len(s) > maxReplyRunes*utf8.UTFMax || utf8.RuneCountInString(s) > maxReplyRunes {
		return Reply{Kind: ReplyUnclear}
	}
	p := parserPool.Get().(*replyParser)
	defer parserPool.Put(p)
	p.norm = normalizeReply(p.norm[:0], s)
	p.toks, p.items = p.toks[:0], p.items[:0]
	switch p.tokenize() {
	case contentBlank:
		return Reply{Kind: ReplyEmpty}
	case contentSymbols:
		return Reply{Kind: ReplyUnclear}
	}
	p.lex()
	p.judgeDigits()
	p.judgeAbsence()
	p.resolveHaishi()
	p.resolveNegation()
	return p.decide()
}

// normalizeReply appends to buf the reply s with full-width forms, case,
// curly apostrophes, keycap and circled digits and common traditional
// characters folded; variation selectors, skin tones and zero-width
// characters dropped; and white space collapsed to one space, none at all
// between two CJK characters (a recogniser's pauses).
func normalizeReply(buf []byte, s string) []byte {
	w := normWriter{b: buf, prev: -1}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r < 0x80 {
			switch {
			case r >= 'A' && r <= 'Z':
				w.put(r + 'a' - 'A')
			case r <= ' ' || r == 0x7F:
				w.space = true
			case r >= '0' && r <= '9' || r == '#' || r == '*':
				i = w.digit(r, s, i)
			case r == '`':
				w.put('\'')
			default:
				w.put(r)
			}
			continue
		}
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
			if r >= '0' && r <= '9' || r == '#' || r == '*' {
				i = w.digit(r, s, i)
				continue
			}
		case r == 0x3000:
			r = ' '
		}
		if d, ok := circledDigit(r); ok {
			w.space = true
			w.put(d)
			w.space = true
			continue
		}
		switch {
		case r >= 0xFE00 && r <= 0xFE0F, r == 0x20E3, r >= 0x1F3FB && r <= 0x1F3FF,
			r >= 0x200B && r <= 0x200D, r == 0x2060, r == 0xFEFF:
			continue
		case unicode.IsSpace(r) || unicode.IsControl(r):
			w.space = true
			continue
		}
		w.put(foldRune(r))
	}
	return w.b
}

type normWriter struct {
	b     []byte
	prev  rune // last rune written, -1 at the start
	space bool // white space seen since
}

func (w *normWriter) put(r rune) {
	if w.space && w.prev >= 0 && !(isCJK(w.prev) && isCJK(r)) {
		w.b = append(w.b, ' ')
	}
	w.space = false
	w.b = utf8.AppendRune(w.b, r)
	w.prev = r
}

// digit writes the digit (or # or *) r that ends at s[i:], reading a keycap
// (2️⃣: digit, optional U+FE0F, U+20E3) as a digit of its own, and returns
// where reading goes on.
func (w *normWriter) digit(r rune, s string, i int) int {
	j := i
	if strings.HasPrefix(s[j:], "\uFE0F") {
		j += len("\uFE0F")
	}
	if !strings.HasPrefix(s[j:], "\u20E3") {
		w.put(r)
		return i
	}
	w.space = true
	w.put(r)
	w.space = true
	return j + len("\u20E3")
}

// circledDigit reads ①..⑨, ⓪, ❶..❾ and the Roman numerals Ⅰ..Ⅸ as digits.
func circledDigit(r rune) (rune, bool) {
	switch {
	case r >= 0x2460 && r <= 0x2468:
		return '1' + r - 0x2460, true
	case r == 0x24EA:
		return '0', true
	case r >= 0x2776 && r <= 0x277E:
		return '1' + r - 0x2776, true
	case r >= 0x2160 && r <= 0x2168: // Ⅰ..Ⅸ
		return '1' + r - 0x2160, true
	case r >= 0x2170 && r <= 0x2178: // ⅰ..ⅸ
		return '1' + r - 0x2170, true
	}
	return 0, false
}

func foldRune(r rune) rune {
	switch r {
	case '\u2018', '\u2019', '\u02BC', '\u00B4':
		return '\''
	case '\uFE56':
		return '?'
	}
	if r >= 0x4E00 {
		if s, ok := traditionalChars[r]; ok {
			return s
		}
		return r
	}
	return unicode.ToLower(r)
}

// isCJK reports whether r is written without spaces between words: Han,
// kana, Hangul.
func isCJK(r rune) bool {
	if r < 0x2E80 {
		return false
	}
	if r >= 0x4E00 && r <= 0x9FFF {
		return true
	}
	return r == '〇' || unicode.Is(unicode.Han, r) || unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// isWordRune reports whether r belongs in a space-separated word.
func isWordRune(r rune) bool {
	if r < 0x80 {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	if isCJK(r) {
		return false
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

type tokKind uint8

const (
	tokWord tokKind = iota // a run of letters and digits: "two", "2", "3pm", "don't"
	tokHan                 // one CJK character
	tokSep                 // punctuation
	tokSym                 // an emoji or other symbol, or an invalid byte
)

type replyToken struct {
	kind       tokKind
	start, end int  // byte offsets in the normalized text
	r          rune // the first rune
	digits     int  // leading ASCII digits
	allDigits  bool
	compound   bool // digits joined by . : / - ~ (2.5, 3:30, 2-3)
}

type contentClass uint8

const (
	contentBlank   contentClass = iota // nothing but punctuation
	contentSymbols                     // symbols, none of them an answer
	contentText
)

// replyItem is one word, phrase, digit or boundary of a reply.
type replyItem struct {
	kind  lexKind
	key   byte // lkKey, lkCand: '0'..'9'
	digit bool // lkKey: from a digit rather than a phrase
	cand  candKind
	flags lexFlag
	topic Topic
	neg   bool // lkKey: refused by a negation
}

type candKind uint8

const (
	candASCII candKind = iota // 2
	candCJK                   // 二, 两, 贰
	candWord                  // two
	candOrd                   // second, 2nd
	candOh                    // oh
)

// parserPool keeps parsers, and their buffers, between calls, so that a call
// allocates only the slices of the Reply it returns. Input is bounded, so a
// pooled parser holds at most some tens of kilobytes.
var parserPool = sync.Pool{New: func() any { return new(replyParser) }}

// replyParser holds the working state of one ParseReply call.
type replyParser struct {
	norm  []byte
	toks  []replyToken
	items []replyItem
}

func (p *replyParser) tokenize() contentClass {
	n := p.norm
	class := contentBlank
	for i := 0; i < len(n); {
		r, size := utf8.DecodeRune(n[i:])
		switch {
		case r == ' ':
			i += size
			continue
		case isCJK(r):
			p.toks = append(p.toks, replyToken{kind: tokHan, start: i, end: i + size, r: r})
			class = contentText
		case isWordRune(r):
			t := p.scanWord(i)
			p.toks = append(p.toks, t)
			class = contentText
			i = t.end
			continue
		case r < 0x80 || unicode.IsPunct(r) || unicode.IsSymbol(r) && !unicode.Is(unicode.So, r):
			p.toks = append(p.toks, replyToken{kind: tokSep, start: i, end: i + size, r: r})
		default:
			p.toks = append(p.toks, replyToken{kind: tokSym, start: i, end: i + size, r: r})
			if _, ok := lexSymbols[r]; ok {
				class = contentText
			} else if class == contentBlank {
				class = contentSymbols
			}
		}
		i += size
	}
	return class
}

// scanWord reads the word starting at i: letters, digits, inner
// apostrophes, and digits joined by . : / - ~.
func (p *replyParser) scanWord(i int) replyToken {
	n := p.norm
	t := replyToken{kind: tokWord, start: i, allDigits: true}
	t.r, _ = utf8.DecodeRune(n[i:])
	j := i
	for j < len(n) {
		r, size := utf8.DecodeRune(n[j:])
		if isWordRune(r) {
			if r >= '0' && r <= '9' {
				if t.allDigits {
					t.digits++
				}
			} else {
				t.allDigits = false
			}
			j += size
			continue
		}
		if j > i && j+1 < len(n) {
			next, _ := utf8.DecodeRune(n[j+1:])
			if r == '\'' && !t.allDigits && unicode.IsLetter(next) && !isCJK(next) {
				j++
				continue
			}
			if t.allDigits && strings.ContainsRune(".:/-~", r) && next >= '0' && next <= '9' {
				t.compound = true
				j++
				continue
			}
		}
		break
	}
	t.end = j
	return t
}

func (p *replyParser) add(it replyItem) {
	if it.kind == lkSep && (len(p.items) == 0 || p.items[len(p.items)-1].kind == lkSep) {
		return // a boundary at the start or after another adds nothing
	}
	p.items = append(p.items, it)
}

func itemOf(e lexEntry) replyItem {
	return replyItem{kind: e.kind, key: e.key, flags: e.flags, topic: e.topic}
}

func (p *replyParser) lex() {
	for i := 0; i < len(p.toks); {
		t := p.toks[i]
		switch t.kind {
		case tokSep:
			switch t.r {
			case '?':
				p.add(replyItem{kind: lkQWeak})
				p.add(replyItem{kind: lkSep})
			case '、', '&', '/':
				p.add(replyItem{kind: lkConj})
			default:
				p.add(replyItem{kind: lkSep})
			}
			i++
		case tokSym:
			if k, ok := lexSymbols[t.r]; ok {
				p.add(replyItem{kind: k})
			} else {
				p.add(replyItem{kind: lkSep})
			}
			i++
		case tokWord:
			i = p.lexWord(i)
		default:
			i = p.lexHan(i)
		}
	}
	if n := len(p.items); n > 0 && p.items[n-1].kind == lkSep {
		p.items = p.items[:n-1]
	}
}

func (p *replyParser) lexWord(i int) int {
	t := p.toks[i]
	w := p.norm[t.start:t.end]
	if t.digits > 0 {
		switch {
		case t.allDigits && !t.compound && t.digits == 1:
			p.add(replyItem{kind: lkCand, key: w[0], cand: candASCII})
		case !t.allDigits && t.digits == 1 && isOrdinalSuffix(string(w[1:])):
			p.add(replyItem{kind: lkCand, key: w[0], cand: candOrd, flags: lfOrd})
		default:
			p.add(replyItem{kind: lkNumber})
		}
		return i + 1
	}
	best := 0
	var be lexEntry
	for j := i; j < len(p.toks) && j-i < wordPhraseMax; j++ {
		if p.toks[j].kind != tokWord || p.toks[j].digits > 0 {
			break
		}
		node, ok := lexicon[string(p.norm[t.start:p.toks[j].end])]
		if node.full {
			best, be = j-i+1, node.e
		}
		if !ok || !node.prefix {
			break
		}
	}
	if best > 0 {
		p.add(itemOf(be))
		return i + best
	}
	if d, ok := numberWords[string(w)]; ok {
		switch {
		case string(w) == "one" && p.lastIs(lfDet|lfOrd):
			p.add(replyItem{kind: lkFiller}) // "the second one", "that one"
		case string(w) == "oh":
			p.add(replyItem{kind: lkCand, key: d, cand: candOh})
		default:
			p.add(replyItem{kind: lkCand, key: d, cand: candWord})
		}
		return i + 1
	}
	if d, ok := ordinalWords[string(w)]; ok {
		it := replyItem{kind: lkCand, key: d, cand: candOrd, flags: lfOrd}
		if string(w) == "second" {
			it.flags |= lfSecond
		}
		p.add(it)
		return i + 1
	}
	if bigNumberWords[string(w)] {
		p.add(replyItem{kind: lkNumber})
		return i + 1
	}
	p.add(replyItem{kind: lkOther})
	return i + 1
}

func isOrdinalSuffix(s string) bool {
	return s == "st" || s == "nd" || s == "rd" || s == "th"
}

func (p *replyParser) lastIs(f lexFlag) bool {
	return len(p.items) > 0 && p.items[len(p.items)-1].flags&f != 0
}

func (p *replyParser) lexHan(i int) int {
	start := p.toks[i].start
	best := 0
	var be lexEntry
	for j := i; j < len(p.toks) && j-i < hanPhraseMax; j++ {
		if p.toks[j].kind != tokHan {
			break
		}
		node, ok := lexicon[string(p.norm[start:p.toks[j].end])]
		if node.full {
			best, be = j-i+1, node.e
		}
		if !ok || !node.prefix {
			break
		}
	}
	if best > 0 {
		p.add(itemOf(be))
		return i + best
	}
	if !isHanNumeral(p.toks[i].r) {
		p.add(replyItem{kind: lkOther})
		return i + 1
	}
	j := i + 1
	for j < len(p.toks) && p.toks[j].kind == tokHan && isHanNumeral(p.toks[j].r) {
		j++
	}
	if d, ok := hanDigits[p.toks[i].r]; ok && j == i+1 {
		p.add(replyItem{kind: lkCand, key: d, cand: candCJK})
	} else {
		p.add(replyItem{kind: lkNumber}) // 十二, 二十, 一二
	}
	return j
}

func isHanNumeral(r rune) bool {
	_, ok := hanDigits[r]
	return ok || hanMultipliers[r]
}

func (p *replyParser) at(i int) *replyItem {
	if i < 0 || i >= len(p.items) {
		return nil
	}
	return &p.items[i]
}

func boundary(x *replyItem) bool { return x == nil || x.kind == lkSep }

// known reports whether x is a word of the tables that may stand next to a
// digit: not an unknown word, not a number or a unit that makes the digit a
// quantity, time or address.
func known(x *replyItem) bool {
	switch x.kind {
	case lkOther, lkNumber, lkAddr, lkUnit, lkMonth, lkTimePre:
		return false
	}
	return true
}

// judgeDigits decides which digit candidates are menu keys: a digit is a key
// when it stands on its own or with a digit word (按2, 第二个, 2号, option
// 2), not when it is part of a time, date, quantity, address or a word
// (3点, 11月2号, 2个, 2号楼, 一下, 统一).
func (p *replyParser) judgeDigits() {
	for i := range p.items {
		it := &p.items[i]
		if it.kind != lkCand {
			continue
		}
		switch {
		case p.digitOK(i):
			it.kind, it.digit = lkKey, true
		case it.cand == candOh:
			it.kind = lkFiller // "oh, ok"
		default:
			it.kind = lkNumber
		}
	}
}

func (p *replyParser) digitOK(i int) bool {
	it := p.items[i]
	prev, prev2, next, next2 := p.at(i-1), p.at(i-2), p.at(i+1), p.at(i+2)
	if prev != nil {
		switch prev.kind {
		case lkNumber, lkTimePre, lkMonth, lkAddr, lkUnit:
			return false // 139 2, 下午3点, nov 2, room 2, floor 2
		}
		if prev.flags&lfOn != 0 || prev.flags&lfThe != 0 && prev2 != nil && prev2.flags&lfOn != 0 {
			return false // on the 2nd
		}
		if it.flags&lfSecond != 0 && (prev.flags&lfArticle != 0 || prev.kind == lkCand) {
			return false // a second, one second
		}
	}
	if next != nil {
		switch next.kind {
		case lkNumber, lkTimePre, lkMonth, lkUnit:
			return false
		}
		if next.flags&lfSecond != 0 && it.cand != candOrd {
			return false // one second
		}
	}
	di := prev != nil && prev.flags&lfDi != 0
	switch it.cand {
	case candOh:
		return prev != nil && prev.kind == lkPrefix || prev == nil && next == nil
	case candCJK:
		if !boundary(prev) && !known(prev) {
			return false // 统一, 等一下
		}
	}
	switch {
	case boundary(next):
		return true
	case next.kind == lkOrdSuf:
		return di // 第二个, but not 两个
	case next.kind == lkHao:
		// 2号, but not 2号楼 or the dates 3号下午, 3号送 明天
		return boundary(next2) || known(next2) && next2.flags&lfDateVerb == 0 &&
			!(next2.kind == lkKey && next2.key == '5')
	case next.kind == lkOther:
		return false // 3点, 2楼, "2 apples", "second floor"
	}
	return known(next)
}

// judgeAbsence keeps a bare day from choosing option 5 when its clause says
// the recipient is away: 明天不在家 says when they are out, not when to come.
func (p *replyParser) judgeAbsence() {
	start := 0
	for i := 0; i <= len(p.items); i++ {
		if i < len(p.items) && p.items[i].kind != lkSep {
			continue
		}
		clause := p.items[start:i]
		start = i + 1
		absent := false
		for _, it := range clause {
			absent = absent || it.flags&lfAbsent != 0
		}
		if !absent {
			continue
		}
		for j := range clause {
			if clause[j].kind == lkKey && clause[j].flags&lfBareTime != 0 {
				clause[j].kind = lkFiller
			}
		}
	}
}

// resolveHaishi reads 还是 between two options as "or" (门口还是驿站) and
// elsewhere as a correction (算了还是放驿站吧).
func (p *replyParser) resolveHaishi() {
	for i := range p.items {
		if p.items[i].kind != lkHaishi {
			continue
		}
		j := i - 1
		for j >= 0 && (p.items[j].kind == lkHao || p.items[j].kind == lkOrdSuf || p.items[j].kind == lkFiller) {
			j-- // 2号还是3号, 第二个还是第三个
		}
		if j >= 0 && p.items[j].kind == lkKey {
			p.items[i].kind = lkConj
		} else {
			p.items[i].kind = lkCorr
		}
	}
}

// resolveNegation marks the options that negators refuse and decides whether
// each 不/不要/no negates, corrects (不，放驿站) or just says no.
func (p *replyParser) resolveNegation() {
	for i := range p.items {
		it := &p.items[i]
		switch it.kind {
		case lkNegCorr:
			before, after := p.keyBefore(i), p.scopeKey(i)
			switch {
			case before >= 0 && after >= 0 && it.flags&lfNarrow != 0:
				it.kind = lkCorr // "two no three": a spoken correction
			case after >= 0:
				p.negateForward(after)
				it.kind = lkNegUsed
			case before >= 0 && it.flags&lfPost != 0 && p.restIsQuiet(i):
				p.negateBack(before)
				it.kind = lkNegUsed
			case p.standsAlone(i):
				it.kind = lkCorr
			default:
				it.kind = lkDangling
			}
		case lkNeg:
			before, after := p.keyBefore(i), p.scopeKey(i)
			switch {
			case after >= 0:
				p.negateForward(after)
				it.kind = lkNegUsed
			case before >= 0 && it.flags&lfPost != 0 && p.restIsQuiet(i):
				p.negateBack(before)
				it.kind = lkNegUsed
			default:
				it.kind = lkDangling
			}
		case lkNo:
			if it.flags&lfPost == 0 {
				continue
			}
			if before := p.keyBefore(i); before >= 0 && p.restIsQuiet(i) {
				p.negateBack(before) // 门口不行
				it.kind = lkNegUsed
			}
		}
	}
}

// keyBefore is the option right before i in its clause, past at most two
// filler words, or -1.
func (p *replyParser) keyBefore(i int) int {
	for j := i - 1; j >= 0 && j >= i-3; j-- {
		switch p.items[j].kind {
		case lkKey:
			return j
		case lkFiller:
			continue
		}
		return -1
	}
	return -1
}

// scopeKey is the option the negator at i refuses, or -1. 不要/别/don't reach
// over a few words (不要把快递放门口); bare 不 and no/not only over known
// fillers (不放门口, not the locker), so that 我不在家放门口吧 keeps 门口.
func (p *replyParser) scopeKey(i int) int {
	it := p.items[i]
	limit, narrow := 8, false
	switch {
	case it.flags&lfBare != 0:
		limit, narrow = 2, true
	case it.flags&lfNarrow != 0:
		limit, narrow = 4, true
	}
	for j := i + 1; j < len(p.items) && j-i-1 <= limit; j++ {
		x := &p.items[j]
		if j == i+1 && it.kind == lkNegCorr && x.flags&lfBreak != 0 {
			return -1 // 不，我要…, no I want…
		}
		switch x.kind {
		case lkKey:
			return j
		case lkFiller, lkPrefix, lkHao, lkOrdSuf, lkPlace:
		case lkOther, lkNumber, lkTimePre, lkAddr, lkUnit, lkMonth:
			if narrow {
				return -1
			}
		default:
			return -1
		}
	}
	return -1
}

func (p *replyParser) skipFillers(j, step, most int) int {
	for n := 0; n < most && j >= 0 && j < len(p.items) && p.items[j].kind == lkFiller; n++ {
		j += step
	}
	return j
}

// negateForward refuses the option at j and any joined to it by 或/和/or/and
// (不要放门口或者快递柜).
func (p *replyParser) negateForward(j int) {
	for {
		p.items[j].neg = true
		k := p.skipFillers(j+1, 1, 3)
		if k >= len(p.items) || p.items[k].kind != lkConj {
			return
		}
		k = p.skipFillers(k+1, 1, 3)
		if k >= len(p.items) || p.items[k].kind != lkKey {
			return
		}
		j = k
	}
}

// negateBack refuses the option at j and those listed right before it
// (门口和驿站都不要).
func (p *replyParser) negateBack(j int) {
	for {
		p.items[j].neg = true
		k := p.skipFillers(j-1, -1, 2)
		if k >= 0 && p.items[k].kind == lkConj {
			k = p.skipFillers(k-1, -1, 2)
		}
		if k < 0 || p.items[k].kind != lkKey {
			return
		}
		j = k
	}
}

// restIsQuiet reports whether nothing but particles, fillers and thanks
// follow i in its clause.
func (p *replyParser) restIsQuiet(i int) bool {
	for j := i + 1; j < len(p.items); j++ {
		switch p.items[j].kind {
		case lkSep:
			return true
		case lkParticle, lkFiller, lkThanks:
			continue
		}
		return false
	}
	return true
}

// standsAlone reports whether the 不/no at i is a word of its own: alone in
// its clause, or followed by a new subject (不，我要…).
func (p *replyParser) standsAlone(i int) bool {
	if next := p.at(i + 1); next != nil && next.flags&lfBreak != 0 {
		return true
	}
	return p.restIsQuiet(i)
}

func (p *replyParser) decide() Reply {
	items := p.items
	last := -1
	for i := range items {
		if items[i].kind == lkCorr {
			last = i
		}
	}
	final := items[last+1:]

	var affirmed, byPhrase, negated [10]bool
	nAffirmed, anyKey, allRepeat := 0, false, true
	for i, it := range items {
		if it.kind != lkKey {
			continue
		}
		anyKey = true
		k := it.key - '0'
		switch {
		case it.neg:
			negated[k] = true
		case i > last:
			if !affirmed[k] {
				nAffirmed++
			}
			affirmed[k] = true
			if !it.digit {
				byPhrase[k] = true
			}
			if it.flags&lfRepeat == 0 {
				allRepeat = false
			}
		}
	}
	var refused []string
	for k := range negated {
		if negated[k] && !affirmed[k] {
			refused = append(refused, keyNames[k])
		}
	}

	var strongQ, weakQ, req, unsure, but, number, dangling, yes, no, thanks bool
	var topics [len(topicOrder)]bool
	for _, it := range final {
		switch it.kind {
		case lkQ:
			strongQ = true
		case lkStation:
			strongQ = true
		case lkQWeak:
			weakQ = true
		case lkUnsure:
			unsure = true
		case lkBut:
			but = true
		case lkNumber:
			number = true
		case lkDangling:
			dangling = true
		case lkYes:
			yes = true
		case lkNo:
			no = true
		case lkThanks:
			thanks = true
		}
		if it.flags&lfReq != 0 || it.kind == lkReq {
			req = true
		}
		if it.topic != "" {
			topics[topicIndex(it.topic)] = true
		}
	}
	if p.stationAsked(final) {
		return Reply{Kind: ReplyQuestion, Topic: TopicStation}
	}
	topic := Topic("")
	for i, t := range topicOrder {
		if topics[i] {
			topic = t
			break
		}
	}

	if strongQ || weakQ && !req {
		switch {
		case topic != "":
			return Reply{Kind: ReplyQuestion, Topic: topic}
		case nAffirmed == 1 && allRepeat && !strongQ:
			return Reply{Kind: ReplyKey, Key: "9"} // 没听清？
		}
		return Reply{Kind: ReplyUnclear, Negated: refused}
	}
	if unsure {
		return Reply{Kind: ReplyUnclear, Negated: refused}
	}
	switch {
	case nAffirmed == 1:
		for k := range affirmed {
			if affirmed[k] {
				return Reply{Kind: ReplyKey, Key: keyNames[k], Digit: !byPhrase[k], Negated: refused}
			}
		}
	case nAffirmed > 1:
		var cands []string
		for k := range affirmed {
			if affirmed[k] {
				cands = append(cands, keyNames[k])
			}
		}
		return Reply{Kind: ReplyAmbiguous, Candidates: cands, Negated: refused}
	}
	if anyKey {
		return Reply{Kind: ReplyUnclear, Negated: refused}
	}
	if number {
		return Reply{Kind: ReplyUnclear}
	}
	if topic != "" {
		return Reply{Kind: ReplyQuestion, Topic: topic}
	}
	if but {
		return Reply{Kind: ReplyUnclear}
	}
	if !yes && !no && last >= 0 && items[last].flags&lfNo != 0 {
		no = true // 不对 / 算了 / no, and nothing after
	}
	switch {
	case yes && no:
	case yes && !dangling:
		return Reply{Kind: ReplyYes}
	case no:
		return Reply{Kind: ReplyNo}
	case thanks && !yes && !dangling:
		return Reply{Kind: ReplyThanks}
	}
	return Reply{Kind: ReplyUnclear}
}

// stationAsked reports whether a clause names the pickup station or the
// locker and asks where it is or when it is open (驿站在哪, 驿站几点关门,
// where is the pickup station): a question, not option 3.
func (p *replyParser) stationAsked(final []replyItem) bool {
	station, asks := false, false
	for _, it := range final {
		switch {
		case it.kind == lkSep:
			station, asks = false, false
		case it.kind == lkKey && !it.digit && (it.key == '3' || it.key == '4'):
			station = true
		case it.kind == lkPlace,
			(it.kind == lkQ || it.kind == lkTopic) && (it.topic == TopicWhere || it.topic == TopicWhen):
			asks = true
		}
		if station && asks {
			return true
		}
	}
	return false
}

// topicOrder ranks topics when a question names several: the most specific
// first (驿站几点关门 is about the station, not "when").
var topicOrder = [...]Topic{TopicStation, TopicPhone, TopicWho, TopicWhen, TopicWhere, TopicStatus}

func topicIndex(t Topic) int {
	for i, x := range topicOrder {
		if x == t {
			return i
		}
	}
	return len(topicOrder) - 1
}

var keyNames = [10]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
