package sphinx

// fillerWords are everyday English words a caller says instead of a menu
// answer ("hello", "I don't know", "wait a moment", "who is this"). A loop
// over them, weighted down, is the rejection path of every grammar: speech
// that fits these words better than any offered phrase comes back Rejected
// rather than forced onto the nearest digit. Words that sound like a phrase
// of the grammar are dropped from the loop for that grammar.
var fillerWords = []string{
	"a", "about", "after", "again", "all", "am", "an", "and", "any", "are",
	"around", "as", "ask", "at", "away", "back", "bad", "be", "because", "been",
	"before", "big", "but", "by", "call", "came", "can", "can't", "come", "could",
	"day", "did", "didn't", "do", "does", "don't", "down", "each", "even", "every",
	"find", "first", "from", "get", "give", "go", "going", "good", "got", "had",
	"has", "have", "he", "hello", "her", "here", "hey", "hi", "him", "his",
	"home", "how", "i", "i'm", "if", "in", "into", "is", "it", "it's",
	"just", "know", "last", "later", "let", "like", "little", "long", "look", "made",
	"make", "man", "many", "may", "maybe", "me", "mean", "moment", "more", "most",
	"much", "must", "my", "name", "need", "never", "new", "next", "not", "now",
	"of", "off", "oh", "okay", "old", "on", "only", "or", "other", "our",
	"out", "over", "package", "parcel", "people", "phone", "place", "please", "put", "really",
	"right", "said", "same", "say", "see", "she", "should", "so", "some", "something",
	"sorry", "still", "sure", "take", "talk", "tell", "than", "thank", "thanks", "that",
	"the", "their", "them", "then", "there", "these", "they", "thing", "think", "this",
	"those", "time", "today", "tomorrow", "up", "us", "very", "wait", "want", "was",
	"way", "we", "well", "went", "were", "what", "when", "where", "which", "who",
	"why", "will", "with", "work", "would", "yeah", "year", "you", "your", "um",
	"uh", "hmm", "banana", "apple", "water", "money", "morning", "afternoon", "evening", "door",
	"leave", "deliver", "delivery", "station", "locker", "video", "courier", "address", "building", "floor",
}
