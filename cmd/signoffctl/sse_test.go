package main

import (
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// readAll returns the events of in and the error that ended them.
func readAll(r io.Reader, max int) ([]sseEvent, time.Duration, error) {
	s := newSSEReader(r, max)
	var evs []sseEvent
	for {
		ev, err := s.Next()
		if err != nil {
			return evs, s.Retry, err
		}
		evs = append(evs, ev)
	}
}

func TestSSEReader(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		want      []sseEvent
		wantRetry time.Duration
	}{
		{"one event", "id: 3\nevent: message\ndata: {\"seq\":3}\n\n",
			[]sseEvent{{ID: "3", Type: "message", Data: `{"seq":3}`}}, 0},
		{"default type, no id", "data: x\n\n", []sseEvent{{Type: "message", Data: "x"}}, 0},
		{"multi-line data", "data: a\ndata:b\ndata:  c\n\n", []sseEvent{{Type: "message", Data: "a\nb\n c"}}, 0},
		{"CRLF and lone CR", "data: a\r\n\r\ndata: b\r\rdata: c\n\n",
			[]sseEvent{{Type: "message", Data: "a"}, {Type: "message", Data: "b"}, {Type: "message", Data: "c"}}, 0},
		{"CRLF inside an event", "data: a\r\ndata: b\r\n\r\n", []sseEvent{{Type: "message", Data: "a\nb"}}, 0},
		{"CR inside an event", "data: a\rdata: b\r\r", []sseEvent{{Type: "message", Data: "a\nb"}}, 0},
		{"comments and keep-alives", ": connected\n\n: keep-alive\n\ndata: x\n\n", []sseEvent{{Type: "message", Data: "x"}}, 0},
		{"id persists across events", "id: 7\ndata: a\n\ndata: b\n\n",
			[]sseEvent{{ID: "7", Type: "message", Data: "a"}, {ID: "7", Type: "message", Data: "b"}}, 0},
		{"id with NUL is ignored", "id: 1\ndata: a\n\nid: 2\x00\ndata: b\n\n",
			[]sseEvent{{ID: "1", Type: "message", Data: "a"}, {ID: "1", Type: "message", Data: "b"}}, 0},
		{"event type resets", "event: state\ndata: a\n\ndata: b\n\n",
			[]sseEvent{{Type: "state", Data: "a"}, {Type: "message", Data: "b"}}, 0},
		{"blank without data dispatches nothing", "event: x\n\ndata: y\n\n", []sseEvent{{Type: "message", Data: "y"}}, 0},
		{"empty data field dispatches empty data", "data\n\n", []sseEvent{{Type: "message", Data: ""}}, 0},
		{"field without colon", "data\ndata\n\n", []sseEvent{{Type: "message", Data: "\n"}}, 0},
		{"unknown fields ignored", "foo: bar\ndata: x\n\n", []sseEvent{{Type: "message", Data: "x"}}, 0},
		{"retry", "retry: 1500\ndata: x\n\nretry: 12x\n\n", []sseEvent{{Type: "message", Data: "x"}}, 1500 * time.Millisecond},
		{"BOM dropped", "\xEF\xBB\xBFdata: x\n\n", []sseEvent{{Type: "message", Data: "x"}}, 0},
		{"partial event at the end dropped", "data: x\n\ndata: y\n", []sseEvent{{Type: "message", Data: "x"}}, 0},
		{"partial line at the end dropped", "data: x\n\ndata: y", []sseEvent{{Type: "message", Data: "x"}}, 0},
		{"colon in value kept", "data: a: b\n\n", []sseEvent{{Type: "message", Data: "a: b"}}, 0},
	}
	for _, tt := range tests {
		for _, chunked := range []bool{false, true} {
			t.Run(tt.name+"/chunked="+strconv.FormatBool(chunked), func(t *testing.T) {
				var r io.Reader = strings.NewReader(tt.in)
				if chunked {
					r = iotest.OneByteReader(r)
				}
				got, retry, err := readAll(r, 1<<10)
				if !errors.Is(err, io.EOF) {
					t.Fatalf("got error %v, want io.EOF", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("got %q, want %q", got, tt.want)
				}
				if retry != tt.wantRetry {
					t.Errorf("got retry %v, want %v", retry, tt.wantRetry)
				}
			})
		}
	}
}

func TestSSELimits(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"long line", "data: " + strings.Repeat("x", 100) + "\n\n", errSSELineTooLong},
		{"long line without end", ": " + strings.Repeat("x", 100), errSSELineTooLong},
		{"big event", strings.Repeat("data: "+strings.Repeat("x", 30)+"\n", 4) + "\n", errSSEEventTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readAll(strings.NewReader(tt.in), 64)
			if !errors.Is(err, tt.want) {
				t.Errorf("got error %v, want %v", err, tt.want)
			}
		})
	}
}

// TestSSEDispatchesWithoutLookahead checks that an event ending in a lone CR
// is handed out before any more input arrives: a live stream may pause there.
func TestSSEDispatchesWithoutLookahead(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte("data: x\r\r"))
	s := newSSEReader(pr, 1<<10)
	done := make(chan sseEvent)
	go func() {
		ev, _ := s.Next()
		done <- ev
	}()
	select {
	case ev := <-done:
		if ev.Data != "x" {
			t.Errorf("got data %q, want x", ev.Data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the event waited for more input")
	}
}

// refSSE is a second, whole-input reading of the event stream standard, to
// check sseReader against.
func refSSE(in string) ([]sseEvent, time.Duration) {
	in = strings.TrimPrefix(in, "\uFEFF")
	var lines []string
	for {
		i := strings.IndexAny(in, "\r\n")
		if i < 0 {
			break // an unterminated last line is not a line
		}
		lines = append(lines, in[:i])
		if strings.HasPrefix(in[i:], "\r\n") {
			i++
		}
		in = in[i+1:]
	}
	var evs []sseEvent
	var data, typ, id string
	var retry time.Duration
	for _, l := range lines {
		if l == "" {
			if data == "" {
				typ = ""
				continue
			}
			ev := sseEvent{ID: id, Type: typ, Data: strings.TrimSuffix(data, "\n")}
			if ev.Type == "" {
				ev.Type = "message"
			}
			evs = append(evs, ev)
			data, typ = "", ""
			continue
		}
		if l[0] == ':' {
			continue
		}
		name, value, _ := strings.Cut(l, ":")
		value = strings.TrimPrefix(value, " ")
		switch name {
		case "data":
			data += value + "\n"
		case "event":
			typ = value
		case "id":
			if !strings.Contains(value, "\x00") {
				id = value
			}
		case "retry":
			if value != "" && strings.Trim(value, "0123456789") == "" {
				if ms, err := strconv.ParseInt(value, 10, 64); err == nil && ms <= 3600_000 {
					retry = time.Duration(ms) * time.Millisecond
				}
			}
		}
	}
	return evs, retry
}

// FuzzSSE feeds the stream reader outside input, whole and a byte at a time,
// and checks it against refSSE.
func FuzzSSE(f *testing.F) {
	for _, s := range []string{
		"id: 3\nevent: message\ndata: {\"seq\":3,\"message\":{\"from\":\"bot\",\"text\":\"hi\"}}\n\n",
		"data: a\r\n\r\ndata: b\r\rdata: c\n\n",
		": keep-alive\n\nretry: 100\nid: 1\x00\ndata\n\n",
		"\xEF\xBB\xBFdata: x\n\ndata: partial",
		"\r\n\r\r\n\n:",
		"event: x\r\ndata: a\r\ndata: b\r\n\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		wantEvs, wantRetry := refSSE(in)
		for _, chunked := range []bool{false, true} {
			var r io.Reader = strings.NewReader(in)
			if chunked {
				r = iotest.OneByteReader(r)
			}
			got, retry, err := readAll(r, len(in)+1)
			if !errors.Is(err, io.EOF) {
				t.Fatalf("chunked=%v: got error %v, want io.EOF", chunked, err)
			}
			if len(got) != len(wantEvs) || (len(got) > 0 && !reflect.DeepEqual(got, wantEvs)) {
				t.Fatalf("chunked=%v: got %q, want %q", chunked, got, wantEvs)
			}
			if retry != wantRetry {
				t.Fatalf("chunked=%v: got retry %v, want %v", chunked, retry, wantRetry)
			}
		}
	})
}
