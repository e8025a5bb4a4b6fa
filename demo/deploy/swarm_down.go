package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
)

// DownSwarm removes the stack's services, configs and networks, and with
// volumes the stack's volumes on the manager it talks to (mongo's is
// there: it is placed on a manager). Tasks stop asynchronously after
// their service is removed, and a network or volume still in use refuses
// removal, so those are retried until the tasks are gone.
func (d *Deployer) DownSwarm(ctx context.Context, volumes bool, progress Progress) error {
	d.op.Lock()
	defer d.op.Unlock()
	r := newReporter(progress)
	if err := d.checkOwned(ctx, r, "remove"); err != nil {
		return err
	}
	return d.downSwarm(ctx, volumes, r)
}

func (d *Deployer) downSwarm(ctx context.Context, volumes bool, r *reporter) error {
	have, err := d.stackServices(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range have {
		key, title := "service "+s.Spec.Name, "service "+s.Spec.Name
		r.start(key, title)
		if err := d.swarm().ServiceRemove(ctx, s.ID); err != nil && !client.IsErrNotFound(err) {
			errs = append(errs, r.fail(key, title, fmt.Errorf("remove service %s: %w", s.Spec.Name, err)))
			continue
		}
		r.done(key, title, "removed")
	}
	configs, err := d.swarm().ConfigList(ctx, swarm.ConfigListOptions{Filters: d.stackFilter()})
	if err != nil {
		errs = append(errs, fmt.Errorf("list the configs of stack %s: %w", d.opts.Project, err))
	}
	for _, c := range configs {
		errs = append(errs, d.removeRetrying(ctx, r, "config "+c.Spec.Name, func() error { return d.swarm().ConfigRemove(ctx, c.ID) }))
	}
	errs = append(errs, d.removeOverlays(ctx, r))
	vols, err := d.api.VolumeList(ctx, volume.ListOptions{Filters: d.stackFilter()})
	if err != nil {
		errs = append(errs, fmt.Errorf("list the volumes of stack %s: %w", d.opts.Project, err))
	}
	for _, v := range vols.Volumes {
		// The engine proxy's volume holds only a socket: it goes either way.
		if !volumes && v.Labels[LabelVolume] != VolumeEngine {
			r.done("volume "+v.Name, "volume "+v.Name, "kept (the catalogue survives; --volumes removes it)")
			continue
		}
		errs = append(errs, d.removeRetrying(ctx, r, "volume "+v.Name, func() error { return d.api.VolumeRemove(ctx, v.Name, false) }))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	r.done("down", "stack "+d.opts.Project+" removed", "")
	return nil
}

// removeOverlays removes the stack's networks and waits until the manager
// lists none: the swarm's network goes at once, but the manager's own
// attachment of it lingers until its last local task is cleaned up, and a
// new up in that window would find a network it cannot use.
func (d *Deployer) removeOverlays(ctx context.Context, r *reporter) error {
	ctx, cancel := context.WithTimeout(ctx, swarmRemoveTimeout)
	defer cancel()
	listed := map[string]bool{} // by name; true once reported removed
	var last error
	for {
		nets, err := d.api.NetworkList(ctx, network.ListOptions{Filters: d.stackFilter()})
		if err != nil {
			last = fmt.Errorf("list the networks of stack %s: %w", d.opts.Project, err)
		} else {
			left := map[string]bool{}
			for _, n := range nets {
				left[n.Name] = true
				key := "network " + n.Name
				if _, ok := listed[n.Name]; !ok {
					listed[n.Name] = false
					r.start(key, key)
				}
				if err := d.api.NetworkRemove(ctx, n.ID); err != nil && !client.IsErrNotFound(err) {
					last = fmt.Errorf("remove network %s: %w", n.Name, err)
					r.progress(key, key, "in use: waiting for the tasks to stop", -1)
				}
			}
			for name, done := range listed {
				if !done && !left[name] {
					listed[name] = true
					r.done("network "+name, "network "+name, "removed")
				}
			}
			if len(nets) == 0 {
				return nil
			}
		}
		if !sleepCtx(ctx, 200*time.Millisecond) {
			if last == nil {
				last = ctx.Err()
			}
			return fmt.Errorf("the networks of stack %s are still listed after %v (%w): something outside the stack may still use them (docker network inspect)", d.opts.Project, swarmRemoveTimeout, last)
		}
	}
}

// swarmRemoveTimeout bounds the wait for a removed service's tasks to let
// go of a network, config or volume: they stop within stopTimeout.
const swarmRemoveTimeout = 30 * time.Second

func (d *Deployer) removeRetrying(ctx context.Context, r *reporter, what string, remove func() error) error {
	r.start(what, what)
	ctx, cancel := context.WithTimeout(ctx, swarmRemoveTimeout)
	defer cancel()
	for {
		err := remove()
		if err == nil || client.IsErrNotFound(err) {
			r.done(what, what, "removed")
			return nil
		}
		r.progress(what, what, "in use: waiting for the tasks to stop", -1)
		if !sleepCtx(ctx, 200*time.Millisecond) {
			return r.fail(what, what, fmt.Errorf("remove %s: %w (something outside the stack may still use it)", what, err))
		}
	}
}

// swarmBind refuses a bind address a swarm cannot honour. A swarm
// publishes a port on every interface of the node that runs the task (host
// mode) or of every node (the ingress mesh); it has no bind address. The
// default (loopback, for one engine) means the user chose nothing, and
// 0.0.0.0 is what a swarm does anyway; anything else would be silently
// ignored, so it is refused with what to do instead.
func swarmBind(bind string) error {
	switch bind {
	case "", DefaultLBBind, "0.0.0.0", "::":
		return nil
	}
	return fmt.Errorf("%w: --lb-bind %s cannot apply to a swarm: a swarm publishes the load balancer on every interface of its node (it has no bind address); leave --lb-bind out, or deploy on one engine without --swarm to publish on %s only", ErrBadInput, bind, bind)
}
