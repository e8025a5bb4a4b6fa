// Package registrator keeps a Consul agent's services in step with the
// containers of a Docker engine: every running container whose labels or
// environment carry SERVICE_NAME is registered with its IP on a chosen
// network, and deregistered as soon as it stops. It is the demo's
// registrator (run as `topo registrator`, or in a container with the
// engine reached through the demo's engine-proxy), in the spirit of
// gliderlabs/registrator.
//
// Docker events drive it; a full resync at start, after every reconnect of
// the event stream and periodically repairs whatever the events could not
// show (entries left behind while it was down, a Consul agent that
// restarted empty).
package registrator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/client"
	"github.com/hashicorp/consul/api"
)

// Config says which Consul agent to use and what to register.
type Config struct {
	// ConsulAddr is the agent's HTTP address (host:port or a URL); empty
	// means CONSUL_HTTP_ADDR, else 127.0.0.1:8500. Only New reads it.
	ConsulAddr string
	// ConsulToken is the ACL token; empty means CONSUL_HTTP_TOKEN. Only
	// New reads it.
	ConsulToken string
	// DockerHost is the engine's address; empty means DOCKER_HOST, else the
	// default socket. Only New reads it.
	DockerHost string
	// Network names the network (name or ID) whose IP is registered; empty
	// means each container's first network in name order.
	Network string
	// Label, when set as "key" or "key=value", limits the registrator to
	// containers carrying that label.
	Label string
	// ResyncInterval is how often a full resync runs besides those after
	// (re)connecting; 10 s when zero, never when negative. It is what
	// notices a Consul agent that restarted and forgot its services.
	ResyncInterval time.Duration
}

// Engine is the part of the Docker client the registrator uses.
type Engine interface {
	Info(ctx context.Context) (system.Info, error)
	Events(ctx context.Context, options events.ListOptions) (<-chan events.Message, <-chan error)
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
	ContainerInspect(ctx context.Context, containerID string) (container.InspectResponse, error)
}

var _ Engine = (*client.Client)(nil)

// Agent is the part of Consul's agent API the registrator uses.
type Agent interface {
	ServiceRegisterOpts(service *api.AgentServiceRegistration, opts api.ServiceRegisterOpts) error
	ServiceDeregisterOpts(serviceID string, q *api.QueryOptions) error
	ServicesWithFilterOpts(filter string, q *api.QueryOptions) (map[string]*api.AgentService, error)
}

var _ Agent = (*api.Agent)(nil)

// Registrator is a registrator wired to real clients, as built by New.
type Registrator struct {
	cfg    Config
	docker *client.Client
	consul *api.Client
	addr   string
	log    *slog.Logger
}

// New builds the Docker client from cfg and the environment (DOCKER_HOST
// and friends) and the Consul client from cfg, CONSUL_HTTP_ADDR and
// CONSUL_HTTP_TOKEN. It does not contact either: Run waits for them.
func New(cfg Config, log *slog.Logger) (*Registrator, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if cfg.DockerHost != "" {
		opts = append(opts, client.WithHost(cfg.DockerHost))
	}
	docker, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client (check DOCKER_HOST): %w", err)
	}
	cc := api.DefaultConfig()
	if cfg.ConsulAddr != "" {
		cc.Address = cfg.ConsulAddr
	}
	if cfg.ConsulToken != "" {
		cc.Token = cfg.ConsulToken
	}
	consul, err := api.NewClient(cc)
	if err != nil {
		docker.Close()
		return nil, fmt.Errorf("consul client for %s: %w", cc.Address, err)
	}
	return &Registrator{cfg: cfg, docker: docker, consul: consul, addr: cc.Address, log: log}, nil
}

// ConsulAddr is the Consul address in use, for a person reading the log.
func (r *Registrator) ConsulAddr() string { return r.addr }

// Run registers and deregisters until ctx is cancelled; see Run.
func (r *Registrator) Run(ctx context.Context) error {
	return Run(ctx, r.cfg, r.docker, r.consul.Agent(), r.log)
}

// Close releases the Docker client.
func (r *Registrator) Close() error { return r.docker.Close() }

// Run keeps agent in step with engine until ctx is cancelled, then returns
// nil; it returns an error only for an invalid cfg. Losing the engine or
// the agent is not fatal: it logs, waits with a capped backoff, reconnects
// and resyncs. Entries stay registered when Run returns, so that restarting
// the registrator causes no outage; the next start's resync removes those
// whose containers went away meanwhile.
func Run(ctx context.Context, cfg Config, engine Engine, agent Agent, log *slog.Logger) error {
	if cfg.ResyncInterval == 0 {
		cfg.ResyncInterval = 10 * time.Second
	}
	if strings.HasPrefix(cfg.Label, "=") {
		return fmt.Errorf("label filter %q has no key: use key or key=value", cfg.Label)
	}
	r := &registrator{cfg: cfg, engine: engine, agent: agent, log: log, owned: map[string]entry{}, known: map[string]bool{}}
	return r.run(ctx)
}

// entry is a registration this registrator made for a container.
type entry struct {
	serviceID string
	reg       *api.AgentServiceRegistration
}

type registrator struct {
	cfg    Config
	engine Engine
	agent  Agent
	log    *slog.Logger
	// host is the engine's name from docker info, written into every entry
	// so that registrators of several engines sharing one agent each clean
	// up only their own.
	host string
	// owned maps a container ID to its registration. It is rebuilt by every
	// resync, and only the event loop's goroutine touches it.
	owned map[string]entry
	// known says, per container seen, whether it asks to be registered. A
	// container's labels and environment never change, so the answer holds
	// for its lifetime and spares inspecting it again. That matters for
	// speed, not just load: the engine sends a container's network events
	// while its start still holds the container's lock, and an inspect then
	// waits for the whole start, delaying every event queued behind it (a
	// kill included) by up to seconds on a busy engine.
	known map[string]bool
}

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

func (r *registrator) run(ctx context.Context) error {
	wait := minBackoff
	for {
		began := time.Now()
		err := r.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(began) > 2*maxBackoff {
			// The session worked for a while: a fresh failure is not part of
			// the same outage, so retry quickly.
			wait = minBackoff
		}
		r.log.Warn("lost the engine or the agent, reconnecting", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, maxBackoff)
	}
}

// session subscribes to events, resyncs and then follows the events until
// something fails.
func (r *registrator) session(ctx context.Context) error {
	info, err := r.engine.Info(ctx)
	if err != nil {
		return fmt.Errorf("docker info: %w", err)
	}
	if r.host != "" && r.host != info.Name {
		r.log.Warn("engine name changed", "was", r.host, "now", info.Name)
	}
	r.host = info.Name

	// The stream starts at the engine's clock as read before the resync, so
	// an event racing the resync is replayed rather than missed; handling
	// is idempotent, so seeing one twice is harmless.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs, errs := r.engine.Events(sctx, events.ListOptions{Since: info.SystemTime, Filters: eventFilters()})

	if err := r.resync(ctx); err != nil {
		return err
	}
	var tick <-chan time.Time
	if r.cfg.ResyncInterval > 0 {
		t := time.NewTicker(r.cfg.ResyncInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errs:
			return fmt.Errorf("docker event stream: %w", err)
		case m := <-msgs:
			if err := r.handle(ctx, m); err != nil {
				return err
			}
		case <-tick:
			if err := r.resync(ctx); err != nil {
				return err
			}
		}
	}
}

func eventFilters() filters.Args {
	return filters.NewArgs(
		filters.Arg("type", string(events.ContainerEventType)),
		filters.Arg("type", string(events.NetworkEventType)),
		filters.Arg("event", string(events.ActionStart)),
		filters.Arg("event", string(events.ActionUnPause)),
		filters.Arg("event", string(events.ActionRename)),
		filters.Arg("event", string(events.ActionKill)),
		filters.Arg("event", string(events.ActionDie)),
		filters.Arg("event", string(events.ActionStop)),
		filters.Arg("event", string(events.ActionDestroy)),
		filters.Arg("event", string(events.ActionConnect)),
		filters.Arg("event", string(events.ActionDisconnect)),
	)
}

// handle applies one event. An error means Consul or the engine failed,
// and the caller starts over with a resync.
func (r *registrator) handle(ctx context.Context, m events.Message) error {
	r.log.Debug("event", "type", m.Type, "action", m.Action, "actor", m.Actor.ID[:min(12, len(m.Actor.ID))],
		"lag", time.Since(time.Unix(0, m.TimeNano)).Round(time.Millisecond))
	switch m.Type {
	case events.ContainerEventType:
		id := m.Actor.ID
		switch m.Action {
		case events.ActionStart, events.ActionUnPause, events.ActionRename:
			// Container events carry its labels as attributes: with a label
			// filter, most containers are dismissed without an inspect.
			if !r.labelMatches(m.Actor.Attributes) {
				r.known[id] = false
				return r.drop(ctx, id, "container does not carry label "+r.cfg.Label)
			}
			if candidate, ok := r.known[id]; ok && !candidate {
				return nil
			}
			return r.syncContainer(ctx, id)
		case events.ActionKill:
			// docker stop sends SIGTERM and only then waits for the exit:
			// deregistering now lets the load balancer stop sending new
			// requests while the instance finishes the ones it has. A
			// signal that does not end the container (a HUP to reload)
			// changes nothing.
			if !fatalSignal(m.Actor.Attributes["signal"]) {
				return nil
			}
			return r.drop(ctx, id, "container killed")
		case events.ActionDie:
			return r.drop(ctx, id, "container died")
		case events.ActionStop:
			return r.drop(ctx, id, "container stopped")
		case events.ActionDestroy:
			delete(r.known, id)
			return r.drop(ctx, id, "container removed")
		}
	case events.NetworkEventType:
		// Connecting or disconnecting a network can change the address to
		// register, or make a skipped container registrable. Only a known
		// candidate is worth an inspect: a container not seen yet is being
		// created or started, and its start event follows with its final
		// addresses.
		if id := m.Actor.Attributes["container"]; r.known[id] {
			return r.syncContainer(ctx, id)
		}
	}
	return nil
}

func fatalSignal(s string) bool {
	switch strings.TrimPrefix(strings.ToUpper(s), "SIG") {
	case "", "2", "3", "9", "15", "INT", "QUIT", "KILL", "TERM":
		return true
	}
	return false
}

// syncContainer brings one container's entry in line with its current
// state, inspected now rather than taken from the event: replayed or
// reordered events then cannot register a container that has since died.
func (r *registrator) syncContainer(ctx context.Context, id string) error {
	c, err := r.engine.ContainerInspect(ctx, id)
	if client.IsErrNotFound(err) {
		return r.drop(ctx, id, "container removed")
	}
	if err != nil {
		return fmt.Errorf("inspect container %.12s: %w", id, err)
	}
	r.known[id] = r.candidate(c)
	reg, err := r.desired(c)
	if errors.Is(err, errSkip) {
		r.log.Warn(err.Error())
		return r.drop(ctx, id, "container no longer registrable")
	}
	if reg == nil {
		return r.drop(ctx, id, "container not running")
	}
	prev, ok := r.owned[id]
	if ok && prev.serviceID == reg.ID && sameRegistration(prev.reg, reg) {
		return nil
	}
	if ok && prev.serviceID != reg.ID {
		// Renamed, or its port changed: the old ID must not linger.
		if err := r.deregister(ctx, prev.serviceID, "container renamed"); err != nil {
			return err
		}
	}
	if err := r.register(ctx, reg); err != nil {
		return err
	}
	r.owned[id] = entry{serviceID: reg.ID, reg: reg}
	return nil
}

// candidate says whether a container asks to be registered at all.
func (r *registrator) candidate(c container.InspectResponse) bool {
	return c.Config != nil && r.labelMatches(c.Config.Labels) && setting(c.Config, KeyName) != ""
}

// desired is registrationFor with the label filter applied.
func (r *registrator) desired(c container.InspectResponse) (*api.AgentServiceRegistration, error) {
	if !r.candidate(c) {
		return nil, nil
	}
	return registrationFor(c, r.cfg.Network, r.host)
}

func (r *registrator) labelMatches(labels map[string]string) bool {
	if r.cfg.Label == "" {
		return true
	}
	k, v, withValue := strings.Cut(r.cfg.Label, "=")
	got, ok := labels[k]
	return ok && (!withValue || got == v)
}
