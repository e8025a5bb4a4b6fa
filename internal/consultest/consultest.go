// Package consultest gives tests a real Consul agent: `consul agent -dev` on
// loopback, on random free ports, with its own data directory, killed when
// the test ends. The binary is bin/consul at the repository root (built by
// scripts/consul.sh) or consul on PATH; without it the test is skipped.
//
// Only Consul v1.14.x is accepted: it is the newest MPL-2.0 release, and a
// newer binary on PATH is refused rather than silently used.
package consultest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/topo-dev/topo/internal/syncbuf"
	"github.com/topo-dev/topo/internal/testenv"
)

// wantVersion is the release line tests accept.
const wantVersion = "Consul v1.14."

// startTimeout bounds how long an agent may take to elect itself leader:
// under a second on a quiet machine; 20 s ran out under a load of 40 on
// two cores, which says nothing about the tests' subject.
const startTimeout = 2 * time.Minute

// Agent is a running (or stopped) dev agent.
type Agent struct {
	// Addr is the HTTP address, host:port.
	Addr string
	// Node is the agent's node name, unique per test.
	Node string
	// Token is the management token when ACLs are on (WithACL).
	Token string

	t    testing.TB
	bin  string
	args []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	log    *syncbuf.Buffer
}

// Option changes how an agent is started.
type Option func(*config)

type config struct {
	clientAddr string
	httpPort   int
	aclToken   string
}

// WithClientAddr binds the HTTP API to another loopback address than
// 127.0.0.1, such as 127.0.0.23, so that a test can give it a fixed port
// without clashing with anything on 127.0.0.1.
func WithClientAddr(ip string) Option { return func(c *config) { c.clientAddr = ip } }

// WithHTTPPort fixes the HTTP port instead of picking a free one.
func WithHTTPPort(port int) Option { return func(c *config) { c.httpPort = port } }

// WithACL turns ACLs on with default-deny, token being the initial
// management token; Client uses it.
func WithACL(token string) Option { return func(c *config) { c.aclToken = token } }

// Binary returns the path of a Consul v1.14 binary, or an error saying how
// to get one.
func Binary() (string, error) { return findBinary() }

var findBinary = sync.OnceValues(func() (string, error) {
	var candidates []string
	if root, err := repoRoot(); err == nil {
		candidates = append(candidates, filepath.Join(root, "bin", "consul"))
	}
	if p, err := exec.LookPath("consul"); err == nil {
		candidates = append(candidates, p)
	}
	var refused []string
	for _, p := range candidates {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		out, err := exec.Command(p, "version").Output()
		first, _, _ := strings.Cut(string(out), "\n")
		if err == nil && strings.HasPrefix(first, wantVersion) {
			return p, nil
		}
		refused = append(refused, fmt.Sprintf("%s (%q)", p, strings.TrimSpace(first)))
	}
	msg := "no consul binary at <repo>/bin/consul or on PATH: run scripts/consul.sh to build Consul v1.14.11"
	if len(refused) > 0 {
		msg += "; refused, not v1.14: " + strings.Join(refused, ", ")
	}
	return "", errors.New(msg)
})

// repoRoot walks up from the working directory to topo's own go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module github.com/topo-dev/topo\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of module github.com/topo-dev/topo above the working directory")
		}
		dir = parent
	}
}

// Start runs a dev agent for the test and waits until it has a leader. It
// skips the test when no suitable binary exists.
func Start(t testing.TB, opts ...Option) *Agent {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		testenv.Missing(t, "%v", err)
	}
	cfg := config{clientAddr: "127.0.0.1"}
	for _, o := range opts {
		o(&cfg)
	}
	ports, err := freePorts(4)
	if err != nil {
		t.Fatalf("consultest: finding free ports: %v", err)
	}
	if cfg.httpPort == 0 {
		p, err := freePorts(1)
		if err != nil {
			t.Fatalf("consultest: finding a free port: %v", err)
		}
		cfg.httpPort = p[0]
	}
	a := &Agent{
		t:     t,
		bin:   bin,
		Addr:  net.JoinHostPort(cfg.clientAddr, strconv.Itoa(cfg.httpPort)),
		Node:  "topotest-" + randomHex(4),
		Token: cfg.aclToken,
	}
	a.args = []string{
		"agent", "-dev",
		"-node", a.Node,
		"-bind", "127.0.0.1",
		"-client", cfg.clientAddr,
		"-http-port", strconv.Itoa(cfg.httpPort),
		"-dns-port", strconv.Itoa(ports[0]),
		"-server-port", strconv.Itoa(ports[1]),
		"-serf-lan-port", strconv.Itoa(ports[2]),
		"-serf-wan-port", strconv.Itoa(ports[3]),
		"-grpc-port=-1",
		"-grpc-tls-port=-1",
		"-data-dir", t.TempDir(),
		"-log-level", "warn",
		// Tests run offline: no call home, no node ID from the host.
		"-hcl", "disable_update_check = true",
		"-disable-host-node-id",
	}
	if cfg.aclToken != "" {
		a.args = append(a.args, "-hcl", fmt.Sprintf(
			`acl { enabled = true, default_policy = "deny", tokens { initial_management = %q } }`, cfg.aclToken))
	}
	t.Cleanup(func() {
		a.Stop()
		if t.Failed() {
			t.Logf("consul agent log (tail):\n%s", a.logTail(40))
		}
	})
	a.start()
	return a
}

// Client returns an API client for the agent.
func (a *Agent) Client() *api.Client {
	a.t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = a.Addr
	// Never the environment's CONSUL_HTTP_TOKEN: tests set it to check
	// what topo does with it.
	cfg.Token = a.Token
	c, err := api.NewClient(cfg)
	if err != nil {
		a.t.Fatalf("consultest: api client for %s: %v", a.Addr, err)
	}
	return c
}

// Stop kills the agent (SIGKILL: a crash, not a graceful leave) and waits
// for it to exit. Stopping a stopped agent does nothing.
func (a *Agent) Stop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cmd == nil {
		return
	}
	_ = a.cmd.Process.Kill()
	<-a.exited
	a.cmd = nil
}

// Restart kills the agent and starts it again on the same ports and data
// directory, and waits for its leader. Its raft state is in memory, so the
// catalog's indexes start low again; the services registered through the
// agent come back from its data directory (TTL checks critical until
// updated), as they would on a real agent.
func (a *Agent) Restart() {
	a.t.Helper()
	a.Stop()
	a.start()
}

func (a *Agent) start() {
	a.t.Helper()
	a.mu.Lock()
	if a.log == nil {
		a.log = &syncbuf.Buffer{}
	}
	cmd := exec.Command(a.bin, a.args...)
	cmd.Stdout, cmd.Stderr = a.log, a.log
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		a.mu.Unlock()
		a.t.Fatalf("consultest: starting %s: %v", a.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		// Bound to the process: it ends when the agent exits.
		_ = cmd.Wait()
		close(exited)
	}()
	a.cmd, a.exited = cmd, exited
	a.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := a.waitLeader(ctx, exited); err != nil {
		a.Stop()
		a.t.Fatalf("consultest: agent on %s not ready: %v\n%s", a.Addr, err, a.logTail(40))
	}
}

// waitLeader polls /v1/status/leader until it names a leader.
func (a *Agent) waitLeader(ctx context.Context, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.Addr+"/v1/status/leader", nil)
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && len(bytes.Trim(bytes.TrimSpace(body), `"`)) > 0 {
				return nil
			}
			last = fmt.Errorf("leader answer %d %q", resp.StatusCode, body)
		} else {
			last = err
		}
		select {
		case <-exited:
			return errors.New("agent exited")
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-tick.C:
		}
	}
}

func (a *Agent) logTail(n int) string {
	if a.log == nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(a.log.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freePorts finds n distinct ports free for both TCP and UDP on 127.0.0.1
// (Consul's DNS and Serf ports use both). All are held until all are found
// so that no two are the same; the agent may still lose a race for one to
// another process, which fails the start loudly rather than flakily.
func freePorts(n int) ([]int, error) {
	var (
		ports   []int
		holders []io.Closer
	)
	defer func() {
		for _, h := range holders {
			h.Close()
		}
	}()
	for attempts := 0; len(ports) < n; attempts++ {
		if attempts > 50*n {
			return nil, errors.New("no free TCP+UDP port pair after many attempts")
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			l.Close()
			continue
		}
		holders = append(holders, l, u)
		ports = append(ports, port)
	}
	return ports, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
