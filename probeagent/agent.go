// Package probeagent is the half of a reachability probe that runs inside
// the probed container's network namespace: topo's own static binary, in a
// FROM scratch image, started as `topo probe-agent`. It dials every address
// at once with a short timeout and prints one JSON document, so that the
// target images need no tools and the probe costs one timeout, not one per
// address. It depends on the standard library and model only.
package probeagent

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/topo-dev/topo/model"
)

// Command is the hidden subcommand that runs the agent.
const Command = "probe-agent"

// DefaultTimeout bounds one connection attempt. Docker's isolation drops
// packets rather than refusing them, so an isolated address only ever
// answers with this timeout; a container on the same host answers a
// reachable one in well under a millisecond.
const DefaultTimeout = 400 * time.Millisecond

// maxParallel caps the sockets open at once; far above any real topology's
// address count, it only guards against a runaway argument list.
const maxParallel = 1024

// Output is the agent's JSON document on stdout.
type Output struct {
	Results []model.ProbeResult `json:"results"`
}

// Args is the command line that runs the agent: subcommand, flags, then
// the addresses (host:port, IPv6 in brackets).
func Args(timeout time.Duration, addrs []string) []string {
	return append([]string{Command, "--timeout", timeout.String()}, addrs...)
}

// Main runs the agent with the arguments after the subcommand and returns
// the exit status: 0 when it printed results (whatever they say), 2 on bad
// arguments.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(Command, flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", DefaultTimeout, "bound of each connection attempt")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *timeout <= 0 {
		fmt.Fprintf(stderr, "%s: --timeout must be positive, got %v\n", Command, *timeout)
		return 2
	}
	for _, a := range fs.Args() {
		if _, _, err := net.SplitHostPort(a); err != nil {
			fmt.Fprintf(stderr, "%s: %q is not host:port: %v\n", Command, a, err)
			return 2
		}
	}
	out := Output{Results: Dial(context.Background(), fs.Args(), *timeout)}
	if err := json.NewEncoder(stdout).Encode(out); err != nil {
		fmt.Fprintf(stderr, "%s: write results: %v\n", Command, err)
		return 1
	}
	return 0
}

// Dial tries a TCP connection to every address concurrently, each bounded
// by timeout, and returns one result per address in the given order.
func Dial(ctx context.Context, addrs []string, timeout time.Duration) []model.ProbeResult {
	return dialAll(addrs, func(addr string) model.ProbeResult { return dialOne(ctx, addr, timeout) })
}

// dialAll runs dial for every address, maxParallel at a time, so that a
// probe's wall time is that of its slowest attempts rather than their sum.
func dialAll(addrs []string, dial func(addr string) model.ProbeResult) []model.ProbeResult {
	results := make([]model.ProbeResult, len(addrs))
	sem := make(chan struct{}, maxParallel)
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = dial(addr)
		}()
	}
	wg.Wait()
	return results
}

func dialOne(ctx context.Context, addr string, timeout time.Duration) model.ProbeResult {
	d := net.Dialer{Timeout: timeout}
	start := time.Now()
	conn, err := d.DialContext(ctx, "tcp", addr)
	r := model.ProbeResult{Address: addr, Millis: float64(time.Since(start).Microseconds()) / 1000}
	if err == nil {
		conn.Close()
		r.Outcome = model.OutcomeConnected
		return r
	}
	r.Outcome, r.Error = Classify(err), err.Error()
	return r
}

// Classify names what a failed connection attempt says about the path.
func Classify(err error) model.ProbeOutcome {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return model.OutcomeRefused
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return model.OutcomeTimeout
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EAFNOSUPPORT):
		// EADDRNOTAVAIL and EAFNOSUPPORT: an IPv6 address dialled from a
		// namespace without IPv6, which is isolation too.
		return model.OutcomeUnreachable
	}
	return model.OutcomeError
}

// Decode reads the agent's JSON document.
func Decode(r io.Reader) ([]model.ProbeResult, error) {
	var out Output
	if err := json.NewDecoder(r).Decode(&out); err != nil {
		return nil, fmt.Errorf("read the probe agent's results: %w", err)
	}
	return out.Results, nil
}
