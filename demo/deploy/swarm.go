package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/model"
)

// LabelStack is the label `docker stack` reads: carrying it makes the
// demo's services a stack to `docker stack ps` and `docker stack rm`.
const LabelStack = model.LabelStackNamespace

// swarmAPI lists the client calls the Swarm deployer makes beside
// engineAPI's.
type swarmAPI interface {
	ServiceUpdate(ctx context.Context, serviceID string, version swarm.Version, service swarm.ServiceSpec, options swarm.ServiceUpdateOptions) (swarm.ServiceUpdateResponse, error)
	ServiceCreate(ctx context.Context, service swarm.ServiceSpec, options swarm.ServiceCreateOptions) (swarm.ServiceCreateResponse, error)
	ServiceList(ctx context.Context, options swarm.ServiceListOptions) ([]swarm.Service, error)
	ServiceRemove(ctx context.Context, serviceID string) error
	ConfigCreate(ctx context.Context, config swarm.ConfigSpec) (swarm.ConfigCreateResponse, error)
	ConfigList(ctx context.Context, options swarm.ConfigListOptions) ([]swarm.Config, error)
	ConfigRemove(ctx context.Context, id string) error
	TaskList(ctx context.Context, options swarm.TaskListOptions) ([]swarm.Task, error)
	NodeList(ctx context.Context, options swarm.NodeListOptions) ([]swarm.Node, error)
}

var _ swarmAPI = (*client.Client)(nil)

func (d *Deployer) swarm() swarmAPI { return d.cli }

// swarmRestartDelay is short so that a task started before its dependency
// answers (nginx before consul's name resolves) comes back at once.
const swarmRestartDelay = 500 * time.Millisecond

// ServiceName is the Swarm service's name, as `docker stack deploy` names
// it.
func (d *Deployer) ServiceName(service string) string { return d.opts.Project + "_" + service }

func (d *Deployer) stackFilter() filters.Args {
	return filters.NewArgs(filters.Arg("label", LabelStack+"="+d.opts.Project))
}

func (d *Deployer) stackLabels(extra map[string]string) map[string]string {
	l := d.labels(extra)
	l[LabelStack] = d.opts.Project
	return l
}

// SwarmURL is the load balancer's address on a Swarm as these options
// would publish it: on the manager the client talks to (127.0.0.1 for a
// local socket), which answers in both publishing modes.
func (d *Deployer) SwarmURL() string {
	return "http://" + net.JoinHostPort(d.swarmHost(), strconv.Itoa(d.opts.LBPort))
}

// UpSwarm deploys the demo as Swarm services on attachable overlay
// networks, through a manager's API: consul and mongo on a manager (consul
// publishes its HTTP port there, for topo; mongo's volume lives there),
// the registrator on every node (global), N app replicas spread by the
// swarm, and the load balancer, published through the ingress routing
// mesh when the manager's kernel has IPVS, else with mode=host on a
// manager (the step "publishing of the load balancer" says which and
// why). The other services resolve by DNS round robin (dnsrr): service
// virtual IPs need IPVS too. What exists is left alone, so running it
// twice creates nothing twice; only the app's replica count is brought to
// opts.Replicas when given.
//
// Images must be on every node: topo's own image is built on the manager
// only, and third-party ones are pulled there only. A node lacking one
// makes the wait fail with the images and nodes to copy them to.
func (d *Deployer) UpSwarm(ctx context.Context, opts UpOptions, progress Progress) (Result, error) {
	res := Result{URL: d.SwarmURL()}
	if opts.Replicas < 0 || opts.Replicas > MaxReplicas {
		return res, fmt.Errorf("%w: --replicas %d: use 1 to %d", ErrBadInput, opts.Replicas, MaxReplicas)
	}
	if err := swarmBind(d.opts.LBBind); err != nil {
		return res, err
	}
	if opts.Registries > 1 {
		return res, fmt.Errorf("%w: --registries %d: a second registry is deployed on a single engine only; drop --swarm or --registries", ErrBadInput, opts.Registries)
	}
	d.op.Lock()
	defer d.op.Unlock()
	r := newReporter(progress)

	info, err := d.api.Info(ctx)
	if err != nil {
		return res, fmt.Errorf("ask the engine whether it is a swarm manager: %w", err)
	}
	if !info.Swarm.ControlAvailable {
		return res, fmt.Errorf("%w: this engine is not a swarm manager: point topo at a manager (docker node ls on a manager), or deploy without --swarm", ErrBadInput)
	}
	if err := d.checkOwned(ctx, r, "deploy into"); err != nil {
		return res, err
	}
	self, err := d.prepare(ctx, r, d.ensureOverlay)
	if err != nil {
		return res, err
	}
	ingress := d.checkIngress(ctx, r, self)
	have, err := d.stackServices(ctx)
	if err != nil {
		return res, err
	}
	// Tasks that found no image on their node (a deploy before the
	// images were copied) are retried by the swarm only after the
	// attempt in flight gives up pulling, which offline takes its time:
	// replaced now, they start with the images there now.
	_, lacking := d.missingImages(ctx)
	want := opts.Replicas
	if want == 0 {
		want = DefaultReplicas
	}
	for _, svc := range Services {
		if s, ok := have[d.ServiceName(svc)]; ok {
			key, title := "service "+svc, "service "+s.Spec.Name
			spec, err := d.serviceSpec(ctx, r, svc, self, uint64(want), ingress)
			if err != nil {
				return res, err
			}
			if s.Spec.Labels[labelSpec] != spec.Labels[labelSpec] {
				// Other settings than asked for (another --lb-port, image,
				// or topo version): the swarm rolls the service over to the
				// new spec. The app keeps its replica count unless asked.
				if rep := s.Spec.Mode.Replicated; svc == ServiceApp && opts.Replicas == 0 && rep != nil && rep.Replicas != nil {
					spec.Mode.Replicated.Replicas = rep.Replicas
				}
				r.start(key, title)
				if _, err := d.swarm().ServiceUpdate(ctx, s.ID, s.Version, spec, swarm.ServiceUpdateOptions{}); err != nil {
					return res, r.fail(key, title, fmt.Errorf("update service %s to the settings asked for: %w", s.Spec.Name, err))
				}
				r.done(key, title, "updated: its settings changed")
				continue
			}
			if lacking[s.ID] {
				s.Spec.TaskTemplate.ForceUpdate++
				r.start(key, title)
				if _, err := d.swarm().ServiceUpdate(ctx, s.ID, s.Version, s.Spec, swarm.ServiceUpdateOptions{}); err != nil {
					return res, r.fail(key, title, fmt.Errorf("restart the tasks of service %s: %w", s.Spec.Name, err))
				}
				r.done(key, title, "tasks restarted: some had found no image on their node")
				continue
			}
			rep := s.Spec.Mode.Replicated
			if svc != ServiceApp || opts.Replicas == 0 || rep == nil || rep.Replicas == nil || *rep.Replicas == uint64(want) {
				r.done(key, title, "exists")
				continue
			}
			from, to := *rep.Replicas, uint64(want)
			rep.Replicas = &to
			if _, err := d.swarm().ServiceUpdate(ctx, s.ID, s.Version, s.Spec, swarm.ServiceUpdateOptions{}); err != nil {
				return res, r.fail(key, title, fmt.Errorf("scale service %s to %d: %w", s.Spec.Name, to, err))
			}
			r.done(key, title, fmt.Sprintf("scaled %d → %d", from, to))
			continue
		}
		spec, err := d.serviceSpec(ctx, r, svc, self, uint64(want), ingress)
		if err != nil {
			return res, err
		}
		if svc == ServiceLB {
			// nginx resolves consul's name as it starts, and exits when
			// that fails: the swarm would restart it, leaving a failed
			// task for the audience to wonder at.
			if err := d.waitServiceRunning(ctx, r, ServiceConsul, swarmConsulWait); err != nil {
				return res, err
			}
		}
		key, title := "service "+svc, "service "+spec.Name
		r.start(key, title)
		// No registry is asked for the image's digest: the images are the
		// nodes' own, and a registry may well be out of reach.
		if _, err := d.swarm().ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{QueryRegistry: false}); err != nil {
			return res, r.fail(key, title, fmt.Errorf("create service %s: %w", spec.Name, err))
		}
		r.done(key, title, "created")
	}

	if !opts.Wait {
		r.done("ready", "deployed: "+res.URL, "not waiting for health (use --wait)")
		return res, nil
	}
	timeout := opts.WaitTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	if err := d.waitSwarmLB(ctx, r, res.URL, timeout); err != nil {
		return res, err
	}
	res.Ready = true
	r.done("ready", "ready: "+res.URL, "")
	return res, nil
}

// checkIngress says whether the load balancer can be published through
// the swarm's ingress routing mesh, which needs IPVS in the manager's
// kernel, and reports which way it will be published and why. When the
// check itself fails, host mode is the safe choice: it works everywhere.
func (d *Deployer) checkIngress(ctx context.Context, r *reporter, self string) bool {
	const key, title = "ipvs", "publishing of the load balancer"
	r.start(key, title)
	ok, why, err := docker.CheckIPVS(ctx, d.cli, self, d.labels(nil))
	switch {
	case err != nil:
		r.done(key, title, fmt.Sprintf("mode=host on a manager (IPVS unknown: %v)", err))
	case ok:
		r.done(key, title, fmt.Sprintf("ingress routing mesh: every node answers on :%d (%s)", d.opts.LBPort, why))
	default:
		r.done(key, title, fmt.Sprintf("mode=host on a manager, no routing mesh: %s", why))
	}
	return err == nil && ok
}

func (d *Deployer) waitSwarmLB(ctx context.Context, r *reporter, base string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	const key, title = "wait lb", "load balancer answers"
	r.start(key, title)
	// A node without an image never runs its task, however long we wait:
	// say which, and how to copy it. The swarm places replicas on the
	// nodes that have the image, so the demo may even answer from the
	// manager alone while the registrator cannot run elsewhere, which is
	// not the demo asked for. A failure seen for missingGrace is taken as
	// lasting; a shorter one is an image just loaded, about to be retried.
	const missingGrace = 10 * time.Second
	var missingSince time.Time
	for i := 0; ; i++ {
		who, err := d.checkURL(ctx, base)
		if err == nil || i%5 == 4 {
			if missing, _ := d.missingImages(ctx); len(missing) == 0 {
				missingSince = time.Time{}
			} else if missingSince.IsZero() {
				missingSince = time.Now()
			} else if time.Since(missingSince) >= missingGrace {
				return r.fail(key, title, fmt.Errorf("images missing on nodes: %s. Copy each (`docker save IMAGE | docker -H NODE load`, or push it to a registry the nodes reach), then deploy again: swarm nodes do not share images",
					strings.Join(missing, "; ")))
			}
		}
		if err == nil && missingSince.IsZero() {
			r.done(key, title, "served by "+who)
			return nil
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			if ctx.Err() == context.DeadlineExceeded {
				return r.fail(key, title, fmt.Errorf("the load balancer at %s did not answer within %v (%v): `docker service ps %s` tells why", base, timeout, err, d.ServiceName(ServiceLB)))
			}
			return r.fail(key, title, ctx.Err())
		}
	}
}

// missingImages says, per image, on which nodes the stack's tasks failed
// to find it: "IMAGE on NODE, NODE", sorted.
//
// services holds the IDs of the services with such a task.
func (d *Deployer) missingImages(ctx context.Context) (missing []string, services map[string]bool) {
	tasks, err := d.swarm().TaskList(ctx, swarm.TaskListOptions{Filters: d.stackFilter()})
	if err != nil {
		return nil, nil
	}
	hostname, err := d.nodeHostnames(ctx)
	if err != nil {
		return nil, nil
	}
	// Task history keeps the failures from before an image was loaded:
	// only the latest attempt of each replica (slot), or of each node for
	// a global service, says how things stand. An attempt still on its
	// way (pending, preparing...) says nothing yet; one starting (its
	// container made, waiting to be healthy) found its image.
	latest := map[string]swarm.Task{}
	for _, t := range tasks {
		switch t.Status.State {
		case swarm.TaskStateStarting, swarm.TaskStateRunning, swarm.TaskStateFailed, swarm.TaskStateRejected:
		default:
			continue
		}
		k := t.ServiceID + "/" + strconv.Itoa(t.Slot)
		if t.Slot == 0 {
			k = t.ServiceID + "/" + t.NodeID
		}
		if l, ok := latest[k]; !ok || t.Meta.CreatedAt.After(l.Meta.CreatedAt) {
			latest[k] = t
		}
	}
	onNodes := map[string]map[string]bool{}
	services = map[string]bool{}
	for _, t := range latest {
		if !imageMissing(t.Status.Err) || t.Spec.ContainerSpec == nil {
			continue
		}
		services[t.ServiceID] = true
		img := t.Spec.ContainerSpec.Image
		if onNodes[img] == nil {
			onNodes[img] = map[string]bool{}
		}
		onNodes[img][hostname[t.NodeID]] = true
	}
	for img, set := range onNodes {
		names := make([]string, 0, len(set))
		for n := range set {
			names = append(names, n)
		}
		sort.Strings(names)
		missing = append(missing, img+" on "+strings.Join(names, ", "))
	}
	sort.Strings(missing)
	return missing, services
}

// imageMissing recognises a task error that says its node has no such
// image and could not pull it.
func imageMissing(taskErr string) bool {
	e := strings.ToLower(taskErr)
	return strings.Contains(e, "no such image") || strings.Contains(e, "pull access denied") ||
		(strings.Contains(e, "image") && strings.Contains(e, "not found"))
}

// swarmConsulWait bounds the wait for consul's task before the load
// balancer is created; past it the lb is created anyway, and the swarm
// restarts it until consul answers.
const swarmConsulWait = 30 * time.Second

// waitServiceRunning waits until a task of the stack's service runs.
func (d *Deployer) waitServiceRunning(ctx context.Context, r *reporter, service string, timeout time.Duration) error {
	key, title := "wait "+service, "service "+d.ServiceName(service)+" running"
	r.start(key, title)
	ctx2, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	f := filters.NewArgs(filters.Arg("service", d.ServiceName(service)), filters.Arg("desired-state", "running"))
	for {
		tasks, err := d.swarm().TaskList(ctx2, swarm.TaskListOptions{Filters: f})
		if err == nil {
			for _, t := range tasks {
				if t.Status.State == swarm.TaskStateRunning {
					r.done(key, title, "running")
					return nil
				}
			}
		}
		if !sleepCtx(ctx2, 100*time.Millisecond) {
			if ctx.Err() != nil {
				return r.fail(key, title, ctx.Err())
			}
			r.done(key, title, fmt.Sprintf("not yet after %v: going on", timeout))
			return nil
		}
	}
}

// stackServices lists the stack's services by name.
func (d *Deployer) stackServices(ctx context.Context) (map[string]swarm.Service, error) {
	list, err := d.swarm().ServiceList(ctx, swarm.ServiceListOptions{Filters: d.stackFilter()})
	if err != nil {
		return nil, fmt.Errorf("list the services of stack %s: %w", d.opts.Project, err)
	}
	out := map[string]swarm.Service{}
	for _, s := range list {
		out[s.Spec.Name] = s
	}
	return out, nil
}

// ensureOverlay creates one of the stack's overlay networks unless it
// exists; attachable, so that a probe or a one-off container can join.
func (d *Deployer) ensureOverlay(ctx context.Context, r *reporter, short string) error {
	name := d.NetworkName(short)
	var options map[string]string
	if d.opts.OverlayMTU > 0 {
		options = map[string]string{"com.docker.network.driver.mtu": strconv.Itoa(d.opts.OverlayMTU)}
	}
	return d.ensureNamedNetwork(ctx, r, short,
		func(n network.Summary) bool {
			return n.Labels[LabelStack] == d.opts.Project && n.Labels[LabelOwner] == OwnerTopo && n.Driver == "overlay"
		},
		fmt.Sprintf("network %s exists but is not an overlay of stack %s (a single-engine deploy of the demo, or another's): remove it (topo demo down, or docker network rm %s) or choose another --project", name, d.opts.Project, name),
		network.CreateOptions{
			Driver: "overlay", Attachable: true, Options: options,
			Labels: d.stackLabels(map[string]string{LabelNetwork: short, LabelComposeV: composeVersion}),
		}, "create overlay network")
}

// serviceSpec turns the single-engine spec of a service into a Swarm
// service, so both modes run the same images, commands and settings.
//
// With ingress (the manager's kernel has IPVS) the load balancer gets a
// virtual IP and is published through the routing mesh, on every node;
// without, it is published with mode=host on a manager. Consul's HTTP
// port is published with mode=host on a manager either way, so that topo
// and `topo demo status`, outside the overlay, can read the registry.
func (d *Deployer) serviceSpec(ctx context.Context, r *reporter, service, self string, replicas uint64, ingress bool) (swarm.ServiceSpec, error) {
	s := d.specFor(service, 1, self)
	labels := d.stackLabels(map[string]string{LabelService: service})
	// The containers carry the labels too: the registrator selects them
	// by the project label, and topo groups them by it.
	cs := &swarm.ContainerSpec{
		Image: s.Image, Args: s.Cmd, Env: s.Env, Labels: labels,
		StopGracePeriod: durationPtr(stopTimeout * time.Second),
	}
	if service == ServiceApp {
		// One name per replica, which the app answers in X-Served-By.
		for i, e := range cs.Env {
			if strings.HasPrefix(e, "INSTANCE_NAME=") {
				cs.Env[i] = "INSTANCE_NAME={{.Service.Name}}.{{.Task.Slot}}"
			}
		}
	}
	if len(s.Health) > 0 {
		cs.Healthcheck = healthConfig(s.Health)
	}
	cs.User = s.User
	if s.Locked {
		cs.CapabilityDrop = []string{"ALL"}
		cs.CapabilityAdd = s.CapAdd
		cs.ReadOnly = true
		// Honoured by engines from API 1.44 on; older ones drop it, and
		// then what stands in for it is that topo's image has no setuid
		// binary and these containers keep no capability to gain.
		cs.Privileges = &swarm.Privileges{NoNewPrivileges: true}
	}
	for _, m := range s.Mounts {
		mt := parseMount(m)
		if mt.Type == mount.TypeVolume {
			short := strings.TrimPrefix(mt.Source, d.opts.Project+"_")
			mt.VolumeOptions = &mount.VolumeOptions{Labels: d.stackLabels(map[string]string{LabelVolume: short, LabelComposeV: composeVersion})}
		}
		cs.Mounts = append(cs.Mounts, mt)
	}
	files := slices.Sorted(maps.Keys(s.Files))
	for _, file := range files {
		ref, err := d.ensureConfig(ctx, r, service, file, s.Files[file])
		if err != nil {
			return swarm.ServiceSpec{}, err
		}
		cs.Configs = append(cs.Configs, ref)
	}
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: d.ServiceName(service), Labels: maps.Clone(labels)},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: cs,
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny, Delay: durationPtr(swarmRestartDelay)},
		},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
	}
	if s.MemoryMiB > 0 || s.Pids > 0 {
		spec.TaskTemplate.Resources = &swarm.ResourceRequirements{Limits: &swarm.Limit{MemoryBytes: s.MemoryMiB << 20, Pids: s.Pids}}
	}
	for _, n := range s.Networks {
		spec.TaskTemplate.Networks = append(spec.TaskTemplate.Networks, swarm.NetworkAttachmentConfig{Target: n, Aliases: s.Aliases})
	}
	// Updates (a rolling restart, new settings) replace one task at a
	// time, watched for a second rather than the default five, and go on
	// past a failed one: on stage a paused update is an unexplained stall.
	spec.UpdateConfig = &swarm.UpdateConfig{Parallelism: 1, Monitor: time.Second, FailureAction: swarm.UpdateFailureActionContinue}
	if service == ServiceApp || service == ServiceRegistrator || service == ServiceEngineProxy {
		// The new task starts before the old one stops: the app keeps its
		// capacity through a rolling restart, and a task stuck pulling an
		// image that is not there (offline, until the pull times out) does
		// not hold up its replacement. The single-instance services keep
		// stop-first: a published port or a volume cannot be shared.
		spec.UpdateConfig.Order = swarm.UpdateOrderStartFirst
	}
	switch service {
	case ServiceRegistrator:
		// Every node's at once: each resyncs the registry as it starts.
		spec.UpdateConfig.Parallelism = 0
		// A registrator sees only its own engine's containers: one per node.
		// It registers them with their IP on front, which every node's
		// nginx reaches over the overlay.
		spec.TaskTemplate.Networks = append(spec.TaskTemplate.Networks,
			swarm.NetworkAttachmentConfig{Target: d.NetworkName(NetworkFront), Aliases: s.Aliases})
		spec.Mode = swarm.ServiceMode{Global: &swarm.GlobalService{}}
	case ServiceEngineProxy:
		// Beside every registrator, on its node: the socket volume is a
		// node's local volume, so each registrator meets its own node's
		// proxy there, and no proxy is reachable over any network.
		spec.UpdateConfig.Parallelism = 0
		spec.Mode = swarm.ServiceMode{Global: &swarm.GlobalService{}}
	default:
		n := uint64(1)
		if service == ServiceApp {
			n = replicas
		}
		spec.Mode = swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &n}}
	}
	onManager := &swarm.Placement{Constraints: []string{"node.role==manager"}}
	switch service {
	case ServiceMongo:
		// mongo's volume is a node's local volume: it must come back on
		// the same kind of node, and `down --volumes` on the manager finds
		// it.
		spec.TaskTemplate.Placement = onManager
	case ServiceConsul:
		// On a manager, so that topo, which speaks to a manager, reaches
		// its task through the engine (Options.Tunnel). It publishes
		// nothing: a dev agent has no ACL, and a published 8500 let anyone
		// on the manager's network register a fake app and take the load
		// balancer's traffic.
		spec.TaskTemplate.Placement = onManager
	case ServiceLB:
		mode := swarm.PortConfigPublishModeIngress
		if ingress {
			spec.EndpointSpec.Mode = swarm.ResolutionModeVIP
		} else {
			// Published on the node the user's client talks to.
			mode = swarm.PortConfigPublishModeHost
			spec.TaskTemplate.Placement = onManager
		}
		for port := range s.Publish {
			spec.EndpointSpec.Ports = append(spec.EndpointSpec.Ports, swarm.PortConfig{
				Protocol: swarm.PortConfigProtocolTCP, TargetPort: uint32(port), PublishedPort: uint32(d.opts.LBPort),
				PublishMode: mode,
			})
		}
	}
	// The hash of the spec, as a label: a later up compares it to find
	// a service deployed with other settings. Replicas are not settings
	// (scaling changes them), so they are left out of it.
	hashed := spec
	hashed.Mode = swarm.ServiceMode{Global: spec.Mode.Global}
	b, err := json.Marshal(hashed)
	if err != nil {
		return swarm.ServiceSpec{}, fmt.Errorf("hash the spec of service %s: %w", spec.Name, err)
	}
	sum := sha256.Sum256(b)
	spec.Labels[labelSpec] = hex.EncodeToString(sum[:])[:16]
	return spec, nil
}

func durationPtr(d time.Duration) *time.Duration { return &d }

// ensureConfig stores a file of a service as a Swarm config (the
// single-engine deployer copies it into the container instead). Configs
// cannot change, so the name carries a hash of the content.
func (d *Deployer) ensureConfig(ctx context.Context, r *reporter, service, file, content string) (*swarm.ConfigReference, error) {
	short := service + "_" + strings.ReplaceAll(strings.TrimPrefix(file, "/"), "/", "_")
	name := d.opts.Project + "_" + short + "_" + spec{Files: map[string]string{file: content}}.hash()[:8]
	key, title := "config "+short, "config "+name
	ref := &swarm.ConfigReference{
		ConfigName: name,
		File:       &swarm.ConfigReferenceFileTarget{Name: file, UID: "0", GID: "0", Mode: 0o444},
	}
	list, err := d.swarm().ConfigList(ctx, swarm.ConfigListOptions{Filters: filters.NewArgs(filters.Arg("name", name))})
	if err != nil {
		return nil, r.fail(key, title, fmt.Errorf("list configs: %w", err))
	}
	for _, c := range list {
		if c.Spec.Name == name {
			// The name's hash is short: a config of that name that topo
			// did not make may hold another file, which the load balancer
			// would then serve.
			if c.Spec.Labels[LabelOwner] != OwnerTopo || c.Spec.Labels[LabelStack] != d.opts.Project {
				return nil, r.fail(key, title, fmt.Errorf("config %s exists but topo did not create it for stack %s: remove it (docker config rm %s) or choose another --project", name, d.opts.Project, name))
			}
			ref.ConfigID = c.ID
			r.done(key, title, "exists")
			return ref, nil
		}
	}
	resp, err := d.swarm().ConfigCreate(ctx, swarm.ConfigSpec{
		Annotations: swarm.Annotations{Name: name, Labels: d.stackLabels(map[string]string{LabelService: service})},
		Data:        []byte(content),
	})
	if err != nil {
		return nil, r.fail(key, title, fmt.Errorf("create config %s: %w", name, err))
	}
	ref.ConfigID = resp.ID
	r.done(key, title, "created")
	return ref, nil
}

// DownSwarm removes the stack's services, configs and networks, and with
// volumes the stack's volumes on the manager it talks to (mongo's is
// there: it is placed on a manager). Tasks stop asynchronously after
// their service is removed, and a network or volume still in use refuses
// removal, so those are retried until the tasks are gone.
func (d *Deployer) DownSwarm(ctx context.Context, volumes bool, progress Progress) error {
	d.op.Lock()
	defer d.op.Unlock()
	r := newReporter(progress)
	if err := d.checkOwned(ctx, r, "remove"); err != nil {
		return err
	}
	return d.downSwarm(ctx, volumes, r)
}

func (d *Deployer) downSwarm(ctx context.Context, volumes bool, r *reporter) error {
	have, err := d.stackServices(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range have {
		key, title := "service "+s.Spec.Name, "service "+s.Spec.Name
		r.start(key, title)
		if err := d.swarm().ServiceRemove(ctx, s.ID); err != nil && !client.IsErrNotFound(err) {
			errs = append(errs, r.fail(key, title, fmt.Errorf("remove service %s: %w", s.Spec.Name, err)))
			continue
		}
		r.done(key, title, "removed")
	}
	configs, err := d.swarm().ConfigList(ctx, swarm.ConfigListOptions{Filters: d.stackFilter()})
	if err != nil {
		errs = append(errs, fmt.Errorf("list the configs of stack %s: %w", d.opts.Project, err))
	}
	for _, c := range configs {
		errs = append(errs, d.removeRetrying(ctx, r, "config "+c.Spec.Name, func() error { return d.swarm().ConfigRemove(ctx, c.ID) }))
	}
	errs = append(errs, d.removeOverlays(ctx, r))
	vols, err := d.api.VolumeList(ctx, volume.ListOptions{Filters: d.stackFilter()})
	if err != nil {
		errs = append(errs, fmt.Errorf("list the volumes of stack %s: %w", d.opts.Project, err))
	}
	for _, v := range vols.Volumes {
		// The engine proxy's volume holds only a socket: it goes either way.
		if !volumes && v.Labels[LabelVolume] != VolumeEngine {
			r.done("volume "+v.Name, "volume "+v.Name, "kept (the catalogue survives; --volumes removes it)")
			continue
		}
		errs = append(errs, d.removeRetrying(ctx, r, "volume "+v.Name, func() error { return d.api.VolumeRemove(ctx, v.Name, false) }))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	r.done("down", "stack "+d.opts.Project+" removed", "")
	return nil
}

// removeOverlays removes the stack's networks and waits until the manager
// lists none: the swarm's network goes at once, but the manager's own
// attachment of it lingers until its last local task is cleaned up, and a
// new up in that window would find a network it cannot use.
func (d *Deployer) removeOverlays(ctx context.Context, r *reporter) error {
	ctx, cancel := context.WithTimeout(ctx, swarmRemoveTimeout)
	defer cancel()
	listed := map[string]bool{} // by name; true once reported removed
	var last error
	for {
		nets, err := d.api.NetworkList(ctx, network.ListOptions{Filters: d.stackFilter()})
		if err != nil {
			last = fmt.Errorf("list the networks of stack %s: %w", d.opts.Project, err)
		} else {
			left := map[string]bool{}
			for _, n := range nets {
				left[n.Name] = true
				key := "network " + n.Name
				if _, ok := listed[n.Name]; !ok {
					listed[n.Name] = false
					r.start(key, key)
				}
				if err := d.api.NetworkRemove(ctx, n.ID); err != nil && !client.IsErrNotFound(err) {
					last = fmt.Errorf("remove network %s: %w", n.Name, err)
					r.progress(key, key, "in use: waiting for the tasks to stop", -1)
				}
			}
			for name, done := range listed {
				if !done && !left[name] {
					listed[name] = true
					r.done("network "+name, "network "+name, "removed")
				}
			}
			if len(nets) == 0 {
				return nil
			}
		}
		if !sleepCtx(ctx, 200*time.Millisecond) {
			if last == nil {
				last = ctx.Err()
			}
			return fmt.Errorf("the networks of stack %s are still listed after %v (%w): something outside the stack may still use them (docker network inspect)", d.opts.Project, swarmRemoveTimeout, last)
		}
	}
}

// swarmRemoveTimeout bounds the wait for a removed service's tasks to let
// go of a network, config or volume: they stop within stopTimeout.
const swarmRemoveTimeout = 30 * time.Second

func (d *Deployer) removeRetrying(ctx context.Context, r *reporter, what string, remove func() error) error {
	r.start(what, what)
	ctx, cancel := context.WithTimeout(ctx, swarmRemoveTimeout)
	defer cancel()
	for {
		err := remove()
		if err == nil || client.IsErrNotFound(err) {
			r.done(what, what, "removed")
			return nil
		}
		r.progress(what, what, "in use: waiting for the tasks to stop", -1)
		if !sleepCtx(ctx, 200*time.Millisecond) {
			return r.fail(what, what, fmt.Errorf("remove %s: %w (something outside the stack may still use it)", what, err))
		}
	}
}

// swarmBind refuses a bind address a swarm cannot honour. A swarm
// publishes a port on every interface of the node that runs the task (host
// mode) or of every node (the ingress mesh); it has no bind address. The
// default (loopback, for one engine) means the user chose nothing, and
// 0.0.0.0 is what a swarm does anyway; anything else would be silently
// ignored, so it is refused with what to do instead.
func swarmBind(bind string) error {
	switch bind {
	case "", DefaultLBBind, "0.0.0.0", "::":
		return nil
	}
	return fmt.Errorf("%w: --lb-bind %s cannot apply to a swarm: a swarm publishes the load balancer on every interface of its node (it has no bind address); leave --lb-bind out, or deploy on one engine without --swarm to publish on %s only", ErrBadInput, bind, bind)
}
