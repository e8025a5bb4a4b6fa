package probeagent_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/probeagent"
)

// listen returns a loopback listener that accepts and closes connections.
func listen(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestProbeAgentMainPrintsOneResultPerAddress(t *testing.T) {
	open, closed := listen(t), closedPort(t)
	var stdout, stderr bytes.Buffer
	args := probeagent.Args(300*time.Millisecond, []string{open, closed})
	if args[0] != probeagent.Command {
		t.Fatalf("Args starts with %q, want the subcommand", args[0])
	}
	if code := probeagent.Main(args[1:], &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, stderr.String())
	}
	results, err := probeagent.Decode(&stdout)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0].Address != open || results[1].Address != closed {
		t.Fatalf("results %+v, want one per address in order", results)
	}
	if results[0].Outcome != model.OutcomeConnected {
		t.Errorf("listening address: %+v", results[0])
	}
	if results[1].Outcome != model.OutcomeRefused || results[1].Error == "" {
		t.Errorf("closed port: %+v, want refused with the error text", results[1])
	}
}

func TestProbeAgentRejectsBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"--timeout", "0s", "127.0.0.1:1"},
		{"not-an-address"},
		{"--bogus"},
	} {
		var stdout, stderr bytes.Buffer
		if code := probeagent.Main(args, &stdout, &stderr); code != 2 {
			t.Errorf("Main(%q) = %d, want 2", args, code)
		}
		if stdout.Len() != 0 || stderr.Len() == 0 {
			t.Errorf("Main(%q): stdout %q, stderr %q: want only an explanation on stderr", args, stdout.String(), stderr.String())
		}
	}
}

// TestProbeAgentDialsUnderAnExpiredContext: every attempt under an expired
// context ends as a timeout, none as a connection or an error of its own.
func TestProbeAgentDialsUnderAnExpiredContext(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	addrs := make([]string, 200)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("127.0.0.1:%d", 1+i)
	}
	for _, r := range probeagent.Dial(ctx, addrs, time.Second) {
		if r.Outcome != model.OutcomeTimeout {
			t.Fatalf("attempt under an expired context: %+v, want timeout", r)
		}
	}
}

func TestClassify(t *testing.T) {
	op := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)}
	}
	for _, tc := range []struct {
		err  error
		want model.ProbeOutcome
	}{
		{op(syscall.ECONNREFUSED), model.OutcomeRefused},
		{&net.OpError{Op: "dial", Err: os.ErrDeadlineExceeded}, model.OutcomeTimeout},
		{op(syscall.EHOSTUNREACH), model.OutcomeUnreachable},
		{op(syscall.ENETUNREACH), model.OutcomeUnreachable},
		{op(syscall.EADDRNOTAVAIL), model.OutcomeUnreachable},
		{op(syscall.EMFILE), model.OutcomeError},
		{errors.New("strange"), model.OutcomeError},
	} {
		if got := probeagent.Classify(tc.err); got != tc.want {
			t.Errorf("Classify(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestDecodeSaysWhatFailed(t *testing.T) {
	_, err := probeagent.Decode(strings.NewReader("exec format error"))
	if err == nil || !strings.Contains(err.Error(), "probe agent's results") {
		t.Errorf("Decode of garbage: %v", err)
	}
}
