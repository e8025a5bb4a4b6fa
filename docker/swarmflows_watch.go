package docker

import (
	"bufio"
	"context"
	"encoding/json"
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

// nodeFresh is how old a node's last sample may be and still count: its
// agent prints one a second, and the manager relays it within one.
const nodeFresh = 5 * time.Second

// followSince is how far back a new reader of the logs starts: past the
// agents' last full sample (every 5 s), so that it knows every namespace
// at once, not after the next full one.
const followSince = "6s"

// Watch samples every FlowInterval until ctx ends, sending each sample to
// out; it returns the first error, or nil when ctx ends. cluster gives the
// swarm's tasks each time (the UI's current model, or a fresh Read), to
// attribute the connections to. Cancel ctx and no request is made any
// more; Close removes the service.
func (f *SwarmFlows) Watch(ctx context.Context, cluster func(context.Context) (model.Cluster, error), out chan<- model.FlowSample) error {
	var prev map[string]bool
	followed := make(chan error, 1)
	following := false
	tick := time.NewTicker(FlowInterval)
	defer tick.Stop()
	for {
		// The first round may build the agent image: minutes on a cold
		// engine; later ones take milliseconds.
		sampleCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		if !following {
			if err := f.follow(ctx, sampleCtx, followed); err != nil {
				cancel()
				return err
			}
			following = true
		}
		cl, err := cluster(sampleCtx)
		var s model.FlowSample
		if err == nil {
			s, err = f.sample(sampleCtx, cl, prev)
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
		case <-followed:
			// The logs ended: the service was removed (by the last
			// other topo's Close, or by hand), or the manager cut
			// the stream. Once more, from the start.
			if ctx.Err() != nil {
				return nil
			}
			following = false
			f.mu.Lock()
			if gone, _ := f.gone(ctx); gone {
				if f.hold != nil {
					f.hold.Close()
				}
				f.service, f.hold, f.holdExec, f.holdCtr, f.created = "", nil, "", "", false
			}
			f.mu.Unlock()
		case <-ctx.Done():
			return nil
		}
	}
}

// gone says whether the service no longer exists.
func (f *SwarmFlows) gone(ctx context.Context) (bool, error) {
	if f.service == "" {
		return true, nil
	}
	found, err := f.api.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("id", f.service))})
	return err == nil && len(found) == 0, err
}

// follow starts the service when needed and a reader of its logs, which
// feeds the Gather until ctx ends or the logs do, then reports on done.
func (f *SwarmFlows) follow(ctx, startCtx context.Context, done chan<- error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.service == "" {
		if err := f.start(startCtx); err != nil {
			return err
		}
	}
	f.gather = flowagent.NewGather()
	logs, err := f.api.ServiceLogs(ctx, f.service, container.LogsOptions{ShowStdout: true, Follow: true, Since: followSince})
	if err != nil {
		return fmt.Errorf("follow topo's flow service: %w", err)
	}
	gather := f.gather
	go func() {
		pr, pw := io.Pipe()
		go func() {
			// Without a TTY the stream is multiplexed; stderr (the
			// agent's errors) goes with stdout and is skipped as not
			// JSON.
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
		logs.Close()
		done <- scanner.Err()
	}()
	return nil
}

// sample attributes what every node's agent last said to the cluster's
// tasks.
func (f *SwarmFlows) sample(ctx context.Context, cl model.Cluster, prev map[string]bool) (model.FlowSample, error) {
	f.mu.Lock()
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
