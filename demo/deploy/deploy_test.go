package deploy

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/topo-dev/topo/internal/testenv"
)

func TestValidateScale(t *testing.T) {
	for _, tc := range []struct {
		service string
		n       int
		want    string // empty: accepted
	}{
		{"app", 0, ""},
		{"app", 4, ""},
		{"app", MaxReplicas, ""},
		{"web", 2, `unknown service "web"`},
		{"", 2, `unknown service ""`},
		{"mongo", 2, "mongo runs exactly one instance"},
		{"lb", 2, "published port"},
		{"app", -1, "cannot scale app to -1"},
		{"app", MaxReplicas + 1, "more than this demo allows"},
		{"app", 400, "more than this demo allows"},
	} {
		err := ValidateScale(tc.service, tc.n)
		if tc.want == "" {
			if err != nil {
				t.Errorf("ValidateScale(%q, %d) = %v, want nil", tc.service, tc.n, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrBadInput) {
			t.Errorf("ValidateScale(%q, %d) = %v, want an ErrBadInput saying %q", tc.service, tc.n, err, tc.want)
		}
	}
}

func TestNewChecksOptions(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Project: "Topo Demo"}, "project name"},
		{Options{Project: "-x"}, "project name"},
		{Options{LBBind: "localhost"}, "not an IP address"},
		{Options{LBPort: 70000}, "not a TCP port"},
		{Options{LBPort: -1}, "not a TCP port"},
	} {
		if _, err := New(nil, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error saying %q", tc.opts, err, tc.want)
		}
	}
	d, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := d.Options()
	if o.Project != "topo-demo" || o.LBPort != 8080 || o.LBBind != "127.0.0.1" || o.Images != DefaultImages() {
		t.Errorf("defaults: %+v", o)
	}
	if got := d.LBURL(); got != "http://127.0.0.1:8080" {
		t.Errorf("LBURL = %s", got)
	}
	d, _ = New(nil, Options{LBBind: "0.0.0.0", LBPort: 9000})
	if got := d.LBURL(); got != "http://127.0.0.1:9000" {
		t.Errorf("LBURL with 0.0.0.0 = %s, want the loopback address a browser can open", got)
	}
}

func TestDefaultImagesArePinnedAndEnvOverrides(t *testing.T) {
	im := DefaultImages()
	if im.Consul != "hashicorp/consul:1.14.11" {
		t.Errorf("consul image %s: must stay at 1.14.11, the last MPL release", im.Consul)
	}
	for _, ref := range []string{im.Consul, im.Mongo, im.Nginx} {
		if !strings.Contains(ref, ":") || strings.HasSuffix(ref, ":latest") {
			t.Errorf("image %s is not pinned to a tag", ref)
		}
	}
	env := map[string]string{EnvImageMongo: "local/mongo:1", EnvImageNginx: "  "}
	got := ImagesFromEnv(func(k string) string { return env[k] })
	want := Images{Consul: im.Consul, Mongo: "local/mongo:1", Nginx: im.Nginx}
	if got != want {
		t.Errorf("ImagesFromEnv = %+v, want %+v", got, want)
	}
}

func TestNginxConfFollowsConsulDNS(t *testing.T) {
	conf := NginxConf()
	for _, want := range []string{
		"resolver consul:8600 valid=1s ipv6=off;",
		"set $backend app.service.consul;",
		"proxy_pass http://$backend:8080;",
		"proxy_next_upstream error timeout http_502 http_503;",
		"proxy_connect_timeout 300ms;",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("nginx conf lacks %q:\n%s", want, conf)
		}
	}
}

func TestSpecs(t *testing.T) {
	d, _ := New(nil, Options{Project: "p1", LBPort: 9090, Images: Images{Consul: "c:1", Mongo: "m:1", Nginx: "n:1"}})
	app := d.specFor(ServiceApp, 3, "self:1")
	if app.Name != "p1-app-3" || app.Image != "self:1" || strings.Join(app.Networks, ",") != "p1_front,p1_back" {
		t.Errorf("app spec: %+v", app)
	}
	for _, e := range []string{"SERVICE_NAME=app", "SERVICE_PORT=8080", "SERVICE_CHECK_HTTP=/health", "SERVICE_CHECK_INTERVAL=1s", "MONGO_URI=mongodb://mongo:27017", "INSTANCE_NAME=p1-app-3"} {
		if !strings.Contains(strings.Join(app.Env, "\n"), e) {
			t.Errorf("app env lacks %s: %v", e, app.Env)
		}
	}
	reg := d.specFor(ServiceRegistrator, 1, "self:1")
	if !strings.Contains(strings.Join(reg.Cmd, " "), "--network p1_front") || !slices.Contains(reg.Env, "DOCKER_HOST=unix:///run/topo-engine/docker.sock") {
		t.Errorf("registrator spec: %+v", reg)
	}
	// Only the engine proxy holds the engine's socket; the registrator
	// shares the proxy's socket volume and nothing else.
	proxy := d.specFor(ServiceEngineProxy, 1, "self:1")
	for _, svc := range Services {
		s := d.specFor(svc, 1, "self:1")
		holds := slices.ContainsFunc(s.Mounts, func(m string) bool { return strings.Contains(m, "docker.sock") })
		if holds != (svc == ServiceEngineProxy) {
			t.Errorf("service %s: mounts %v: only the engine proxy may mount the engine's socket", svc, s.Mounts)
		}
	}
	if strings.Join(reg.Mounts, ",") != "volume:p1_engine-socket:/run/topo-engine" || !slices.Contains(proxy.Mounts, reg.Mounts[0]) {
		t.Errorf("the registrator must share the proxy's socket volume and mount nothing else: registrator %v, proxy %v", reg.Mounts, proxy.Mounts)
	}
	_, ph := d.containerConfig(proxy)
	if ph.NetworkMode != "none" || !ph.ReadonlyRootfs || strings.Join(ph.CapDrop, ",") != "ALL" || len(ph.CapAdd) != 0 ||
		!slices.Contains(ph.SecurityOpt, "no-new-privileges") || ph.Memory == 0 || ph.PidsLimit == nil {
		t.Errorf("engine proxy host config: %+v: want no network, every capability dropped, read-only root, no-new-privileges, limits", ph)
	}
	for _, svc := range []string{ServiceRegistrator, ServiceApp} {
		cfg, h := d.containerConfig(d.specFor(svc, 1, "self:1"))
		if cfg.User != "65534:65534" || !h.ReadonlyRootfs || strings.Join(h.CapDrop, ",") != "ALL" || len(h.CapAdd) != 0 {
			t.Errorf("%s: user %q, host config %+v: want nobody, no capability, read-only root", svc, cfg.User, h)
		}
	}
	consul := d.specFor(ServiceConsul, 1, "self:1")
	if len(consul.Networks) != 2 {
		t.Errorf("consul must be on both networks (nginx asks its DNS on front): %v", consul.Networks)
	}
	lb := d.specFor(ServiceLB, 1, "self:1")
	if lb.Publish[80] != "127.0.0.1:9090" || lb.Files["/etc/nginx/conf.d/default.conf"] == "" {
		t.Errorf("lb spec: %+v", lb)
	}
	// The hash decides recreation: stable for the same settings, changed
	// by any of them.
	if app.hash() != d.specFor(ServiceApp, 3, "self:1").hash() {
		t.Error("the same spec hashes differently")
	}
	if app.hash() == d.specFor(ServiceApp, 3, "self:2").hash() {
		t.Error("a new image does not change the hash")
	}
	cfg, host := d.containerConfig(app)
	if cfg.Labels[LabelProject] != "p1" || cfg.Labels[LabelService] != "app" || cfg.Labels[LabelNumber] != "3" || cfg.Labels[LabelOneoff] != "False" {
		t.Errorf("compose labels: %v", cfg.Labels)
	}
	// topo's flows hold a container relaying front to back against
	// isolation unless it says it is meant to.
	if cfg.Labels["topo.bridge"] != "1" {
		t.Errorf("the app is not labelled topo.bridge: %v", cfg.Labels)
	}
	if lb, _ := d.containerConfig(d.specFor(ServiceLB, 1, "self:1")); lb.Labels["topo.bridge"] != "" {
		t.Errorf("the load balancer is labelled topo.bridge: it is on one network only")
	}
	if string(host.NetworkMode) != "p1_front" {
		t.Errorf("created on %s, want the first network only (this engine refuses several at create)", host.NetworkMode)
	}
}

// TestComposeFileIsValid checks the printed file with docker-compose's own
// validation, and that it describes the same services.
func TestComposeFileIsValid(t *testing.T) {
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		testenv.Missing(t, "docker-compose is not on PATH (apt-get install -y docker-compose; scripts/ensure-engine.sh does)")
	}
	d, _ := New(nil, Options{Project: "topo-demo"})
	y := d.composeYAML("topo-self:0123456789ab", 3)
	cmd := exec.CommandContext(context.Background(), bin, "-p", "topo-demo", "-f", "-", "config")
	cmd.Stdin = strings.NewReader(y)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("docker-compose config refused the file: %v\n%s\n--- file:\n%s", err, stderr.String(), y)
	}
	for _, want := range []string{"consul:", "mongo:", "engine-proxy:", "registrator:", "app:", "lb:", "replicas: 3",
		"127.0.0.1:8080:80", "mongo-data:/data/db", "/var/run/docker.sock:/var/run/docker.sock:ro", "app.service.consul",
		"engine-socket:/run/topo-engine", "network_mode: none", "read_only: true", "no-new-privileges:true", "- ALL",
		"topo.bridge: '1'"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("docker-compose config output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestReadPullReportsOneFraction(t *testing.T) {
	stream := `{"status":"Pulling from library/mongo","id":"7.0"}
{"status":"Pulling fs layer","progressDetail":{},"id":"a"}
{"status":"Pulling fs layer","progressDetail":{},"id":"b"}
{"status":"Downloading","progressDetail":{"current":1000000,"total":4000000},"id":"a"}
{"status":"Downloading","progressDetail":{"current":500000,"total":1000000},"id":"b"}
{"status":"Download complete","progressDetail":{},"id":"b"}
{"status":"Downloading","progressDetail":{"current":4000000,"total":4000000},"id":"a"}
{"status":"Extracting","progressDetail":{"current":100,"total":4000000},"id":"a"}
{"status":"Pull complete","progressDetail":{},"id":"a"}
{"status":"Digest: sha256:0123"}
`
	var got []float64
	var last string
	if err := readPull(strings.NewReader(stream), func(detail string, f float64) { got, last = append(got, f), detail }); err != nil {
		t.Fatal(err)
	}
	// a 1/4 MB, then b at half, b complete, a complete, a pulled.
	want := []float64{0.25, 1.5 / 5, 2.0 / 5, 1, 1}
	if len(got) != len(want) {
		t.Fatalf("fractions %v, want %v", got, want)
	}
	for i := range want {
		if d := got[i] - want[i]; d > 1e-9 || d < -1e-9 {
			t.Errorf("fraction %d = %v, want %v", i, got[i], want[i])
		}
	}
	if last != "5.0/5.0 MB" {
		t.Errorf("last detail %q", last)
	}

	err := readPull(strings.NewReader(`{"errorDetail":{"message":"Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host"},"error":"x"}`), func(string, float64) {})
	if err == nil || !strings.Contains(err.Error(), "is there no network?") {
		t.Errorf("a pull failing for want of network: %v", err)
	}
}

// A swarm has no bind address: a --lb-bind it would silently ignore is
// refused, saying what to do; the default and 0.0.0.0 are what it does.
func TestSwarmRefusesABindItCannotHonour(t *testing.T) {
	for _, bind := range []string{"", DefaultLBBind, "0.0.0.0", "::"} {
		if err := swarmBind(bind); err != nil {
			t.Errorf("swarmBind(%q) = %v, want nil", bind, err)
		}
	}
	err := swarmBind("192.168.1.5")
	if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "without --swarm") || !strings.Contains(err.Error(), "every interface") {
		t.Errorf("swarmBind(192.168.1.5) = %v, want a refusal saying why and what to do", err)
	}
}
