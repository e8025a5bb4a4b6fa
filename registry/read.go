package registry

import (
	"context"
	"fmt"
	"sort"

	"github.com/hashicorp/consul/api"

	"github.com/topo-dev/topo/model"
)

// ReadOnce reads the registry at target once, without watching: the
// catalog, then the health of every service in it. It is for commands that
// ask once and exit (the demo's deployer waiting for its instances, `topo
// demo status`); the panel uses Watch. The answer is a snapshot like a
// watch's, without Leader, Datacenter and Error: a failure is the error.
// Consul's own service is left out: it is the agent, not something
// registered in it.
func ReadOnce(ctx context.Context, target Target) (model.Registry, error) {
	c, closeIdle, err := onceClient(target)
	if err != nil {
		return model.Registry{}, err
	}
	defer closeIdle()
	q := (&api.QueryOptions{}).WithContext(ctx)
	catalog, meta, err := c.catalog.Services(q)
	if err != nil {
		return model.Registry{}, readErr("the catalog", target.Addr, err)
	}
	reg := model.Registry{
		Name: target.Name, Addr: target.Addr, Source: target.Source,
		ComposeProject: target.ComposeProject, ComposeService: target.ComposeService,
		LastIndex: meta.LastIndex,
	}
	names := make([]string, 0, len(catalog))
	for name := range catalog {
		if name != "consul" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		instances, index, err := readService(c, q, target.Addr, name)
		if err != nil {
			return model.Registry{}, err
		}
		tags := catalog[name]
		sort.Strings(tags)
		reg.Services = append(reg.Services, model.Service{Name: name, Tags: nonEmpty(tags), Instances: instances})
		reg.LastIndex = max(reg.LastIndex, index)
	}
	return reg, nil
}

// ReadService reads the instances of one service at target once, with
// their checks: what a caller polling for one service's health needs,
// without reading the whole catalog.
func ReadService(ctx context.Context, target Target, service string) ([]model.Instance, error) {
	c, closeIdle, err := onceClient(target)
	if err != nil {
		return nil, err
	}
	defer closeIdle()
	instances, _, err := readService(c, (&api.QueryOptions{}).WithContext(ctx), target.Addr, service)
	return instances, err
}

// onceClient builds a client for one read: not pooled, so no connection
// (through the engine, an exec) outlives the read.
func onceClient(target Target) (consulAPI, func(), error) {
	c, closeIdle, _, err := newClient(target, false)
	if err != nil {
		return consulAPI{}, nil, err
	}
	return apiOf(c), closeIdle, nil
}

func readService(c consulAPI, q *api.QueryOptions, addr, service string) ([]model.Instance, uint64, error) {
	entries, meta, err := c.health.Service(service, "", false, q)
	if err != nil {
		return nil, 0, readErr(fmt.Sprintf("the health of service %q", service), addr, err)
	}
	return toInstances(entries), meta.LastIndex, nil
}

// readErr says what a one-shot read failed on. Unlike explain it promises
// no retry: the caller decides whether to ask again.
func readErr(what, addr string, err error) error {
	if isPermission(err) {
		return fmt.Errorf("reading %s from consul at %s: %w", what, addr, ErrPermissionDenied)
	}
	return fmt.Errorf("reading %s from consul at %s: %w", what, addr, err)
}
