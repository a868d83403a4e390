package speech

// Grammar is exactly what the current prompt accepts: one Phrase per answer.
// A recogniser that is given a Grammar reports one of its keys or rejects.
type Grammar struct {
	Phrases []Phrase
	// Lang is the conversation's language ("en", "zh-CN"), a hint for
	// engines that hear more than one.
	Lang string
}

// Phrase is one accepted answer: Key is what a recogniser reports (a menu
// digit such as "2", or "yes"), Say the ways of saying it ("two", "number
// two", "option two"), in lower-case words.
type Phrase struct {
	Key string
	Say []string
}

// Result is what a recogniser heard in one utterance. Either Rejected is
// false and Key is the answer heard, or Rejected is true and Key is empty.
type Result struct {
	Key  string // the Key of the phrase heard; empty when Rejected
	Text string // the words heard; empty when Rejected

	// Score is the engine's own measure of fit, comparable only within
	// one engine; Confidence maps it onto 0..1, 0.5 at the acceptance
	// threshold.
	Score      float64
	Confidence float64

	Rejected bool // nothing in the grammar was said
	Silence  bool // rejected because nothing but silence or noise was heard
}
