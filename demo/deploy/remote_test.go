package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/topo-dev/topo/internal/swarmtest"
)

func TestLBURLNamesTheSSHHost(t *testing.T) {
	for _, tc := range []struct {
		engine, bind, url, reach string
	}{
		{"", "127.0.0.1", "http://127.0.0.1:8080", ""},
		{"", "0.0.0.0", "http://127.0.0.1:8080", ""},
		{"tcp://10.1.2.3:2375", "192.0.2.7", "http://192.0.2.7:8080", ""},
		{"ssh://ann@box.example", "0.0.0.0", "http://box.example:8080", ""},
		{"ssh://ann@box.example", "192.0.2.7", "http://192.0.2.7:8080", ""},
		{"ssh://ann@box.example:2222", "127.0.0.1", "http://box.example:8080", "`ssh -N -L 8080:127.0.0.1:8080 -p 2222 ann@box.example`"},
		{"ssh://box.example", "127.0.0.1", "http://box.example:8080", "`ssh -N -L 8080:127.0.0.1:8080 box.example`"},
	} {
		d, err := New(nil, Options{EngineHost: tc.engine, LBBind: tc.bind})
		if err != nil {
			t.Fatal(err)
		}
		if got := d.LBURL(); got != tc.url {
			t.Errorf("engine %q bind %s: URL %s, want %s", tc.engine, tc.bind, got, tc.url)
		}
		reach := d.Reach(tc.bind, DefaultLBPort)
		if (tc.reach == "") != (reach == "") || !strings.Contains(reach, tc.reach) {
			t.Errorf("engine %q bind %s: reach %q, want it to hold %q", tc.engine, tc.bind, reach, tc.reach)
		}
	}
}

// TestDemoUpOverSSH runs the demo the way a person does against an engine
// on another machine: `topo -H ssh://root@NODE demo up --wait` with the
// real binary, on a Docker-in-Docker node reached through its sshd. The
// load balancer stays on the node's loopback; the wait checks it, and
// reads consul, through the engine; status answers; down leaves the node
// as it was.
func TestDemoUpOverSSH(t *testing.T) {
	images := testImages(t)
	self := selfBinary(t)
	for _, k := range []string{"DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"} {
		t.Setenv(k, "")
	}
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	dir, pub := swarmtest.SSHClient(t)
	c := swarmtest.StartEngine(t, swarmtest.EngineOptions{Images: []string{images.Consul, images.Mongo, images.Nginx}})
	n := c.Manager()
	swarmtest.TrustSSH(t, dir, c.StartSSH(t, n, pub))
	host := "ssh://root@" + n.IP
	before := nodeObjects(t, c, n)

	topo := func(args ...string) (string, error) {
		cmd := exec.Command(self, append([]string{"-H", host, "demo"}, args...)...)
		cmd.Env = append(os.Environ(), EnvImageConsul+"="+images.Consul, EnvImageMongo+"="+images.Mongo, EnvImageNginx+"="+images.Nginx)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() { _, _ = topo("down", "--volumes") })

	out, err := topo("up", "--wait", "--timeout", "2m", "--self-binary", self)
	t.Logf("topo demo up --wait over ssh:\n%s", out)
	if err != nil {
		t.Fatalf("demo up over ssh: %v", err)
	}
	wantURL := "http://" + n.IP + ":8080"
	if !strings.Contains(out, "ready: "+wantURL) {
		t.Errorf("demo up says no `ready: %s`", wantURL)
	}
	if !strings.Contains(out, "reach: ") || !strings.Contains(out, "ssh -N -L 8080:127.0.0.1:8080 root@"+n.IP) {
		t.Errorf("demo up says not how to reach the node's loopback (ssh -L)")
	}
	// Least privilege kept: the load balancer is still published on the
	// node's loopback only.
	if ports := c.Exec(t, n, "docker", "port", DefaultProject+"-lb-1"); !strings.Contains(ports, "127.0.0.1:8080") || strings.Contains(ports, "0.0.0.0") {
		t.Errorf("lb published on %q, want 127.0.0.1:8080 only", ports)
	}

	start := time.Now()
	out, err = topo("status", "--json", "--self-binary", self)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("demo status over ssh: %v\n%s", err, out)
	}
	var st Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("demo status --json: %v\n%s", err, out)
	}
	t.Logf("status over ssh (%v): registry at %s (%s), lb %s answers=%v served by %s", took.Round(time.Millisecond), st.Registry.Address, st.Registry.Error, st.LB.URL, st.LB.Answers, st.LB.ServedBy)
	if !st.LB.Answers || st.LB.URL != wantURL || st.LB.Reach == "" {
		t.Errorf("status lb = %+v; want %s answering, with how to reach it", st.LB, wantURL)
	}
	if !strings.Contains(st.Registry.Address, "through the engine") {
		t.Errorf("consul read at %q, want through the engine", st.Registry.Address)
	}
	var app *RegistryService
	for i := range st.Registry.Services {
		if st.Registry.Services[i].Name == ServiceApp {
			app = &st.Registry.Services[i]
		}
	}
	if app == nil || app.Passing != 2 {
		t.Errorf("registry over ssh: app %+v, want 2 passing (services %+v)", app, st.Registry.Services)
	}

	out, err = topo("down", "--volumes", "--self-binary", self)
	t.Logf("topo demo down --volumes over ssh:\n%s", out)
	if err != nil {
		t.Fatalf("demo down over ssh: %v", err)
	}
	if after := nodeObjects(t, c, n); after != before {
		t.Errorf("the node after down:\n%s\nwant as before up:\n%s", after, before)
	}
}

// nodeObjects lists the node engine's containers, networks and volumes.
func nodeObjects(t *testing.T, c *swarmtest.Cluster, n *swarmtest.Node) string {
	t.Helper()
	return c.Exec(t, n, "sh", "-c", "docker ps -a --format '{{.Names}}' | sort; docker network ls --format '{{.Name}}' | sort; docker volume ls -q | sort")
}
