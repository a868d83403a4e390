package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"time"
)

// sseEvent is one dispatched Server-Sent Event.
type sseEvent struct {
	ID   string // the last event ID in force when it was dispatched
	Type string // "message" unless an event: field said otherwise
	Data string // the data: lines joined with "\n"
}

// Errors of sseReader for input past its limit.
var (
	errSSELineTooLong = errors.New("sse: line too long")
	errSSEEventTooBig = errors.New("sse: event too large")
)

// sseReader parses a text/event-stream as the HTML Living Standard's
// "event stream interpretation" says: lines end in CRLF, LF or a lone CR; a
// leading BOM is dropped; a blank line dispatches the event being built; a
// partial event at the end of the stream is discarded. The stream comes from
// outside, so each line and each event's data is bounded by max bytes.
type sseReader struct {
	r      *bufio.Reader
	max    int
	line   []byte // the current line, reused
	data   []byte // the data buffer, each data: value followed by "\n"
	typ    string // the event type buffer
	lastID string // the last event ID buffer; it outlives events
	// Retry is the reconnection time the stream last asked for with a
	// retry: field, or zero.
	Retry time.Duration

	skipLF  bool // the last line ended in CR; a LF right after it belongs to it
	started bool // the first line has been read (and its BOM dropped)
}

// newSSEReader returns a reader of the stream r that refuses lines and
// events longer than max bytes.
func newSSEReader(r io.Reader, max int) *sseReader {
	return &sseReader{r: bufio.NewReaderSize(r, 4096), max: max}
}

// Next returns the next event. At the end of the stream it returns io.EOF,
// dropping a partial event as the standard says; other errors are the
// underlying reader's, errSSELineTooLong or errSSEEventTooBig. A retry:
// field longer than an hour is ignored.
func (s *sseReader) Next() (sseEvent, error) {
	for {
		line, err := s.readLine()
		if err != nil {
			return sseEvent{}, err
		}
		if len(line) == 0 {
			if len(s.data) == 0 {
				s.typ = ""
				continue
			}
			ev := sseEvent{ID: s.lastID, Type: s.typ, Data: string(s.data[:len(s.data)-1])}
			if ev.Type == "" {
				ev.Type = "message"
			}
			s.data, s.typ = s.data[:0], ""
			return ev, nil
		}
		if line[0] == ':' {
			continue // a comment, often a keep-alive
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "event":
			s.typ = string(value)
		case "data":
			if len(s.data)+len(value)+1 > s.max {
				return sseEvent{}, errSSEEventTooBig
			}
			s.data = append(s.data, value...)
			s.data = append(s.data, '\n')
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				s.lastID = string(value)
			}
		case "retry":
			if allDigits(value) {
				if ms, err := strconv.ParseInt(string(value), 10, 64); err == nil && ms <= int64(time.Hour/time.Millisecond) {
					s.Retry = time.Duration(ms) * time.Millisecond
				}
			}
		}
	}
}

// readLine returns the next line without its end. The slice is valid until
// the next call. A line cut off by the end of the stream is not a line.
func (s *sseReader) readLine() ([]byte, error) {
	s.line = s.line[:0]
	if s.skipLF {
		// Looked at only now, when another line is wanted anyway, so that
		// a CR-terminated blank line dispatches without waiting for input.
		s.skipLF = false
		b, err := s.r.Peek(1)
		if err != nil {
			return nil, err
		}
		if b[0] == '\n' {
			s.r.Discard(1)
		}
	}
	for {
		if s.r.Buffered() == 0 {
			if _, err := s.r.Peek(1); err != nil {
				return nil, err
			}
		}
		buf, _ := s.r.Peek(s.r.Buffered())
		i := bytes.IndexAny(buf, "\r\n")
		n := i
		if i < 0 {
			n = len(buf)
		}
		if len(s.line)+n > s.max {
			return nil, errSSELineTooLong
		}
		s.line = append(s.line, buf[:n]...)
		if i < 0 {
			s.r.Discard(n)
			continue
		}
		s.skipLF = buf[i] == '\r'
		s.r.Discard(i + 1)
		if !s.started {
			s.started = true
			s.line = bytes.TrimPrefix(s.line, []byte("\xEF\xBB\xBF"))
		}
		return s.line, nil
	}
}

func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
