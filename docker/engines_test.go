package docker_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/swarmtest"
	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/model"
)

// cleanEngineEnv makes the test's own settings the only ones ResolveHost
// and client.FromEnv see.
func cleanEngineEnv(t *testing.T) string {
	for _, k := range []string{"DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"} {
		t.Setenv(k, "")
	}
	cfg := t.TempDir()
	t.Setenv("DOCKER_CONFIG", cfg)
	return cfg
}

// writeEngineContext writes a docker context the way `docker context create`
// stores it: meta.json and the TLS files under the SHA-256 of its name.
func writeEngineContext(t *testing.T, configDir, name, host string, skipVerify bool, tlsFiles map[string][]byte) {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	key := hex.EncodeToString(sum[:])
	meta := filepath.Join(configDir, "contexts", "meta", key)
	if err := os.MkdirAll(meta, 0o700); err != nil {
		t.Fatal(err)
	}
	data := fmt.Sprintf(`{"Name":%q,"Metadata":{},"Endpoints":{"docker":{"Host":%q,"SkipTLSVerify":%v}}}`, name, host, skipVerify)
	if err := os.WriteFile(filepath.Join(meta, "meta.json"), []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if len(tlsFiles) > 0 {
		dir := filepath.Join(configDir, "contexts", "tls", key, "docker")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		for f, b := range tlsFiles {
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// probeAndSync connects to host as topo does and reads the topology.
func probeAndSync(t *testing.T, host string) (*docker.Engine, model.Topology) {
	t.Helper()
	e, err := docker.Connect(host)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Patience(30*time.Second))
	defer cancel()
	if _, err := e.Ping(ctx); err != nil {
		t.Fatalf("probe: %v", err)
	}
	topo, err := e.Sync(ctx)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return e, topo
}

func hasNetwork(topo model.Topology, name string) bool {
	for _, n := range topo.Networks {
		if n.Name == name {
			return true
		}
	}
	return false
}

// TestSSHEngineShowsLanesAndFollowsEvents reaches a Docker-in-Docker
// engine as ssh://root@<node>, the way `docker -H ssh://` does (the system
// ssh running `docker system dial-stdio` there), and through a docker
// context naming that address: lanes read, events followed, an action run.
func TestSSHEngineShowsLanesAndFollowsEvents(t *testing.T) {
	cfg := cleanEngineEnv(t)
	dir, pub := swarmtest.SSHClient(t)
	img := dockertest.TestServerImage(t)
	c := swarmtest.StartEngine(t, swarmtest.EngineOptions{Images: []string{img}})
	n := c.Manager()
	swarmtest.TrustSSH(t, dir, c.StartSSH(t, n, pub))
	host := "ssh://root@" + n.IP

	// Objects made on the remote engine, where only this test works.
	net1 := c.Env.Name("lane")
	c.Exec(t, n, "docker", "network", "create", net1)
	c.Exec(t, n, "docker", "run", "-d", "--name", c.Env.Name("app"), "--network", net1, img)

	t.Run("host", func(t *testing.T) {
		e, topo := probeAndSync(t, host)
		if e.Host != host {
			t.Errorf("engine host = %q, want %q", e.Host, host)
		}
		if !hasNetwork(topo, net1) {
			t.Fatalf("the lane %s made on the remote engine is missing over ssh: %v", net1, topo.Networks)
		}
		var onLane bool
		for _, ct := range topo.Containers {
			for _, ep := range ct.Endpoints {
				onLane = onLane || (ep.NetworkName == net1 && ep.IP() != "")
			}
		}
		if !onLane {
			t.Errorf("no container with an address on %s over ssh", net1)
		}

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		updates := make(chan model.Update, 64)
		go e.Watch(ctx, updates)
		waitUpdate(t, updates, "the first snapshot over ssh", func(u model.Update) bool { return u.Snapshot != nil })
		net2 := c.Env.Name("later")
		c.Exec(t, n, "docker", "network", "create", net2)
		waitUpdate(t, updates, "the create event of "+net2+" over ssh", func(u model.Update) bool {
			return u.Event != nil && strings.Contains(fmt.Sprint(*u.Event), net2)
		})

		// An action goes over the same connection, and its event comes back.
		app := c.Env.Name("app")
		var appID string
		for id, ct := range topo.Containers {
			if ct.Name == app {
				appID = id
			}
		}
		if err := e.Do(ctx, model.ActionStop, appID); err != nil {
			t.Fatalf("stop %s over ssh: %v", app, err)
		}
		waitUpdate(t, updates, "the stop of "+app+" over ssh", func(u model.Update) bool {
			return u.Event != nil && u.Event.ActorID == appID && (u.Event.BaseAction() == "die" || u.Event.BaseAction() == "stop")
		})
	})

	t.Run("probe", func(t *testing.T) {
		// The isolation probe over ssh: topo's own image is built on the
		// remote engine through the API and run in the subject's network
		// namespace there, as on a local engine.
		net3 := c.Env.Name("apart")
		c.Exec(t, n, "docker", "network", "create", net3)
		// (app was stopped above.)
		for name, network := range map[string]string{"peer": net1, "neighbour": net1, "stranger": net3} {
			c.Exec(t, n, "docker", "run", "-d", "--name", c.Env.Name(name), "--network", network,
				"--expose", "8080", "-e", "LISTEN=8080", img)
		}
		e, err := docker.Connect(host)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		prober := docker.NewProber(e, docker.ProberOptions{Binary: probeAgentBinary(t), DialTimeout: time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), testenv.Patience(2*time.Minute))
		defer cancel()
		from := c.Env.Name("peer")
		for target, want := range map[string]model.Verdict{"neighbour": model.VerdictReachable, "stranger": model.VerdictIsolated} {
			rep, err := prober.ProbeTo(ctx, from, c.Env.Name(target), 8080)
			if err != nil {
				t.Fatalf("probe from %s to %s over ssh: %v", from, target, err)
			}
			if len(rep.Lines) != 1 || rep.Lines[0].Verdict != want {
				t.Errorf("probe from %s to %s over ssh: %+v; want one line %q", from, target, rep.Lines, want)
			}
		}
	})

	t.Run("context", func(t *testing.T) {
		writeEngineContext(t, cfg, "remote", host, false, nil)
		t.Setenv("DOCKER_CONTEXT", "remote")
		e, topo := probeAndSync(t, "")
		if e.Host != host || !strings.Contains(e.Source, `"remote"`) {
			t.Errorf("engine = %q from %q, want %q from the context", e.Host, e.Source, host)
		}
		if !hasNetwork(topo, net1) {
			t.Fatalf("the lane %s is missing through the ssh context", net1)
		}
	})

	t.Run("broken link", func(t *testing.T) {
		// sshd stopped on the node (every sshd process, the session's
		// too): the link goes silent, ssh gives up after its keepalives,
		// the view is marked lost (STALE); sshd resumed, the watch
		// reconnects by itself and resyncs, with what changed meanwhile.
		e, _ := probeAndSync(t, host)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		updates := make(chan model.Update, 64)
		go e.Watch(ctx, updates)
		waitUpdate(t, updates, "the first snapshot over ssh", func(u model.Update) bool { return u.Snapshot != nil })
		t.Cleanup(func() { _, _ = c.TryExec(n, "pkill", "-CONT", "-x", "sshd") })
		stopped := time.Now()
		c.Exec(t, n, "pkill", "-STOP", "-x", "sshd")
		waitUpdateWithin(t, updates, testenv.Patience(60*time.Second), "the lost link over ssh", func(u model.Update) bool { return u.Lost != nil })
		t.Logf("link lost %v after sshd stopped", time.Since(stopped).Round(100*time.Millisecond))
		gap := c.Env.Name("gap")
		c.Exec(t, n, "docker", "network", "create", gap)
		resumed := time.Now()
		c.Exec(t, n, "pkill", "-CONT", "-x", "sshd")
		waitUpdateWithin(t, updates, testenv.Patience(60*time.Second), "a resync holding "+gap+" after sshd resumed", func(u model.Update) bool {
			return u.Snapshot != nil && hasNetwork(*u.Snapshot, gap)
		})
		t.Logf("resynced %v after sshd resumed", time.Since(resumed).Round(100*time.Millisecond))
	})

	t.Run("unknown host key", func(t *testing.T) {
		// A known_hosts without the node: ssh refuses, and topo says so in
		// one line naming the address.
		if err := os.WriteFile(filepath.Join(dir, "known_hosts"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		e, err := docker.Connect(host)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		ctx, cancel := context.WithTimeout(context.Background(), testenv.Patience(30*time.Second))
		defer cancel()
		_, err = e.Ping(ctx)
		if err == nil || !strings.Contains(err.Error(), host) || !strings.Contains(err.Error(), "over ssh") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("probe with an unknown host key: %v; want one line naming %s over ssh", err, host)
		}
		t.Logf("the error line: %v", err)
	})
}

func waitUpdate(t *testing.T, updates <-chan model.Update, what string, cond func(model.Update) bool) {
	t.Helper()
	waitUpdateWithin(t, updates, testenv.Patience(30*time.Second), what, cond)
}

func waitUpdateWithin(t *testing.T, updates <-chan model.Update, patience time.Duration, what string, cond func(model.Update) bool) {
	t.Helper()
	deadline := time.After(patience)
	for {
		select {
		case u, ok := <-updates:
			if !ok {
				t.Fatalf("watch ended before %s", what)
			}
			if cond(u) {
				return
			}
		case <-deadline:
			t.Fatalf("no %s", what)
		}
	}
}

// pki is a CA and certificates it signs, made for one test.
type pki struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

func newCA(t *testing.T, name string) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &pki{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a leaf certificate: a server's for 127.0.0.1, or a client's.
func (ca *pki) issue(t *testing.T, name string, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// forward relays a loopback port to addr, so that the engine is dialled
// at 127.0.0.1, the name its certificate was made for before the node's
// address was known.
func forward(t *testing.T, addr string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer in.Close()
				out, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					return
				}
				defer out.Close()
				go func() { _, _ = io.Copy(out, in) }()
				_, _ = io.Copy(in, out)
			}()
		}
	}()
	return l.Addr().String()
}

// TestTLSEngineThroughContextAndCertPath reaches a Docker-in-Docker engine
// serving TLS with certificates made here: through a context's TLS
// material, through DOCKER_CERT_PATH, and, with a context holding another
// CA, fails with one line naming that CA file.
func TestTLSEngineThroughContextAndCertPath(t *testing.T) {
	cfg := cleanEngineEnv(t)
	ca := newCA(t, "topo test CA")
	srvCert, srvKey := ca.issue(t, "engine", true)
	cliCert, cliKey := ca.issue(t, "topo", false)
	pair, err := tls.X509KeyPair(cliCert, cliKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	c := swarmtest.StartEngine(t, swarmtest.EngineOptions{
		ServerTLS: &swarmtest.ServerTLS{CA: ca.certPEM, Cert: srvCert, Key: srvKey},
		// The node's own client dials its address, for which the
		// certificate was not made: the name it is checked against.
		ClientTLS: &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool, ServerName: "127.0.0.1"},
	})
	n := c.Manager()
	lane := c.Env.Name("tls")
	c.Exec(t, n, "docker", "network", "create", lane)
	host := "tcp://" + forward(t, n.IP+":2376")
	files := map[string][]byte{"ca.pem": ca.certPEM, "cert.pem": cliCert, "key.pem": cliKey}

	t.Run("context", func(t *testing.T) {
		writeEngineContext(t, cfg, "tls", host, false, files)
		t.Setenv("DOCKER_CONTEXT", "tls")
		_, topo := probeAndSync(t, "")
		if !hasNetwork(topo, lane) {
			t.Fatalf("the lane %s is missing through the TLS context", lane)
		}
	})

	t.Run("cert path", func(t *testing.T) {
		dir := t.TempDir()
		for f, b := range files {
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		t.Setenv("DOCKER_HOST", host)
		t.Setenv("DOCKER_TLS_VERIFY", "1")
		t.Setenv("DOCKER_CERT_PATH", dir)
		_, topo := probeAndSync(t, "")
		if !hasNetwork(topo, lane) {
			t.Fatalf("the lane %s is missing through DOCKER_CERT_PATH", lane)
		}
	})

	t.Run("wrong CA", func(t *testing.T) {
		other := newCA(t, "another CA")
		writeEngineContext(t, cfg, "wrong", host, false, map[string][]byte{"ca.pem": other.certPEM, "cert.pem": cliCert, "key.pem": cliKey})
		t.Setenv("DOCKER_CONTEXT", "wrong")
		e, err := docker.Connect("")
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		ctx, cancel := context.WithTimeout(context.Background(), testenv.Patience(30*time.Second))
		defer cancel()
		_, err = e.Ping(ctx)
		sum := sha256.Sum256([]byte("wrong"))
		caFile := filepath.Join(cfg, "contexts", "tls", hex.EncodeToString(sum[:]), "docker", "ca.pem")
		if err == nil || !strings.Contains(err.Error(), caFile) || !strings.Contains(err.Error(), "not signed by the CA") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("probe with another CA: %v; want one line naming %s", err, caFile)
		}
		t.Logf("the error line: %v", err)
	})
}
