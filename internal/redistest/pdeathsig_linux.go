package redistest

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// parentDeathSignal has the kernel kill the server if the test binary dies
// without stopping it. Start the command with startProcess, not cmd.Start.
func parentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// The parent-death signal is tied to the thread that forked, not to the
// process: Go ends a thread whose goroutine exits while locked to it (as
// speech/sphinx does with its niced recognition threads), and a server
// forked from such a thread would be killed mid-test. So servers are forked
// from one thread that stays locked for the life of the test binary.
var (
	spawnOnce sync.Once
	spawns    chan spawn
)

type spawn struct {
	cmd  *exec.Cmd
	done chan error
}

// startProcess starts cmd from the spawning thread.
func startProcess(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawns = make(chan spawn)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread must outlive every server
			for s := range spawns {
				s.done <- s.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	spawns <- spawn{cmd: cmd, done: done}
	return <-done
}
