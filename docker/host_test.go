package docker_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/topo-dev/topo/docker"
)

// writeContext stores a docker context the way the CLI does: its metadata
// under contexts/meta/<sha256 of the name>/meta.json.
func writeContext(t *testing.T, configDir, name, meta string) {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	dir := filepath.Join(configDir, "contexts", "meta", hex.EncodeToString(sum[:]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "meta.json"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
}

func contextMeta(name, host string) string {
	return `{"Name":"` + name + `","Metadata":{"Description":"test"},"Endpoints":{"docker":{"Host":"` + host + `","SkipTLSVerify":false}}}`
}

func TestResolveHost(t *testing.T) {
	tests := []struct {
		name          string
		flag          string
		dockerHost    string
		dockerContext string
		config        string // config.json; "" for none
		contexts      map[string]string
		want          docker.Target
		wantErr       string
	}{
		{name: "--host wins over everything", flag: "tcp://flag:2375", dockerHost: "tcp://env:2375", dockerContext: "remote",
			config: `{"currentContext":"remote"}`, contexts: map[string]string{"remote": contextMeta("remote", "tcp://ctx:2375")},
			want: docker.Target{Host: "tcp://flag:2375", Source: "--host"}},
		{name: "DOCKER_HOST wins over contexts", dockerHost: "unix:///run/user/1000/docker.sock", dockerContext: "remote",
			contexts: map[string]string{"remote": contextMeta("remote", "tcp://ctx:2375")},
			want:     docker.Target{Host: "unix:///run/user/1000/docker.sock", Source: "DOCKER_HOST"}},
		{name: "DOCKER_CONTEXT wins over currentContext", dockerContext: "remote", config: `{"currentContext":"other"}`,
			contexts: map[string]string{"remote": contextMeta("remote", "tcp://ctx:2375"), "other": contextMeta("other", "tcp://other:2375")},
			want:     docker.Target{Host: "tcp://ctx:2375", Source: `docker context "remote"`}},
		{name: "currentContext of config.json", config: `{"auths":{},"currentContext":"other"}`,
			contexts: map[string]string{"other": contextMeta("other", "ssh://me@box")},
			want:     docker.Target{Host: "ssh://me@box", Source: `docker context "other"`}},
		{name: "the default context is the default socket", config: `{"currentContext":"default"}`,
			want: docker.Target{Source: "default socket"}},
		{name: "DOCKER_CONTEXT=default overrides currentContext", dockerContext: "default", config: `{"currentContext":"other"}`,
			contexts: map[string]string{"other": contextMeta("other", "tcp://other:2375")},
			want:     docker.Target{Source: "default socket"}},
		{name: "no config is the default socket", want: docker.Target{Source: "default socket"}},
		{name: "an unreadable config.json is ignored", config: `{not json`, want: docker.Target{Source: "default socket"}},
		{name: "a context without a docker endpoint is the default socket", dockerContext: "k8s",
			contexts: map[string]string{"k8s": `{"Name":"k8s","Endpoints":{"kubernetes":{"Host":"https://k8s"}}}`},
			want:     docker.Target{Source: "default socket"}},
		{name: "a missing context is an error naming it", dockerContext: "gone",
			wantErr: `docker context "gone" (from DOCKER_CONTEXT) not found`},
		{name: "a missing current context is an error naming config", config: `{"currentContext":"gone"}`,
			wantErr: `docker context "gone" (from docker context) not found`},
		{name: "unreadable context metadata is an error", dockerContext: "bad", contexts: map[string]string{"bad": `{`},
			wantErr: `docker context "bad": unreadable metadata`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("DOCKER_CONFIG", dir)
			t.Setenv("DOCKER_HOST", tt.dockerHost)
			t.Setenv("DOCKER_CONTEXT", tt.dockerContext)
			if tt.config != "" {
				if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(tt.config), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for name, meta := range tt.contexts {
				writeContext(t, dir, name, meta)
			}
			got, err := docker.ResolveHost(tt.flag)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ResolveHost error = %v, want one containing %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), "docker context ls") && !strings.Contains(err.Error(), "unreadable") {
					t.Errorf("error does not say what to do: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ResolveHost: %v", err)
			}
			if got != tt.want {
				t.Errorf("ResolveHost = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// Without DOCKER_CONFIG the CLI's config lives in ~/.docker.
func TestResolveHostReadsHomeConfig(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("DOCKER_CONFIG", "")
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("DOCKER_CONTEXT", "")
	configDir := filepath.Join(home, ".docker")
	writeContext(t, configDir, "remote", contextMeta("remote", "tcp://home:2375"))
	if err := os.WriteFile(filepath.Join(configDir, "config.json"), []byte(`{"currentContext":"remote"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := docker.ResolveHost("")
	if err != nil || got.Host != "tcp://home:2375" {
		t.Fatalf("ResolveHost = %+v, %v; want tcp://home:2375", got, err)
	}
}

// TestConnectSSHShowsTheAddressGiven: an ssh:// engine is dialled through
// the docker CLI's helper, whose placeholder host must not replace the
// user's address in the status bar and errors; Connect itself runs no ssh.
func TestConnectSSHShowsTheAddressGiven(t *testing.T) {
	t.Setenv("DOCKER_HOST", "")
	e, err := docker.Connect("ssh://me@box")
	if err != nil {
		t.Fatalf("docker.Connect(ssh): %v", err)
	}
	defer e.Close()
	if e.Host != "ssh://me@box" {
		t.Fatalf("engine host = %q, want the ssh address", e.Host)
	}
}

// freeLoopbackPort returns a loopback address nothing listens on.
func freeLoopbackPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// probeTestTimeout bounds Probe in these tests; a refusal must come long
// before it.
const probeTestTimeout = 5 * time.Second

func TestProbeUnreachable(t *testing.T) {
	t.Parallel()
	tcp := "tcp://" + freeLoopbackPort(t)
	for _, host := range []string{"unix:///nonexistent.sock", tcp} {
		t.Run(host, func(t *testing.T) {
			e := connectTest(t, host)
			ctx, cancel := context.WithTimeout(context.Background(), probeTestTimeout)
			defer cancel()
			_, err := e.Ping(ctx)
			if err == nil {
				t.Fatal("Probe of an unreachable engine succeeded")
			}
			msg := err.Error()
			want := "cannot reach the Docker engine at " + host + " (--host): "
			if !strings.HasPrefix(msg, want) {
				t.Errorf("Probe error = %q, want it to start %q", msg, want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("Probe error is not one line: %q", msg)
			}
			if !strings.Contains(msg, "DOCKER_HOST") {
				t.Errorf("Probe error does not say what to do: %q", msg)
			}
			// A refused connection fails by itself; a probe that waited
			// out the caller's deadline instead would leave it expired.
			if ctx.Err() != nil {
				t.Errorf("Probe failed only when the deadline expired: it waited instead of failing (%v)", err)
			}
		})
	}
}

func TestProbeTimeout(t *testing.T) {
	t.Parallel()
	// A listener that accepts and never answers: the caller's deadline
	// bounds the probe, and the error still says what to do.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	e := connectTest(t, "tcp://"+ln.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = e.Ping(ctx)
	if err == nil || !strings.HasPrefix(err.Error(), "cannot reach the Docker engine at tcp://"+ln.Addr().String()) {
		t.Fatalf("Probe of a silent engine = %v", err)
	}
}
