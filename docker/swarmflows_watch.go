package docker

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/topo-dev/topo/flowagent"
	"github.com/topo-dev/topo/model"
)

var errFlowsClosed = errors.New("flows across the swarm were turned off")

// nodeFresh is how old a node's last sample may be and still count: its
// agent prints one a second, and the manager relays it within one.
const nodeFresh = 5 * time.Second

// followSince is how far back a new reader of the logs starts: past the
// agents' last full sample (every 5 s), so that it knows every namespace
// at once, not after the next full one.
const followSince = "6s"

// Watch samples every FlowInterval until ctx ends, sending each sample to
// out; it returns the first error, or nil when ctx ends. cluster gives the
// swarm's tasks each time (a fresh Read), to attribute the connections
// to. Cancel ctx and no request is made any more; Close removes the
// service.
func (f *SwarmFlows) Watch(ctx context.Context, cluster func(context.Context) (model.Cluster, error), out chan<- model.FlowSample) error {
	var prev map[string]bool
	tick := time.NewTicker(FlowInterval)
	defer tick.Stop()
	for {
		// The first round may build the agent image: minutes on a cold
		// engine; later ones take milliseconds.
		sampleCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		cl, err := cluster(sampleCtx)
		var s model.FlowSample
		if err == nil {
			s, err = f.Sample(sampleCtx, cl, prev)
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

// Sample attributes what every node's agent last said to the tasks of cl
// (prev is the previous sample's Seen). The first call starts the service
// and the reading of its logs; so does a call after the logs ended (the
// service removed by the last other topo's Close or by hand, or the
// manager's stream cut). The first samples may hold no node yet: Nodes
// says which reported.
func (f *SwarmFlows) Sample(ctx context.Context, cl model.Cluster, prev map[string]bool) (model.FlowSample, error) {
	if err := f.ensureFollowing(ctx); err != nil {
		return model.FlowSample{}, err
	}
	return f.sample(ctx, cl, prev)
}

// ensureFollowing starts the service when needed and a reader of its
// logs, which feeds the Gather until Close or until the logs end.
func (f *SwarmFlows) ensureFollowing(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.followed != nil {
		select {
		case <-f.followed:
			f.stopFollow()
			f.followed = nil
			if gone, _ := f.gone(ctx); gone {
				f.forget()
			}
		default:
			return nil
		}
	}
	if f.service == "" {
		if err := f.start(ctx); err != nil {
			return err
		}
	}
	// The reader outlives this sample's context: Close ends it.
	followCtx, stop := context.WithCancel(context.Background())
	logs, err := f.api.ServiceLogs(followCtx, f.service, container.LogsOptions{ShowStdout: true, Follow: true, Since: followSince})
	if err != nil {
		stop()
		return fmt.Errorf("follow topo's flow service: %w", err)
	}
	f.gather, f.stopFollow, f.followed = flowagent.NewGather(), stop, make(chan struct{})
	go f.read(logs, f.gather, f.followed)
	return nil
}

// read feeds gather with the agents' lines until the logs end.
func (f *SwarmFlows) read(logs io.ReadCloser, gather *flowagent.Gather, done chan<- struct{}) {
	defer close(done)
	defer logs.Close()
	pr, pw := io.Pipe()
	go func() {
		// Without a TTY the stream is multiplexed; stderr (the
		// agent's errors) comes along and is skipped as not JSON.
		_, err := stdcopy.StdCopy(pw, pw, logs)
		pw.CloseWithError(err)
	}()
	scanner := bufio.NewScanner(pr)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	for scanner.Scan() {
		var l flowagent.NodeLine
		if json.Unmarshal(scanner.Bytes(), &l) != nil || l.Node == "" {
			continue
		}
		f.mu.Lock()
		gather.Add(l, time.Now())
		f.mu.Unlock()
	}
	pr.Close()
}

// gone says whether the service no longer exists.
func (f *SwarmFlows) gone(ctx context.Context) (bool, error) {
	if f.service == "" {
		return true, nil
	}
	found, err := f.api.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("id", f.service))})
	return err == nil && len(found) == 0, err
}

// sample attributes what every node's agent last said to the cluster's
// tasks.
func (f *SwarmFlows) sample(ctx context.Context, cl model.Cluster, prev map[string]bool) (model.FlowSample, error) {
	f.mu.Lock()
	if f.gather == nil {
		f.mu.Unlock()
		return model.FlowSample{}, errFlowsClosed // Close came in between
	}
	f.holdOn(ctx)
	states := f.gather.Take()
	service, image := f.service, f.image
	f.mu.Unlock()
	topo := cl.FlowTopology(service)
	var tables []model.SocketTable
	fresh := map[string]bool{}
	for node, st := range states {
		if time.Since(st.At) > nodeFresh {
			continue
		}
		fresh[node] = true
		for _, ns := range st.Namespaces {
			tables = append(tables, socketTable(topo, ns))
		}
	}
	s := topo.Flows(tables, prev)
	nodes, err := f.coverage(ctx, cl, fresh, service, image)
	if err != nil {
		return s, err
	}
	s.Nodes = nodes
	return s, nil
}

// socketTable is a namespace of a node's sample, with only the containers
// of the cluster's running tasks (not the node's own namespace, nor the
// agent's).
func socketTable(topo model.Topology, ns flowagent.Namespace) model.SocketTable {
	tab := model.SocketTable{Listen: ns.Listen}
	for _, id := range ns.Containers {
		if _, ok := topo.Containers[id]; ok {
			tab.Containers = append(tab.Containers, id)
		}
	}
	for _, c := range ns.Conns {
		tab.Conns = append(tab.Conns, model.SocketConn{Local: c.Local, Remote: c.Remote})
	}
	for _, c := range ns.Ended {
		tab.Ended = append(tab.Ended, model.SocketConn{Local: c.Local, Remote: c.Remote})
	}
	return tab
}

// coverage says which nodes reported and why the others did not: a node
// up and not drained runs a task of the global service, unless it lacks
// the image (no registry: each node needs its own copy).
func (f *SwarmFlows) coverage(ctx context.Context, cl model.Cluster, fresh map[string]bool, service, image string) (*model.FlowNodes, error) {
	nodes := &model.FlowNodes{Reporting: []string{}}
	var silent []model.Node
	for _, n := range cl.Nodes {
		switch {
		case fresh[n.ID]:
			nodes.Reporting = append(nodes.Reporting, n.Hostname)
		case n.Up() && n.Availability != model.AvailabilityDrain:
			silent = append(silent, n)
		}
	}
	sort.Strings(nodes.Reporting)
	if len(silent) == 0 {
		return nodes, nil
	}
	// Only while a node is silent: the tasks say why.
	tasks, err := f.api.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", service))})
	if err != nil {
		return nil, fmt.Errorf("read the flow agents' tasks: %w", err)
	}
	latest := map[string]swarm.Task{}
	for _, t := range tasks {
		if l, ok := latest[t.NodeID]; !ok || t.Meta.CreatedAt.After(l.Meta.CreatedAt) {
			latest[t.NodeID] = t
		}
	}
	for _, n := range silent {
		why := "its agent has not reported yet"
		if t, ok := latest[n.ID]; ok {
			why = "its agent is " + string(t.Status.State)
			if taskLacksImage(t.Status.Err) {
				why = fmt.Sprintf("it lacks the image %s: copy it (`docker save %s | docker -H NODE load`), then turn flows on again: swarm nodes do not share images", image, image)
			} else if t.Status.Err != "" {
				why += ": " + t.Status.Err
			}
		}
		nodes.Silent = append(nodes.Silent, n.Hostname+": "+why)
	}
	return nodes, nil
}

// taskLacksImage recognises a task error that says its node has no such
// image and could not pull it (as the demo's deployer does).
func taskLacksImage(taskErr string) bool {
	e := strings.ToLower(taskErr)
	return strings.Contains(e, "no such image") || strings.Contains(e, "pull access denied") ||
		(strings.Contains(e, "image") && strings.Contains(e, "not found"))
}
