package redistest

import (
	"os/exec"
	"syscall"
)

// parentDeathSignal has the kernel kill the server if the test binary dies
// without stopping it.
func parentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
