//go:build !linux

package flowagent

import (
	"errors"
	"os"
)

// The agent runs in a Linux container only; elsewhere (topo's own
// builds for other systems) a Reader checks its processes' directories
// and keeps each PID's files apart.

func openPidfd(int) (int32, error) { return -1, errors.ErrUnsupported }

func closePidfd(int32) {}

func pollExited(fds []int32) ([]bool, error) { return make([]bool, len(fds)), nil }

// inode is 0: no namespace is shared between PIDs, each read on its own.
func inode(*os.File) uint64 { return 0 }
