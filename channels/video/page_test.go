package video

import (
	"net/http"
	"strings"
	"testing"

	"github.com/signoff/signoff/dialog"
)

// TestPage: the video page and its assets are served with a strict
// Content Security Policy; a bad role is a 400 with the JSON error.
func TestPage(t *testing.T) {
	w := newWorld(t, dialog.Config{})
	_, base := w.node(t)
	for _, tt := range []struct {
		path, ctype string
		status      int
	}{
		{"/v/D-1?role=recipient&t=x", "text/html", 200},
		{"/v/D-1?role=staff&t=x", "text/html", 200},
		{"/v-assets/video.js", "text/javascript", 200},
		{"/v-assets/video.css", "text/css", 200},
		{"/v-assets/video.html", "application/json", 404},
		{"/v/D-1?role=boss", "application/json", 400},
	} {
		resp, err := http.Get(base + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.ctype) {
			t.Errorf("GET %s: %d %s, want %d %s", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), tt.status, tt.ctype)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); tt.status == 200 && (!strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe")) {
			t.Errorf("GET %s: Content-Security-Policy %q", tt.path, csp)
		}
	}
}
