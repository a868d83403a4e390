package main

import (
	"github.com/signoff/signoff/channels/voice"
	"github.com/signoff/signoff/channels/voicemsg"
	"github.com/signoff/signoff/dialog"
)

// What main hands voicemsg.New must fit it: the dialog engine, and the
// recogniser speechEngines builds for calls.
var (
	_ voicemsg.Conversations = (*dialog.Engine)(nil)
	_ voicemsg.Recognizer    = sphinxASR{}
	_ voicemsg.Recognizer    = voice.Recognizer(nil)
)
