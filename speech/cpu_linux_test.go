package speech

import (
	"runtime"
	"syscall"
	"testing"
)

// benchFrames runs f once per b.Loop iteration (one frame) and reports, beside
// the wall-clock ns/op, the CPU time this thread spent per frame: on a
// machine shared with other work, that is the figure that tells whether 50
// calls fit on 2 cores.
func benchFrames(b *testing.B, f func()) {
	b.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	var r0, r1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_THREAD, &r0)
	n := 0
	for b.Loop() {
		f()
		n++
	}
	syscall.Getrusage(syscall.RUSAGE_THREAD, &r1)
	cpu := func(r syscall.Rusage) int64 { return r.Utime.Nano() + r.Stime.Nano() }
	b.ReportMetric(float64(cpu(r1)-cpu(r0))/float64(n), "cpu-ns/frame")
}
