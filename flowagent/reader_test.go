package flowagent

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

const netDev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
  eth0:   17202     %d    0    0    0     0          0         0    13724     214    0    0    0     0       0          0
`

// writeNet writes net/<name> of pid under proc in place (same inode, as
// the kernel's files keep theirs), so that a kept file sees the change.
func writeNet(t *testing.T, proc string, pid int, name, text string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(proc, strconv.Itoa(pid), "net", name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func TestReaderReadsCountersOnlyWhenPacketsMoved(t *testing.T) {
	proc := fakeProc(t, map[int][2]string{100: {tcpTable, ""}})
	writeNet(t, proc, 100, "dev", fmt.Sprintf(netDev, 281))
	writeNet(t, proc, 100, "snmp", fmt.Sprintf(snmp, 1, 10))
	r := NewReader(proc)
	defer r.Close()
	sample := func() { r.Read([]int{100}) }
	sample()
	if r.Reads != 1 || r.CounterReads != 1 {
		t.Fatalf("first sample: %d table reads, %d counter reads; want 1 and 1", r.Reads, r.CounterReads)
	}
	// The counters move but no packet did: a namespace cannot open a
	// connection without one (the fake lies to show the gate holds).
	writeNet(t, proc, 100, "snmp", fmt.Sprintf(snmp, 2, 10))
	sample()
	if r.Reads != 1 || r.CounterReads != 1 {
		t.Errorf("no packet: %d table reads, %d counter reads; want neither read again", r.Reads, r.CounterReads)
	}
	writeNet(t, proc, 100, "dev", fmt.Sprintf(netDev, 282))
	sample()
	if r.Reads != 2 || r.CounterReads != 2 {
		t.Errorf("a packet and an open: %d table reads, %d counter reads; want both read again", r.Reads, r.CounterReads)
	}
	writeNet(t, proc, 100, "dev", fmt.Sprintf(netDev, 283)) // a keepalive
	sample()
	if r.Reads != 2 || r.CounterReads != 3 {
		t.Errorf("a packet alone: %d table reads, %d counter reads; want the counters read, not the tables", r.Reads, r.CounterReads)
	}
}

// Containers sharing a network namespace (--network container:x) have
// PIDs whose /proc/<pid>/net is the same: read once per sample.
func TestReaderReadsASharedNamespaceOnce(t *testing.T) {
	proc := fakeProc(t, map[int][2]string{100: {tcpTable, tcp6Table}})
	writeNet(t, proc, 100, "dev", fmt.Sprintf(netDev, 1))
	writeNet(t, proc, 100, "snmp", fmt.Sprintf(snmp, 1, 10))
	if err := os.MkdirAll(filepath.Join(proc, "101"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(proc, "100", "net"), filepath.Join(proc, "101", "net")); err != nil {
		t.Fatal(err)
	}
	r := NewReader(proc)
	defer r.Close()
	s := r.Read([]int{101, 100})
	if len(s.Namespaces) != 1 || len(s.Namespaces[0].PIDs) != 2 || s.Namespaces[0].PIDs[0] != 101 {
		t.Fatalf("namespaces = %+v; want one holding 101 and 100", s.Namespaces)
	}
	if r.Reads != 1 || r.CounterReads != 1 || len(r.spaces) != 1 {
		t.Errorf("%d table reads, %d counter reads, %d namespaces kept; want 1 each", r.Reads, r.CounterReads, len(r.spaces))
	}
	// The first PID asked for is gone: the namespace is still read
	// through the other.
	r.Read([]int{100})
	if len(r.procs) != 1 || len(r.spaces) != 1 {
		t.Errorf("after 101 left: %d processes, %d namespaces kept; want 1 and 1", len(r.procs), len(r.spaces))
	}
	r.Read(nil)
	if len(r.procs) != 0 || len(r.spaces) != 0 {
		t.Errorf("nothing asked: %d processes, %d namespaces kept; want the files closed", len(r.procs), len(r.spaces))
	}
}

// A kept file would go on reading a gone process's namespace (the file
// keeps it alive): the process's end must still be reported.
func TestReaderReportsAGoneProcessWhoseFilesItKept(t *testing.T) {
	proc := fakeProc(t, map[int][2]string{100: {tcpTable, ""}})
	writeNet(t, proc, 100, "dev", fmt.Sprintf(netDev, 1))
	writeNet(t, proc, 100, "snmp", fmt.Sprintf(snmp, 1, 10))
	r := NewReader(proc)
	defer r.Close()
	if s := r.Read([]int{100}); len(s.Errors) != 0 {
		t.Fatalf("first sample: errors %v", s.Errors)
	}
	if err := os.RemoveAll(filepath.Join(proc, "100")); err != nil {
		t.Fatal(err)
	}
	s := r.Read([]int{100})
	if _, ok := s.Errors[100]; !ok || len(s.Namespaces) != 0 {
		t.Errorf("gone process: %+v; want an error for 100 and no namespace", s)
	}
	if len(r.procs) != 0 || len(r.spaces) != 0 {
		t.Errorf("%d processes, %d namespaces kept; want the gone one's files closed", len(r.procs), len(r.spaces))
	}
}

// The same on the real /proc, where a process's end is seen through a
// pidfd (its directory may go later, and its number come back).
func TestReaderReportsAnEndedProcessOnTheRealProc(t *testing.T) {
	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Fatalf("start a child process: %v", err)
	}
	pid := child.Process.Pid
	r := NewReader("/proc")
	defer r.Close()
	if s := r.Read([]int{pid}); len(s.Errors) != 0 || len(s.Namespaces) != 1 {
		t.Fatalf("child alive: %+v; want its namespace", s)
	}
	if r.procs[pid].pidfd < 0 {
		t.Errorf("no pidfd for %d on the real /proc", pid)
	}
	child.Process.Kill()
	child.Wait()
	if s := r.Read([]int{pid}); s.Errors[pid] == "" {
		t.Errorf("child ended: %+v; want an error for %d", s, pid)
	}
	if len(r.procs) != 0 {
		t.Errorf("%d processes kept after the child ended; want none", len(r.procs))
	}
}

// A file kept open shows new data when read again from offset 0: a
// connection made after the first sample is in the second.
func TestReaderSeesANewConnectionThroughItsKeptFiles(t *testing.T) {
	r := NewReader("/proc")
	defer r.Close()
	pid := os.Getpid()
	r.Read([]int{pid})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := r.Read([]int{pid})
	if len(s.Namespaces) != 1 {
		t.Fatalf("namespaces = %+v; want this process's", s.Namespaces)
	}
	for _, conn := range s.Namespaces[0].Conns {
		if conn.Local == c.LocalAddr().String() && conn.Remote == l.Addr().String() {
			return
		}
	}
	t.Errorf("the connection %s -> %s is not in the second sample: %+v", c.LocalAddr(), l.Addr(), s.Namespaces[0].Conns)
}

// A quiet namespace's sample reads one kept file into a kept buffer:
// nothing is allocated.
func TestReaderAllocatesNothingForAQuietNamespace(t *testing.T) {
	proc := fakeProc(t, map[int][2]string{100: {tcpTable, ""}})
	writeNet(t, proc, 100, "dev", fmt.Sprintf(netDev, 1))
	writeNet(t, proc, 100, "snmp", fmt.Sprintf(snmp, 1, 10))
	r := NewReader(proc)
	defer r.Close()
	r.Read([]int{100})
	sp, base := r.procs[100].space, proc+"/100"
	if allocs := testing.AllocsPerRun(100, func() { r.refresh(sp, base) }); allocs != 0 {
		t.Errorf("refresh of a quiet namespace: %v allocations; want 0", allocs)
	}
	data := []byte(fmt.Sprintf(snmp, 1, 10))
	if allocs := testing.AllocsPerRun(100, func() { tcpCounters(data) }); allocs != 0 {
		t.Errorf("tcpCounters: %v allocations; want 0", allocs)
	}
}

func TestTCPCounters(t *testing.T) {
	got, ok := tcpCounters([]byte(fmt.Sprintf(snmp, 7, 10)))
	// ActiveOpens PassiveOpens CurrEstab EstabResets of the fake.
	if want := [4]uint64{7, 0, 1, 0}; !ok || got != want {
		t.Errorf("tcpCounters = %v, %v; want %v", got, ok, want)
	}
	for _, bad := range []string{"", "Tcp: ActiveOpens\n", "Tcp: ActiveOpens PassiveOpens CurrEstab EstabResets\nTcp: 1 2 x 4\n", "Tcp: ActiveOpens PassiveOpens\nTcp: 1 2\n"} {
		if _, ok := tcpCounters([]byte(bad)); ok {
			t.Errorf("tcpCounters(%q) accepted", bad)
		}
	}
}

// The namespaces read together at a sampling's start expire together:
// their refresh is spread over samples, not all in one.
func TestReaderSpreadsTheRefreshOfExpiredTables(t *testing.T) {
	proc := fakeProc(t, map[int][2]string{100: {tcpTable, ""}, 200: {tcpTable, ""}, 300: {tcpTable, ""}})
	for _, pid := range []int{100, 200, 300} {
		writeNet(t, proc, pid, "dev", fmt.Sprintf(netDev, pid))
		writeNet(t, proc, pid, "snmp", fmt.Sprintf(snmp, 1, 10))
	}
	r := NewReader(proc)
	defer r.Close()
	r.FullEvery, r.RefreshesPerSample = time.Nanosecond, 2
	pids := []int{100, 200, 300}
	r.Read(pids)
	if r.Reads != 3 {
		t.Fatalf("first sample: %d table reads, want 3", r.Reads)
	}
	r.Read(pids)
	if r.Reads != 5 {
		t.Errorf("all expired: %d table reads after the second sample, want 5 (2 refreshed)", r.Reads)
	}
	s := r.Read(pids)
	answered := 0
	for _, ns := range s.Namespaces {
		answered += len(ns.PIDs)
	}
	if r.Reads != 7 || answered != 3 {
		t.Errorf("third sample: %d table reads and %d PIDs answered, want 7 and all 3 (the cached still answer)", r.Reads, answered)
	}
}

// BenchmarkProcNetFile is the cost of one read of a /proc/<pid>/net file
// of this process's namespace, opened for the read (as the agent did) or
// kept open and read from offset 0 (as the Reader does for dev and snmp).
// ns/op is wall time, nearly all of it the kernel's (a busy machine adds
// its waits); BENCHMARKS-flows.md has the CPU measured with getrusage.
func BenchmarkProcNetFile(b *testing.B) {
	base := "/proc/" + strconv.Itoa(os.Getpid()) + "/net/"
	for _, name := range []string{"dev", "snmp", "sockstat", "tcp"} {
		b.Run(name+"/opened", func(b *testing.B) {
			for b.Loop() {
				if _, err := os.ReadFile(base + name); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/kept", func(b *testing.B) {
			f, err := os.Open(base + name)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			buf := make([]byte, 64<<10)
			for b.Loop() {
				if n, _ := f.ReadAt(buf, 0); n == 0 {
					b.Fatal("nothing read")
				}
			}
		})
	}
}
