package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/topo-dev/topo/model"
)

// Target is the Consul agent to watch and how topo found it.
type Target struct {
	// Name tells this registry from the others when topo follows several:
	// the NAME of --consul NAME=ADDR, else the container's (compose
	// service) name it was found in, else the address. A container's
	// topo.registry label names the registry it expects to be in.
	Name string
	// Addr is the agent's HTTP address, host:port (a scheme such as
	// https:// is kept and honoured).
	Addr string
	// Source says how it was found, for the status bar: "--consul ADDR",
	// "CONSUL_HTTP_ADDR ADDR" or "auto: container NAME (published ADDR)".
	Source string
	// Named says the user named this agent (--consul or CONSUL_HTTP_ADDR).
	// Only a named agent is sent the user's credentials: any container
	// can call itself consul, and a token sent to whatever was found on
	// the engine would be handed to whoever started that container.
	Named bool
	// Through, when set, is the container whose own loopback Addr is on:
	// the agent answers at no address this machine can dial, and Tunnel
	// reaches it through the engine.
	Through string
	Tunnel  Tunnel
	// Container is the ID of the container the agent was found in; empty
	// for an agent named by address. The panel says a registry is gone
	// when that container stops or leaves.
	Container string
	// ComposeProject and ComposeService are that container's, when it is
	// part of a compose project (see model.Registry).
	ComposeProject, ComposeService string
}

// Tunnel reaches a port inside a container through the engine's API (the
// docker adapter's Tunnel): how topo reads a Consul that is published
// nowhere, such as the demo's on a swarm overlay.
type Tunnel interface {
	Dial(ctx context.Context, containerID string, port int) (net.Conn, error)
}

// TokenWithheld says the environment holds Consul credentials
// (CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE or CONSUL_HTTP_AUTH) that
// are not sent to this agent because it was found rather than named.
func (t Target) TokenWithheld() bool { return !t.Named && credentialsInEnv() }

// ErrNoRegistry says no registry was named or found. topo runs without one.
var ErrNoRegistry = errors.New("no registry: start one, or name it with --consul ADDR or CONSUL_HTTP_ADDR")

// Consul's HTTP port inside a container, and the label that marks a
// container as the registry whatever its image.
const (
	consulHTTPPort   = 8500
	LabelRole        = model.LabelRole
	RoleRegistry     = model.RoleRegistry
	labelSwarmTaskID = model.LabelSwarmTaskID
)

// loopbackConsul is Consul's HTTP address inside its own container, where
// a tunnel reaches it.
var loopbackConsul = net.JoinHostPort("127.0.0.1", strconv.Itoa(consulHTTPPort))

// tunnelProbeTimeout bounds a probe through the engine: an exec costs two
// API round trips, more than a dial on a bridge.
const tunnelProbeTimeout = 3 * time.Second

// DefaultProbeTimeout bounds each reachability probe during auto-detection:
// an address on an isolated network drops packets rather than refusing, and
// topo's start must not wait on it.
const DefaultProbeTimeout = 400 * time.Millisecond

// Find decides which agent to use: flagAddr when set, else
// CONSUL_HTTP_ADDR, else a running Consul container of topo whose HTTP port
// answers. An explicit address is not probed: Consul may start later, and
// the watch reports and retries. The error wraps ErrNoRegistry when nothing
// was found. engineHost is the host of a remote engine (empty for a local
// one): a port the engine publishes on all its interfaces is dialled there.
// tunnel, when not nil, is tried last for a container no address of which
// answers.
func Find(ctx context.Context, flagAddr string, topo model.Topology, engineHost string, tunnel Tunnel) (Target, error) {
	if flagAddr != "" {
		return Target{Addr: flagAddr, Source: "--consul " + flagAddr, Named: true}, nil
	}
	if env := os.Getenv("CONSUL_HTTP_ADDR"); env != "" {
		return Target{Addr: env, Source: "CONSUL_HTTP_ADDR " + env, Named: true}, nil
	}
	return Detect(ctx, topo, DefaultProbeTimeout, engineHost, tunnel)
}

// OnlyThroughEngine, given as the engine host, says that no address of the
// engine's containers can be dialled from here (an engine reached over
// ssh): a container IP dialled locally could answer from another engine's
// container, so the registry is reached through the engine only.
const OnlyThroughEngine = "(through the engine only)"

// candidate is one address of one container that may be Consul's API.
type candidate struct {
	addr, source string
	container    string
}

// Detect looks for a Consul agent among the topology's running containers:
// image or name containing "consul", or label topo.role=registry. For each,
// its published 8500 comes first (reachable from anywhere the host is),
// then its IP on each network (routable from the host on Linux). All are
// probed at once; the first reachable in that order wins, so the answer does
// not depend on which probe finishes first.
//
// The returned error wraps ErrNoRegistry and lists what was tried.
//
// When no address answers and tunnel is not nil, each container is tried
// once more, in the same order, through the engine: a Consul on a swarm
// overlay or on a remote engine answers there and nowhere else.
func Detect(ctx context.Context, topo model.Topology, timeout time.Duration, engineHost string, tunnel Tunnel) (Target, error) {
	found := registryContainers(topo)
	if len(found) == 0 {
		return Target{}, ErrNoRegistry
	}
	cands := candidates(found, engineHost)
	if engineHost == OnlyThroughEngine {
		cands = nil
	}
	var tried []string
	var probeErrs []error
	if len(cands) > 0 {
		t, errs := probeAll(ctx, cands, timeout)
		if errs == nil {
			return t, nil
		}
		probeErrs = errs
		for i, c := range cands {
			tried = append(tried, c.addr+": "+shortErr(errs[i]))
		}
	}
	// An address that refused is reachable from here: that Consul is still
	// starting, and the tunnel would reach the same closed port. The tunnel
	// is for addresses that lead nowhere (timeouts) or no address at all.
	if tunnel != nil && !anyRefused(probeErrs) {
		for _, c := range found {
			name := displayName(c)
			t := Target{Addr: loopbackConsul, Source: "auto: container " + name + " (through the engine)", Through: c.ID, Tunnel: tunnel, Container: c.ID}
			err := probeTarget(ctx, t, tunnelProbeTimeout)
			if err == nil {
				return t, nil
			}
			tried = append(tried, name+" through the engine: "+shortErr(err))
		}
	}
	if len(tried) == 0 {
		return Target{}, ErrNoRegistry
	}
	return Target{}, fmt.Errorf("%w (%w: %s)", ErrNoRegistry, model.ErrRegistryNotAnswering, strings.Join(tried, "; "))
}

// anyRefused says whether one of the errors is a refused connection.
func anyRefused(errs []error) bool {
	for _, err := range errs {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return true
		}
	}
	return false
}

// probeAll probes every candidate at once but takes the answers in
// preference order: the first good one ends the search (and cancels the
// rest), so the choice does not depend on which probe finishes first.
// With no good one it returns each candidate's error.
func probeAll(ctx context.Context, cands []candidate, timeout time.Duration) (Target, []error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]chan error, len(cands))
	for i, c := range cands {
		results[i] = make(chan error, 1)
		go func() {
			// Ends with ctx or the probe timeout.
			results[i] <- probe(ctx, c.addr, timeout)
		}()
	}
	errs := make([]error, len(cands))
	for i, c := range cands {
		if errs[i] = <-results[i]; errs[i] == nil {
			return Target{Addr: c.addr, Source: "auto: " + c.source, Container: c.container}, nil
		}
	}
	return Target{}, errs
}

// registryContainers are the running containers that look like Consul:
// labelled as the registry (chosen on purpose, so first), then by image or
// name, each group by name for a stable choice.
func registryContainers(topo model.Topology) []model.Container {
	var cs []model.Container
	for _, c := range topo.Containers {
		if !c.Running() {
			continue
		}
		if model.LooksLikeRegistry(c) {
			cs = append(cs, c)
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		li, lj := cs[i].Labels[LabelRole] == RoleRegistry, cs[j].Labels[LabelRole] == RoleRegistry
		if li != lj {
			return li
		}
		return cs[i].Name < cs[j].Name
	})
	return cs
}

// displayName is a registry container's name for the status bar: a swarm
// task's container is named service.slot.taskID, and the task ID only
// makes the line longer.
func displayName(c model.Container) string {
	if id := c.Labels[labelSwarmTaskID]; id != "" {
		return strings.TrimSuffix(c.Name, "."+id)
	}
	return c.Name
}

// candidates are the addresses of the registry containers, in order of
// preference: each container's published 8500 (reachable from anywhere the
// host is), then its IP on each network (routable from the host on Linux).
func candidates(cs []model.Container, engineHost string) []candidate {
	var out []candidate
	for _, c := range cs {
		name := displayName(c)
		for _, p := range c.Ports {
			if p.Private != consulHTTPPort || p.Public == 0 || (p.Protocol != "" && p.Protocol != "tcp") {
				continue
			}
			addr := net.JoinHostPort(hostIP(p.HostIP, engineHost), strconv.Itoa(int(p.Public)))
			out = append(out, candidate{addr, "container " + name + " (published " + addr + ")", c.ID})
		}
		var eps []model.Endpoint
		for _, e := range c.Endpoints {
			if e.IP() != "" {
				eps = append(eps, e)
			}
		}
		sort.Slice(eps, func(i, j int) bool { return eps[i].NetworkName < eps[j].NetworkName })
		for _, e := range eps {
			addr := net.JoinHostPort(e.IP(), strconv.Itoa(consulHTTPPort))
			out = append(out, candidate{addr, "container " + name + " (" + addr + " on network " + e.NetworkName + ")", c.ID})
		}
	}
	return out
}

// hostIP turns a published port's bind address into one to dial: the
// wildcard addresses mean "every interface" of the engine's host, of which
// loopback is one when the engine is local.
func hostIP(ip, engineHost string) string {
	switch ip {
	case "", "0.0.0.0", "::":
		if engineHost != "" {
			return engineHost
		}
		return "127.0.0.1"
	}
	return ip
}

// shortErr keeps the cause of a probe failure short enough for one line.
func shortErr(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer (timeout)"
	}
	return err.Error()
}
