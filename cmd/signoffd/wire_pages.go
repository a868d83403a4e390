package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/signoff/signoff/channels"
	"github.com/signoff/signoff/channels/console"
	"github.com/signoff/signoff/channels/courier"
	"github.com/signoff/signoff/dialog"
	"github.com/signoff/signoff/dialog/redisstore"
)

// wirePages adds the courier page (/c/{courier}) and the staff console
// (/console) to router. Staff accounts come from SIGNOFF_STAFF
// ("name:role:bcrypt-hash", comma-separated) or the file SIGNOFF_STAFF_FILE
// (one a line); `signoffctl hash-password` makes the hash. It returns the
// console, whose StaffFromRequest other routes use to let staff in.
// queueWait is told how long each handoff claimed waited (the metrics').
func wirePages(router http.Handler, engine *dialog.Engine, store *redisstore.Store, couriers *channels.CourierTokens,
	cfg Config, getenv func(string) string, queueWait func(time.Duration), log *slog.Logger) (*console.Handler, error) {
	r, ok := router.(gin.IRoutes)
	if !ok {
		return nil, fmt.Errorf("pages: router is a %T, not a gin router", router)
	}
	text := getenv("SIGNOFF_STAFF")
	if f := getenv("SIGNOFF_STAFF_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("SIGNOFF_STAFF_FILE: %w", err)
		}
		text += "\n" + string(b)
	}
	accounts, err := console.ParseAccounts(text)
	if err != nil {
		return nil, fmt.Errorf("SIGNOFF_STAFF: %w", err)
	}
	if len(accounts) == 0 {
		log.Warn("no staff accounts: the console at /console lets nobody in; set SIGNOFF_STAFF or SIGNOFF_STAFF_FILE")
	}
	con := console.New(console.Config{Accounts: accounts, SecureCookie: strings.HasPrefix(cfg.PublicURL, "https://"),
		QueueWait: queueWait},
		engine, store, store, log)
	con.Register(r)
	courier.New(store, couriers, log).Register(r)
	return con, nil
}
