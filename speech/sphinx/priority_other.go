//go:build !linux

package sphinx

// lowPriority runs f; thread priorities are set on Linux only.
func lowPriority(nice int, f func()) { f() }

func threadNice() int { return 0 }
