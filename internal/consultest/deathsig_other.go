//go:build !linux

package consultest

import "os/exec"

// setDeathSignal does nothing where the kernel has no parent-death signal;
// the test's cleanup still kills the agent.
func setDeathSignal(*exec.Cmd) {}
