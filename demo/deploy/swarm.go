package deploy

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/model"
)

// LabelStack is the label `docker stack` reads: carrying it makes the
// demo's services a stack to `docker stack ps` and `docker stack rm`.
const LabelStack = model.LabelStackNamespace

// swarmAPI lists the client calls the Swarm deployer makes, a part of
// EngineAPI.
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

func (d *Deployer) swarm() swarmAPI { return d.api }

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
	// The manager's own clock when this up began: a task it made since
	// belongs to this deploy. (Parsed from its answer, not read here: a
	// remote manager's clock need not agree with this machine's.)
	begun, _ := time.Parse(time.RFC3339Nano, info.SystemTime)
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
	_, lacking := d.missingImages(ctx, time.Time{})
	want := opts.Replicas
	if want == 0 {
		want = DefaultReplicas
	}
	plan := swarmPlan{self: self, want: uint64(want), asked: opts.Replicas, ingress: ingress, lacking: lacking}
	for _, svc := range Services {
		if s, ok := have[d.ServiceName(svc)]; ok {
			err = d.keepService(ctx, r, plan, svc, s)
		} else {
			err = d.createService(ctx, r, plan, svc)
		}
		if err != nil {
			return res, err
		}
	}
	return finishUp(r, opts, res, func(timeout time.Duration) error { return d.waitSwarmLB(ctx, r, res.URL, timeout, begun) })
}

// checkIngress says whether the load balancer can be published through
// the swarm's ingress routing mesh, which needs IPVS in the manager's
// kernel, and reports which way it will be published and why. When the
// check itself fails, host mode is the safe choice: it works everywhere.
func (d *Deployer) checkIngress(ctx context.Context, r *reporter, self string) bool {
	const key, title = "ipvs", "publishing of the load balancer"
	r.start(key, title)
	ok, why, err := docker.CheckIPVS(ctx, d.api, self, d.labels(nil))
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

func (d *Deployer) waitSwarmLB(ctx context.Context, r *reporter, base string, timeout time.Duration, begun time.Time) error {
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
	// Only the tasks made since this up began count: after the images
	// were copied, the task that replaced a rejected one may sit in
	// preparing for longer than the grace (a worker tries to pull first,
	// and offline that waits for its resolver), and the rejection before
	// it is history, not news.
	const missingGrace = 10 * time.Second
	var missingSince time.Time
	for i := 0; ; i++ {
		who, err := d.checkURL(ctx, base)
		if err == nil || i%5 == 4 {
			if missing, _ := d.missingImages(ctx, begun); len(missing) == 0 {
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
// services holds the IDs of the services with such a task. Tasks made
// before since (the manager's clock; zero: all) are left out.
func (d *Deployer) missingImages(ctx context.Context, since time.Time) (missing []string, services map[string]bool) {
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
		if t.Meta.CreatedAt.Before(since) {
			continue
		}
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
