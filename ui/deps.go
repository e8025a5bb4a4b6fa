package ui

import (
	"context"
	"maps"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/topo-dev/topo/model"
)

// Engine is what the UI asks of the Docker adapter; cli passes the
// real one and ui tests a fake.
type Engine interface {
	Details(ctx context.Context, id string) (model.Container, error)
	Do(ctx context.Context, action model.Action, id string) error
}

// EngineInfo is what the status bar says about the engine.
type EngineInfo struct {
	Host    string
	Source  string
	Version string
}

// Config is everything the UI needs from cli (the wiring).
type Config struct {
	Engine     Engine
	EngineInfo EngineInfo
	// Updates is the engine watch: snapshots, events, losses.
	Updates <-chan model.Update
	// Now is the clock; tests pin it so golden files do not drift.
	Now func() time.Time
	// Styles default to DefaultTheme's.
	Styles *Styles
	// Registry finds and watches the service registry; nil for none.
	Registry RegistryConnector
	// Prober proves reachability from inside a container; nil disables p.
	Prober Prober
	// Swarm and Cluster are the swarm adapter and its watch, when the
	// engine is a manager; nil otherwise. SwarmNote says why not, for a
	// worker.
	Swarm     SwarmEngine
	Cluster   <-chan model.Cluster
	SwarmNote string
	// Describe, when set, brings the engine's version and its swarm role
	// (the fields above); the interface asks for it once the first
	// snapshot is in. The engine's version and info calls cost tens of
	// milliseconds that the lanes need not wait for, and answered beside
	// the first read of the topology they slowed it by as much (with 300
	// containers: 55-77 ms alone, 100-107 ms beside them). It blocks until
	// it has the answer; false when it gave up (topo is quitting).
	Describe func() (EngineDescribedMsg, bool)
	// Demo and Traffic drive the reference demo (D, +, -, T, g); nil
	// disables those keys. Context bounds their background work.
	Demo    DemoDeployer
	Traffic TrafficSource
	Context context.Context
	// Logs streams a container's logs (l); Volumes reads the volumes'
	// disk usage (u in the storage lanes); nil disables the key.
	Logs    LogSource
	Volumes VolumeSizer
	// Flows samples who talks to whom (f); nil disables the key.
	Flows FlowSampler
	// SwarmFlows samples who talks to whom on every node, from a
	// manager; with Swarm set, f asks which (nil: this engine only).
	SwarmFlows SwarmFlowSampler
	// ReadOnly refuses every key that acts on an engine (a replay has
	// none to act on): they say so in the footer instead.
	ReadOnly bool
	// Replay plays a recording instead of watching an engine (topo
	// replay); nil for the live interface.
	Replay *Replay
	// Screens keeps a picture of the screen (e); nil disables the key.
	Screens ScreenSaver
}

// EngineDescribedMsg completes what the Config says about the engine:
// its version for the status bar and, on a swarm, the cluster's adapter
// and watch (a manager) or why there is none (a worker).
type EngineDescribedMsg struct {
	Version   string
	Swarm     SwarmEngine
	Cluster   <-chan model.Cluster
	SwarmNote string
}

func describeCmd(describe func() (EngineDescribedMsg, bool)) tea.Cmd {
	return func() tea.Msg {
		if msg, ok := describe(); ok {
			return msg
		}
		return nil
	}
}

// ScreenSaver keeps the screen as drawn, colour sequences and all, as a
// picture, and says where.
type ScreenSaver interface {
	SaveScreen(screen string, width int) (path string, err error)
}

// ScreenSavedMsg carries where the screen was saved, or why it was not.
type ScreenSavedMsg struct {
	Path string
	Err  error
}

// VolumeSizer reads every volume's disk usage, as `docker system df -v`:
// the engine walks the volumes' files, so only when a person asks.
type VolumeSizer interface {
	VolumeUsage(ctx context.Context) (map[string]model.VolumeUsage, error)
}

// volumeUsageTimeout bounds one read of the sizes: seconds on a large
// host, more on a slow disk.
const volumeUsageTimeout = 2 * time.Minute

// VolumeUsageMsg carries the sizes read at At, keyed by volume name.
type VolumeUsageMsg struct {
	Usage map[string]model.VolumeUsage
	At    time.Time
	Err   error
}

func readVolumeUsage(ctx context.Context, v VolumeSizer, now func() time.Time) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, volumeUsageTimeout)
		defer cancel()
		usage, err := v.VolumeUsage(ctx)
		return VolumeUsageMsg{Usage: usage, At: now(), Err: err}
	}
}

// FlowSampler reads the established TCP connections of the running
// containers of topo once: one request per sample (the engine's flow
// agent answers it). prev is the previous sample's Seen, so New counts
// the connections since. Close removes the agent unless another topo
// reads through it; a Sample after Close starts one again. cli/tui.go
// passes docker.Flows.
type FlowSampler interface {
	Sample(ctx context.Context, topo model.Topology, prev map[string]bool) (model.FlowSample, error)
	Close() error
}

// SwarmFlowSampler reads the established TCP connections of the tasks on
// every node of a swarm, from a manager, attributed to the tasks of cl.
// The first Sample starts an agent on every node (a global service);
// Close removes it unless another topo uses it. cli/tui.go passes
// docker.SwarmFlows.
type SwarmFlowSampler interface {
	Sample(ctx context.Context, cl model.Cluster, prev map[string]bool) (model.FlowSample, error)
	Close() error
}

// clusterFlows is a SwarmFlowSampler seen as a FlowSampler: the cluster
// it attributes to is the one the view held when the sample was asked
// for (a snapshot, never changed in place).
type clusterFlows struct {
	src     SwarmFlowSampler
	cluster model.Cluster
}

func (c clusterFlows) Sample(ctx context.Context, _ model.Topology, prev map[string]bool) (model.FlowSample, error) {
	return c.src.Sample(ctx, c.cluster, prev)
}

func (c clusterFlows) Close() error { return c.src.Close() }

// actionTimeout bounds one container action: stop waits up to 5 s for the
// process before the engine kills it, so 20 s only trips on a stuck engine.
const actionTimeout = 20 * time.Second

// EngineUpdateMsg carries one update of the engine watch.
type EngineUpdateMsg struct{ Update model.Update }

// EngineClosedMsg says the watch ended (topo is quitting).
type EngineClosedMsg struct{}

// EngineBatchMsg carries the updates that were already waiting in the
// watch's channel when one arrived, in order; see waitForUpdate.
type EngineBatchMsg struct{ Updates []model.Update }

// maxBatch bounds how many waiting updates one message takes, and so how
// long one Update may hold the loop (keys wait behind it).
const maxBatch = 1024

// receive waits for the next value on ch: msg(v) for a value, closed()
// once ch is closed. The command is re-armed after each of its messages,
// so a stream's values reach Update one at a time, in order (bubbletea's
// examples/realtime).
func receive[T any](ch <-chan T, msg func(T) tea.Msg, closed func() tea.Msg) tea.Cmd {
	if ch == nil {
		// Nothing to wait for (a replay's demo and traffic: their
		// messages come from the recording): a receive would block for
		// ever, holding a goroutine.
		return nil
	}
	return func() tea.Msg {
		v, ok := <-ch
		if !ok {
			return closed()
		}
		return msg(v)
	}
}

// waitForUpdate is re-armed after every update so the watch reaches Update
// one message at a time, in order. Updates already waiting behind the one
// received come in the same message (EngineBatchMsg): Bubble Tea draws the
// view after every message, so in a burst of events one view per batch,
// not one per event, keeps the screen within a frame of the engine
// (issue 18: 10,000 events one by one took 35 s of views).
func waitForUpdate(ch <-chan model.Update) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		u, ok := <-ch
		if !ok {
			return EngineClosedMsg{}
		}
		var batch []model.Update
	drain:
		for len(batch) < maxBatch-1 {
			select {
			case next, ok := <-ch:
				if !ok {
					// The next wait sees the channel closed.
					break drain
				}
				batch = append(batch, next)
			default:
				break drain
			}
		}
		if batch == nil {
			return EngineUpdateMsg{u}
		}
		return EngineBatchMsg{append([]model.Update{u}, batch...)}
	}
}

// InspectedMsg carries the result of inspecting a container.
type InspectedMsg struct {
	ID        string
	Container model.Container
	Err       error
}

func inspect(e Engine, id string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
		defer cancel()
		c, err := e.Details(ctx, id)
		return InspectedMsg{ID: id, Container: c, Err: err}
	}
}

// ActionDoneMsg carries the result of a container action.
type ActionDoneMsg struct {
	Action model.Action
	ID     string
	Name   string
	Err    error
}

func runAction(e Engine, action model.Action, id, name string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
		defer cancel()
		return ActionDoneMsg{Action: action, ID: id, Name: name, Err: e.Do(ctx, action, id)}
	}
}

// RegistryConnector finds the service registries (the addresses named,
// or every Consul container of the topology) and starts watching each.
type RegistryConnector interface {
	Connect(ctx context.Context, topo model.Topology) ([]RegistryConn, error)
	// LookAgain says how long to wait before another look after the
	// attempt-th look in a row (from 0) that ended in err, and false when
	// not to look again until a container starts.
	LookAgain(attempt int, err error) (time.Duration, bool)
}

// RegistryConn is a running watch of one registry.
type RegistryConn struct {
	Updates <-chan model.Registry
	// Name tells the registry from the others: the section's title, and
	// what a container's topo.registry label refers to. Its snapshots
	// carry the same Name.
	Name   string
	Addr   string
	Source string
	// Auto says it was found in the topology rather than named, so it
	// may be looked for again when that container goes away.
	Auto bool
	// Container is the ID of the container it was found in ("" when
	// named): when that container stops or leaves, the registry is gone.
	Container string
	// TokenWithheld says CONSUL_HTTP_TOKEN is set but not sent: the
	// registry was found, not named, and a token goes only where sent.
	TokenWithheld bool
	// Stop ends the watch.
	Stop func()
}

// registryFindTimeout bounds auto-detection, which probes candidates
// concurrently, each for at most 400 ms.
const registryFindTimeout = 2 * time.Second

// RegistryConnectedMsg carries the result of looking for the registries:
// a watch for each found.
type RegistryConnectedMsg struct {
	Conns []RegistryConn
	Err   error
}

func connectRegistry(c RegistryConnector, topo model.Topology) tea.Cmd {
	// The command runs on a goroutine of its own while Update goes on
	// applying events to the model's maps in place: it gets maps of its
	// own. (Their values are never changed in place: model copies a
	// container's maps before changing them.)
	topo = model.Topology{Networks: maps.Clone(topo.Networks), Containers: maps.Clone(topo.Containers)}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), registryFindTimeout)
		defer cancel()
		conns, err := c.Connect(ctx, topo)
		return RegistryConnectedMsg{Conns: conns, Err: err}
	}
}
