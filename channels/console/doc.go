// Package console is the staff console (/console): staff sign in, watch
// every live conversation, take one over, write to the recipient, hand it
// back to the bot, and keep notes. Accounts come from SIGNOFF_STAFF or
// SIGNOFF_STAFF_FILE with bcrypt-hashed passwords; sessions live in Redis
// behind an HttpOnly, SameSite=Strict cookie, and every state-changing
// request carries the session's X-CSRF-Token.
//
// It drives dialog through the small interfaces it declares and must not
// import go-redis or the Redis store.
package console
