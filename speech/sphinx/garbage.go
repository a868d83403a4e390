package sphinx

// noiseWord and speechWord are pseudo-words made of the model's filler
// phones, added to every decoder: noise (breath, clicks, the line) and
// speech-like sound that is no word in particular. Both compete as words in
// the rejection loop, so that a burst of noise is heard as noise, not as the
// nearest digit; noise may also come before and after an answer.
const (
	noiseWord  = "_noise_"
	speechWord = "_speech_"
)

var noiseWords = map[string]string{
	noiseWord:  "+NSN+",
	speechWord: "+SPN+",
}

// fillerWords are what a caller says instead of a menu answer: everyday
// words, numbers and menu words of other prompts, and common words that sound
// close to a digit. A loop over them is the rejection path of every grammar
// (see Recognizer.Recognize): speech that fits these words clearly better
// than any offered phrase comes back Rejected instead of being forced onto
// the nearest digit. For each grammar its own words, and words pronounced
// exactly like one of them ("to" for "two"), are left out of the loop.
//
// The everyday words have three phones or more: chains of tiny words ("a",
// "the", "uh") fit any sound, good answers included; with them the answers
// of the test voice scored down to -34 instead of -19, off-list speech no
// lower.
var fillerWords = []string{
	// everyday words and answers
	"about", "after", "again", "already", "also", "always", "another", "anyone", "anything", "around",
	"away", "back", "bad", "because", "been", "before", "big", "busy", "but", "call",
	"came", "can", "can't", "cannot", "come", "could", "did", "didn't", "does", "don't",
	"done", "down", "even", "every", "excuse", "fine", "find", "from", "get", "give",
	"going", "gone", "good", "goodbye", "got", "great", "had", "happy", "has", "have",
	"hello", "help", "here", "him", "his", "hold", "home", "just", "keep", "kind",
	"last", "later", "leave", "let", "like", "listen", "little", "long", "look", "louder",
	"made", "make", "many", "maybe", "mean", "mind", "minute", "moment", "more", "most",
	"much", "must", "name", "need", "never", "next", "nice", "nobody", "nothing", "not",
	"okay", "old", "only", "other", "over", "people", "phone", "place", "please",
	"problem", "put", "question", "quite", "ready", "really", "right", "said", "same", "second",
	"should", "slowly", "some", "someone", "something", "sorry", "speak", "still", "stop", "sure",
	"take", "talk", "tell", "than", "thank", "thanks", "that", "them", "then", "there",
	"these", "thing", "think", "this", "those", "time", "today", "together", "tomorrow", "tonight",
	"understand", "until", "very", "wait", "want", "was", "week", "well", "went", "what",
	"when", "where", "which", "while", "will", "with", "without", "work", "working", "would",
	"wrong", "year", "yesterday", "your", "english", "chinese", "mandarin", "morning", "afternoon", "evening",
	"water", "money", "banana", "apple", "doctor", "hospital", "office", "window", "kitchen", "neighbor",
	// delivery words
	"package", "parcel", "door", "deliver", "delivery", "station", "locker", "video", "courier", "address",
	"building", "floor", "cancel", "outside", "inside", "downstairs", "upstairs", "signed", "received", "return",
	// numbers and menu words, whatever their length, for the prompts that do not offer them
	"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
	"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
	"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "hundred", "thousand", "first", "third",
	"number", "option", "press", "yes", "no", "yeah", "correct", "agent", "operator", "person",
	"human", "repeat", "menu",
	// common words that sound close to a digit or a menu word
	"mine", "line", "wine", "sign", "night", "none", "won", "fun", "son", "sun",
	"win", "true", "blue", "through", "free", "tree", "agree", "fore", "war", "hive",
	"drive", "alive", "sticks", "fix", "mix", "sits", "heaven", "given", "date", "late",
	"gate", "hero", "zeros", "guess", "less", "yet", "snow", "nope", "attention", "action",
	"nation", "patient", "urgent", "receipt", "complete", "report", "reply",
}
