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

// IdleArgs is the command line of the container's own process.
func IdleArgs() []string { return []string{Command, "--idle"} }

// DialArgs is the command line an exec runs to reach addr.
func DialArgs(addr string) []string { return []string{"/topo", Command, addr} }

// Main runs the agent with the arguments after the subcommand and returns
// the exit status: 0 when the connection ended normally, 1 when it could
// not be made, 2 on bad arguments.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 1 && args[0] == "--idle" {
		// PID 1 of its container: the kernel ignores SIGTERM for it
		// unless it is handled, and topo stops the container with it.
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
		return 0
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
