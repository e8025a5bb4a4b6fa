package engineproxy

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAllowed(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/_ping", true},
		{"GET", "/version", true},
		{"GET", "/info", true},
		{"GET", "/events", true},
		{"GET", "/containers/json", true},
		{"GET", "/containers/0123abcd/json", true},
		{"GET", "/containers/topo-demo-app-1/json", true},
		{"GET", "/v1.41/_ping", true},
		{"GET", "/v1.41/containers/json", true},
		{"GET", "/v1.24/containers/abc/json", true},
		{"GET", "/v1.41/events", true},

		// Other methods on allowed paths.
		{"HEAD", "/_ping", false},
		{"POST", "/containers/json", false},
		{"POST", "/v1.41/containers/abc/json", false},
		{"PUT", "/info", false},
		{"DELETE", "/containers/abc/json", false},
		{"OPTIONS", "/_ping", false},
		{"get", "/_ping", false},

		// Writes and reads beyond the registrator's needs.
		{"GET", "/containers/abc/logs", false},
		{"GET", "/containers/abc/archive", false},
		{"GET", "/containers/abc/export", false},
		{"GET", "/images/json", false},
		{"GET", "/secrets", false},
		{"GET", "/v1.41/containers/create", false},
		{"GET", "/", false},
		{"GET", "", false},

		// Path tricks.
		{"GET", "/containers/../images/json", false},
		{"GET", "/containers/abc/../../images/json", false},
		{"GET", "/containers/../json", false},
		{"GET", "/containers/./json", false},
		{"GET", "/containers/abc/json/..", false},
		{"GET", "/containers//json", false},
		{"GET", "//containers/json", false},
		{"GET", "/containers/json/", false},
		{"GET", "/containers/abc%2Fjson", false},
		{"GET", "/containers/abc%2fexec/json", false},
		{"GET", "/containers/%2e%2e/json", false},
		{"GET", "/containers/a%2F..%2F..%2Fimages/json", false},
		{"GET", "/%761.41/_ping", false},
		{"GET", "/v1.41/v1.41/_ping", false},
		{"GET", "/v1.41", false},
		{"GET", "/v1.41/", false},
		{"GET", "/vX.41/_ping", false},
		{"GET", "/containers\\..\\images/json", false},
		{"GET", "/containers/-abc/json", false},
		{"GET", "/containers/.hidden/json", false},
		{"GET", "/_ping/", false},
		{"GET", "/_PING", false},
	} {
		if got, why := Allowed(tc.method, tc.path); got != tc.want {
			t.Errorf("Allowed(%s, %q) = %v (%s), want %v", tc.method, tc.path, got, why, tc.want)
		}
	}
}

// upstream is a recording stand-in for the engine's socket: it says which
// requests reached it, which is what the allow-list is about. It answers
// /events with one line, flushed, then holds the stream until release.
type upstream struct {
	mu      sync.Mutex
	seen    []string
	release chan struct{}
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.seen = append(u.seen, r.Method+" "+r.URL.RequestURI())
	u.mu.Unlock()
	if strings.HasSuffix(r.URL.Path, "/events") {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"start"}`+"\n")
		w.(http.Flusher).Flush()
		select {
		case <-u.release:
		case <-r.Context().Done():
		}
		return
	}
	_, _ = io.WriteString(w, "OK")
}

func (u *upstream) requests() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.seen...)
}

// startProxy serves the proxy on a unix socket in front of a recording
// upstream and returns the proxy's socket path.
func startProxy(t *testing.T) (string, *upstream) {
	t.Helper()
	dir := t.TempDir()
	up := &upstream{release: make(chan struct{})}
	ul, err := net.Listen("unix", filepath.Join(dir, "engine.sock"))
	if err != nil {
		t.Fatal(err)
	}
	usrv := &http.Server{Handler: up}
	go func() { _ = usrv.Serve(ul) }()
	t.Cleanup(func() { close(up.release); usrv.Close() })

	sock := filepath.Join(dir, "proxy.sock")
	l, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, l, NewHandler(UnixDialer(filepath.Join(dir, "engine.sock")), slog.New(slog.DiscardHandler)))
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return sock, up
}

// rawRequest sends request bytes as they are (a Go client would clean or
// escape the path) and returns the response.
func rawRequest(t *testing.T, sock, req string) *http.Response {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	// The method tells ReadResponse whether a body follows (not after HEAD).
	method, _, _ := strings.Cut(req, " ")
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read the answer to %q: %v", req, err)
	}
	return resp
}

// What reaches the engine is exactly what was checked: refused requests
// never arrive, allowed ones arrive with their path and query unchanged
// and no body.
func TestProxyPassesOnlyAllowedRequests(t *testing.T) {
	sock, up := startProxy(t)
	for _, tc := range []struct {
		req      string
		status   int
		upstream string // what the engine sees; empty: nothing
	}{
		{"GET /v1.41/containers/json?all=1&filters=%7B%7D HTTP/1.1\r\nHost: x\r\n\r\n", 200, "GET /v1.41/containers/json?all=1&filters=%7B%7D"},
		{"GET /containers/abc/json?size=1 HTTP/1.1\r\nHost: x\r\n\r\n", 200, "GET /containers/abc/json?size=1"},
		{"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n", 200, "GET /_ping"},
		{"GET http://evil.example/info HTTP/1.1\r\nHost: x\r\n\r\n", 200, "GET /info"},
		{"GET /containers/abc/json?x=/../../images/json HTTP/1.1\r\nHost: x\r\n\r\n", 200, "GET /containers/abc/json?x=/../../images/json"},
		{"HEAD /_ping HTTP/1.1\r\nHost: x\r\n\r\n", 403, ""},
		{"POST /containers/json HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 403, ""},
		{"POST /v1.41/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 403, ""},
		{"DELETE /v1.41/containers/abc HTTP/1.1\r\nHost: x\r\n\r\n", 403, ""},
		{"GET /containers/../images/json HTTP/1.1\r\nHost: x\r\n\r\n", 403, ""},
		{"GET /containers/abc%2F..%2F..%2Fimages/json HTTP/1.1\r\nHost: x\r\n\r\n", 403, ""},
		{"GET /containers/%2e%2e/json HTTP/1.1\r\nHost: x\r\n\r\n", 403, ""},
		{"GET //containers/json HTTP/1.1\r\nHost: x\r\n\r\n", 403, ""},
		{"GET /containers/abc/logs?stdout=1 HTTP/1.1\r\nHost: x\r\n\r\n", 403, ""},
		{"GET /containers/json HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 403, ""},
		{"GET /containers/abc/json HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", 403, ""},
	} {
		before := len(up.requests())
		resp := rawRequest(t, sock, tc.req)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		first := strings.SplitN(tc.req, "\r\n", 2)[0]
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", first, resp.StatusCode, tc.status, body)
		}
		got := up.requests()[before:]
		switch {
		case tc.upstream == "" && len(got) > 0:
			t.Errorf("%s: refused, yet the engine saw %q", first, got)
		case tc.upstream != "" && (len(got) != 1 || got[0] != tc.upstream):
			t.Errorf("%s: the engine saw %q, want %q", first, got, tc.upstream)
		}
		if tc.status == http.StatusForbidden && !strings.HasPrefix(first, "HEAD") {
			var msg struct{ Message string }
			if err := json.Unmarshal(body, &msg); err != nil || !strings.Contains(msg.Message, "refused") || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("%s: a refusal must be the engine's JSON error format, got %s %q (%v)", first, resp.Header.Get("Content-Type"), body, err)
			}
		}
	}
}

// The events stream is passed on as it comes: the first event reaches the
// client while the engine still holds the stream open.
func TestProxyStreamsEvents(t *testing.T) {
	sock, _ := startProxy(t)
	// The body is not closed: that would drain the endless stream. The
	// connection's cleanup ends it.
	resp := rawRequest(t, sock, "GET /v1.41/events?since=0 HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.Contains(line, `"start"`) {
		t.Fatalf("first event: %q, %v: the proxy held it back until the stream ended", line, err)
	}
}

func TestListenReplacesAStaleSocketOnly(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "docker.sock")
	l, err := Listen(p)
	if err != nil {
		t.Fatal(err)
	}
	// A socket left by a killed run: still on disk, nobody listening.
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	l, err = Listen(p)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	l.Close()

	file := filepath.Join(dir, "file")
	if err := writeFile(file); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(file); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("Listen over a regular file = %v, want a refusal", err)
	}
}

func writeFile(p string) error { return os.WriteFile(p, []byte("x"), 0o600) }

// containerRef accepts exactly what the engine's rule for a name or ID in
// a path does, written as the regular expression it replaced.
func TestContainerRefIsTheEnginesRule(t *testing.T) {
	rule := regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$`)
	inputs := []string{"", ".", "..", "a", "-a", "_a", "a-b_c.d", "a/b", "a%2e", "é", "a b", strings.Repeat("a", 255), strings.Repeat("a", 256)}
	rnd := rand.New(rand.NewPCG(1, 2))
	const alphabet = "aZ09_.-/%é \x00"
	for range 5000 {
		b := make([]byte, rnd.IntN(8))
		for i := range b {
			b[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		inputs = append(inputs, string(b))
	}
	for _, in := range inputs {
		if got, want := containerRef(in), rule.MatchString(in); got != want {
			t.Errorf("containerRef(%q) = %v, the rule says %v", in, got, want)
		}
	}
}
