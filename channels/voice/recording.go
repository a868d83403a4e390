package voice

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/signoff/signoff/speech"
)

// recFile is a call recording being written: a hidden temporary file in the
// blob directory, renamed to its SHA-256 when the call ends, so that a
// recording is named by its content and cannot be swapped unnoticed.
type recFile struct {
	dir string
	f   *os.File
}

// createRecording starts a two-channel 16 kHz WAV in dir.
func createRecording(dir string) (recFile, *speech.Recorder, error) {
	f, err := os.CreateTemp(dir, ".call-*.wav.part")
	if err != nil {
		return recFile{}, nil, err
	}
	rec, err := speech.NewRecorder(f, speech.SampleRate)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return recFile{}, nil, err
	}
	return recFile{dir: dir, f: f}, rec, nil
}

// finish closes the recording and renames it to <sha256>.wav. It returns
// the hex digest and the recording's length; an empty recording is removed
// and reported with length 0.
func (r recFile) finish(rec *speech.Recorder) (string, time.Duration, error) {
	if r.f == nil {
		return "", 0, nil
	}
	name := r.f.Name()
	fail := func(err error) (string, time.Duration, error) {
		r.f.Close()
		os.Remove(name)
		return "", 0, fmt.Errorf("voice: recording: %w", err)
	}
	if err := rec.Close(); err != nil {
		return fail(err)
	}
	d := rec.Duration()
	if d == 0 {
		r.f.Close()
		os.Remove(name)
		return "", 0, nil
	}
	if err := r.f.Sync(); err != nil {
		return fail(err)
	}
	if _, err := r.f.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, r.f); err != nil {
		return fail(err)
	}
	if err := r.f.Close(); err != nil {
		os.Remove(name)
		return "", 0, fmt.Errorf("voice: recording: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if err := os.Rename(name, filepath.Join(r.dir, sum+".wav")); err != nil {
		os.Remove(name)
		return "", 0, fmt.Errorf("voice: recording: %w", err)
	}
	return sum, d, nil
}

// discard removes a recording that failed midway.
func (r recFile) discard() {
	if r.f != nil {
		r.f.Close()
		os.Remove(r.f.Name())
	}
}

// RecordingPath returns where the recording with the given SHA-256 is
// kept in dir.
func RecordingPath(dir, sha256Hex string) string {
	return filepath.Join(dir, sha256Hex+".wav")
}

// recorder writes a call's recording on a goroutine of its own, so that the
// pacing goroutine never waits on the disk: it hands each 20 ms over by
// value through a channel.
type recorder struct {
	frames  chan recFrame
	done    chan recResult
	dropped int // frames not recorded because the writer fell behind; owner only
}

// recFrame is 20 ms of both directions.
type recFrame struct {
	caller, bot   [speech.FrameSamples]int16
	nCaller, nBot int
}

// recResult is the recording filed when the call ended.
type recResult struct {
	sum string
	d   time.Duration
	err error
}

// recorderQueue is how many frames (2 s) may wait for the disk.
const recorderQueue = 100

// startRecorder starts a recording in dir.
func startRecorder(dir string) (*recorder, error) {
	f, rec, err := createRecording(dir)
	if err != nil {
		return nil, err
	}
	r := &recorder{frames: make(chan recFrame, recorderQueue), done: make(chan recResult, 1)}
	go r.run(f, rec)
	return r, nil
}

func (r *recorder) run(f recFile, rec *speech.Recorder) {
	var werr error
	for fr := range r.frames {
		if werr == nil {
			werr = rec.Write(fr.caller[:fr.nCaller], fr.bot[:fr.nBot])
		}
	}
	if werr != nil {
		f.discard()
		r.done <- recResult{err: fmt.Errorf("voice: recording: %w", werr)}
		return
	}
	sum, d, err := f.finish(rec)
	r.done <- recResult{sum, d, err}
}

// write hands 20 ms over to the writer (bot nil while the bot is quiet).
// It never blocks: a frame the writer has no room for is dropped and
// counted.
func (r *recorder) write(caller, bot []int16) {
	var fr recFrame
	fr.nCaller = copy(fr.caller[:], caller)
	fr.nBot = copy(fr.bot[:], bot)
	select {
	case r.frames <- fr:
	default:
		r.dropped++
	}
}

// close ends the recording and returns it once filed.
func (r *recorder) close() recResult {
	close(r.frames)
	return <-r.done
}
