package voicemsg

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/prompts"
	"github.com/signoff/signoff/speech"
)

// Conversations is what voice messages need of the dialog engine.
type Conversations interface {
	Session(ctx context.Context, id signoff.SessionID, token string) (signoff.Session, signoff.Delivery, error)
	Reply(ctx context.Context, id signoff.SessionID, token string, in signoff.Input) (dialog.Turn, error)
	Record(ctx context.Context, id signoff.SessionID, kind string, data map[string]string) error
}

// Recognizer hears one utterance of 16 kHz mono PCM against a grammar.
// speech/sphinx provides one (through a small adapter in main).
type Recognizer interface {
	Recognize(ctx context.Context, pcm []int16, g speech.Grammar) (speech.Result, error)
}

// Defaults of Config.
const (
	DefaultMaxBytes    = 4 << 20
	DefaultMaxDuration = 60 * time.Second
	DefaultMaxSpeech   = 20 * speech.SampleRate
)

// Config configures a Handler.
type Config struct {
	// BlobDir is where uploads are kept as evidence, named
	// <sha256>.<wav|ogg|webm>. Required; it is created if missing.
	BlobDir string
	// MaxBytes caps an upload; larger is 413 body_too_large.
	// DefaultMaxBytes if 0.
	MaxBytes int64
	// MaxDuration caps the audio; longer is 400 audio_too_long.
	// DefaultMaxDuration if 0.
	MaxDuration time.Duration
	// MaxSpeech caps, in 16 kHz samples, what is given to the recogniser
	// after silence at both ends is cut: PocketSphinx takes 20 s at most.
	// DefaultMaxSpeech if 0.
	MaxSpeech int
}

// Handler serves POST /v1/sessions/{id}/voice-messages. Construct it with New.
type Handler struct {
	cfg  Config
	conv Conversations
	asr  Recognizer
	log  *slog.Logger
}

// New returns a Handler over conv and asr. asr may be nil: every voice
// message is then refused with 503 speech_unavailable. It returns an error
// of kind signoff.ErrInvalid for a bad Config, or if BlobDir cannot be made.
func New(cfg Config, conv Conversations, asr Recognizer, log *slog.Logger) (*Handler, error) {
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxDuration == 0 {
		cfg.MaxDuration = DefaultMaxDuration
	}
	if cfg.MaxSpeech == 0 {
		cfg.MaxSpeech = DefaultMaxSpeech
	}
	switch {
	case cfg.BlobDir == "":
		return nil, signoff.Errorf(signoff.ErrInvalid, "bad_config", "voicemsg: BlobDir is required")
	case cfg.MaxBytes < 0 || cfg.MaxDuration < 0 || cfg.MaxSpeech < 0:
		return nil, signoff.Errorf(signoff.ErrInvalid, "bad_config", "voicemsg: MaxBytes, MaxDuration and MaxSpeech must be positive")
	case conv == nil || log == nil:
		return nil, signoff.Errorf(signoff.ErrInvalid, "bad_config", "voicemsg: Conversations and logger are required")
	}
	if err := os.MkdirAll(cfg.BlobDir, 0o750); err != nil {
		return nil, signoff.Wrap(signoff.ErrInvalid, "bad_config", "voicemsg: BlobDir cannot be made", err)
	}
	return &Handler{cfg: cfg, conv: conv, asr: asr, log: log}, nil
}

// Register adds the voice message route to r.
func (h *Handler) Register(r gin.IRoutes) {
	r.POST("/v1/sessions/:id/voice-messages", h.post)
}

// Reply is one bot message in a Response.
type Reply struct {
	Text    string           `json:"text"`
	Options []signoff.Option `json:"options,omitempty"`
}

// Response answers POST /v1/sessions/{id}/voice-messages: what was heard
// ("" when nothing in the grammar was) and the bot's answer, as the chat API.
type Response struct {
	Heard   string           `json:"heard"`
	Replies []Reply          `json:"replies"`
	State   signoff.State    `json:"state"`
	Outcome *signoff.Outcome `json:"outcome"`
}

func outcome(o signoff.Outcome) *signoff.Outcome {
	if o == signoff.OutcomeNone {
		return nil
	}
	return &o
}

// upload is a voice message as received.
type upload struct {
	data        []byte
	format      Format
	contentType string
}

var formats = map[string]Format{
	"audio/wav": FormatWAV, "audio/x-wav": FormatWAV, "audio/wave": FormatWAV, "audio/vnd.wave": FormatWAV,
	"audio/ogg": FormatOgg, "audio/opus": FormatOgg, "application/ogg": FormatOgg,
	"audio/webm": FormatWebM, "video/webm": FormatWebM,
}

func unsupported(ct string) error {
	return signoff.Errorf(signoff.ErrInvalid, codeUnsupported,
		"Content-Type %q is not audio/wav, audio/ogg (Opus), audio/webm (Opus) or multipart/form-data with a file \"audio\"", ct)
}

// sniff names the container data starts with.
func sniff(data []byte) (Format, bool) {
	switch {
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WAVE":
		return FormatWAV, true
	case bytes.HasPrefix(data, []byte("OggS")):
		return FormatOgg, true
	case bytes.HasPrefix(data, []byte{0x1A, 0x45, 0xDF, 0xA3}):
		return FormatWebM, true
	}
	return "", false
}

func (h *Handler) tooLarge() error {
	return signoff.Errorf(signoff.ErrTooLarge, "body_too_large", "the audio is over %d bytes", h.cfg.MaxBytes)
}

// readAll reads r up to the byte cap.
func (h *Handler) readAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, h.cfg.MaxBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, h.tooLarge()
		}
		return nil, signoff.Wrap(signoff.ErrInvalid, "bad_body", "the body could not be read", err)
	}
	if int64(len(data)) > h.cfg.MaxBytes {
		return nil, h.tooLarge()
	}
	return data, nil
}

// readUpload reads the audio of a request: the body itself, or the file
// field "audio" of a multipart form.
func (h *Handler) readUpload(req *http.Request) (upload, error) {
	ct := req.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return upload{}, unsupported(ct)
	}
	if req.ContentLength > h.cfg.MaxBytes+multipartSlack {
		return upload{}, h.tooLarge()
	}
	if mt != "multipart/form-data" {
		f, ok := formats[mt]
		if !ok {
			return upload{}, unsupported(ct)
		}
		data, err := h.readAll(req.Body)
		if err != nil {
			return upload{}, err
		}
		return upload{data: data, format: f, contentType: mt}, nil
	}
	if params["boundary"] == "" {
		return upload{}, signoff.Errorf(signoff.ErrInvalid, "bad_body", "multipart/form-data without a boundary")
	}
	mr := multipart.NewReader(http.MaxBytesReader(nil, req.Body, h.cfg.MaxBytes+multipartSlack), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return upload{}, signoff.Errorf(signoff.ErrInvalid, "missing_field", "the form has no file field \"audio\"")
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return upload{}, h.tooLarge()
			}
			return upload{}, signoff.Wrap(signoff.ErrInvalid, "bad_body", "the multipart body could not be read", err)
		}
		if p.FormName() != "audio" {
			continue
		}
		data, err := h.readAll(p)
		if err != nil {
			return upload{}, err
		}
		pct := p.Header.Get("Content-Type")
		pmt, _, _ := mime.ParseMediaType(pct)
		f, ok := formats[pmt]
		if !ok {
			// Browsers send application/octet-stream for a Blob
			// without a type: go by the bytes.
			if pmt != "" && pmt != "application/octet-stream" {
				return upload{}, unsupported(pct)
			}
			if f, ok = sniff(data); !ok {
				return upload{}, unsupported(pct)
			}
			pmt = "audio/" + string(f)
		}
		return upload{data: data, format: f, contentType: pmt}, nil
	}
}

// multipartSlack is what a multipart body may carry beyond the audio:
// boundaries, part headers and small fields.
const multipartSlack = 64 << 10

// codeUnsupported is the code of an upload of a type the handler does not
// read. The root has no error kind for it, so post answers it with 415
// itself; its kind is ErrInvalid, for callers other than HTTP.
const codeUnsupported = "unsupported_media_type"

func (h *Handler) post(c *gin.Context) {
	err := h.handle(c)
	switch {
	case err == nil:
	case signoff.ErrorCode(err) == codeUnsupported:
		h.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "request refused",
			slog.String("method", c.Request.Method), slog.String("route", c.FullPath()),
			slog.Int("status", http.StatusUnsupportedMediaType), slog.String("code", codeUnsupported))
		c.AbortWithStatusJSON(http.StatusUnsupportedMediaType, channels.ErrorBody{Error: channels.ErrorDetail{
			Code: codeUnsupported, Message: signoff.ErrorMessage(err)}})
	default:
		channels.WriteError(c, h.log, err)
	}
}

func (h *Handler) handle(c *gin.Context) error {
	ctx := c.Request.Context()
	if h.asr == nil {
		return signoff.Errorf(signoff.ErrUnavailable, "speech_unavailable",
			"voice messages need a speech recogniser; install it with `apt-get install pocketsphinx-en-us` and restart")
	}
	id, token, err := channels.Credentials(c, false)
	if err != nil {
		return err
	}
	// Authorise before reading: a stranger does not get to make us read
	// megabytes.
	s, _, err := h.conv.Session(ctx, id, token)
	if err != nil {
		return err
	}
	up, err := h.readUpload(c.Request)
	if err != nil {
		return err
	}
	pcm, err := Decode(up.data, up.format, h.cfg.MaxDuration)
	if err != nil {
		return err
	}
	utt := pcm
	if len(utt) > h.cfg.MaxSpeech {
		utt = trimSilence(utt)
	}
	if len(utt) > h.cfg.MaxSpeech {
		return signoff.Errorf(signoff.ErrInvalid, "audio_too_long",
			"the speech in the message is longer than %d seconds; say just your answer", h.cfg.MaxSpeech/speech.SampleRate)
	}
	res := speech.Result{Rejected: true, Silence: true}
	if len(utt) > 0 {
		res, err = h.asr.Recognize(ctx, utt, speech.MenuGrammar(s.Offered, s.Locale))
	}
	if err != nil {
		if errors.Is(err, signoff.ErrTooLarge) {
			return signoff.Wrap(signoff.ErrInvalid, "audio_too_long", "the speech in the message is too long to recognise; say just your answer", err)
		}
		return fmt.Errorf("voicemsg: recognise: %w", err)
	}
	heard := ""
	if !res.Rejected {
		heard = res.Text
	}
	sum, err := h.store(up)
	if err != nil {
		return err
	}
	if err := h.conv.Record(ctx, id, "voice_message", map[string]string{
		"sha256":       sum,
		"content_type": up.contentType,
		"duration_ms":  strconv.FormatInt(int64(len(pcm))*1000/speech.SampleRate, 10),
		"heard":        heard,
	}); err != nil {
		return err
	}
	if res.Rejected || strings.TrimSpace(heard) == "" {
		opts := s.Offered
		if opts == nil {
			opts = []signoff.Option{}
		}
		c.JSON(http.StatusOK, Response{
			Heard:   "",
			Replies: []Reply{{Text: prompts.For(s.Locale).Text("unclear"), Options: opts}},
			State:   s.State, Outcome: outcome(s.Outcome),
		})
		return nil
	}
	turn, err := h.conv.Reply(ctx, id, token, signoff.Input{Kind: signoff.InputText, Text: heard, Channel: signoff.ChannelVoice})
	if err != nil {
		return err
	}
	resp := Response{Heard: heard, Replies: make([]Reply, 0, len(turn.Replies)), State: turn.Session.State, Outcome: outcome(turn.Session.Outcome)}
	for _, m := range turn.Replies {
		if m.From != signoff.FromRecipient {
			resp.Replies = append(resp.Replies, Reply{Text: m.Text, Options: m.Options})
		}
	}
	c.JSON(http.StatusOK, resp)
	return nil
}

// store keeps the upload in the blob directory under its SHA-256 and
// returns the hex digest. The same bytes uploaded twice are stored once.
func (h *Handler) store(up upload) (string, error) {
	d := sha256.Sum256(up.data)
	sum := hex.EncodeToString(d[:])
	name := filepath.Join(h.cfg.BlobDir, sum+"."+string(up.format))
	if _, err := os.Stat(name); err == nil {
		return sum, nil
	}
	f, err := os.CreateTemp(h.cfg.BlobDir, ".upload-*")
	if err != nil {
		return "", fmt.Errorf("voicemsg: store upload: %w", err)
	}
	_, werr := f.Write(up.data)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("voicemsg: store upload: %w", err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("voicemsg: store upload: %w", err)
	}
	return sum, nil
}

// trimSilence returns the part of pcm from 300 ms before its first loud
// 20 ms frame to 300 ms after its last: loud is within 26 dB of the
// loudest frame and above -50 dBFS. A message of long silences around a
// short answer then fits the recogniser.
func trimSilence(pcm []int16) []int16 {
	const frame = speech.SampleRate / 50
	const pad = 15 // frames
	n := len(pcm) / frame
	if n == 0 {
		return pcm
	}
	rms := make([]float64, n)
	peak := 0.0
	for i := range rms {
		var s float64
		for _, v := range pcm[i*frame : (i+1)*frame] {
			s += float64(v) * float64(v)
		}
		rms[i] = math.Sqrt(s / frame)
		peak = max(peak, rms[i])
	}
	thr := max(peak/20, 100)
	first, last := -1, -1
	for i, r := range rms {
		if r >= thr {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return pcm[:0]
	}
	from, to := max(first-pad, 0)*frame, min((last+1+pad)*frame, len(pcm))
	return pcm[from:to]
}
