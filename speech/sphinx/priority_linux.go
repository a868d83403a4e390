package sphinx

import (
	"runtime"
	"syscall"
)

// lowPriority runs f on a thread of its own at the given niceness (1 to
// 19), and waits for it: recognition then yields the CPU to the calls'
// pacing goroutines, which must send a frame every 20 ms. The thread is
// never given back to the Go scheduler, which ends it with the goroutine,
// so no other goroutine ever runs niced (an unprivileged process cannot
// lower its niceness again). nice <= 0 runs f here.
func lowPriority(nice int, f func()) {
	if nice <= 0 {
		f()
		return
	}
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		defer close(done)
		// A failure (a sandbox that forbids it) leaves the priority as it is.
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), min(nice, 19))
		f()
	}()
	<-done
}

// threadNice returns the niceness of the calling thread.
func threadNice() int {
	// The raw system call returns 20 - nice.
	p, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	if err != nil {
		return 0
	}
	return 20 - p
}
