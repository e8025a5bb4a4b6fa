package deploy

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
)

// Making each object of the demo exist as its spec says: networks, the
// data volume, and containers (created, connected, configured, started).

// prepare is what both modes need before their containers or services:
// the images, topo's own image (returned), and the front and back
// networks, made by ensure.
func (d *Deployer) prepare(ctx context.Context, r *reporter, ensure func(context.Context, *reporter, string) error) (string, error) {
	if err := d.ensureImages(ctx, r, false); err != nil {
		return "", err
	}
	self, err := d.ensureSelfImage(ctx, r)
	if err != nil {
		return "", err
	}
	for _, n := range []string{NetworkFront, NetworkBack} {
		if err := ensure(ctx, r, n); err != nil {
			return "", err
		}
	}
	return self, nil
}

// ensureNetwork creates one of the project's networks unless it exists. A
// network of that name that is not the project's is refused rather than
// adopted: removing the project later would remove it.
func (d *Deployer) ensureNetwork(ctx context.Context, r *reporter, short string) error {
	name := d.NetworkName(short)
	return d.ensureNamedNetwork(ctx, r, short,
		func(n network.Summary) bool {
			return n.Labels[LabelProject] == d.opts.Project && n.Labels[LabelOwner] == OwnerTopo
		},
		fmt.Sprintf("network %s exists but topo did not create it for project %s: remove it (docker network rm %s) or choose another --project", name, d.opts.Project, name),
		network.CreateOptions{
			Driver: "bridge",
			Labels: d.labels(map[string]string{LabelNetwork: short, LabelComposeV: composeVersion}),
		}, "create network")
}

// ensureNamedNetwork is what both modes do for a network: keep one of that
// name that owns says is ours, refuse one that is not (with refusal), and
// create it with opts when there is none.
func (d *Deployer) ensureNamedNetwork(ctx context.Context, r *reporter, short string, owns func(network.Summary) bool, refusal string, opts network.CreateOptions, createWhat string) error {
	name := d.NetworkName(short)
	key, title := "network "+short, "network "+name
	list, err := d.api.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("name", name))})
	if err != nil {
		return r.fail(key, title, fmt.Errorf("list networks: %w", err))
	}
	for _, n := range list {
		if n.Name != name { // the name filter matches substrings
			continue
		}
		if !owns(n) {
			return r.fail(key, title, errors.New(refusal))
		}
		r.done(key, title, "exists")
		return nil
	}
	r.start(key, title)
	if _, err := d.api.NetworkCreate(ctx, name, opts); err != nil {
		return r.fail(key, title, fmt.Errorf("%s %s: %w", createWhat, name, err))
	}
	r.done(key, title, "created")
	return nil
}

// ensureVolume creates one of the project's volumes, by its short name,
// unless it exists; one of that name that is not the project's is refused.
func (d *Deployer) ensureVolume(ctx context.Context, r *reporter, short string) error {
	name := d.opts.Project + "_" + short
	key, title := "volume "+short, "volume "+name
	list, err := d.api.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("name", name))})
	if err != nil {
		return r.fail(key, title, fmt.Errorf("list volumes: %w", err))
	}
	for _, v := range list.Volumes {
		if v.Name != name {
			continue
		}
		if v.Labels[LabelProject] != d.opts.Project || v.Labels[LabelOwner] != OwnerTopo {
			return r.fail(key, title, fmt.Errorf("volume %s exists but topo did not create it for project %s: remove it (docker volume rm %s) or choose another --project", name, d.opts.Project, name))
		}
		detail := "exists"
		if short == VolumeMongo {
			detail = "exists (data kept)"
		}
		r.done(key, title, detail)
		return nil
	}
	r.start(key, title)
	_, err = d.api.VolumeCreate(ctx, volume.CreateOptions{
		Name:   name,
		Labels: d.labels(map[string]string{LabelVolume: short, LabelComposeV: composeVersion}),
	})
	if err != nil {
		return r.fail(key, title, fmt.Errorf("create volume %s: %w", name, err))
	}
	r.done(key, title, "created")
	return nil
}

// ensureContainer brings one container to its spec and running: created
// on its first network, connected to the others, files copied in, then
// started (the engine refuses several networks at create, and starting
// last means the start event already carries every address). It reports
// whether the container was created anew.
func (d *Deployer) ensureContainer(ctx context.Context, r *reporter, s spec, have *instance) (bool, error) {
	key := fmt.Sprintf("container %s-%d", s.Service, s.Number)
	title := s.Name
	created := false
	id := ""
	if have != nil {
		id = have.ID
		switch {
		case have.Spec != s.hash():
			r.progress(key, title, "settings changed: recreating", -1)
			if err := d.remove(ctx, id); err != nil {
				return false, r.fail(key, title, fmt.Errorf("recreate %s: %w", s.Name, err))
			}
			id = ""
		case have.State == "dead" || have.State == "removing":
			r.progress(key, title, have.State+": recreating", -1)
			if err := d.remove(ctx, id); err != nil {
				return false, r.fail(key, title, fmt.Errorf("recreate %s: %w", s.Name, err))
			}
			id = ""
		case have.State == "running" || have.State == "paused" || have.State == "restarting":
			r.done(key, title, have.State)
			return false, nil
		}
	}
	if id == "" {
		r.progress(key, title, "creating", -1)
		cfg, host := d.containerConfig(s)
		endpoints := &network.NetworkingConfig{}
		if len(s.Networks) > 0 {
			endpoints.EndpointsConfig = map[string]*network.EndpointSettings{s.Networks[0]: {Aliases: s.Aliases}}
		}
		resp, err := d.api.ContainerCreate(ctx, cfg, host, endpoints, nil, s.Name)
		if err != nil {
			if errdefsConflict(err) {
				err = fmt.Errorf("the name %s is taken by a container outside project %s: remove it (docker rm -f %s) or choose another --project", s.Name, d.opts.Project, s.Name)
			}
			return false, r.fail(key, title, fmt.Errorf("create %s: %w", s.Name, err))
		}
		id, created = resp.ID, true
	}
	c, err := d.api.ContainerInspect(ctx, id)
	if err != nil {
		return created, r.fail(key, title, fmt.Errorf("inspect %s: %w", s.Name, err))
	}
	for _, n := range s.Networks[min(1, len(s.Networks)):] {
		if c.NetworkSettings != nil && c.NetworkSettings.Networks[n] != nil {
			continue
		}
		if err := d.api.NetworkConnect(ctx, n, id, &network.EndpointSettings{Aliases: s.Aliases}); err != nil {
			return created, r.fail(key, title, fmt.Errorf("connect %s to network %s: %w", s.Name, n, err))
		}
	}
	for p, content := range s.Files {
		if err := d.copyFile(ctx, id, p, content); err != nil {
			return created, r.fail(key, title, fmt.Errorf("put %s into %s: %w", p, s.Name, err))
		}
	}
	if err := d.api.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return created, r.fail(key, title, d.explainStart(s, err))
	}
	detail := "started"
	if created {
		detail = "created and started"
	}
	r.done(key, title, detail)
	return created, nil
}

func errdefsConflict(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "Conflict") || strings.Contains(err.Error(), "is already in use"))
}

// explainStart turns the usual start failure on stage, a port already
// taken, into what to do about it.
func (d *Deployer) explainStart(s spec, err error) error {
	msg := err.Error()
	if len(s.Publish) > 0 && (strings.Contains(msg, "port is already allocated") || strings.Contains(msg, "address already in use")) {
		return fmt.Errorf("start %s: port %d on %s is already in use: stop what uses it, or choose another port with --lb-port", s.Name, d.opts.LBPort, d.opts.LBBind)
	}
	return fmt.Errorf("start %s: %w", s.Name, err)
}

// copyFile puts one file into a created container, which is how the load
// balancer gets its configuration without a bind mount (so it works with
// a remote engine and Docker Desktop alike).
func (d *Deployer) copyFile(ctx context.Context, id, file, content string) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: path.Base(file), Mode: 0o644, Size: int64(len(content)), ModTime: time.Now()}); err != nil {
		return err
	}
	if _, err := tw.Write([]byte(content)); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return d.api.CopyToContainer(ctx, id, path.Dir(file), &buf, container.CopyToContainerOptions{})
}
