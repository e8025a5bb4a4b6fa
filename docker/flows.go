package docker

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/topo-dev/topo/flowagent"
	"github.com/topo-dev/topo/model"
)

// flowsAPI lists the client calls the flow sampler makes.
type flowsAPI interface {
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
	ContainerInspect(ctx context.Context, containerID string) (container.InspectResponse, error)
	ContainerCreate(ctx context.Context, config *container.Config, hostConfig *container.HostConfig, networkingConfig *network.NetworkingConfig, platform *ocispec.Platform, containerName string) (container.CreateResponse, error)
	ContainerStart(ctx context.Context, containerID string, options container.StartOptions) error
	ContainerRemove(ctx context.Context, containerID string, options container.RemoveOptions) error
	ContainerExecCreate(ctx context.Context, containerID string, options container.ExecOptions) (container.ExecCreateResponse, error)
	ContainerExecAttach(ctx context.Context, execID string, config container.ExecAttachOptions) (types.HijackedResponse, error)
	ContainerExecInspect(ctx context.Context, execID string) (container.ExecInspect, error)
}

var _ flowsAPI = (*client.Client)(nil)

// LabelFlows marks topo's flow agent container, so that a second topo on
// the same engine finds and reuses it.
const LabelFlows = "topo.flows"

// FlowInterval is how often flows are sampled while someone looks.
const FlowInterval = time.Second

// Flows samples the established TCP connections of every running
// container through one agent container on the engine (see flowagent):
// topo's own image, run with the host's PID namespace so that it can read
// /proc/<pid>/net/tcp{,6} of any container's process, and nothing else.
//
// The agent starts on the first Sample, is shared with any other topo on
// the engine (found by its labels), and Close removes it once no topo
// uses it any more. Off (no Sample called), Flows makes no request.
type Flows struct {
	api    flowsAPI
	cli    *client.Client
	binary string
	labels map[string]string

	mu     sync.Mutex
	agent  string // container ID
	exec   string // this Flows' serving exec
	conn   *execConn
	reader *bufio.Reader
	pids   map[string]int // container ID -> host PID of its process
	// sent is the exec's last answer per namespace key: the agent sends
	// a namespace unchanged since as its key alone (flowagent.elide).
	sent map[string]flowagent.Namespace
}

// NewFlows returns a Flows on the engine of cli. binary is topo's static
// Linux binary (empty: the running executable); labels are added to the
// agent container (tests add theirs, so their leftover check sees it).
func NewFlows(cli *client.Client, binary string, labels map[string]string) *Flows {
	return &Flows{api: cli, cli: cli, binary: binary, labels: labels, pids: map[string]int{}}
}

// Tables reads the socket table of every running container of topo, one
// per network namespace, the namespace's owner first.
func (f *Flows) Tables(ctx context.Context, topo model.Topology) ([]model.SocketTable, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	byPID, line, err := f.pidLine(ctx, topo)
	if err != nil {
		return nil, err
	}
	sample, err := f.ask(ctx, line)
	if err != nil && (errors.Is(err, errAgentGone) || client.IsErrNotFound(err)) {
		// Removed by the last other topo's Close, or by hand: once more.
		f.drop()
		sample, err = f.ask(ctx, line)
	}
	if err != nil {
		return nil, err
	}
	for pid := range sample.Errors {
		// The process is gone (stopped or restarted): read its PID
		// again next time.
		delete(f.pids, byPID[pid])
	}
	tables := make([]model.SocketTable, 0, len(sample.Namespaces))
	for _, ns := range sample.Namespaces {
		tab := model.SocketTable{Listen: ns.Listen}
		for _, pid := range ns.PIDs {
			if id, ok := byPID[pid]; ok {
				tab.Containers = append(tab.Containers, id)
			}
		}
		sort.SliceStable(tab.Containers, func(i, j int) bool {
			// The owner is the one not using another's namespace.
			return !isShared(topo, tab.Containers[i]) && isShared(topo, tab.Containers[j])
		})
		for _, c := range ns.Conns {
			tab.Conns = append(tab.Conns, model.SocketConn{Local: c.Local, Remote: c.Remote})
		}
		for _, c := range ns.Ended {
			tab.Ended = append(tab.Ended, model.SocketConn{Local: c.Local, Remote: c.Remote})
		}
		tables = append(tables, tab)
	}
	return tables, nil
}

// Sample reads the tables and attributes them: prev is the previous
// sample's Seen.
func (f *Flows) Sample(ctx context.Context, topo model.Topology, prev map[string]bool) (model.FlowSample, error) {
	tables, err := f.Tables(ctx, topo)
	if err != nil {
		return model.FlowSample{}, err
	}
	return topo.Flows(tables, prev), nil
}

func isShared(topo model.Topology, id string) bool {
	return strings.HasPrefix(topo.Containers[id].NetworkMode, "container:")
}

// pidLine returns the agent's request for the running containers of topo
// (inspecting those whose PID is not known yet) and the PID -> container
// map to read its answer.
func (f *Flows) pidLine(ctx context.Context, topo model.Topology) (map[int]string, string, error) {
	byPID := map[int]string{}
	var line strings.Builder
	for id, c := range topo.Containers {
		if !c.Running() || c.Labels[model.LabelProbe] != "" {
			continue
		}
		pid, ok := f.pids[id]
		if !ok {
			in, err := f.api.ContainerInspect(ctx, id)
			if err != nil {
				if client.IsErrNotFound(err) {
					continue
				}
				return nil, "", fmt.Errorf("read the process of container %s: %w", c.Name, err)
			}
			if in.State == nil || in.State.Pid == 0 {
				continue
			}
			pid = in.State.Pid
			f.pids[id] = pid
		}
		byPID[pid] = id
		line.WriteString(strconv.Itoa(pid))
		line.WriteByte(' ')
	}
	line.WriteByte('\n')
	return byPID, line.String(), nil
}

var errAgentGone = errors.New("the flow agent ended")

// ask sends one request line and reads the answer, starting the agent and
// its exec when needed.
func (f *Flows) ask(ctx context.Context, line string) (flowagent.Sample, error) {
	var s flowagent.Sample
	if f.conn == nil {
		if err := f.serve(ctx); err != nil {
			return s, err
		}
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Second)
	}
	_ = f.conn.SetDeadline(deadline)
	if _, err := f.conn.Write([]byte(line)); err != nil {
		f.closeExec()
		return s, fmt.Errorf("%w: %v", errAgentGone, err)
	}
	answer, err := f.reader.ReadBytes('\n')
	if err != nil {
		why := strings.TrimSpace(f.conn.stderr.String())
		f.closeExec()
		if why != "" {
			return s, fmt.Errorf("%w: %s", errAgentGone, why)
		}
		return s, fmt.Errorf("%w: %v", errAgentGone, err)
	}
	if err := json.Unmarshal(answer, &s); err != nil {
		f.closeExec()
		return s, fmt.Errorf("read the flow agent's answer (is --self-binary a topo of this version?): %w", err)
	}
	if err := f.whole(&s); err != nil {
		f.closeExec()
		return s, err
	}
	return s, nil
}

// whole puts back the namespaces the agent sent as unchanged, and keeps
// this answer for the next.
func (f *Flows) whole(s *flowagent.Sample) error {
	sent := make(map[string]flowagent.Namespace, len(s.Namespaces))
	for i, ns := range s.Namespaces {
		if ns.Same {
			last, ok := f.sent[ns.Key]
			if !ok {
				return fmt.Errorf("%w: it said namespace %s is unchanged, but never sent it", errAgentGone, ns.Key)
			}
			s.Namespaces[i] = last
		}
		sent[ns.Key] = s.Namespaces[i]
	}
	f.sent = sent
	return nil
}

// serve starts this Flows' exec of `flow-agent --serve` in the agent.
func (f *Flows) serve(ctx context.Context) error {
	if f.agent == "" {
		if err := f.start(ctx); err != nil {
			return err
		}
	}
	created, err := f.api.ContainerExecCreate(ctx, f.agent, container.ExecOptions{
		Cmd: flowagent.ServeArgs(), AttachStdin: true, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		if client.IsErrNotFound(err) || strings.Contains(err.Error(), "is not running") {
			return fmt.Errorf("%w: %v", errAgentGone, err)
		}
		return fmt.Errorf("start the flow agent's reader: %w", err)
	}
	hijacked, err := f.api.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return fmt.Errorf("attach to the flow agent: %w", err)
	}
	f.exec = created.ID
	f.conn = &execConn{hijacked: hijacked}
	f.reader = bufio.NewReaderSize(f.conn, 64<<10)
	return nil
}

// agentLabels are the labels that find the agent: ours plus the caller's.
func (f *Flows) agentLabels() map[string]string {
	// topo.probe makes every view leave the agent out, as it does the
	// probe and tunnel containers.
	labels := map[string]string{model.LabelProbe: "1", LabelFlows: "1"}
	for k, v := range f.labels {
		labels[k] = v
	}
	return labels
}

// start finds a running agent of the same image and labels, or creates
// one.
func (f *Flows) start(ctx context.Context) error {
	image, err := SelfImage(ctx, f.cli, f.binary)
	if err != nil {
		return fmt.Errorf("build the flow agent image from topo's own binary: %w", err)
	}
	labels := f.agentLabels()
	args := filters.NewArgs(filters.Arg("status", "running"))
	for k, v := range labels {
		args.Add("label", k+"="+v)
	}
	found, err := f.api.ContainerList(ctx, container.ListOptions{Filters: args})
	if err != nil {
		return fmt.Errorf("look for a flow agent: %w", err)
	}
	for _, c := range found {
		// Another topo's agent speaks this protocol only if it runs
		// the same binary.
		if c.Image == image {
			f.agent = c.ID
			return nil
		}
	}
	pids := int64(16)
	config := &container.Config{Image: image, Cmd: flowagent.IdleArgs(), Labels: labels}
	host := &container.HostConfig{
		// The host's PID namespace is the whole point: /proc/<pid> of
		// every container's process. Reading /proc/<pid>/net/tcp{,6},
		// dev and snmp needs no capability (the files are
		// world-readable and not ptrace-guarded), nor does watching a
		// process's end with pidfd_open (allowed by the default seccomp
		// profile), so every capability is dropped; the ns/net link,
		// which is ptrace-guarded, is not needed (flowagent keys
		// namespaces by socket inodes instead). No network of its own,
		// nothing gained by exec'd processes, nothing written.
		PidMode:        "host",
		NetworkMode:    "none",
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{"no-new-privileges"},
		ReadonlyRootfs: true,
		Resources:      container.Resources{Memory: 64 << 20, PidsLimit: &pids, NanoCPUs: 500_000_000},
	}
	name := "topo-flows-" + probeSuffix()
	created, err := f.api.ContainerCreate(ctx, config, host, nil, nil, name)
	if err != nil {
		return fmt.Errorf("create the flow agent container: %w", err)
	}
	if err := f.api.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		rmCtx, cancel := context.WithTimeout(context.Background(), removeTimeout)
		defer cancel()
		_ = f.api.ContainerRemove(rmCtx, created.ID, container.RemoveOptions{Force: true})
		return fmt.Errorf("start the flow agent container: %w", err)
	}
	f.agent = created.ID
	return nil
}

func (f *Flows) closeExec() {
	if f.conn != nil {
		f.conn.Close()
	}
	f.conn, f.reader, f.sent = nil, nil, nil
}

// drop forgets the agent after it went away.
func (f *Flows) drop() {
	f.closeExec()
	f.agent, f.exec = "", ""
}

// Close ends this Flows' exec and removes the agent when no other topo
// is reading through it (no other exec running in it). Another topo that
// starts reading in between finds the agent gone and starts a new one.
func (f *Flows) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.agent == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
	defer cancel()
	agent, exec := f.agent, f.exec
	f.drop()
	if exec != "" {
		// The exec ends when its input closes; wait for that, or it
		// would count as another reader.
		for ctx.Err() == nil {
			in, err := f.api.ContainerExecInspect(ctx, exec)
			if err != nil || !in.Running {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	in, err := f.api.ContainerInspect(ctx, agent)
	if err != nil {
		if client.IsErrNotFound(err) {
			return nil
		}
		return fmt.Errorf("inspect the flow agent: %w", err)
	}
	for _, id := range in.ExecIDs {
		if e, err := f.api.ContainerExecInspect(ctx, id); err == nil && e.Running {
			return nil // another topo reads through it: its Close removes it
		}
	}
	if err := f.api.ContainerRemove(ctx, agent, container.RemoveOptions{Force: true}); err != nil && !client.IsErrNotFound(err) {
		return fmt.Errorf("remove the flow agent container %s: %w", probeShortID(agent), err)
	}
	return nil
}

// Watch samples every FlowInterval until ctx ends, sending each sample to
// out (New counted against the previous one); it returns the first error,
// or nil when ctx ends. topology gives the containers to read each time
// (the UI's current model, or a fresh Sync). It is what "flows on" means:
// cancel ctx and no request is made any more; Close removes the agent.
func (f *Flows) Watch(ctx context.Context, topology func(context.Context) (model.Topology, error), out chan<- model.FlowSample) error {
	var prev map[string]bool
	tick := time.NewTicker(FlowInterval)
	defer tick.Stop()
	for {
		// The first sample may build the agent image: minutes on a cold
		// engine; later ones take milliseconds.
		sampleCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		topo, err := topology(sampleCtx)
		var s model.FlowSample
		if err == nil {
			s, err = f.Sample(sampleCtx, topo, prev)
		}
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		prev = s.Seen
		select {
		case out <- s:
		case <-ctx.Done():
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil
		}
	}
}
