package docker

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/topo-dev/topo/flowagent"
	"github.com/topo-dev/topo/model"
)

// swarmFlowsAPI lists the client calls of the swarm's flow sampler.
type swarmFlowsAPI interface {
	ServiceCreate(ctx context.Context, service swarm.ServiceSpec, options swarm.ServiceCreateOptions) (swarm.ServiceCreateResponse, error)
	ServiceList(ctx context.Context, options swarm.ServiceListOptions) ([]swarm.Service, error)
	ServiceRemove(ctx context.Context, serviceID string) error
	ServiceLogs(ctx context.Context, serviceID string, options container.LogsOptions) (io.ReadCloser, error)
	TaskList(ctx context.Context, options swarm.TaskListOptions) ([]swarm.Task, error)
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
	ContainerInspect(ctx context.Context, containerID string) (container.InspectResponse, error)
	ContainerExecCreate(ctx context.Context, containerID string, options container.ExecOptions) (container.ExecCreateResponse, error)
	ContainerExecAttach(ctx context.Context, execID string, config container.ExecAttachOptions) (types.HijackedResponse, error)
	ContainerExecInspect(ctx context.Context, execID string) (container.ExecInspect, error)
}

var _ swarmFlowsAPI = (*client.Client)(nil)

// LabelOwner and OwnerTopo mark objects topo created, as the demo's
// deployer marks its stack (deploy.LabelOwner): topo removes nothing
// without them.
const (
	LabelOwner = "topo.owner"
	OwnerTopo  = "topo"
)

// hostProc is where a task of the flow service sees its node's /proc.
const hostProc = "/host/proc"

// SwarmFlows samples the established TCP connections of the tasks on
// every node of a swarm, from a manager: a global service of topo's own
// image runs `topo flow-agent --node` on each node (see flowagent), and
// the manager gathers their output as the service's logs, which topo
// follows. Only the manager is ever talked to.
//
// The service starts on the first Watch, is shared with another topo on
// the same manager (found by its labels and image), and Close removes it
// once no topo uses it. Off (no Watch), SwarmFlows makes no request.
type SwarmFlows struct {
	api    swarmFlowsAPI
	cli    *client.Client
	binary string
	labels map[string]string

	mu      sync.Mutex
	service string // ID
	image   string
	created bool // by this SwarmFlows: removed on Close even without a hold
	// hold is this topo's mark of use: an exec of the agent's idle
	// reader in the service's task on the manager's own node, which
	// ends with this topo's connection, so a topo that died counts no
	// more (the same mark as Flows' serving exec).
	hold     *execConn
	holdExec string
	holdCtr  string
	// The reading of the service's logs: gather is fed by it,
	// followed closes when it ends, stopFollow ends it.
	gather     *flowagent.Gather
	followed   chan struct{}
	stopFollow context.CancelFunc
}

// NewSwarmFlows returns a SwarmFlows on the manager of cli. binary is
// topo's static Linux binary (empty: the running executable); labels are
// added to the service (tests add theirs).
func NewSwarmFlows(cli *client.Client, binary string, labels map[string]string) *SwarmFlows {
	return &SwarmFlows{api: cli, cli: cli, binary: binary, labels: labels}
}

// serviceLabels find the service: topo's own, plus the caller's.
func (f *SwarmFlows) serviceLabels() map[string]string {
	labels := map[string]string{LabelFlows: "1", LabelOwner: OwnerTopo}
	for k, v := range f.labels {
		labels[k] = v
	}
	return labels
}

// serviceSpec is the global service of the agents.
//
// Least privilege, and why each right is kept: a service cannot have the
// host's PID namespace (swarm.ContainerSpec has no PID mode in any API
// version), so the task reads its node's /proc through a bind mount of
// it instead, read-only and non-recursive (none of /proc's sub-mounts,
// binfmt_misc and the like, comes along). It runs as nobody with every
// capability dropped and a read-only root: it reads what any unprivileged
// user of the node may read (/proc/<pid>/cgroup and net/*, which are
// world-readable; not environ, fd or ns, which are guarded), and, in a PID
// namespace of its own, can signal or trace no process of the node, which
// a host-PID container running as root could do to root's. Swarm refuses
// the "none" network to a service, so the task sits on the node's
// default bridge; it listens on nothing and dials nothing. Limits: half a
// core, 64 MiB, 64 threads (the agent's, plus each topo's hold, a Go
// process of a few threads: with 16, a second topo's hold could not
// start its threads and died, and the first Close took the service from
// under it); its log is capped at two files of 1 MiB.
func (f *SwarmFlows) serviceSpec(image string) swarm.ServiceSpec {
	grace, restartDelay := 2*time.Second, 5*time.Second
	labels := f.serviceLabels()
	// topo.probe makes every view leave the agents' containers out.
	ctrLabels := map[string]string{model.LabelProbe: "1", LabelFlows: "1", LabelOwner: OwnerTopo}
	return swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: "topo-flows-" + probeSuffix(), Labels: labels},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{
				Image: image, Args: flowagent.NodeArgs(hostProc), Labels: ctrLabels,
				// The node's ID from the swarm's template, so each
				// line says which node it comes from.
				Env:            []string{flowagent.NodeEnv + "={{.Node.ID}}"},
				User:           "65534:65534",
				ReadOnly:       true,
				CapabilityDrop: []string{"ALL"},
				Mounts: []mount.Mount{{Type: mount.TypeBind, Source: "/proc", Target: hostProc, ReadOnly: true,
					BindOptions: &mount.BindOptions{NonRecursive: true}}},
				StopGracePeriod: &grace,
			},
			Resources: &swarm.ResourceRequirements{Limits: &swarm.Limit{NanoCPUs: 500_000_000, MemoryBytes: 64 << 20, Pids: 64}},
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionOnFailure,
				Delay: &restartDelay},
			LogDriver: &swarm.Driver{Name: "json-file", Options: map[string]string{"max-size": "1m", "max-file": "2"}},
		},
		Mode: swarm.ServiceMode{Global: &swarm.GlobalService{}},
	}
}

// start finds a service of the same image and labels, or creates one.
func (f *SwarmFlows) start(ctx context.Context) error {
	image, err := SelfImage(ctx, f.cli, f.binary)
	if err != nil {
		return fmt.Errorf("build the flow agent image from topo's own binary: %w", err)
	}
	args := filters.NewArgs()
	for k, v := range f.serviceLabels() {
		args.Add("label", k+"="+v)
	}
	found, err := f.api.ServiceList(ctx, swarm.ServiceListOptions{Filters: args})
	if err != nil {
		return fmt.Errorf("look for topo's flow service: %w", err)
	}
	for _, s := range found {
		// Another topo's agents speak this output only if they run the
		// same binary.
		if cs := s.Spec.TaskTemplate.ContainerSpec; cs != nil && cs.Image == image && s.Spec.Mode.Global != nil {
			f.service, f.image = s.ID, image
			return nil
		}
	}
	// QueryRegistry stays false: no registry is asked for a digest; the
	// image is the one each node holds (see missingImage).
	created, err := f.api.ServiceCreate(ctx, f.serviceSpec(image), swarm.ServiceCreateOptions{})
	if err != nil {
		return fmt.Errorf("create topo's flow service: %w", err)
	}
	f.service, f.image, f.created = created.ID, image, true
	return nil
}

// holdOn marks this topo as a user of the service, once its task on the
// manager's node runs; until then (or on a manager that runs no task) it
// tries again at the next sample.
func (f *SwarmFlows) holdOn(ctx context.Context) {
	if f.hold != nil || f.service == "" {
		return
	}
	found, err := f.api.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("status", "running"), filters.Arg("label", "com.docker.swarm.service.id="+f.service))})
	if err != nil || len(found) == 0 {
		return
	}
	created, err := f.api.ContainerExecCreate(ctx, found[0].ID, container.ExecOptions{
		// It reads its input until this topo closes it, and is never
		// asked anything: one thread of Go code is plenty.
		Cmd: flowagent.ServeArgs(), Env: []string{"GOMAXPROCS=1"},
		AttachStdin: true, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return
	}
	hijacked, err := f.api.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return
	}
	f.hold, f.holdExec, f.holdCtr = &execConn{hijacked: hijacked}, created.ID, found[0].ID
}

// Close ends this topo's hold and removes the service when no other topo
// holds it (no other exec runs in its task on the manager's node), or,
// without a task there to hold, when this topo created it. Another topo
// that starts in between finds the service gone and starts a new one.
func (f *SwarmFlows) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.service == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
	defer cancel()
	service, held, exec, ctr, created := f.service, f.hold != nil, f.holdExec, f.holdCtr, f.created
	if f.stopFollow != nil {
		f.stopFollow()
	}
	f.gather, f.followed, f.stopFollow = nil, nil, nil
	f.forget()
	if !held && !created {
		return nil
	}
	if held {
		if others, err := f.otherHolders(ctx, ctr, exec); err != nil || others {
			return err
		}
	}
	if err := f.api.ServiceRemove(ctx, service); err != nil && !client.IsErrNotFound(err) {
		return fmt.Errorf("remove topo's flow service %s: %w", probeShortID(service), err)
	}
	return nil
}

// forget drops the service and this topo's hold on it.
func (f *SwarmFlows) forget() {
	if f.hold != nil {
		f.hold.Close()
	}
	f.service, f.hold, f.holdExec, f.holdCtr, f.created = "", nil, "", "", false
}

// otherHolders waits for this topo's exec to end, then says whether
// another runs in the task's container.
func (f *SwarmFlows) otherHolders(ctx context.Context, ctr, exec string) (bool, error) {
	for ctx.Err() == nil {
		in, err := f.api.ContainerExecInspect(ctx, exec)
		if err != nil || !in.Running {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	in, err := f.api.ContainerInspect(ctx, ctr)
	if err != nil {
		if client.IsErrNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("inspect the flow agent's task: %w", err)
	}
	for _, id := range in.ExecIDs {
		if e, err := f.api.ContainerExecInspect(ctx, id); err == nil && e.Running {
			return true, nil
		}
	}
	return false, nil
}
