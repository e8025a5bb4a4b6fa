package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/go-connections/nat"

	"github.com/topo-dev/topo/demo/engineproxy"
)

// Ports and paths the services agree on.
const (
	appPort      = 8080
	consulHTTP   = 8500
	consulDNS    = 8600
	mongoPort    = 27017
	nginxConfDir = "/etc/nginx/conf.d"
	nginxConf    = "default.conf"
	// selfEntrypoint is where docker.SelfImage puts topo's binary.
	selfEntrypoint = "/topo"
	// stopTimeout bounds a graceful stop: the app drains in well under a
	// second, and a talk cannot wait the engine's default 10 s.
	stopTimeout = 3
)

// spec is everything that makes one container what it is. Its hash is
// stored as a label, so that Up recreates a container whose settings
// changed (a new topo binary, another image or port) and leaves the others.
type spec struct {
	Service string
	Number  int
	Name    string
	Image   string
	Cmd     []string `json:",omitempty"`
	Env     []string `json:",omitempty"`
	Exposed []int    `json:",omitempty"`
	// Networks are engine names; the first is the create-time network.
	// None: the container has no network at all (network mode none).
	Networks []string
	Aliases  []string
	// Publish maps a container port to bind:port on the host.
	Publish map[int]string `json:",omitempty"`
	// Mounts are "volume:NAME:/path" or "bind:/host:/path:ro" (the socket).
	Mounts []string `json:",omitempty"`
	// Files are copied into the container before it starts: path → content.
	Files map[string]string `json:",omitempty"`
	// Health is a Docker healthcheck command, run inside the container.
	Health []string `json:",omitempty"`
	// Locked drops every capability, makes the root filesystem read-only
	// and sets no-new-privileges; CapAdd names the capabilities kept
	// back, each with its reason where the spec is made.
	Locked bool     `json:",omitempty"`
	CapAdd []string `json:",omitempty"`
	// User runs the command as this uid:gid instead of the image's user.
	User string `json:",omitempty"`
	// MemoryMiB and Pids bound the container; zero means no bound.
	MemoryMiB int64 `json:",omitempty"`
	Pids      int64 `json:",omitempty"`
	// Labels are added to the project's own; Tmpfs are paths mounted as
	// tmpfs (the writable places of a read-only root).
	Labels map[string]string `json:",omitempty"`
	Tmpfs  []string          `json:",omitempty"`
}

// unprivileged is the user topo's own containers run as when they need no
// root: nobody's uid and gid, numeric because the FROM scratch image has
// no /etc/passwd.
const unprivileged = "65534:65534"

func (s spec) hash() string {
	b, _ := json.Marshal(s)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:16]
}

// specFor builds the spec of one container of the project; selfImage is
// topo's own image, for the app and the registrator.
func (d *Deployer) specFor(service string, number int, selfImage string) spec {
	s := spec{Service: service, Number: number, Name: d.ContainerName(service, number), Aliases: []string{service}}
	switch service {
	case ServiceConsul:
		d.consulSpec(&s)
	case ServiceMongo:
		d.mongoSpec(&s)
	case ServiceEngineProxy:
		d.engineProxySpec(&s, selfImage)
	case ServiceRegistrator:
		d.registratorSpec(&s, selfImage)
	case ServiceApp:
		d.appSpec(&s, selfImage)
	case ServiceLB:
		d.lbSpec(&s)
	}
	return s
}

func (d *Deployer) consulSpec(s *spec) {
	front, back := d.NetworkName(NetworkFront), d.NetworkName(NetworkBack)
	// The same command works on hashicorp/consul (its entrypoint runs
	// `consul agent ...` for a first argument `agent`) and on the test
	// stand-in. Consul sits on both networks: the registrator and the
	// app tier reach it on back, nginx asks its DNS on front.
	s.Image = d.opts.Images.Consul
	// -bind 0.0.0.0 makes the server ports it exposes (8300-8302)
	// really listen on its networks, so a probe of the demo finds
	// nothing "exposed but not listening"; a dev agent otherwise binds
	// them to loopback. One node: advertising loopback is enough.
	s.Cmd = []string{"agent", "-dev", "-client", "0.0.0.0", "-bind", "0.0.0.0", "-advertise", "127.0.0.1"}
	s.Exposed = []int{consulHTTP}
	s.Networks = []string{front, back}
}

func (d *Deployer) mongoSpec(s *spec) {
	back := d.NetworkName(NetworkBack)
	s.Image = d.opts.Images.Mongo
	s.Exposed = []int{mongoPort}
	s.Networks = []string{back}
	s.Mounts = []string{"volume:" + d.VolumeName() + ":/data/db"}
}

func (d *Deployer) engineProxySpec(s *spec, selfImage string) {
	// The only container of the demo holding the engine's socket, which
	// is root on the host whatever :ro says: it serves the registrator a
	// read-only view of it (engineproxy's allow-list) on a socket in a
	// volume only the two share, and has no network at all. It keeps no
	// capability: it runs as root only because the engine's socket is
	// root's (mode 660), and the owner needs none to open it.
	s.Image = selfImage
	s.Cmd = []string{engineproxy.Command, "--listen", engineproxy.SocketPath, "--engine", "/var/run/docker.sock"}
	s.Mounts = []string{
		"bind:" + d.opts.DockerSocket + ":/var/run/docker.sock:ro",
		"volume:" + d.EngineVolumeName() + ":" + engineproxy.SocketDir,
	}
	s.Locked, s.MemoryMiB, s.Pids = true, 64, 64
}

func (d *Deployer) registratorSpec(s *spec, selfImage string) {
	front, back := d.NetworkName(NetworkFront), d.NetworkName(NetworkBack)
	// It registers each app instance with its IP on front, the
	// network the load balancer reaches them on, and only the
	// project's containers, so another project's SERVICE_NAME
	// containers never land in this registry. It reads the engine
	// through the proxy's socket, never the engine's own.
	s.Image = selfImage
	s.Cmd = []string{"registrator", "--consul", consulAddr(), "--network", front,
		"--label", LabelProject + "=" + d.opts.Project}
	s.Env = []string{"CONSUL_HTTP_ADDR=" + consulAddr(), "DOCKER_HOST=unix://" + engineproxy.SocketPath}
	s.Networks = []string{back}
	s.Mounts = []string{"volume:" + d.EngineVolumeName() + ":" + engineproxy.SocketDir}
	s.Locked, s.User, s.MemoryMiB, s.Pids = true, unprivileged, 128, 128
}

func (d *Deployer) appSpec(s *spec, selfImage string) {
	front, back := d.NetworkName(NetworkFront), d.NetworkName(NetworkBack)
	s.Image = selfImage
	s.Cmd = []string{"demo", "app"}
	s.Env = []string{
		"INSTANCE_NAME=" + s.Name,
		fmt.Sprintf("APP_LISTEN=:%d", appPort),
		fmt.Sprintf("MONGO_URI=mongodb://%s:%d", ServiceMongo, mongoPort),
		"SERVICE_NAME=" + ServiceApp,
		"SERVICE_PORT=" + strconv.Itoa(appPort),
		"SERVICE_CHECK_HTTP=/health",
		"SERVICE_CHECK_INTERVAL=1s",
	}
	if d.opts.AppConcurrency > 0 {
		s.Env = append(s.Env, "APP_CONCURRENCY="+strconv.Itoa(d.opts.AppConcurrency))
	}
	if d.opts.AppServiceTime != 0 {
		s.Env = append(s.Env, "APP_SERVICE_TIME="+d.opts.AppServiceTime.String())
	}
	s.Exposed = []int{appPort}
	s.Networks = []string{front, back}
	// Docker's own health, beside Consul's: topo's lanes show both.
	// topo's binary is the only program in the image, so it probes.
	s.Health = []string{selfEntrypoint, "demo", "healthcheck", fmt.Sprintf("http://127.0.0.1:%d/health", appPort)}
	// A REST server on an unprivileged port that talks to mongo: it
	// needs no capability, no root and writes no file.
	s.Locked, s.User = true, unprivileged
}

func (d *Deployer) lbSpec(s *spec) {
	front := d.NetworkName(NetworkFront)
	s.Image = d.opts.Images.Nginx
	s.Exposed = []int{80}
	s.Networks = []string{front}
	s.Publish = map[int]string{80: d.opts.LBBind + ":" + strconv.Itoa(d.opts.LBPort)}
	s.Files = map[string]string{nginxConfDir + "/" + nginxConf: NginxConf()}
}

func consulAddr() string { return fmt.Sprintf("%s:%d", ServiceConsul, consulHTTP) }

// NginxConf is the load balancer's configuration. nginx asks Consul's DNS
// for app.service.consul at request time (a variable in proxy_pass makes
// it resolve per request, honouring valid=1s), so it follows scaling and
// kills with no reload; Consul answers with passing instances only. A
// request that meets a dead instance (connect refused or timed out, 502,
// 503) is retried on another, which is why a kill costs no failed request.
func NginxConf() string {
	return fmt.Sprintf(`# Written by topo demo: follows the app instances registered in Consul.
server {
    listen 80;
    resolver %[1]s:%[2]d valid=1s ipv6=off;
    resolver_timeout 1s;

    location / {
        set $backend %[3]s.service.consul;
        proxy_pass http://$backend:%[4]d;
        proxy_next_upstream error timeout http_502 http_503;
        proxy_next_upstream_tries 3;
        proxy_connect_timeout 300ms;
        proxy_read_timeout 10s;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        add_header X-Upstream $upstream_addr always;
    }
}
`, ServiceConsul, consulDNS, ServiceApp, appPort)
}

// The label that marks a container as the service registry.
const (
	labelRole    = "topo.role"
	roleRegistry = "registry"
	// labelBridge is topo's model.LabelBridge: a container meant to
	// carry traffic between networks.
	labelBridge = "topo.bridge"
)

// containerConfig turns a spec into the engine's create arguments.
func (d *Deployer) containerConfig(s spec) (*container.Config, *container.HostConfig) {
	labels := d.labels(map[string]string{
		LabelService: s.Service,
		LabelNumber:  strconv.Itoa(s.Number),
		LabelOneoff:  "False",
		labelSpec:    s.hash(),
	})
	if s.Service == ServiceConsul {
		// Says "this is the registry" to any tool that looks, topo's
		// auto-detection among them, when several Consuls run.
		labels[labelRole] = roleRegistry
	}
	if s.Service == ServiceApp {
		// The app takes the load balancer's requests on the front
		// network and queries mongo on the back one by design: topo's
		// flows would otherwise flag it as relaying front to back.
		labels[labelBridge] = "1"
	}
	for k, v := range s.Labels {
		labels[k] = v
	}
	cfg := &container.Config{Image: s.Image, Cmd: s.Cmd, Env: s.Env, Labels: labels, ExposedPorts: nat.PortSet{}}
	for _, p := range s.Exposed {
		cfg.ExposedPorts[nat.Port(fmt.Sprintf("%d/tcp", p))] = struct{}{}
	}
	if len(s.Health) > 0 {
		cfg.Healthcheck = healthConfig(s.Health)
	}
	cfg.User = s.User
	host := &container.HostConfig{
		NetworkMode:   "none",
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
		PortBindings:  nat.PortMap{},
	}
	if len(s.Networks) > 0 {
		host.NetworkMode = container.NetworkMode(s.Networks[0])
	}
	if s.Locked {
		host.CapDrop = []string{"ALL"}
		host.CapAdd = s.CapAdd
		host.ReadonlyRootfs = true
		host.SecurityOpt = []string{"no-new-privileges"}
	}
	for _, p := range s.Tmpfs {
		if host.Tmpfs == nil {
			host.Tmpfs = map[string]string{}
		}
		host.Tmpfs[p] = "rw,noexec,nosuid,size=64m"
	}
	host.Memory = s.MemoryMiB << 20
	if s.Pids > 0 {
		host.PidsLimit = &s.Pids
	}
	for port, to := range s.Publish {
		ip, hostPort := splitBind(to)
		host.PortBindings[nat.Port(fmt.Sprintf("%d/tcp", port))] = []nat.PortBinding{{HostIP: ip, HostPort: hostPort}}
	}
	for _, m := range s.Mounts {
		host.Mounts = append(host.Mounts, parseMount(m))
	}
	return cfg, host
}

// healthConfig is the engine's healthcheck running cmd, for a container
// and a Swarm task alike.
func healthConfig(cmd []string) *container.HealthConfig {
	return &container.HealthConfig{
		Test:     append([]string{"CMD"}, cmd...),
		Interval: 2 * time.Second, Timeout: time.Second, Retries: 2,
		StartPeriod: 10 * time.Second,
	}
}

func splitBind(s string) (ip, port string) {
	i := strings.LastIndexByte(s, ':')
	return s[:max(i, 0)], s[i+1:]
}

// parseMount reads the short form used in spec.Mounts.
func parseMount(m string) mount.Mount {
	parts := strings.SplitN(m, ":", 4)
	kind, src, dst, mode := parts[0], parts[1], parts[2], ""
	if len(parts) == 4 {
		mode = parts[3]
	}
	mt := mount.TypeVolume
	if kind == "bind" {
		mt = mount.TypeBind
	}
	return mount.Mount{Type: mt, Source: src, Target: dst, ReadOnly: mode == "ro"}
}
