package video

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/knowledge"
)

const ringSecret = "whsec_c2lnbm9mZi1yaW5nLXRlc3Qtc2VjcmV0"

// TestRinger: choosing 6 posts one signed video.ringing to the order
// system, which verifies it with the Standard Webhooks library; a 500 is
// retried with the same webhook id.
func TestRinger(t *testing.T) {
	wh, err := standardwebhooks.NewWebhook(ringSecret)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var ids []string
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := wh.Verify(body, r.Header); err != nil {
			t.Errorf("signature: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		ids = append(ids, r.Header.Get("webhook-id"))
		if len(ids) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		json.Unmarshal(body, &got)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	ctx := context.Background()
	ringer, err := NewRinger(ctx, srv.URL, ringSecret, "https://signoff.example", nil, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, dialog.Config{})
	w.engine = dialog.New(w.store, dialog.MergeFunc(knowledge.Merge), dialog.Config{}, testLog(t), dialog.WithVideoRinger(ringer))
	token := w.open(t, "D-ring")
	_, open, _ := w.store.Load(ctx, "D-ring")
	if _, err := w.engine.Reply(ctx, open.ID, token, signoff.Input{Kind: signoff.InputText, Text: "6", Channel: signoff.ChannelChat}); err != nil {
		t.Fatal(err)
	}
	// A repeat while ringing does not ring again.
	if _, err := w.engine.Video(ctx, "D-ring", dialog.VideoStart, "staff:ana"); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := ringer.Close(cctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ids) != 2 || ids[0] != ids[1] {
		t.Fatalf("posts with ids %v, want one retry with the same id", ids)
	}
	data, _ := got["data"].(map[string]any)
	if got["type"] != EventRinging || data["delivery_id"] != "D-ring" || data["courier_id"] != courierID ||
		data["join_url"] != "https://signoff.example/v/D-ring?role=courier" {
		t.Errorf("callback body %v", got)
	}
	if _, err := NewRinger(ctx, "ftp://x", ringSecret, "", nil, testLog(t)); err == nil {
		t.Error("an ftp callback URL was accepted")
	}
}
