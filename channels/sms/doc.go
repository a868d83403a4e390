// Package sms is the text-message channel, Twilio-compatible so that Twilio
// and the providers that copy its API work: outbound through the Messages
// REST API, inbound at POST /v1/channels/sms/inbound checked with
// X-Twilio-Signature and answered with TwiML, delivery status callbacks at
// POST /v1/channels/sms/status.
//
// It drives the dialog engine through small interfaces and must not import
// the Redis adapter.
package sms
