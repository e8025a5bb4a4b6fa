package docker

import (
	"context"
	"errors"
	"fmt"
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

	// agents are the IDs of topo's own flow services ever read: left
	// out of the cluster, and their events out of the log (see
	// flowAgent), a removed one's included.
	agentsMu sync.Mutex
	agents   map[string]bool
}

// NewSwarm returns the swarm adapter of an engine. It does not check the
// engine's role: Read and Watch do, and say what to do about a worker.
func NewSwarm(e *Engine) *Swarm {
	return newSwarm(e.sdk, e.Host)
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
			if flowAgent(sv.Spec.Labels) {
				s.noteAgent(sv.ID)
				continue
			}
			out.Services = append(out.Services, fromSwarmService(sv))
		}
		return err
	})
	run(partTasks, "tasks", func() error {
		list, err := s.api.TaskList(ctx, swarm.TaskListOptions{})
		out.Tasks = make([]model.Task, 0, len(list))
		for _, t := range list {
			if t.Spec.ContainerSpec != nil && flowAgent(t.Spec.ContainerSpec.Labels) {
				continue
			}
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

// flowAgent says whether labels are those of topo's own flow service or
// its tasks' containers (SwarmFlows): the cluster a presenter shows is
// the application's, as the lanes leave topo's agent containers out.
func flowAgent(labels map[string]string) bool {
	return labels[LabelFlows] == "1" && labels[LabelOwner] == OwnerTopo
}

func (s *Swarm) noteAgent(id string) {
	s.agentsMu.Lock()
	defer s.agentsMu.Unlock()
	if s.agents == nil {
		s.agents = map[string]bool{}
	}
	s.agents[id] = true
}

// ownEvents drops the events of topo's own flow services. A create comes
// before the read that shows the service, so events are sorted after it.
func (s *Swarm) ownEvents(evs []model.SwarmEvent) []model.SwarmEvent {
	s.agentsMu.Lock()
	defer s.agentsMu.Unlock()
	out := evs[:0]
	for _, ev := range evs {
		if ev.Type == string(events.ServiceEventType) && s.agents[ev.ActorID] {
			continue
		}
		out = append(out, ev)
	}
	return out
}

func (s *Swarm) explainIfDown(err error) error {
	if client.IsErrConnectionFailed(err) {
		return s.explain(err)
	}
	return err
}
