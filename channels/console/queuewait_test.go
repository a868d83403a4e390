package console

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/signoff/signoff"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/redisstore"
	"github.com/signoff/signoff/internal/redistest"
	"github.com/signoff/signoff/knowledge"
)

// TestQueueWait runs the console over a real engine on a real
// redis-server, with the engine's clock in the test's hands: a direct
// takeover reports no wait; a conversation released to the queue and
// claimed 90 s later by another agent reports 90 s; claiming one's own
// again reports nothing.
func TestQueueWait(t *testing.T) {
	gin.SetMode(gin.TestMode)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rdb := redis.NewClient(&redis.Options{Addr: redistest.Start(t)})
	t.Cleanup(func() { rdb.Close() })
	store := redisstore.New(rdb, log)
	var (
		mu  sync.Mutex
		now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	engine := dialog.New(store, dialog.MergeFunc(knowledge.Merge), dialog.Config{}, log, dialog.WithClock(clock))
	n, err := engine.Notify(context.Background(), signoff.OrderEvent{
		WebhookID: "msg_qw", Type: signoff.EventOutForDelivery, Timestamp: now,
		Delivery: signoff.Delivery{ID: "QW-1", Status: signoff.StatusOutForDelivery, Recipient: signoff.Recipient{Locale: signoff.LocaleEN}},
		Present:  signoff.Fields{"status": true, "recipient": true},
	})
	if err != nil || !n.Opened {
		t.Fatalf("open: %+v %v", n, err)
	}

	accts, err := ParseAccounts("ana:agent:" + hash(t, "pw") + ",bob:agent:" + hash(t, "pw"))
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	h := New(Config{Accounts: accts, QueueWait: func(d time.Duration) { waits = append(waits, d) }}, engine, store,
		&memSessions{m: map[string][]byte{}, fails: map[string]int64{}}, log)
	r := gin.New()
	h.Register(r)
	signIn := func(name string) func(action string) {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("POST", "/console/api/signin", strings.NewReader(`{"name":"`+name+`","password":"pw"}`)))
		var me Me
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &me) != nil {
			t.Fatalf("sign in %s: %d %s", name, w.Code, w.Body)
		}
		cookie := w.Result().Cookies()[0]
		return func(action string) {
			req := httptest.NewRequest("POST", "/console/api/conversations/"+string(n.SessionID)+"/"+action, nil)
			req.AddCookie(cookie)
			req.Header.Set(CSRFHeader, me.CSRF)
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				t.Fatalf("%s %s: %d %s", name, action, w.Code, w.Body)
			}
		}
	}
	ana, bob := signIn("ana"), signIn("bob")

	ana("claim") // a direct takeover: it never waited in the queue
	if len(waits) != 0 {
		t.Fatalf("direct takeover reported %v, want nothing", waits)
	}
	ana("release") // to the queue at 09:00
	mu.Lock()
	now = now.Add(90 * time.Second)
	mu.Unlock()
	bob("claim")
	bob("claim") // bob's already: nothing changes
	if want := []time.Duration{90 * time.Second}; !slices.Equal(waits, want) {
		t.Errorf("queue waits %v, want %v", waits, want)
	}
}
