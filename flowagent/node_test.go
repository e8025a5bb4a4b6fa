package flowagent

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestContainerIDOfCgroup(t *testing.T) {
	id := "c22fedb6daca86ad74b7e03b973241f26b65ba3e5b526739cca7817ba6ab1259"
	node := "90952ae7158b89bedff4385f0b4eb9562eb81396f6cc339edf9a11800aef09c9"
	for _, tc := range []struct{ name, in, want string }{
		{"cgroupfs v1", "12:pids:/docker/" + id + "\n11:cpu:/docker/" + id + "\n", id},
		{"nested engine: the inner container", "9:pids:/docker/" + node + "/docker/" + id + "\n", id},
		{"nested engine: its own daemon", "9:pids:/docker/" + node + "\n", node},
		{"systemd driver", "0::/system.slice/docker-" + id + ".scope\n", id},
		{"private cgroup namespace", "0::/../" + id + "\n", id},
		{"a host process", "0::/system.slice/sshd.service\n1:name=systemd:/\n", ""},
		{"65 digits is no ID", "0::/docker/" + id + "a\n", ""},
		{"upper case is no ID", "0::/docker/" + "C22FEDB6DACA86AD74B7E03B973241F26B65BA3E5B526739CCA7817BA6AB1259\n", ""},
	} {
		if got := ContainerIDOfCgroup([]byte(tc.in)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestNodeLinesGatherBack writes a node's samples from a copy of /proc
// (two containers of one process each, a host process) and reads them
// back: the connections attributed to the containers' IDs, an unchanged
// namespace not printed again until the full sample, a namespace of many
// connections cut into lines and put together again.
func TestNodeLinesGatherBack(t *testing.T) {
	idA := "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	idB := "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	big := strings.SplitAfter(tcpTable, "\n")[0]
	for i := 0; i < 150; i++ {
		big += "   1: 030012AC:1F90 020012AC:" + strconv.FormatInt(int64(0xA000+i), 16) + " 01 00000000:00000000 00:00000000 00000000     0        0 " + strconv.Itoa(2000+i) + " 1 0000000000000000 20 4 30 10 -1\n"
	}
	proc := fakeProc(t, map[int][2]string{10: {tcpTable, ""}, 20: {big, ""}, 30: {tcpTable, ""}})
	cg := map[int]string{10: "0::/docker/" + idA + "\n", 20: "0::/docker/" + idB + "\n", 30: "0::/system.slice/ssh.service\n"}
	for pid, text := range cg {
		if err := os.WriteFile(filepath.Join(proc, strconv.Itoa(pid), "cgroup"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	w := NewNodeWriter("node1", proc, &out)
	defer w.Close()
	g := NewGather()
	read := func() (lines int) {
		t.Helper()
		if err := w.Write(); err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(&out)
		for dec.More() {
			var l NodeLine
			if err := dec.Decode(&l); err != nil {
				t.Fatal(err)
			}
			g.Add(l, time.Now())
			lines++
		}
		return lines
	}
	if n := read(); n != 1+1+3 { // A, B in three lines (150 of 64 a line), the end
		t.Fatalf("first sample: %d lines, want 5", n)
	}
	st := g.Take()["node1"]
	if !st.Whole || len(st.Namespaces) != 2 {
		t.Fatalf("first sample: %+v", st)
	}
	conns := map[string]int{}
	ended := 0
	for _, ns := range st.Namespaces {
		ended += len(ns.Ended)
		if len(ns.Containers) != 1 {
			t.Fatalf("namespace %s: containers %v", ns.Key, ns.Containers)
		}
		conns[ns.Containers[0]] = len(ns.Conns)
	}
	if conns[idA] != 1 || conns[idB] != 150 {
		t.Errorf("connections per container: %v, want 1 of A and 150 of B", conns)
	}
	if ended != 1 {
		t.Errorf("%d ended connections, want A's one", ended)
	}
	// A's closed connection is reported once: A changed.
	if n := read(); n != 2 {
		t.Errorf("second sample: %d lines, want A's and the end line", n)
	}
	if n := read(); n != 1 {
		t.Errorf("third sample, nothing changed: %d lines, want the end line only", n)
	}
	st = g.Take()["node1"]
	if !st.Whole || len(st.Namespaces) != 2 {
		t.Fatalf("third sample: %d namespaces (whole %v), want the 2 kept", len(st.Namespaces), st.Whole)
	}
	for _, ns := range st.Namespaces {
		if len(ns.Ended) != 0 {
			t.Errorf("namespace %v: ended %v again", ns.Containers, ns.Ended)
		}
	}
}
