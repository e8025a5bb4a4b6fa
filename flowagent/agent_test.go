package flowagent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const tcpTable = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0
   1: 030012AC:1F90 020012AC:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 1002 1 0000000000000000 20 4 30 10 -1
   2: 030012AC:1F90 020012AC:A1B4 06 00000000:00000000 03:00000ABC 00000000     0        0 0 3 0000000000000000
`

const tcp6Table = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF0000030012AC:0050 0000000000000000FFFF0000040012AC:C000 01 00000000:00000000 00:00000000 00000000     0        0 1003 1 0000000000000000 20 4 30 10 -1
   1: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1004 1 0000000000000000 100 0 0 10 0
`

func TestParseAddr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"030012AC:1F90", "172.18.0.3:8080"},
		{"0100007F:0050", "127.0.0.1:80"},
		{"00000000:0000", "0.0.0.0:0"},
		{"0000000000000000FFFF0000030012AC:0050", "172.18.0.3:80"},
		{"00000000000000000000000001000000:0016", "[::1]:22"},
		{"B80D0120000000000000000001000000:01BB", "[2001:db8::1]:443"},
	} {
		got, err := parseAddr(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseAddr(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"030012AC", "0300:1F90", "zz0012AC:1F90", "030012AC:FFFFF"} {
		if _, err := parseAddr(bad); err == nil {
			t.Errorf("parseAddr(%q) accepted", bad)
		}
	}
}

// fakeProc lays out /proc/<pid>/net/tcp{,6} for each pid; pids sharing a
// table share a namespace.
func fakeProc(t *testing.T, tables map[int][2]string) string {
	dir := t.TempDir()
	for pid, tab := range tables {
		net := filepath.Join(dir, itoa(pid), "net")
		if err := os.MkdirAll(net, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(net, "tcp"), []byte(tab[0]), 0o644)
		if tab[1] != "" {
			os.WriteFile(filepath.Join(net, "tcp6"), []byte(tab[1]), 0o644)
		}
	}
	return dir
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestReadKeepsEstablishedAndListenOncePerNamespace(t *testing.T) {
	proc := fakeProc(t, map[int][2]string{
		100: {tcpTable, tcp6Table},
		101: {tcpTable, tcp6Table}, // same namespace as 100
		200: {"header\n", ""},      // no sockets at all
	})
	s := Read(proc, []int{100, 101, 200, 300})
	if len(s.Namespaces) != 2 {
		t.Fatalf("namespaces = %+v, want 2", s.Namespaces)
	}
	ns := s.Namespaces[0]
	if ns.Key != "sockets:1001" || len(ns.PIDs) != 2 {
		t.Errorf("first namespace = %s pids %v, want sockets:1001 with 100 and 101", ns.Key, ns.PIDs)
	}
	wantConns := []Conn{{"172.18.0.3:8080", "172.18.0.2:41394", 1002}, {"172.18.0.3:80", "172.18.0.4:49152", 1003}}
	if len(ns.Conns) != 2 || ns.Conns[0] != wantConns[0] || ns.Conns[1] != wantConns[1] {
		t.Errorf("conns = %+v, want %+v (TIME_WAIT left out)", ns.Conns, wantConns)
	}
	if wantEnded := (Conn{Local: "172.18.0.3:8080", Remote: "172.18.0.2:41396"}); len(ns.Ended) != 1 || ns.Ended[0] != wantEnded {
		t.Errorf("ended = %+v, want the TIME_WAIT connection %+v", ns.Ended, wantEnded)
	}
	if strings.Join(ns.Listen, " ") != "0.0.0.0:8080 [::1]:22" {
		t.Errorf("listen = %v", ns.Listen)
	}
	if _, ok := s.Errors[300]; !ok {
		t.Errorf("a gone pid is no error: %v", s.Errors)
	}
}

func TestServeAnswersEachLine(t *testing.T) {
	proc := fakeProc(t, map[int][2]string{100: {tcpTable, ""}})
	var out bytes.Buffer
	if err := Serve(proc, strings.NewReader("100\n\n100 x\n"), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3: %s", len(lines), out.String())
	}
	var s Sample
	if err := json.Unmarshal([]byte(lines[2]), &s); err != nil || len(s.Namespaces) != 1 || len(s.Namespaces[0].Conns) != 1 {
		t.Errorf("third sample = %+v, %v", s, err)
	}
}

const snmp = `Ip: Forwarding DefaultTTL
Ip: 1 64
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
Tcp: 1 200 120000 -1 %d 0 0 0 1 %d 40 0 0 0 0
`

func TestReaderReadsATableAgainOnlyWhenItsNamespaceMoved(t *testing.T) {
	proc := fakeProc(t, map[int][2]string{100: {tcpTable, ""}})
	writeSnmp := func(opens, in int) {
		if err := os.WriteFile(filepath.Join(proc, "100", "net", "snmp"), []byte(fmt.Sprintf(snmp, opens, in)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeSnmp(1, 10)
	r := NewReader(proc)
	conns := func() int { return len(r.Read([]int{100}).Namespaces[0].Conns) }
	if n := conns(); n != 1 || r.Reads != 1 {
		t.Fatalf("first sample: %d conns, %d reads; want 1 and 1", n, r.Reads)
	}
	// A new connection in the table, but the counters stand still: a
	// table that cannot have changed is not read (the fake lies to show it).
	os.WriteFile(filepath.Join(proc, "100", "net", "tcp"), []byte(tcpTable+"   3: 030012AC:1F90 020012AC:A1B6 01 00000000:00000000 00:00000000 00000000     0        0 1005 1\n"), 0o644)
	if n := conns(); n != 1 || r.Reads != 1 {
		t.Errorf("quiet namespace: %d conns, %d reads; want the cached 1 and no read", n, r.Reads)
	}
	writeSnmp(1, 13) // keepalives or data: the connections stand
	if n := conns(); n != 1 || r.Reads != 1 {
		t.Errorf("segments alone: %d conns, %d reads; want the cached 1 and no read", n, r.Reads)
	}
	writeSnmp(2, 13) // a connection was opened
	if n := conns(); n != 2 || r.Reads != 2 {
		t.Errorf("after an open: %d conns, %d reads; want 2 and a second read", n, r.Reads)
	}
	r.FullEvery = 0
	conns()
	if r.Reads != 3 {
		t.Errorf("FullEvery 0: %d reads, want every sample read", r.Reads)
	}
}

// A connection closed (TIME_WAIT) is reported by the first sample that
// sees it closed only: the kernel keeps it a minute, and resending it every
// second made the answers of a busy engine several times larger.
func TestReaderReportsAClosedConnectionOnce(t *testing.T) {
	proc := fakeProc(t, map[int][2]string{100: {tcpTable, ""}})
	r := NewReader(proc)
	ended := func() []Conn { return r.Read([]int{100}).Namespaces[0].Ended }
	if got := ended(); len(got) != 1 {
		t.Fatalf("first sample: ended = %+v, want the one TIME_WAIT connection", got)
	}
	if got := ended(); len(got) != 0 {
		t.Errorf("second sample: ended = %+v, want none (already reported)", got)
	}
	more := tcpTable + "   3: 030012AC:1F90 020012AC:A1B6 06 00000000:00000000 03:00000ABC 00000000     0        0 0 3 0000000000000000\n"
	if err := os.WriteFile(filepath.Join(proc, "100", "net", "tcp"), []byte(more), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := ended(); len(got) != 1 || got[0].Remote != "172.18.0.2:41398" {
		t.Errorf("third sample: ended = %+v, want only the newly closed 172.18.0.2:41398", got)
	}
}

// A namespace as the last answer sent it goes out as its key alone, and
// whole again once it changed; one with ended connections always whole.
func TestServeSendsAnUnchangedNamespaceAsItsKey(t *testing.T) {
	proc := fakeProc(t, map[int][2]string{100: {tcpTable, ""}})
	var out bytes.Buffer
	// The table holds a connection in TIME_WAIT: the first answer reports
	// it as ended, so the namespace goes whole twice.
	if err := Serve(proc, strings.NewReader("100\n100\n100\n"), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3: %s", len(lines), out.String())
	}
	var first, second Sample
	if err := json.Unmarshal([]byte(lines[1]), &first); err != nil || len(first.Namespaces) != 1 || first.Namespaces[0].Same {
		t.Fatalf("first sample = %+v, %v: want the namespace whole", first, err)
	}
	if err := json.Unmarshal([]byte(lines[2]), &second); err != nil || len(second.Namespaces) != 1 {
		t.Fatalf("second sample = %+v, %v", second, err)
	}
	if ns := second.Namespaces[0]; !ns.Same || ns.Key != first.Namespaces[0].Key || len(ns.Conns)+len(ns.Listen)+len(ns.PIDs) != 0 {
		t.Errorf("unchanged namespace sent as %+v, want its key alone", ns)
	}

	ended := Namespace{Key: "k", Ended: []Conn{{Local: "10.0.0.2:4000", Remote: "10.0.0.3:80"}}}
	out1, sent := elide([]Namespace{ended}, nil)
	out2, _ := elide([]Namespace{ended}, sent)
	if out1[0].Same || out2[0].Same {
		t.Errorf("a namespace with ended connections was sent as unchanged")
	}
	changed := Namespace{Key: "k", Conns: []Conn{{Local: "10.0.0.2:4001", Remote: "10.0.0.3:80", Inode: 7}}}
	if out3, _ := elide([]Namespace{changed}, sent); out3[0].Same {
		t.Errorf("a changed namespace was sent as unchanged")
	}
}
