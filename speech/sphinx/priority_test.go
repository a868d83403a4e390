//go:build linux

package sphinx

import (
	"runtime"
	"testing"
)

// TestDecodesAtLowPriority: lowPriority runs its function on a niced
// thread, and the caller's thread keeps its priority.
func TestDecodesAtLowPriority(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := threadNice()
	var inside int
	lowPriority(10, func() { inside = threadNice() })
	if inside < 10 {
		t.Errorf("niceness inside lowPriority = %d, want 10 or more", inside)
	}
	if after := threadNice(); after != before {
		t.Errorf("the caller's thread went from niceness %d to %d", before, after)
	}
	var plain int
	lowPriority(0, func() { plain = threadNice() })
	if plain != before {
		t.Errorf("lowPriority(0) ran at niceness %d, want the caller's %d", plain, before)
	}
}
