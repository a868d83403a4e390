// Package orderhook receives the order system's webhooks: POST
// /v1/webhooks/orders, signed the Standard Webhooks way (webhook-id,
// webhook-timestamp, webhook-signature; HMAC-SHA256 under one of several
// whsec_ secrets, so that secrets can be rotated). It checks size, headers,
// timestamp and signature, decodes the body into a signoff.OrderEvent
// (Decode) and hands it to a Notifier, which is the conversation engine in
// production. Sign is the sender's half, for signoffctl and tests.
//
// It imports the root, channels, dialog (for dialog.Notice), knowledge (for
// field names), gin and the Standard Webhooks library; it does not reach the
// store or any other channel.
package orderhook
