package sphinx

// fillerWords are what a caller says instead of a menu answer: everyday words
// ("hello", "I don't know", "wait a moment", "who is this"), numbers and menu
// words of other prompts, and common words that sound close to a digit
// ("fine", "eleven", "attention"). A loop over them is the rejection path
// of every grammar (see Recognizer.Recognize): speech that fits these words
// clearly better than any offered phrase comes back Rejected instead of
// being forced onto the nearest digit. For each grammar its own words, and
// words pronounced exactly like one of them, are left out of the loop.
var fillerWords = []string{
	// everyday words
	"a", "about", "after", "again", "all", "am", "an", "and", "any", "are",
	"around", "as", "ask", "at", "away", "back", "bad", "be", "because", "been",
	"before", "big", "but", "by", "call", "came", "can", "can't", "come", "could",
	"day", "did", "didn't", "do", "does", "don't", "down", "each", "even", "every",
	"find", "from", "get", "give", "go", "going", "good", "got", "had",
	"has", "have", "he", "hello", "her", "here", "hey", "hi", "him", "his",
	"home", "how", "i", "i'm", "if", "in", "into", "is", "it", "it's",
	"just", "know", "last", "later", "let", "like", "little", "long", "look", "made",
	"make", "man", "many", "may", "maybe", "me", "mean", "moment", "more", "most",
	"much", "must", "my", "name", "need", "never", "new", "next", "not", "now",
	"of", "off", "oh", "okay", "old", "on", "only", "or", "other", "our",
	"out", "over", "people", "phone", "place", "please", "put", "really",
	"right", "said", "same", "say", "see", "she", "should", "so", "some", "something",
	"sorry", "still", "sure", "take", "talk", "tell", "than", "thank", "thanks", "that",
	"the", "their", "them", "then", "there", "these", "they", "thing", "think", "this",
	"those", "time", "today", "tomorrow", "up", "us", "very", "wait", "want", "was",
	"way", "we", "well", "went", "were", "what", "when", "where", "which", "who",
	"why", "will", "with", "work", "would", "year", "you", "your",
	"um", "uh", "hmm", "huh", "nope", "nah", "cough",
	"morning", "afternoon", "evening", "water", "money", "banana", "apple",
	// delivery words
	"package", "parcel", "door", "leave", "deliver", "delivery", "station", "locker",
	"video", "courier", "address", "building", "floor", "cancel", "outside", "inside",
	// numbers and menu words, for the prompts that do not offer them
	"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
	"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
	"eighteen", "nineteen", "twenty", "thirty", "forty", "fifty", "hundred", "thousand",
	"first", "second", "third", "number", "option", "press", "yes", "no", "yeah", "correct",
	"agent", "operator", "person", "human", "repeat", "menu", "help",
	// words that sound close to a digit or a menu word
	"fine", "mine", "line", "wine", "sign", "nice", "night", "none", "done", "won",
	"fun", "son", "sun", "win", "true", "blue", "shoe", "through",
	"free", "tree", "agree", "fore", "war", "hive", "drive", "alive",
	"sticks", "fix", "mix", "sits", "heaven", "given", "date", "late", "great", "gate",
	"hero", "zeros", "guess", "less", "yet", "low", "snow", "attention", "question",
	"action", "nation", "patient", "urgent", "receipt", "complete", "report", "reply",
}
