package flowagent

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// The processes a Reader follows: each one watched through a pidfd, so
// its end is seen even though the files kept open would read its
// namespace on.

// exited returns the watched processes that have ended since their files
// were opened, with the error to report for each.
func (r *Reader) exited() map[int]error {
	gone := map[int]error{}
	var polled []int
	var fds []int32
	for pid, p := range r.procs {
		if p.pidfd >= 0 {
			polled = append(polled, pid)
			fds = append(fds, p.pidfd)
			continue
		}
		// No pidfd (a copy of /proc, or a kernel or seccomp profile
		// without pidfd_open): the process directory's absence, as
		// when every file was opened anew.
		if _, err := os.Stat(r.proc + "/" + strconv.Itoa(pid)); err != nil {
			gone[pid] = err
		}
	}
	if len(fds) == 0 {
		return gone
	}
	ended, err := pollExited(fds)
	if err != nil {
		// Cannot tell who ended: start over, every file opened anew
		// (a PID gone by then fails its open).
		for _, pid := range polled {
			r.forget(pid)
		}
		return gone
	}
	for i, pid := range polled {
		if ended[i] {
			gone[pid] = fmt.Errorf("process %d: %w", pid, syscall.ESRCH)
		}
	}
	return gone
}

// watch opens the files of pid, sharing its namespace's with the
// processes already watched in it.
func (r *Reader) watch(pid int) error {
	base := r.proc + "/" + strconv.Itoa(pid)
	p := &process{pidfd: -1}
	if r.pidfd {
		// Opened before the namespace's files, so that a process
		// ending in between is seen ended at the next sample, never
		// its namespace's files taken for its successor's.
		fd, err := openPidfd(pid)
		if errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("process %d: %w", pid, err)
		}
		if err == nil {
			p.pidfd = fd
		}
	}
	sp := &space{refs: 1}
	if dev, err := os.Open(base + "/net/dev"); err == nil {
		if ino := inode(dev); ino != 0 {
			if shared, ok := r.spaces[ino]; ok {
				dev.Close()
				shared.refs++
				p.space, p.ino = shared, ino
				r.procs[pid] = p
				return nil
			}
			sp.dev = dev
			r.spaces[ino] = sp
			p.ino = ino
		} else {
			dev.Close()
		}
	}
	// Without net/dev (a copy of /proc, or a gone process: the table
	// read tells which) the namespace is this PID's own.
	if f, err := os.Open(base + "/net/snmp"); err == nil {
		sp.snmp = f
	}
	p.space = sp
	r.procs[pid] = p
	return nil
}

// forget closes what the Reader keeps for pid.
func (r *Reader) forget(pid int) {
	p, ok := r.procs[pid]
	if !ok {
		return
	}
	delete(r.procs, pid)
	if p.pidfd >= 0 {
		closePidfd(p.pidfd)
	}
	if p.space.refs--; p.space.refs > 0 {
		return
	}
	if p.space.dev != nil {
		p.space.dev.Close()
	}
	if p.space.snmp != nil {
		p.space.snmp.Close()
	}
	if p.ino != 0 {
		delete(r.spaces, p.ino)
	}
}
