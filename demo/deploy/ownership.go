package deploy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
)

// A project name is only a label: `docker compose -p NAME`, `docker stack
// deploy NAME` and topo all write it, so --project naming someone else's
// project would make down remove it and up recreate its containers. Before
// up, scale or down touches anything, every object carrying the project's
// compose or stack label must also carry LabelOwner=OwnerTopo; otherwise
// the operation is refused and the objects named.
//
// Deployments made before LabelOwner existed are refused too. Their
// containers and services carry topo.demo.spec, which compose never
// writes, but their networks and volumes carry nothing of topo's own
// (compose's labels only), so "every object looks like topo's" cannot be
// decided for them; a wrong guess would remove another project's data. The
// refusal names the objects and, when every foreign container or service
// carries topo.demo.spec, gives the docker commands that remove them, for
// the presenter to run knowingly.

// ErrForeign marks a refusal because the project holds objects topo did
// not create; errors.Is finds it in a *ForeignError.
var ErrForeign = errors.New("the project holds objects topo did not create")

// ForeignObject is an object of the project without topo's owner label.
type ForeignObject struct {
	// Kind is "container", "network", "volume", "service" or "config".
	Kind string
	Name string
	// OlderTopo says it carries topo.demo.spec: a container or service of
	// a demo deployed by a topo from before the owner label.
	OlderTopo bool
}

// ForeignError refuses an operation on a project holding objects topo did
// not create, naming them.
type ForeignError struct {
	Project string
	// Action is what was refused: "deploy into", "scale", "remove".
	Action  string
	Objects []ForeignObject
}

// foreignListed bounds how many objects the message names: a project of
// 50 instances would otherwise fill the deploy panel.
const foreignListed = 10

func (e *ForeignError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "project %s holds objects topo did not create, so topo will not %s it: ", e.Project, e.Action)
	names := make([]string, 0, min(len(e.Objects), foreignListed))
	for _, o := range e.Objects[:min(len(e.Objects), foreignListed)] {
		names = append(names, o.Kind+" "+o.Name)
	}
	b.WriteString(strings.Join(names, ", "))
	if n := len(e.Objects) - foreignListed; n > 0 {
		fmt.Fprintf(&b, " and %d more", n)
	}
	fmt.Fprintf(&b, " (without the label %s=%s: another compose project or stack named %s, or a demo deployed by a topo older than that label): choose another --project (or TOPO_DEMO_PROJECT) for the demo", LabelOwner, OwnerTopo, e.Project)
	if cmds := e.removal(); cmds != "" {
		fmt.Fprintf(&b, "; if this is a demo you deployed with an earlier topo, remove it yourself (%s) and deploy again", cmds)
	} else {
		b.WriteString(", and remove these with the tool that made them")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrForeign) true.
func (e *ForeignError) Is(target error) bool { return target == ErrForeign }

// removal is the docker commands that remove the objects, when every
// container and service among them carries topo.demo.spec; empty
// otherwise, since then at least some belong to another tool.
func (e *ForeignError) removal() string {
	byKind := map[string][]string{}
	older := false
	for _, o := range e.Objects {
		if (o.Kind == "container" || o.Kind == "service") && !o.OlderTopo {
			return ""
		}
		older = older || o.OlderTopo
		byKind[o.Kind] = append(byKind[o.Kind], o.Name)
	}
	if !older {
		return ""
	}
	var cmds []string
	for _, k := range []struct{ kind, cmd string }{
		{"service", "docker service rm"}, {"container", "docker rm -f"}, {"config", "docker config rm"},
		{"network", "docker network rm"}, {"volume", "docker volume rm"},
	} {
		if names := byKind[k.kind]; len(names) > 0 {
			cmds = append(cmds, k.cmd+" "+strings.Join(names, " "))
		}
	}
	return strings.Join(cmds, "; ")
}

// checkOwned refuses action when any object of the project (by its
// compose label, and on a swarm manager by its stack label) lacks topo's
// owner label. It reports the check as a step, so the TUI's panel shows
// the refusal where the work would have been.
func (d *Deployer) checkOwned(ctx context.Context, r *reporter, action string) error {
	const key = "ownership"
	title := "objects of project " + d.opts.Project
	foreign, err := d.foreignObjects(ctx)
	if err != nil {
		return r.fail(key, title, err)
	}
	if len(foreign) > 0 {
		return r.fail(key, title, &ForeignError{Project: d.opts.Project, Action: action, Objects: foreign})
	}
	return nil
}

// foreignObjects lists the project's objects without topo's owner label,
// sorted by kind then name.
func (d *Deployer) foreignObjects(ctx context.Context) ([]ForeignObject, error) {
	var out []ForeignObject
	seen := map[string]bool{} // kind/ID: ours carry both labels
	add := func(kind, id, name string, labels map[string]string) {
		if labels[LabelOwner] == OwnerTopo || seen[kind+"/"+id] {
			return
		}
		seen[kind+"/"+id] = true
		out = append(out, ForeignObject{Kind: kind, Name: name, OlderTopo: labels[labelSpec] != ""})
	}
	filterSets := []filters.Args{d.projectFilter()}
	manager, err := d.IsManager(ctx)
	if err != nil {
		return nil, err
	}
	if manager {
		filterSets = append(filterSets, d.stackFilter())
		svcs, err := d.swarm().ServiceList(ctx, swarm.ServiceListOptions{Filters: d.stackFilter()})
		if err != nil {
			return nil, fmt.Errorf("list the services of stack %s: %w", d.opts.Project, err)
		}
		for _, s := range svcs {
			add("service", s.ID, s.Spec.Name, s.Spec.Labels)
		}
		configs, err := d.swarm().ConfigList(ctx, swarm.ConfigListOptions{Filters: d.stackFilter()})
		if err != nil {
			return nil, fmt.Errorf("list the configs of stack %s: %w", d.opts.Project, err)
		}
		for _, c := range configs {
			add("config", c.ID, c.Spec.Name, c.Spec.Labels)
		}
	}
	for _, f := range filterSets {
		cs, err := d.api.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
		if err != nil {
			return nil, fmt.Errorf("list the containers of project %s: %w", d.opts.Project, err)
		}
		for _, c := range cs {
			if c.Labels[labelSwarmTask] != "" {
				// A task's container: its service is what was checked.
				continue
			}
			name := c.ID[:min(len(c.ID), 12)]
			if len(c.Names) > 0 {
				name = strings.TrimPrefix(c.Names[0], "/")
			}
			add("container", c.ID, name, c.Labels)
		}
		nets, err := d.api.NetworkList(ctx, network.ListOptions{Filters: f})
		if err != nil {
			return nil, fmt.Errorf("list the networks of project %s: %w", d.opts.Project, err)
		}
		for _, n := range nets {
			add("network", n.ID, n.Name, n.Labels)
		}
		vols, err := d.api.VolumeList(ctx, volume.ListOptions{Filters: f})
		if err != nil {
			return nil, fmt.Errorf("list the volumes of project %s: %w", d.opts.Project, err)
		}
		for _, v := range vols.Volumes {
			add("volume", v.Name, v.Name, v.Labels)
		}
	}
	kindOrder := map[string]int{"service": 0, "container": 1, "config": 2, "network": 3, "volume": 4}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return kindOrder[out[i].Kind] < kindOrder[out[j].Kind]
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}
