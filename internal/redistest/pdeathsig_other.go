//go:build !linux

package redistest

import "os/exec"

// parentDeathSignal does nothing where the platform has no such signal; Main
// and test cleanups stop the servers.
func parentDeathSignal(cmd *exec.Cmd) {}

// startProcess starts cmd.
func startProcess(cmd *exec.Cmd) error { return cmd.Start() }
