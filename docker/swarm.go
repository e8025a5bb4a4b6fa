package docker

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/client"

	"github.com/topo-dev/topo/model"
)

// swarmAPI lists exactly the client methods the swarm adapter calls.
type swarmAPI interface {
	Ping(ctx context.Context) (types.Ping, error)
	Info(ctx context.Context) (system.Info, error)
	NodeList(ctx context.Context, options swarm.NodeListOptions) ([]swarm.Node, error)
	NodeInspectWithRaw(ctx context.Context, nodeID string) (swarm.Node, []byte, error)
	NodeUpdate(ctx context.Context, nodeID string, version swarm.Version, node swarm.NodeSpec) error
	ServiceList(ctx context.Context, options swarm.ServiceListOptions) ([]swarm.Service, error)
	ServiceInspectWithRaw(ctx context.Context, serviceID string, options swarm.ServiceInspectOptions) (swarm.Service, []byte, error)
	ServiceUpdate(ctx context.Context, serviceID string, version swarm.Version, service swarm.ServiceSpec, options swarm.ServiceUpdateOptions) (swarm.ServiceUpdateResponse, error)
	TaskList(ctx context.Context, options swarm.TaskListOptions) ([]swarm.Task, error)
	NetworkList(ctx context.Context, options network.ListOptions) ([]network.Summary, error)
	SecretList(ctx context.Context, options swarm.SecretListOptions) ([]swarm.Secret, error)
	ConfigList(ctx context.Context, options swarm.ConfigListOptions) ([]swarm.Config, error)
	Events(ctx context.Context, options events.ListOptions) (<-chan events.Message, <-chan error)
}

var _ swarmAPI = (*client.Client)(nil)

// ErrSwarmWorker is returned when topo talks to a worker, which knows
// nothing of the cluster.
var ErrSwarmWorker = model.ErrSwarmWorker

// ErrNotSwarm is returned when the engine is in no swarm at all.
var ErrNotSwarm = errors.New("this engine is not in a swarm: run `docker swarm init` to make it a one-node swarm, or point topo at a manager")

// Defaults of the reconcile loop: tasks have no events, so while a service
// converges the adapter re-lists them every ReconcileEvery; once nothing
// has changed for ReconcilePatience (a task that cannot be placed, an image
// that never pulls), the interval doubles up to ReconcileMax, so a stuck
// service costs a request every few seconds rather than every second.
const (
	DefaultReconcileEvery    = 750 * time.Millisecond
	DefaultReconcileMax      = 5 * time.Second
	DefaultReconcilePatience = 20 * time.Second
	// coalesceWindow gathers the burst of events one change makes (a
	// scale is a service update, then update-state updates) into one
	// re-list.
	coalesceWindow = 100 * time.Millisecond
	// taskFollowFor is how long the tasks are re-listed after a task's
	// container starts or dies on this engine: the engine's event comes
	// before the node has told the manager, so the first re-list may still
	// show the task as it was, and nothing converges yet to re-list again.
	taskFollowFor = 5 * time.Second
)

// Swarm reads and drives the swarm an engine manages.
type Swarm struct {
	api  swarmAPI
	host string
	// ReconcileEvery, ReconcilePatience and ReconcileMax pace the task
	// re-lists while a service converges; set them before Watch.
	ReconcileEvery, ReconcilePatience, ReconcileMax time.Duration
}

// NewSwarm returns the swarm adapter of an engine. It does not check the
// engine's role: Read and Watch do, and say what to do about a worker.
func NewSwarm(e *Engine) *Swarm {
	return newSwarm(e.Client, e.Host)
}

func newSwarm(api swarmAPI, host string) *Swarm {
	return &Swarm{api: api, host: host, ReconcileEvery: DefaultReconcileEvery,
		ReconcilePatience: DefaultReconcilePatience, ReconcileMax: DefaultReconcileMax}
}

// role reads the engine's swarm membership and refuses anything but a
// manager, with the error a person can act on.
func (s *Swarm) role(ctx context.Context) (system.Info, error) {
	info, err := s.api.Info(ctx)
	if err != nil {
		return info, s.explain(err)
	}
	switch {
	case info.Swarm.ControlAvailable:
		return info, nil
	case info.Swarm.LocalNodeState == swarm.LocalNodeStateActive || info.Swarm.LocalNodeState == swarm.LocalNodeStatePending:
		return info, ErrSwarmWorker
	}
	return info, ErrNotSwarm
}

func (s *Swarm) explain(err error) error {
	if client.IsErrConnectionFailed(err) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("cannot reach the swarm manager at %s: is its engine running? (%w)", s.host, err)
	}
	return fmt.Errorf("swarm manager at %s: %w", s.host, err)
}

// Read reads the whole cluster once: nodes, services, tasks (history
// included), overlay networks, secret and config names.
func (s *Swarm) Read(ctx context.Context) (model.Cluster, error) {
	info, err := s.role(ctx)
	if err != nil {
		return model.Cluster{}, err
	}
	return s.read(ctx, info, allParts)
}

// parts names the lists a refresh re-reads.
type parts uint8

const (
	partNodes parts = 1 << iota
	partServices
	partTasks
	partNetworks
	partSecrets
	partConfigs
	allParts = partNodes | partServices | partTasks | partNetworks | partSecrets | partConfigs
)

// readInto re-reads the lists named by which into a copy of base, keeping
// the rest. The lists are read in
// parallel: the first frame waits for the slowest, not for their sum.
func (s *Swarm) readInto(ctx context.Context, base model.Cluster, which parts) (model.Cluster, error) {
	out := base
	out.Events, out.Stale, out.Retry = nil, nil, time.Time{}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	run := func(p parts, what string, f func() error) {
		if which&p == 0 {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("list %s: %w", what, s.explainIfDown(err)))
				mu.Unlock()
			}
		}()
	}
	run(partNodes, "nodes", func() error {
		list, err := s.api.NodeList(ctx, swarm.NodeListOptions{})
		out.Nodes = make([]model.Node, 0, len(list))
		for _, n := range list {
			out.Nodes = append(out.Nodes, fromSwarmNode(n))
		}
		return err
	})
	run(partServices, "services", func() error {
		list, err := s.api.ServiceList(ctx, swarm.ServiceListOptions{})
		out.Services = make([]model.SwarmService, 0, len(list))
		for _, sv := range list {
			out.Services = append(out.Services, fromSwarmService(sv))
		}
		return err
	})
	run(partTasks, "tasks", func() error {
		list, err := s.api.TaskList(ctx, swarm.TaskListOptions{})
		out.Tasks = make([]model.Task, 0, len(list))
		for _, t := range list {
			out.Tasks = append(out.Tasks, fromSwarmTask(t))
		}
		return err
	})
	run(partNetworks, "overlay networks", func() error {
		list, err := s.api.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("scope", "swarm"))})
		out.Networks = make([]model.OverlayNetwork, 0, len(list))
		for _, n := range list {
			out.Networks = append(out.Networks, model.OverlayNetwork{Network: fromNetwork(n), Ingress: n.Ingress, Attachable: n.Attachable})
		}
		return err
	})
	run(partSecrets, "secrets", func() error {
		list, err := s.api.SecretList(ctx, swarm.SecretListOptions{})
		out.Secrets = make([]model.SwarmObject, 0, len(list))
		for _, o := range list {
			out.Secrets = append(out.Secrets, model.SwarmObject{ID: o.ID, Name: o.Spec.Name})
		}
		return err
	})
	run(partConfigs, "configs", func() error {
		list, err := s.api.ConfigList(ctx, swarm.ConfigListOptions{})
		out.Configs = make([]model.SwarmObject, 0, len(list))
		for _, o := range list {
			out.Configs = append(out.Configs, model.SwarmObject{ID: o.ID, Name: o.Spec.Name})
		}
		return err
	})
	wg.Wait()
	if len(errs) > 0 {
		return base, errors.Join(errs...)
	}
	return out, nil
}

func (s *Swarm) read(ctx context.Context, info system.Info, which parts) (model.Cluster, error) {
	base := model.Cluster{LocalNodeID: info.Swarm.NodeID}
	if info.Swarm.Cluster != nil {
		base.ID = info.Swarm.Cluster.ID
	}
	return s.readInto(ctx, base, which)
}

func (s *Swarm) explainIfDown(err error) error {
	if client.IsErrConnectionFailed(err) {
		return s.explain(err)
	}
	return err
}

// sameCluster compares what a snapshot shows, not how it was delivered.
func sameCluster(a, b model.Cluster) bool {
	a.Events, a.Stale, a.Retry = nil, nil, time.Time{}
	b.Events, b.Stale, b.Retry = nil, nil, time.Time{}
	return reflect.DeepEqual(a, b)
}

// Watch follows the cluster until ctx ends, sending a snapshot after the
// first read and after every change. Node, service, network, secret and
// config events re-read what they touch; tasks have no events of their
// own, so node and service events re-list them too, as do start and die
// of a task container on the manager's own node. While some service
// converges the tasks are re-listed on a timer (see ReconcileEvery);
// otherwise the only request open is the event stream, so an idle cluster
// costs no requests at all. When the manager stops answering, Watch sends
// the last snapshot with Stale set, reconnects with capped backoff and
// re-reads everything.
//
// Watch returns ErrSwarmWorker or ErrNotSwarm at once when the engine is
// not a manager; otherwise it returns nil when ctx ends. It closes out.
func (s *Swarm) Watch(ctx context.Context, out chan<- model.Cluster) error {
	defer close(out)
	if _, err := s.role(ctx); errors.Is(err, ErrSwarmWorker) || errors.Is(err, ErrNotSwarm) {
		return err
	}
	send := func(c model.Cluster) bool {
		select {
		case out <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var last model.Cluster
	backoff := minBackoff
	for ctx.Err() == nil {
		err := s.session(ctx, &last, send, &backoff)
		if ctx.Err() != nil {
			return nil
		}
		stale := last
		stale.Events, stale.Stale, stale.Retry = nil, err, time.Now().Add(backoff)
		if !send(stale) {
			return nil
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil
		}
		backoff = min(backoff*2, maxBackoff)
	}
	return nil
}

// watchedSwarmEvents are the event types the cluster view follows;
// container events matter only for swarm tasks on the manager's node.
var watchedSwarmEvents = []events.Type{
	events.NodeEventType, events.ServiceEventType, events.NetworkEventType,
	events.SecretEventType, events.ConfigEventType, events.ContainerEventType,
}

const labelTaskID = model.LabelSwarmTaskID

// session runs one connection: subscribe, read everything, then follow.
func (s *Swarm) session(ctx context.Context, last *model.Cluster, send func(model.Cluster) bool, backoff *time.Duration) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	info, err := s.role(ctx)
	if err != nil {
		return err
	}
	f := filters.NewArgs()
	for _, t := range watchedSwarmEvents {
		f.Add("type", string(t))
	}
	// Subscribe before reading, so a change between the two is both in
	// the read and on the stream: re-reading it is harmless, missing it
	// would leave the screen wrong until the next event.
	msgs, errs := s.api.Events(ctx, events.ListOptions{Filters: f})
	cl, err := s.read(ctx, info, allParts)
	if err != nil {
		return err
	}
	if !send(cl) {
		return ctx.Err()
	}
	*last = cl
	*backoff = minBackoff

	var (
		dirty     parts
		pending   []model.SwarmEvent
		coalesce  <-chan time.Time
		reconcile <-chan time.Time
		interval  = s.ReconcileEvery
		// lastChange is when a refresh last found something new: a
		// convergence that still moves is followed closely.
		lastChange = time.Now()
		// followUntil keeps re-listing for a while after a task's
		// container started or died here (see taskFollowFor).
		followUntil time.Time
	)
	arm := func() {
		reconcile = nil
		if !cl.Converging() {
			interval = s.ReconcileEvery
			if time.Now().Before(followUntil) {
				reconcile = time.After(interval)
			}
			return
		}
		if time.Since(lastChange) < s.ReconcilePatience {
			interval = s.ReconcileEvery
		} else {
			interval = min(interval*2, s.ReconcileMax)
		}
		reconcile = time.After(interval)
	}
	// refresh re-reads which, sends the result when it differs (or when
	// there are events to report) and re-arms the reconcile timer.
	refresh := func(which parts) error {
		next, err := s.readInto(ctx, cl, which)
		if err != nil {
			return err
		}
		changed := !sameCluster(cl, next)
		next.Events, pending = pending, nil
		if changed || len(next.Events) > 0 {
			if !send(next) {
				return ctx.Err()
			}
		}
		if changed {
			lastChange = time.Now()
		}
		cl = next
		*last = cl
		arm()
		return nil
	}
	arm()
	for {
		select {
		case m := <-msgs:
			which, ev := classifySwarmEvent(m)
			if ev != nil {
				pending = append(pending, *ev)
			}
			if m.Type == events.ContainerEventType && which != 0 {
				followUntil = time.Now().Add(taskFollowFor)
			}
			dirty |= which
			if dirty != 0 && coalesce == nil {
				coalesce = time.After(coalesceWindow)
			}
		case <-coalesce:
			coalesce = nil
			which := dirty
			dirty = 0
			if err := refresh(which); err != nil {
				return err
			}
		case <-reconcile:
			if err := refresh(partTasks); err != nil {
				return err
			}
		case err := <-errs:
			if err == nil {
				err = errStreamClosed
			}
			return s.explainIfDown(err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// classifySwarmEvent says which lists an event makes stale, and turns a
// cluster event into the model's form for the event log.
func classifySwarmEvent(m events.Message) (parts, *model.SwarmEvent) {
	ev := &model.SwarmEvent{Type: string(m.Type), Action: string(m.Action), ActorID: m.Actor.ID, Attributes: m.Actor.Attributes}
	ev.Time = time.Unix(0, m.TimeNano)
	if m.TimeNano == 0 {
		ev.Time = time.Unix(m.Time, 0)
	}
	switch m.Type {
	case events.NodeEventType:
		return partNodes | partTasks, ev
	case events.ServiceEventType:
		return partServices | partTasks, ev
	case events.NetworkEventType:
		if m.Scope != "swarm" {
			return 0, nil
		}
		return partNetworks, ev
	case events.SecretEventType:
		return partSecrets, ev
	case events.ConfigEventType:
		return partConfigs, ev
	case events.ContainerEventType:
		if m.Actor.Attributes[labelTaskID] == "" {
			return 0, nil
		}
		switch m.Action {
		case events.ActionStart, events.ActionDie:
			return partTasks, nil
		}
	}
	return 0, nil
}

// updateRetries bounds the retries of an update that lost a race with
// another writer (the swarm refuses a stale version).
const updateRetries = 3

// Scale sets a replicated service's replica count.
func (s *Swarm) Scale(ctx context.Context, service string, replicas uint64) error {
	return s.updateService(ctx, service, fmt.Sprintf("scale %s to %d", service, replicas), func(spec *swarm.ServiceSpec) error {
		if spec.Mode.Replicated == nil {
			return fmt.Errorf("it is a %s service: only replicated services have a replica count (a global one runs on every active node: drain or activate nodes instead)", modeName(spec.Mode))
		}
		spec.Mode.Replicated.Replicas = &replicas
		return nil
	})
}

// Restart replaces every task of a service, one by one as its update
// config says, by bumping ForceUpdate (what `docker service update
// --force` does).
func (s *Swarm) Restart(ctx context.Context, service string) error {
	return s.updateService(ctx, service, "restart "+service, func(spec *swarm.ServiceSpec) error {
		spec.TaskTemplate.ForceUpdate++
		return nil
	})
}

func modeName(m swarm.ServiceMode) string {
	switch {
	case m.Global != nil:
		return "global"
	case m.ReplicatedJob != nil:
		return "replicated-job"
	case m.GlobalJob != nil:
		return "global-job"
	}
	return "replicated"
}

func (s *Swarm) updateService(ctx context.Context, ref, what string, change func(*swarm.ServiceSpec) error) error {
	for attempt := 0; ; attempt++ {
		svc, _, err := s.api.ServiceInspectWithRaw(ctx, ref, swarm.ServiceInspectOptions{})
		if err != nil {
			return s.objectError(ctx, what, "service", err)
		}
		spec := svc.Spec
		if err := change(&spec); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		// QueryRegistry stays false: the image was resolved at create,
		// and asking a registry here would fail offline.
		_, err = s.api.ServiceUpdate(ctx, svc.ID, svc.Version, spec, swarm.ServiceUpdateOptions{})
		if err == nil {
			return nil
		}
		if isOutOfSequence(err) && attempt < updateRetries {
			continue
		}
		return s.objectError(ctx, what, "service", err)
	}
}

// SetAvailability drains, pauses or activates a node.
func (s *Swarm) SetAvailability(ctx context.Context, node string, a model.NodeAvailability) error {
	what := fmt.Sprintf("set node %s to %s", node, a)
	switch a {
	case model.AvailabilityActive, model.AvailabilityDrain, model.AvailabilityPause:
	default:
		return fmt.Errorf("%s: unknown availability (use active, drain or pause)", what)
	}
	for attempt := 0; ; attempt++ {
		n, _, err := s.api.NodeInspectWithRaw(ctx, node)
		if err != nil {
			return s.objectError(ctx, what, "node", err)
		}
		spec := n.Spec
		spec.Availability = swarm.NodeAvailability(a)
		err = s.api.NodeUpdate(ctx, n.ID, n.Version, spec)
		if err == nil {
			return nil
		}
		if isOutOfSequence(err) && attempt < updateRetries {
			continue
		}
		return s.objectError(ctx, what, "node", err)
	}
}

func isOutOfSequence(err error) bool {
	return strings.Contains(err.Error(), "update out of sequence")
}

// objectError says why an action failed in terms of what to do next.
func (s *Swarm) objectError(ctx context.Context, what, kind string, err error) error {
	switch {
	case client.IsErrNotFound(err):
		list := "docker service ls"
		if kind == "node" {
			list = "docker node ls"
		}
		return fmt.Errorf("%s: no such %s on the swarm (%s on a manager lists them)", what, kind, list)
	case strings.Contains(err.Error(), "not a swarm manager"):
		if _, rerr := s.role(ctx); rerr != nil {
			return fmt.Errorf("%s: %w", what, rerr)
		}
	}
	return fmt.Errorf("%s: %w", what, s.explainIfDown(err))
}

// Conversions from the SDK's swarm types.

func fromSwarmNode(n swarm.Node) model.Node {
	out := model.Node{
		ID: n.ID, Hostname: n.Description.Hostname, Role: model.NodeRole(n.Spec.Role),
		Availability: model.NodeAvailability(n.Spec.Availability), State: model.NodeState(n.Status.State),
		Message: n.Status.Message, Addr: n.Status.Addr, EngineVersion: n.Description.Engine.EngineVersion,
		Labels: n.Spec.Labels,
	}
	if m := n.ManagerStatus; m != nil {
		out.Leader = m.Leader
		out.Reachability = string(m.Reachability)
	}
	return out
}

func fromSwarmService(s swarm.Service) model.SwarmService {
	out := model.SwarmService{
		ID: s.ID, Name: s.Spec.Name, Labels: s.Spec.Labels, UpdatedAt: s.UpdatedAt,
		EndpointMode: string(s.Endpoint.Spec.Mode),
	}
	switch m := s.Spec.Mode; {
	case m.Global != nil:
		out.Mode = model.ModeGlobal
	case m.ReplicatedJob != nil:
		out.Mode = model.ModeReplicatedJob
	case m.GlobalJob != nil:
		out.Mode = model.ModeGlobalJob
	default:
		out.Mode = model.ModeReplicated
		if m.Replicated != nil && m.Replicated.Replicas != nil {
			out.Replicas = *m.Replicated.Replicas
		}
	}
	if out.EndpointMode == "" && s.Spec.EndpointSpec != nil {
		out.EndpointMode = string(s.Spec.EndpointSpec.Mode)
	}
	if out.EndpointMode == "" {
		out.EndpointMode = model.EndpointVIP
	}
	if cs := s.Spec.TaskTemplate.ContainerSpec; cs != nil {
		// The digest the swarm pins is noise on screen: the tag says
		// which image a person asked for.
		out.Image, _, _ = strings.Cut(cs.Image, "@")
	}
	if u := s.UpdateStatus; u != nil {
		out.UpdateState, out.UpdateMessage = string(u.State), u.Message
	}
	ports := s.Endpoint.Ports
	if len(ports) == 0 && s.Spec.EndpointSpec != nil {
		ports = s.Spec.EndpointSpec.Ports
	}
	for _, p := range ports {
		mode := string(p.PublishMode)
		if mode == "" {
			mode = string(swarm.PortConfigPublishModeIngress)
		}
		out.Ports = append(out.Ports, model.PublishedPort{Target: uint16(p.TargetPort), Published: uint16(p.PublishedPort), Protocol: string(p.Protocol), Mode: mode})
	}
	for _, v := range s.Endpoint.VirtualIPs {
		out.VirtualIPs = append(out.VirtualIPs, model.VirtualIP{NetworkID: v.NetworkID, Addr: v.Addr})
	}
	for _, n := range s.Spec.TaskTemplate.Networks {
		out.Networks = append(out.Networks, n.Target)
	}
	return out
}

func fromSwarmTask(t swarm.Task) model.Task {
	out := model.Task{
		ID: t.ID, ServiceID: t.ServiceID, Slot: t.Slot, NodeID: t.NodeID,
		DesiredState: model.TaskState(t.DesiredState), State: model.TaskState(t.Status.State),
		Message: t.Status.Message, Err: t.Status.Err, Since: t.Status.Timestamp, Created: t.CreatedAt,
	}
	if cs := t.Status.ContainerStatus; cs != nil {
		out.ContainerID, out.ExitCode = cs.ContainerID, cs.ExitCode
	}
	for _, a := range t.NetworksAttachments {
		out.Networks = append(out.Networks, model.TaskNetwork{NetworkID: a.Network.ID, Name: a.Network.Spec.Name, Addresses: a.Addresses})
	}
	return out
}
