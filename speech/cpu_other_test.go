//go:build !linux

package speech

import "testing"

// benchFrames runs f once per b.Loop iteration (one frame).
func benchFrames(b *testing.B, f func()) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		f()
	}
}
