package redisstore

import "github.com/bytedance/sonic"

// codec encodes every stored value as JSON. JSON decoding was most of this
// package's CPU in a chat turn; sonic does it in about a third of
// encoding/json's time and a third of its allocations, and falls back to
// encoding/json where it does not compile (other architectures, newer Go).
//
// Decoded strings point into the reply they came from instead of being
// copied; go-redis allocates each reply afresh, so that is safe. Map keys
// are sorted, so a stored value is the same bytes every time. Invalid UTF-8
// goes back as it came (encoding/json would replace it).
var codec = sonic.Config{SortMapKeys: true}.Froze()

// encode returns v as JSON.
func encode(v any) ([]byte, error) { return codec.Marshal(v) }

// decode reads the JSON in s, as the Redis client returns it, without
// copying it first.
func decode(s string, v any) error { return codec.UnmarshalFromString(s, v) }
