package docker

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/cli/cli/connhelper"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/tlsconfig"
)

// Target is the engine address topo will dial and where it came from.
type Target struct {
	// Host is empty for the client's default (the local socket).
	Host   string
	Source string
	// TLS is the certificate material to dial Host with, from a docker
	// context or DOCKER_CERT_PATH; nil for a plain connection.
	TLS *TLSFiles
}

// TLSFiles names a TLS client's material the way the docker CLI keeps it:
// ca.pem, cert.pem and key.pem, each optional, and whether the server's
// certificate is checked at all.
type TLSFiles struct {
	CA, Cert, Key string
	SkipVerify    bool
}

// ResolveHost applies the documented order: --host, DOCKER_HOST, the
// current docker context (DOCKER_CONTEXT or the CLI config's
// currentContext), the default socket. It reads the context store directly
// because the docker CLI module that knows it would pull in half the CLI.
func ResolveHost(flagHost string) (Target, error) {
	if flagHost != "" {
		return Target{Host: flagHost, Source: "--host", TLS: envTLS()}, nil
	}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return Target{Host: h, Source: "DOCKER_HOST", TLS: envTLS()}, nil
	}
	configDir := os.Getenv("DOCKER_CONFIG")
	if configDir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return Target{Source: "default socket"}, nil
		}
		configDir = filepath.Join(home, ".docker")
	}
	name := os.Getenv("DOCKER_CONTEXT")
	source := "DOCKER_CONTEXT"
	if name == "" {
		var cfg struct {
			CurrentContext string `json:"currentContext"`
		}
		if data, err := os.ReadFile(filepath.Join(configDir, "config.json")); err == nil {
			_ = json.Unmarshal(data, &cfg)
		}
		name, source = cfg.CurrentContext, "docker context"
	}
	if name == "" || name == "default" {
		return Target{Source: "default socket"}, nil
	}
	// The store keys each context's metadata and TLS material by the
	// SHA-256 of its name.
	sum := sha256.Sum256([]byte(name))
	key := hex.EncodeToString(sum[:])
	metaPath := filepath.Join(configDir, "contexts", "meta", key, "meta.json")
	data, err := os.ReadFile(metaPath)
	if err != nil {
		return Target{}, fmt.Errorf("docker context %q (from %s) not found in %s: run `docker context ls`, or name the engine with --host", name, source, filepath.Dir(metaPath))
	}
	var meta struct {
		Endpoints map[string]struct {
			Host          string `json:"Host"`
			SkipTLSVerify bool   `json:"SkipTLSVerify"`
		} `json:"Endpoints"`
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		return Target{}, fmt.Errorf("docker context %q: unreadable metadata %s: %w", name, metaPath, err)
	}
	ep := meta.Endpoints["docker"]
	if ep.Host == "" {
		return Target{Source: "default socket"}, nil
	}
	t := Target{Host: ep.Host, Source: fmt.Sprintf("docker context %q", name)}
	tlsDir := filepath.Join(configDir, "contexts", "tls", key, "docker")
	files := TLSFiles{SkipVerify: ep.SkipTLSVerify}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"ca.pem", &files.CA}, {"cert.pem", &files.Cert}, {"key.pem", &files.Key}} {
		if p := filepath.Join(tlsDir, f.name); fileExists(p) {
			*f.dst = p
		}
	}
	// Like the CLI: a context with neither material nor SkipTLSVerify is a
	// plain connection.
	if files.CA != "" || files.Cert != "" || files.Key != "" || files.SkipVerify {
		t.TLS = &files
	}
	return t, nil
}

// envTLS is the TLS material DOCKER_TLS_VERIFY and DOCKER_CERT_PATH name,
// as client.FromEnv reads it, kept so that a failure can name the file.
func envTLS() *TLSFiles {
	dir := os.Getenv("DOCKER_CERT_PATH")
	if dir == "" {
		return nil
	}
	return &TLSFiles{
		CA:         filepath.Join(dir, "ca.pem"),
		Cert:       filepath.Join(dir, "cert.pem"),
		Key:        filepath.Join(dir, "key.pem"),
		SkipVerify: os.Getenv("DOCKER_TLS_VERIFY") == "",
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// sshFlags make a dead link show within seconds instead of waiting on TCP:
// ssh ends after three unanswered keepalives 5 s apart, the event stream
// breaks, and the watcher marks the view STALE and reconnects, as it does
// for a local engine. BatchMode: ssh must never prompt inside the TUI.
// sshConns bounds the API connections over ssh (see clientOpts); the
// hijacked ones (exec attach, the tunnel) come on top. Long streams (the
// events, a followed log) hold one each while they last: 8 leaves room.
const sshConns = 8

var sshFlags = []string{"-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3", "-o", "BatchMode=yes"}

// clientOpts are the SDK options that dial target: the default socket,
// a unix or tcp address, tcp with TLS material, or ssh through the docker
// CLI's connection helper (the system's ssh running `docker system
// dial-stdio` on the remote host, exactly as `docker -H ssh://...` does).
func clientOpts(target Target) ([]client.Opt, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if target.Host == "" {
		return opts, nil
	}
	u, err := url.Parse(target.Host)
	if err != nil {
		return nil, fmt.Errorf("engine %s (%s): not an address: %w", target.Host, target.Source, err)
	}
	switch {
	case u.Scheme == "ssh":
		helper, err := connhelper.GetConnectionHelperWithSSHOpts(target.Host, sshFlags)
		if err != nil {
			return nil, fmt.Errorf("engine %s (%s): %w", target.Host, target.Source, err)
		}
		// The transport dials through ssh; the host is the helper's
		// placeholder, which only fills the HTTP requests' Host header.
		// WithDialContext also serves the hijacked connections (exec
		// attach, the tunnel).
		//
		// Each new connection is a new ssh process and handshake, and
		// sshd drops handshakes beyond 10 at once (MaxStartups 10:30:100,
		// the default: measured here, 1 of 15 parallel logins reset). So
		// API calls share at most sshConns connections, kept open
		// between calls, instead of a burst of new ones (the transport's
		// default keeps 2 idle and dials without bound).
		httpClient := &http.Client{Transport: &http.Transport{
			DialContext: helper.Dialer, MaxConnsPerHost: sshConns, MaxIdleConnsPerHost: sshConns, IdleConnTimeout: 90 * time.Second,
		}}
		return append(opts, client.WithHTTPClient(httpClient), client.WithHost(helper.Host), client.WithDialContext(helper.Dialer)), nil
	case target.TLS != nil && u.Scheme == "tcp":
		cfg, err := target.TLS.config()
		if err != nil {
			return nil, fmt.Errorf("engine %s (%s): %w", target.Host, target.Source, err)
		}
		// WithHost after WithHTTPClient: it sets the dialer of this
		// transport, and a transport with a TLS config makes the client
		// speak https.
		httpClient := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		return append(opts, client.WithHTTPClient(httpClient), client.WithHost(target.Host)), nil
	}
	return append(opts, client.WithHost(target.Host)), nil
}

// config loads the material; an error names the file that failed.
func (f *TLSFiles) config() (*tls.Config, error) {
	if (f.Cert == "") != (f.Key == "") {
		return nil, fmt.Errorf("tls: a client certificate needs both cert.pem and key.pem, found only %s", f.Cert+f.Key)
	}
	for _, p := range []string{f.CA, f.Cert, f.Key} {
		if p == "" {
			continue
		}
		if _, err := os.ReadFile(p); err != nil {
			return nil, fmt.Errorf("tls: read %s: %w", p, err)
		}
	}
	cfg, err := tlsconfig.Client(tlsconfig.Options{CAFile: f.CA, InsecureSkipVerify: f.SkipVerify})
	if err != nil {
		return nil, fmt.Errorf("tls: load the CA %s: %w", f.CA, err)
	}
	if f.Cert != "" {
		pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("tls: load the client certificate %s with its key %s: %w", f.Cert, f.Key, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// explainTLS turns a failed handshake into one line naming the file to
// look at; ok is false when err is no TLS failure.
func (f *TLSFiles) explainTLS(host, source string, err error) (error, bool) {
	var unknown x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	msg := err.Error()
	switch {
	case errors.As(err, &unknown) || strings.Contains(msg, "certificate signed by unknown authority"):
		return fmt.Errorf("the Docker engine at %s (%s) presented a certificate not signed by the CA in %s: give the engine's CA there, or use the context the engine's certificates were made for", host, source, orNone(f.CA)), true
	case errors.As(err, &hostErr) || strings.Contains(msg, "certificate is valid for"):
		return fmt.Errorf("the Docker engine at %s (%s) presented a certificate for another name (checked against the CA in %s): %v", host, source, orNone(f.CA), firstLine(msg)), true
	case errors.As(err, &invalid):
		return fmt.Errorf("the Docker engine at %s (%s) presented an invalid certificate (checked against the CA in %s): %v", host, source, orNone(f.CA), firstLine(msg)), true
	case strings.Contains(msg, "remote error: tls:"):
		return fmt.Errorf("the Docker engine at %s (%s) refused topo's client certificate %s: %v", host, source, orNone(f.Cert), firstLine(msg)), true
	}
	return nil, false
}

func orNone(p string) string {
	if p == "" {
		return "(none: the system's roots)"
	}
	return p
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
