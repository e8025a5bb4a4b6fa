package consultest

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel kill the agent if the test process dies
// without running its cleanups (a panic, a timeout), so no agent outlives
// the test.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
