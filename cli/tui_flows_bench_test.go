//go:build flowsbench

// The TUI's flows benchmark starts dozens of containers and runs for a few
// minutes, so it is built only with -tags flowsbench:
//
//	go test -tags flowsbench -count=1 -run TestFlowsTUIBenchmark -v ./cli
//	TOPO_FLOWS_BENCH_N=50 (containers; half servers, half clients holding 4 connections each)

package cli

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/tmuxtest"
)

// TestFlowsTUIBenchmark measures topo's own CPU over 60 s with flows off
// and then on, with N containers holding connections, and the time from a
// new client's start (it connects at once) to its flow on screen.
func TestFlowsTUIBenchmark(t *testing.T) {
	n := 50
	if s := os.Getenv("TOPO_FLOWS_BENCH_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	bin := tmuxtest.BuildTopo(t)
	netName := env.Name("bench")
	env.CreateNetwork(t, "bench", nil)
	compose := func(service string) map[string]string {
		return map[string]string{
			"com.docker.compose.project": env.Prefix, "com.docker.compose.service": service,
			"com.docker.compose.container-number": "1",
		}
	}
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	for i := range n / 2 {
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			srv := fmt.Sprintf("srv%d", i)
			env.Run(t, dockertest.ContainerSpec{Suffix: srv, Image: image, Networks: []string{netName}, Start: true, Labels: compose(srv)})
			env.Run(t, dockertest.ContainerSpec{Suffix: fmt.Sprintf("cli%d", i), Image: image, Networks: []string{netName}, Start: true,
				Labels: compose(fmt.Sprintf("cli%d", i)), Env: []string{"CONNECT=" + env.Name(srv) + ":8080", "CONNECTIONS=4", "LISTEN=8081"}})
			errs <- nil
		}()
	}
	for range n / 2 {
		<-errs
	}

	term := tmuxtest.Start(t, 200, 50, nil, bin)
	term.WaitForText(30*time.Second, "● live")
	pid := topoPID(t, term)
	term.Send("/")
	term.Send("-l", env.Prefix)
	term.Send("Enter")
	term.WaitForText(30*time.Second, "cli0.1")
	time.Sleep(5 * time.Second) // let the start settle

	measure := func(what string) float64 {
		load0 := loadAvg()
		c0, t0 := cpuTicks(t, pid), time.Now()
		time.Sleep(60 * time.Second)
		c1, t1 := cpuTicks(t, pid), time.Now()
		pct := float64(c1-c0) / 100 / t1.Sub(t0).Seconds() * 100
		t.Logf("topo CPU, flows %s: %.2f %% of a core over %.0f s (load average before %s, after %s)", what, pct, t1.Sub(t0).Seconds(), load0, loadAvg())
		return pct
	}
	off := measure("off")
	term.Send("f")
	term.WaitFor(120*time.Second, "the bench's flows on screen", func(s string) bool {
		return strings.Contains(s, fmt.Sprintf("Flows · %d paths", n/2))
	})
	on := measure("on")
	t.Logf("flows on costs topo %.2f points of a core", on-off)

	// Latency: the panel narrowed to the new clients, so none is cut off.
	term.Send("/")
	term.Send("C-u")
	term.Send("-l", env.Prefix+"-lat")
	term.Send("Enter")
	in, err := env.Client.ContainerInspect(context.Background(), env.Name("srv0"))
	if err != nil {
		t.Fatal(err)
	}
	srvPID := in.State.Pid
	var lat, fromStart []time.Duration
	for i := range 5 {
		name := fmt.Sprintf("lat%d", i)
		id := env.Run(t, dockertest.ContainerSpec{Suffix: name, Image: image, Networks: []string{netName}, Labels: compose(name),
			Env: []string{"CONNECT=" + env.Name("srv0") + ":8080", "CONNECTIONS=1", "LISTEN=8081"}})
		before := established(srvPID)
		start := time.Now()
		if err := env.Client.ContainerStart(context.Background(), id, container.StartOptions{}); err != nil {
			t.Fatal(err)
		}
		// The connection is made when the server's table holds one more
		// (read from the host every 2 ms); then the screen is watched.
		for established(srvPID) <= before {
			if time.Since(start) > 30*time.Second {
				t.Fatalf("%s made no connection in 30 s", name)
			}
			time.Sleep(2 * time.Millisecond)
		}
		made := time.Now()
		for !strings.Contains(term.Capture(), name+".1 → srv0.1:8080") {
			if time.Since(start) > 30*time.Second {
				t.Fatalf("the flow of %s not on screen after 30 s:\n%s", name, term.Capture())
			}
			time.Sleep(20 * time.Millisecond)
		}
		lat = append(lat, time.Since(made))
		fromStart = append(fromStart, time.Since(start))
	}
	for _, l := range [][]time.Duration{lat, fromStart} {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	}
	t.Logf("connection made -> its flow on screen: median %v, max %v (%v)", lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), lat)
	t.Logf("client start -> its flow on screen: median %v, max %v", fromStart[len(fromStart)/2].Round(time.Millisecond), fromStart[len(fromStart)-1].Round(time.Millisecond))
	term.Send("q")
	term.WaitForText(20*time.Second, "[exited 0]")
}

// cpuTicks is the process's user and system time in clock ticks (100 a
// second on Linux).
func cpuTicks(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// The command name may hold spaces: the fields start after its ")".
	fields := strings.Fields(string(data)[strings.LastIndex(string(data), ")")+2:])
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return utime + stime
}

// established counts the established connections to port 8080 in the
// network namespace of the process pid.
func established(pid int) int {
	// Go listens on [::]: IPv4 clients show in tcp6, v4-mapped.
	v4, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/net/tcp")
	v6, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/net/tcp6")
	n := 0
	for _, line := range strings.Split(string(v4)+string(v6), "\n") {
		f := strings.Fields(line)
		if len(f) > 3 && strings.HasSuffix(f[1], ":1F90") && f[3] == "01" {
			n++
		}
	}
	return n
}

func loadAvg() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
