// Package courier serves the courier page (/c/{courier}?t=<courier token>):
// the courier's deliveries with the recipient's choice live, a photo proof
// form and the video call button. A courier token (channels.CourierTokens)
// opens only its own courier's deliveries.
//
// It must not import go-redis or the Redis store: it declares what it needs.
package courier
