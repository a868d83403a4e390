// Package prompts holds every sentence the bot says, per locale, embedded in
// the binary from versioned JSON files (zh-CN.json, en.json). It imports only
// the root package and the standard library.
package prompts
