package espeak

import (
	"strings"
	"unicode"

	"github.com/mozillazg/go-pinyin"
)

// toPinyin turns Mandarin text into what espeak-ng's cmn-latn-pinyin voice
// reads: syllables with tone numbers (Tone3: "fang4 men2 kou3"; the neutral
// tone has no number), digits read one by one as Chinese numbers ("按2" →
// "an4 er4", "1234" → "yi1 er4 san1 si4", as menu keys, codes and phone
// numbers are read), Latin text kept, and punctuation as the commas and full
// stops espeak-ng pauses on.
//
// go-pinyin knows single characters, and takes a character's first reading;
// phrases lists the words of Signoff's prompts whose characters read
// otherwise (重听 is chong2 ting1, not zhong4 ting1) and common tone changes
// of 一 and 不.
func toPinyin(text string) string {
	var b pinyinBuilder
	rs := []rune(text)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.Is(unicode.Han, r):
			if py, n := phrase(rs[i:]); n > 0 {
				b.word(py)
				i += n
				continue
			}
			if py, ok := charPinyin[r]; ok {
				b.word(py)
			} else if p := pinyin.SinglePinyin(r, pinyinArgs); len(p) > 0 {
				b.word(p[0])
			}
			i++
		case digit(r) >= 0:
			j, point := i, false
			for j < len(rs) {
				if digit(rs[j]) < 0 {
					// one decimal point, between digits
					if point || rs[j] != '.' && rs[j] != '．' || j+1 >= len(rs) || digit(rs[j+1]) < 0 {
						break
					}
					point = true
				}
				j++
			}
			b.word(readDigits(rs[i:j]))
			i = j
		case isLatin(r):
			j := i
			for j < len(rs) && (isLatin(rs[j]) || rs[j] == '\'') {
				j++
			}
			b.word(string(foldWidth(rs[i:j])))
			i = j
		default:
			b.punct(r)
			i++
		}
	}
	return b.String()
}

var pinyinArgs = pinyin.Args{Style: pinyin.Tone3}

// phrases are words whose reading differs from their characters' first
// readings, longest first when one starts another.
var phrases = map[string]string{
	"重听": "chong2 ting1", "重复": "chong2 fu4", "重新": "chong2 xin1", "重来": "chong2 lai2",
	"银行": "yin2 hang2", "地址": "di4 zhi3", "还是": "hai2 shi4", "还有": "hai2 you3",
	"好的": "hao3 de", "觉得": "jue2 de", "记得": "ji4 de", "的话": "de hua4",
	"为了": "wei4 le", "因为": "yin1 wei4", "处理": "chu3 li3", "了解": "liao3 jie3",
	"长时间": "chang2 shi2 jian1", "行不行": "xing2 bu4 xing2", "得到": "de2 dao4",
	"一下": "yi2 xia4", "一个": "yi2 ge4", "一会": "yi2 hui4", "一次": "yi2 ci4", "一位": "yi2 wei4",
	"不要": "bu2 yao4", "不是": "bu2 shi4", "不对": "bu2 dui4", "不会": "bu2 hui4",
	"不用": "bu2 yong4", "不在": "bu2 zai4", "不客气": "bu2 ke4 qi4",
	"快递柜": "kuai4 di4 gui4", "代收点": "dai4 shou1 dian3",
}

// charPinyin overrides go-pinyin's first reading of single characters.
var charPinyin = map[rune]string{
	'得': "de", // the particle (跑得快), far commoner in speech than de2
	'谁': "shei2",
}

const maxPhrase = 3

func phrase(rs []rune) (string, int) {
	for n := min(maxPhrase, len(rs)); n >= 2; n-- {
		if py, ok := phrases[string(rs[:n])]; ok {
			return py, n
		}
	}
	return "", 0
}

// digit returns the value of an ASCII or full-width digit, -1 for others.
func digit(r rune) int {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0')
	case r >= '０' && r <= '９':
		return int(r - '０')
	}
	return -1
}

var digitPinyin = [10]string{"ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3"}

// readDigits reads digits one by one, with a decimal point as dian3:
// "3.5" → "san1 dian3 wu3".
func readDigits(rs []rune) string {
	words := make([]string, len(rs))
	for i, r := range rs {
		if d := digit(r); d >= 0 {
			words[i] = digitPinyin[d]
		} else {
			words[i] = "dian3"
		}
	}
	return strings.Join(words, " ")
}

func isLatin(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 'ａ' && r <= 'ｚ' || r >= 'Ａ' && r <= 'Ｚ'
}

// foldWidth maps full-width Latin letters to ASCII.
func foldWidth(rs []rune) []rune {
	out := make([]rune, len(rs))
	for i, r := range rs {
		if r >= 'ａ' && r <= 'ｚ' || r >= 'Ａ' && r <= 'Ｚ' {
			r -= 'ａ' - 'a'
		}
		out[i] = r
	}
	return out
}

// pinyinBuilder joins syllables with spaces and punctuation as pauses:
// a comma for a short one, a full stop for a long one.
type pinyinBuilder struct {
	b     strings.Builder
	pause byte // pending: 0, ',' or '.'
}

func (p *pinyinBuilder) word(w string) {
	if p.b.Len() > 0 {
		if p.pause != 0 {
			p.b.WriteByte(p.pause)
		}
		p.b.WriteByte(' ')
	}
	p.pause = 0
	p.b.WriteString(w)
}

func (p *pinyinBuilder) punct(r rune) {
	var pause byte
	switch r {
	case '。', '！', '？', '!', '?', '；', ';', '…', '.', '．':
		pause = '.'
	case '，', '、', ',', '：', ':', '—', '～', '~', '－', '/', '／':
		pause = ','
	default:
		return // spaces, quotes, brackets, symbols: a word break at most
	}
	if pause == '.' || p.pause == 0 {
		p.pause = pause
	}
}

func (p *pinyinBuilder) String() string {
	if p.pause != 0 && p.b.Len() > 0 {
		p.b.WriteByte(p.pause)
		p.pause = 0
	}
	return p.b.String()
}
