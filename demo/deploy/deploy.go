// Package deploy runs the reference demo on a Docker engine: a load
// balancer (NGINX) in front of N instances of the REST app, a MongoDB for
// the catalogue, a Consul dev agent as the service registry and the
// registrator that keeps it in step, on two networks (front, back) and one
// volume. It creates, scales, inspects and removes exactly the objects of
// one project, labelled the way Docker Compose labels them so that
// `docker compose -p PROJECT ps` lists them too, and marked as topo's own
// (LabelOwner): it refuses to change a project holding objects it did not
// create. It can print an equivalent compose.yaml.
//
// Every operation reports its steps through a Progress callback, so the
// same code drives the TUI's deploy panel and the `topo demo` commands.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/model"
)

// Defaults of Options.
const (
	DefaultProject  = "topo-demo"
	DefaultLBPort   = 8080
	DefaultLBBind   = "127.0.0.1"
	DefaultReplicas = 2
	// MaxReplicas bounds the app's instance count: beyond it a typo (app=400)
	// would flood a laptop on stage rather than demonstrate anything.
	MaxReplicas = 50
)

// The demo's services, in dependency order: each needs the ones before it
// to be running.
const (
	ServiceConsul      = "consul"
	ServiceMongo       = "mongo"
	ServiceEngineProxy = "engine-proxy"
	ServiceRegistrator = "registrator"
	ServiceApp         = "app"
	ServiceLB          = "lb"
)

// Services lists the demo's services in dependency order.
var Services = []string{ServiceConsul, ServiceMongo, ServiceEngineProxy, ServiceRegistrator, ServiceApp, ServiceLB}

// The project's networks and volume, by their short names (compose names
// the objects <project>_<name>).
const (
	NetworkFront = "front"
	NetworkBack  = "back"
	VolumeMongo  = "mongo-data"
	// VolumeEngine holds only the engine proxy's socket, shared with the
	// registrator; down removes it, --volumes or not.
	VolumeEngine = "engine-socket"
)

// Labels Docker Compose reads; carrying them makes the demo a compose
// project to `docker compose ps`, `docker compose down` and topo's lanes.
const (
	LabelProject  = model.LabelComposeProject
	LabelService  = "com.docker.compose.service"
	LabelNumber   = "com.docker.compose.container-number"
	LabelOneoff   = "com.docker.compose.oneoff"
	LabelNetwork  = "com.docker.compose.network"
	LabelVolume   = "com.docker.compose.volume"
	LabelComposeV = "com.docker.compose.version"
	labelSpec     = "topo.demo.spec"
	// LabelOwner, set to OwnerTopo, marks every object topo creates for
	// the demo (containers, networks, volumes, swarm services, configs
	// and overlays). The compose project label alone says only which
	// project an object belongs to, and any compose project or stack may
	// carry the same name: up, scale and down act only on a project all
	// of whose objects carry this label too (see ownership.go).
	LabelOwner     = "topo.owner"
	OwnerTopo      = "topo"
	labelSwarmTask = model.LabelSwarmTaskID
	composeVersion = "2.0.0"
)

// Options configure a Deployer. The zero value of each field means its
// default.
type Options struct {
	// Project names every object: <project>-<service>-<n> for containers,
	// <project>_front for networks. DefaultProject when empty.
	Project string
	// LBBind and LBPort are where the load balancer is published on the
	// engine's host.
	LBBind string
	LBPort int
	// SelfBinary is topo's static Linux binary to run as the app and the
	// registrator; the running executable when empty.
	SelfBinary string
	// Images are the third-party images; DefaultImages when empty.
	Images Images
	// ExtraLabels are added to every object (tests use them to make their
	// objects removable by their own cleanup as well).
	ExtraLabels map[string]string
	// DockerSocket is the engine's socket as the engine's host sees it,
	// mounted into the engine proxy; /var/run/docker.sock when empty, which
	// is right for Linux engines and for Docker Desktop's VM alike.
	DockerSocket string
	// EngineHost is the engine's address as the person named it (--host,
	// DOCKER_HOST or a context): an ssh:// engine is another machine's,
	// whose load balancer and consul are reached through the engine (see
	// remote.go). Empty for this machine's engine.
	EngineHost string
	// Tunnel reaches consul's port inside its container through the
	// engine, where no address of consul's answers from this machine: on
	// a swarm, whose consul is published nowhere, always.
	Tunnel Tunnel
	// OverlayMTU is the MTU of the overlay networks of a Swarm deploy; the
	// driver's default (1450) when zero. A host interface below 1500 needs
	// it 50 bytes under its own.
	OverlayMTU int
	// AppConcurrency and AppServiceTime set each app instance's capacity,
	// AppConcurrency/AppServiceTime searches a second (APP_CONCURRENCY and
	// APP_SERVICE_TIME of topo demo app); the app's defaults when zero.
	AppConcurrency int
	AppServiceTime time.Duration
}

// Tunnel reaches a port inside a container through the engine's API (the
// docker adapter's Tunnel).
type Tunnel interface {
	Dial(ctx context.Context, containerID string, port int) (net.Conn, error)
}

// EngineAPI is the one narrow interface through which the deployer speaks
// to an engine: the calls it makes itself, the Swarm calls, and those of
// the docker adapter's image and one-shot helpers it uses. The SDK's
// client satisfies it; cli hands over the one client it built.
type EngineAPI interface {
	swarmAPI
	docker.ImageAPI
	docker.OneShotAPI
	DaemonHost() string
	Info(ctx context.Context) (system.Info, error)
	ImageInspect(ctx context.Context, ref string, opts ...client.ImageInspectOption) (image.InspectResponse, error)
	ImagePull(ctx context.Context, ref string, options image.PullOptions) (io.ReadCloser, error)
	NetworkList(ctx context.Context, options network.ListOptions) ([]network.Summary, error)
	NetworkCreate(ctx context.Context, name string, options network.CreateOptions) (network.CreateResponse, error)
	NetworkConnect(ctx context.Context, networkID, containerID string, config *network.EndpointSettings) error
	NetworkRemove(ctx context.Context, networkID string) error
	VolumeList(ctx context.Context, options volume.ListOptions) (volume.ListResponse, error)
	VolumeCreate(ctx context.Context, options volume.CreateOptions) (volume.Volume, error)
	VolumeRemove(ctx context.Context, volumeID string, force bool) error
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
	ContainerInspect(ctx context.Context, containerID string) (container.InspectResponse, error)
	ContainerCreate(ctx context.Context, config *container.Config, hostConfig *container.HostConfig, networkingConfig *network.NetworkingConfig, platform *ocispec.Platform, containerName string) (container.CreateResponse, error)
	CopyToContainer(ctx context.Context, containerID, dstPath string, content io.Reader, options container.CopyToContainerOptions) error
	ContainerStart(ctx context.Context, containerID string, options container.StartOptions) error
	ContainerStop(ctx context.Context, containerID string, options container.StopOptions) error
	ContainerRemove(ctx context.Context, containerID string, options container.RemoveOptions) error
}

var _ EngineAPI = (*client.Client)(nil)

// Deployer manages one project of the demo on one engine. Its methods may
// be called from several goroutines, but two operations on the same
// project at once are serialised: a scale racing a teardown would leave
// whatever the interleaving made.
type Deployer struct {
	api  EngineAPI
	opts Options
	// selfImage caches the tag of topo's own image for this binary.
	selfMu    sync.Mutex
	selfImage string
	// op serialises operations.
	op sync.Mutex
	// httpTimeout bounds one read of consul or one check of the load
	// balancer.
	httpTimeout time.Duration
	// tunnels are the HTTP transports through the engine, by container
	// and port (tunnelTransport).
	tunnelMu sync.Mutex
	tunnels  map[string]*http.Transport
}

var projectName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// New checks opts and returns a deployer; it does not contact the engine.
func New(api EngineAPI, opts Options) (*Deployer, error) {
	if opts.Project == "" {
		opts.Project = DefaultProject
	}
	if !projectName.MatchString(opts.Project) {
		return nil, fmt.Errorf("project name %q is not valid: use lower-case letters, digits, '-' and '_', starting with a letter or digit (as docker compose requires)", opts.Project)
	}
	if opts.LBBind == "" {
		opts.LBBind = DefaultLBBind
	}
	if net.ParseIP(opts.LBBind) == nil {
		return nil, fmt.Errorf("--lb-bind %q is not an IP address: use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)", opts.LBBind)
	}
	if opts.LBPort == 0 {
		opts.LBPort = DefaultLBPort
	}
	if opts.LBPort < 1 || opts.LBPort > 65535 {
		return nil, fmt.Errorf("--lb-port %d is not a TCP port: use 1 to 65535", opts.LBPort)
	}
	opts.Images = opts.Images.withDefaults()
	if opts.DockerSocket == "" {
		opts.DockerSocket = "/var/run/docker.sock"
	}
	d := &Deployer{api: api, opts: opts, httpTimeout: time.Second}
	if d.remoteHost() != "" {
		// Each request through the engine is an exec attached over a new
		// ssh connection (the connection helper dials one per hijack):
		// its handshake alone took over a second on a loaded machine.
		d.httpTimeout = 5 * time.Second
	}
	return d, nil
}

// Project is the project's name.
func (d *Deployer) Project() string { return d.opts.Project }

// Options returns the options in effect, defaults filled in.
func (d *Deployer) Options() Options { return d.opts }

// LBURL is the load balancer's address as a person types it in a browser.
func (d *Deployer) LBURL() string { return d.lbURL(d.opts.LBBind, d.opts.LBPort) }

// ContainerName is a container's name, as Docker Compose v2 names it.
func (d *Deployer) ContainerName(service string, number int) string {
	return fmt.Sprintf("%s-%s-%d", d.opts.Project, service, number)
}

// NetworkName is the engine's name of one of the project's networks.
func (d *Deployer) NetworkName(short string) string { return d.opts.Project + "_" + short }

// VolumeName is the engine's name of the project's volume.
func (d *Deployer) VolumeName() string { return d.opts.Project + "_" + VolumeMongo }

// EngineVolumeName is the engine's name of the volume holding the engine
// proxy's socket.
func (d *Deployer) EngineVolumeName() string { return d.opts.Project + "_" + VolumeEngine }

// projectFilter selects every object of the project.
func (d *Deployer) projectFilter() filters.Args {
	return filters.NewArgs(filters.Arg("label", LabelProject+"="+d.opts.Project))
}

func (d *Deployer) labels(extra map[string]string) map[string]string {
	l := map[string]string{LabelProject: d.opts.Project}
	for k, v := range d.opts.ExtraLabels {
		l[k] = v
	}
	for k, v := range extra {
		l[k] = v
	}
	// Last, so that no extra label can unset or forge another owner.
	l[LabelOwner] = OwnerTopo
	return l
}

// ErrBadInput marks errors in what the caller asked for (an unknown
// service, a count out of range), as opposed to failures of the engine.
var ErrBadInput = errors.New("bad input")

// ValidateScale checks a scale request before anything is touched.
func ValidateScale(service string, n int) error {
	known := false
	for _, s := range Services {
		known = known || s == service
	}
	switch {
	case !known:
		return fmt.Errorf("%w: unknown service %q: the demo's services are consul, mongo, engine-proxy, registrator, app and lb, and only app scales", ErrBadInput, service)
	case service != ServiceApp:
		return fmt.Errorf("%w: service %s runs exactly one instance (a second %s would %s): only app scales", ErrBadInput, service, service, whyNotScale[service])
	case n < 0:
		return fmt.Errorf("%w: cannot scale app to %d instances: use 0 to %d", ErrBadInput, n, MaxReplicas)
	case n > MaxReplicas:
		return fmt.Errorf("%w: %d app instances is more than this demo allows (%d): a laptop on stage would spend the talk starting them", ErrBadInput, n, MaxReplicas)
	}
	return nil
}

var whyNotScale = map[string]string{
	ServiceConsul:      "be a second, separate registry",
	ServiceMongo:       "share the database files with the first",
	ServiceEngineProxy: "serve the same socket as the first",
	ServiceRegistrator: "register every instance twice",
	ServiceLB:          "need the published port the first one holds",
}
