// Package wechat is the WeChat Official Account channel: the URL check
// (GET /v1/channels/wechat), text and voice messages in (POST, plain or
// encrypted with AES-256-CBC), answered passively within a budget or, when
// slower, through the customer-service message API; messages are
// de-duplicated by MsgId. The encryption is written from the standard
// library.
//
// It drives the dialog engine through small interfaces and must not import
// the Redis adapter.
package wechat
