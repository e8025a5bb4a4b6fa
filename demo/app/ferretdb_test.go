package app

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/topo-dev/topo/internal/syncbuf"
	"github.com/topo-dev/topo/internal/testenv"
)

// ferretDBBinary finds bin/ferretdb at the repository root or on PATH.
func ferretDBBinary(t *testing.T) string {
	t.Helper()
	if dir, err := os.Getwd(); err == nil {
		for ; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				p := filepath.Join(dir, "bin", "ferretdb")
				if _, err := os.Stat(p); err == nil {
					return p
				}
				break
			}
			if dir == filepath.Dir(dir) {
				break
			}
		}
	}
	if p, err := exec.LookPath("ferretdb"); err == nil {
		return p
	}
	testenv.Missing(t, "ferretdb not found in bin/ or on PATH: run scripts/ferretdb.sh to build it")
	return ""
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startFerretDB runs FerretDB with its SQLite backend in temporary
// directories on the given loopback port, waits until it accepts
// connections and stops it at cleanup.
func startFerretDB(t *testing.T, port int) {
	t.Helper()
	bin := ferretDBBinary(t)
	dir := t.TempDir()
	data, state := filepath.Join(dir, "data"), filepath.Join(dir, "state")
	for _, d := range []string{data, state} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	addr := net.JoinHostPort("127.0.0.1", itoa(port))
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"FERRETDB_HANDLER=sqlite",
		"FERRETDB_SQLITE_URL=file:"+data+"/",
		"FERRETDB_LISTEN_ADDR="+addr,
		"FERRETDB_STATE_DIR="+state,
		"FERRETDB_TELEMETRY=disable",
		"FERRETDB_DEBUG_ADDR=-",
		"FERRETDB_LOG_LEVEL=warn",
	)
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ferretdb: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(testenv.Patience(5 * time.Second)):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("ferretdb output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("ferretdb exited before listening on %s:\n%s", addr, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("ferretdb not listening on %s within 15s:\n%s", addr, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startApp serves the app on a random loopback port until the test ends
// and returns its base URL.
func startApp(t *testing.T, cfg Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, cfg, testLogger(t)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}
