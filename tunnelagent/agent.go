// Package tunnelagent is the half of an engine tunnel that runs inside a
// container's network namespace: topo's own static binary, in a FROM
// scratch image that joined the namespace (`--network container:<id>`),
// started by `docker exec` as `topo tunnel-agent HOST:PORT`. It connects to
// HOST:PORT there and copies its standard input to the connection and the
// connection to its standard output, so that topo reaches a port that is
// published nowhere (Consul on a swarm overlay) through the engine's API
// alone. The same binary started as `topo tunnel-agent --idle` is the
// container's long-lived process that the execs run beside.
//
// It depends on the standard library only.
package tunnelagent

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Command is the hidden subcommand that runs the agent.
const Command = "tunnel-agent"

// Ready is the byte the agent writes first once it is connected: the
// dialling side waits for it, so that a refused connection is an error of
// the dial (with the agent's reason on stderr) and not an empty stream.
const Ready = '+'

// DialTimeout bounds the agent's connection attempt.
const DialTimeout = 5 * time.Second

// IdleLimit is how long the container's own process waits with no
// connection (no other process in the container) before it ends, and the
// container with it (it is started with auto-remove). topo removes its
// tunnel containers when it exits; this is for when it cannot (killed),
// so that none is left for long.
const IdleLimit = 2 * time.Minute

// IdleArgs is the command line of the container's own process.
func IdleArgs() []string { return []string{Command, "--idle"} }

// DialArgs is the command line an exec runs to reach addr.
func DialArgs(addr string) []string { return []string{"/topo", Command, addr} }

// Main runs the agent with the arguments after the subcommand and returns
// the exit status: 0 when the connection ended normally, 1 when it could
// not be made, 2 on bad arguments.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 1 && args[0] == "--idle" {
		return idle("/proc", IdleLimit, 5*time.Second)
	}
	if len(args) != 1 {
		fmt.Fprintf(stderr, "usage: topo %s HOST:PORT | --idle\n", Command)
		return 2
	}
	conn, err := net.DialTimeout("tcp", args[0], DialTimeout)
	if err != nil {
		fmt.Fprintf(stderr, "%s: connect to %s: %v\n", Command, args[0], err)
		return 1
	}
	defer conn.Close()
	if _, err := stdout.Write([]byte{Ready}); err != nil {
		return 1
	}
	return relay(conn.(*net.TCPConn), stdin, stdout)
}

// relay copies both ways until the connection's side is done: the input
// ending closes the connection's write half (the peer sees EOF and
// answers), the connection ending ends the agent.
func relay(conn *net.TCPConn, stdin io.Reader, stdout io.Writer) int {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(conn, stdin)
		_ = conn.CloseWrite()
	}()
	_, err := io.Copy(stdout, conn)
	// The input may never end (the exec's stdin stays open until topo
	// closes it): do not wait for it once the connection is over.
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return 1
	}
	return 0
}

// idle is the container's own process: it ends on SIGTERM (as PID 1 the
// kernel ignores the signal unless it is handled, and topo stops the
// container with it), or once no other process (no connection) has run in
// the container for limit. It looks every interval, in procDir.
func idle(procDir string, limit, interval time.Duration) int {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	lastBusy := time.Now()
	for {
		select {
		case <-stop:
			return 0
		case now := <-tick.C:
			if othersRunning(procDir) {
				lastBusy = now
			} else if now.Sub(lastBusy) >= limit {
				return 0
			}
		}
	}
}

// othersRunning says whether procDir lists a process other than this one.
func othersRunning(procDir string) bool {
	entries, err := os.ReadDir(procDir)
	if err != nil {
		return true // cannot tell: stay
	}
	self := strconv.Itoa(os.Getpid())
	for _, e := range entries {
		name := e.Name()
		if name == self || name[0] < '0' || name[0] > '9' {
			continue
		}
		return true
	}
	return false
}
