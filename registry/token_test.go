package registry

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/topo-dev/topo/internal/consultest"
	"github.com/topo-dev/topo/model"
)

// credentialRecorder is a loopback proxy in front of a real agent that
// records the credentials each request carried.
type credentialRecorder struct {
	mu       sync.Mutex
	requests int
	seen     []string // "header: value" of every credential seen
}

func (r *credentialRecorder) record(req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if v := req.Header.Get("X-Consul-Token"); v != "" {
		r.seen = append(r.seen, "X-Consul-Token: "+v)
	}
	if v := req.Header.Get("Authorization"); v != "" {
		r.seen = append(r.seen, "Authorization: "+v)
	}
	if v := req.URL.Query().Get("token"); v != "" {
		r.seen = append(r.seen, "?token="+v)
	}
}

func (r *credentialRecorder) counts() (int, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests, append([]string(nil), r.seen...)
}

func (r *credentialRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests, r.seen = 0, nil
}

// startRecorder puts a recorder in front of agent, on loopback.
func startRecorder(t *testing.T, agent string) (*credentialRecorder, string) {
	t.Helper()
	rec := &credentialRecorder{}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: agent})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec.record(req)
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return rec, strings.TrimPrefix(srv.URL, "http://")
}

// TestTokenNotSentToAutoDetectedRegistry: with CONSUL_HTTP_TOKEN (and
// basic auth) in the environment, a Consul container found on the engine
// gets neither, neither in the probes nor in the watch, and the watch says
// why the ACLs hide everything; the same agent named with --consul gets
// the token and shows the services.
func TestTokenNotSentToAutoDetectedRegistry(t *testing.T) {
	a := consultest.Start(t, consultest.WithACL("root-token-for-tests"))
	register(t, a.Client(), "web", "web-1", "10.1.0.1", 8080, api.HealthPassing)
	rec, addr := startRecorder(t, a.Addr)
	t.Setenv("CONSUL_HTTP_ADDR", "")
	t.Setenv("CONSUL_HTTP_TOKEN", a.Token)
	t.Setenv("CONSUL_HTTP_AUTH", "presenter:secret")
	_, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)

	// Anyone can start a container named consul publishing 8500.
	topo := model.NewTopology()
	c := consulContainer("consul-1", "someone/consul", model.StateRunning)
	c.Ports = []model.Port{{Private: 8500, Public: uint16(port), Protocol: "tcp", HostIP: "127.0.0.1"}}
	topo.Containers[c.ID] = c

	target, err := Find(context.Background(), "", topo, "", nil)
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	if target.Addr != addr || target.Named || !target.TokenWithheld() {
		t.Fatalf("Find = %+v (withheld %v), want the auto-detected %s, not named, token withheld", target, target.TokenWithheld(), addr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := Watch(ctx, target, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &follower{t: t, ch: ch}
	r, _ := f.waitFor(5*time.Second, "the withheld-token error", func(r model.Registry) bool {
		return strings.Contains(r.Error, "not sent to a registry topo found by itself")
	})
	t.Logf("error: %s", r.Error)
	if _, ok := r.Service("web"); ok {
		t.Errorf("web is visible: the agent was given a token")
	}
	cancel()
	for range ch {
	}
	n, seen := rec.counts()
	if n == 0 {
		t.Fatal("the recorder saw no request: the test proves nothing")
	}
	if len(seen) > 0 {
		t.Errorf("an auto-detected registry received credentials in %d of %d requests: %v", len(seen), n, seen)
	}

	// The same agent, named: the token goes, and the recorder sees it.
	rec.reset()
	named, err := Find(context.Background(), addr, topo, "", nil)
	if err != nil || !named.Named || named.TokenWithheld() {
		t.Fatalf("Find(--consul) = %+v, %v", named, err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	ch2, err := Watch(ctx2, named, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f2 := &follower{t: t, ch: ch2}
	f2.waitFor(5*time.Second, "web through the named agent", func(r model.Registry) bool {
		_, ok := instance(r, "web", "web-1")
		return ok && r.Live()
	})
	if _, seen := rec.counts(); !containsPrefix(seen, "X-Consul-Token: "+a.Token) {
		t.Errorf("the named registry did not receive the token: %v", seen)
	}
}

func containsPrefix(list []string, want string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, want) {
			return true
		}
	}
	return false
}
