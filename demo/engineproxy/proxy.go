// Package engineproxy is a read-only view of a Docker engine: an HTTP
// proxy that forwards the few GET requests the demo's registrator makes
// (ping, version, info, events, list and inspect containers) to the
// engine's socket and answers every other method and path 403. It runs as
// `topo engine-proxy` in its own container, the only one of the demo that
// mounts the engine's socket, so that the registrator, which parses what
// Consul and the engine say, never holds a socket that is root on the
// host whatever `:ro` says.
//
// The allow-list is matched on the path as the client sent it, before any
// cleaning: a path with an escape (%2F, %2E...), a dot segment, an empty
// segment or anything but the listed shapes is refused, so that what the
// engine routes is exactly what was checked.
package engineproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// Command is the hidden subcommand that runs the proxy.
const Command = "engine-proxy"

// SocketDir is where the proxy's socket lives in both the proxy's and the
// registrator's containers (a volume they share), and SocketPath the
// socket itself.
const (
	SocketDir  = "/run/topo-engine"
	SocketPath = SocketDir + "/docker.sock"
)

// versioned is an API version prefix, /v1.41, which every route of the
// engine also answers without.
var versioned = regexp.MustCompile(`^/v[0-9]{1,2}\.[0-9]{1,3}(/.*)$`)

// containerRef says whether ref is a container ID or name as the engine
// accepts them in a path: 1 to 255 letters, digits, '_', '.' and '-',
// starting with a letter or digit, so "." and ".." never match. (Written
// out rather than as the regular expression it is: compiling {0,254}
// cost every topo command 4 ms and 250 KB at start.)
func containerRef(ref string) bool {
	if len(ref) == 0 || len(ref) > 255 {
		return false
	}
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '-') {
			return false
		}
	}
	return true
}

// Allowed says whether a request of method for the path and query as sent
// (URL.EscapedPath, URL.RawQuery) may reach the engine, and if not, why.
func Allowed(method, escapedPath string) (bool, string) {
	if method != http.MethodGet {
		return false, "only GET is allowed"
	}
	if strings.ContainsAny(escapedPath, "%\\") {
		// No allowed path needs an escape, and an escaped slash or dot
		// would be decoded by the engine into a path other than the one
		// checked here.
		return false, "escaped characters in the path are not allowed"
	}
	p := escapedPath
	if m := versioned.FindStringSubmatch(p); m != nil {
		p = m[1]
	}
	switch p {
	case "/_ping", "/version", "/info", "/events", "/containers/json":
		return true, ""
	}
	if ref, ok := strings.CutPrefix(p, "/containers/"); ok {
		if id, ok := strings.CutSuffix(ref, "/json"); ok && containerRef(id) {
			return true, ""
		}
	}
	return false, "the path is not on the allow-list (ping, version, info, events, list and inspect containers)"
}

// Handler forwards allowed requests to the engine through dial and
// refuses the others with 403 and a JSON message the Docker client shows.
type Handler struct {
	proxy *httputil.ReverseProxy
	log   *slog.Logger
}

// NewHandler returns a handler that reaches the engine with dial (a unix
// socket's, usually).
func NewHandler(dial func(ctx context.Context) (net.Conn, error), log *slog.Logger) *Handler {
	transport := &http.Transport{
		DialContext:        func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
		MaxIdleConns:       8,
		IdleConnTimeout:    90 * time.Second,
		DisableCompression: true,
	}
	h := &Handler{log: log}
	h.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			// The checked path, byte for byte, and the query: nothing of
			// the incoming URL's other parts (an absolute-form host, a
			// fragment) reaches the engine.
			r.Out.URL = &url.URL{Scheme: "http", Host: "docker", Path: r.In.URL.Path, RawPath: r.In.URL.RawPath, RawQuery: r.In.URL.RawQuery}
			r.Out.Host = "docker"
			r.Out.Body = nil
			r.Out.ContentLength = 0
			r.Out.Header.Del("Upgrade")
		},
		Transport: transport,
		// /events is a stream: each event is passed on as it comes.
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				return // the client went away
			}
			log.Warn("engine unreachable", "path", r.URL.Path, "err", err)
			writeJSON(w, http.StatusBadGateway, "topo engine-proxy: the engine did not answer: "+err.Error())
		},
	}
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ok, why := Allowed(r.Method, r.URL.EscapedPath())
	switch {
	case !ok:
	case r.ContentLength > 0 || len(r.TransferEncoding) > 0:
		ok, why = false, "a request body is not allowed"
	case r.Header.Get("Upgrade") != "" || strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade"):
		// Attach and exec take over the connection; no allowed route
		// does, and the proxy would otherwise pass the upgrade on.
		ok, why = false, "a connection upgrade is not allowed"
	}
	if !ok {
		h.log.Info("refused", "method", r.Method, "path", r.URL.EscapedPath())
		writeJSON(w, http.StatusForbidden, fmt.Sprintf("topo engine-proxy: %s %s refused: %s: this is a read-only view of the engine for the registrator", r.Method, r.URL.EscapedPath(), why))
		return
	}
	h.proxy.ServeHTTP(w, r)
}

// writeJSON answers in the engine's own error format, {"message": ...},
// which the Docker client turns into its error text.
func writeJSON(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// UnixDialer dials the engine's unix socket at path.
func UnixDialer(path string) func(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "unix", path) }
}

// Listen makes the unix socket at path that the registrator connects to,
// replacing a stale one left by an earlier run (the directory is a volume
// that outlives the container). It is made connectable by every user: the
// registrator runs as an unprivileged user, and the directory, a volume
// only the two containers mount, is what keeps others out.
func Listen(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != os.ModeSocket {
			return nil, fmt.Errorf("listen on %s: a file that is not a socket is in the way: remove it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove the stale socket %s: %w", path, err)
		}
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		l.Close()
		return nil, fmt.Errorf("make %s connectable: %w", path, err)
	}
	return l, nil
}

// Serve answers on l until ctx ends, then closes every connection: an
// events stream would otherwise hold a graceful shutdown forever.
func Serve(ctx context.Context, l net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve the engine proxy: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
