package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
)

// Scale makes n instances of service exist. New instances get the numbers
// after the highest; scaling down stops and removes the highest numbers
// first. An instance that was killed counts as one of the n and stays
// dead, so that the audience keeps seeing it; Up starts it again.
func (d *Deployer) Scale(ctx context.Context, service string, n int, progress Progress) error {
	if err := ValidateScale(service, n); err != nil {
		return err
	}
	d.op.Lock()
	defer d.op.Unlock()
	_, err := d.scale(ctx, newReporter(progress), func(int) int { return n })
	return err
}

// ScaleBy adds delta instances of service (removes, when negative) and
// returns the new count; it is what the + and - keys do, reading the
// current count under the same lock as the change.
func (d *Deployer) ScaleBy(ctx context.Context, service string, delta int, progress Progress) (int, error) {
	if err := ValidateScale(service, 0); err != nil {
		return 0, err
	}
	d.op.Lock()
	defer d.op.Unlock()
	var verr error
	n, err := d.scale(ctx, newReporter(progress), func(have int) int {
		want := have + delta
		if verr = ValidateScale(service, want); verr != nil {
			return have
		}
		return want
	})
	if verr != nil {
		if delta < 0 {
			return n, fmt.Errorf("%w: app has no instance left to remove", ErrBadInput)
		}
		return n, verr
	}
	return n, err
}

func (d *Deployer) scale(ctx context.Context, r *reporter, target func(have int) int) (int, error) {
	if err := d.checkOwned(ctx, r, "scale"); err != nil {
		return 0, err
	}
	mode, err := d.DeployedMode(ctx)
	if err != nil {
		return 0, err
	}
	if mode == ModeSwarm {
		return d.scaleSwarm(ctx, r, target)
	}
	if err := d.requireDeployed(ctx); err != nil {
		return 0, err
	}
	byService, err := d.containers(ctx)
	if err != nil {
		return 0, err
	}
	apps := byService[ServiceApp]
	want := target(len(apps))
	key, title := "scale app", fmt.Sprintf("scale app from %d to %d", len(apps), want)
	if want == len(apps) {
		r.done(key, title, "nothing to do")
		return want, nil
	}
	r.start(key, title)
	self := ""
	if want > len(apps) {
		if self, err = d.ensureSelfImage(ctx, r); err != nil {
			return len(apps), err
		}
	}
	if err := d.scaleApps(ctx, r, apps, want, self, false); err != nil {
		return len(apps), r.fail(key, title, err)
	}
	r.done(key, title, fmt.Sprintf("%d instances", want))
	return want, nil
}

// requireDeployed refuses to scale a project that has no networks: the
// new instances would have nowhere to go.
func (d *Deployer) requireDeployed(ctx context.Context) error {
	nets, err := d.api.NetworkList(ctx, network.ListOptions{Filters: d.projectFilter()})
	if err != nil {
		return fmt.Errorf("list networks: %w", err)
	}
	for _, short := range []string{NetworkFront, NetworkBack} {
		if !slices.ContainsFunc(nets, func(n network.Summary) bool { return n.Name == d.NetworkName(short) }) {
			return fmt.Errorf("project %s is not deployed (no network %s): run `topo demo up` first", d.opts.Project, d.NetworkName(short))
		}
	}
	return nil
}

// Down stops and removes every container, then every network, carrying the
// project's label, and its volumes too when volumes is set (the engine
// proxy's, which holds only a socket, always): exactly the project's
// objects, and only when topo created every one of them (a project
// holding another's objects is refused with ErrForeign, touching
// nothing). The load balancer stops first
// (nginx finishes the requests it holds), so no request reaches what
// follows; the rest then stops all at once, which keeps a teardown on
// stage within a few seconds.
//
// A project deployed as a swarm stack is removed as DownSwarm does.
func (d *Deployer) Down(ctx context.Context, volumes bool, progress Progress) error {
	d.op.Lock()
	defer d.op.Unlock()
	r := newReporter(progress)
	if err := d.checkOwned(ctx, r, "remove"); err != nil {
		return err
	}
	mode, err := d.DeployedMode(ctx)
	if err != nil {
		return err
	}
	if mode == ModeSwarm {
		return d.downSwarm(ctx, volumes, r)
	}
	byService, err := d.containers(ctx)
	if err != nil {
		return err
	}
	tiers := [][]string{{ServiceLB}, {}}
	for _, s := range servicesInOrder(byService) {
		if s != ServiceLB {
			tiers[1] = append(tiers[1], s)
		}
	}
	var errs []error
	for _, tier := range tiers {
		var jobs []func() error
		for _, s := range tier {
			for _, c := range byService[s] {
				jobs = append(jobs, func() error { return d.removeInstance(ctx, r, c) })
			}
		}
		// One at a time: engine 20.10 can leak a network endpoint when
		// containers of one network are removed concurrently, and the
		// network then refuses removal ("has active endpoints") until
		// the daemon restarts. The cost is about a second.
		for _, job := range jobs {
			if err := job(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	nets, err := d.api.NetworkList(ctx, network.ListOptions{Filters: d.projectFilter()})
	if err != nil {
		errs = append(errs, fmt.Errorf("list the networks of project %s: %w", d.opts.Project, err))
	}
	for _, n := range nets {
		key, title := "network "+n.Name, "network "+n.Name
		r.start(key, title)
		if err := d.api.NetworkRemove(ctx, n.ID); err != nil && !client.IsErrNotFound(err) {
			errs = append(errs, r.fail(key, title, fmt.Errorf("remove network %s: %w (a container outside the project may still be attached: docker network inspect %s)", n.Name, err, n.Name)))
			continue
		}
		r.done(key, title, "removed")
	}
	vols, err := d.api.VolumeList(ctx, volume.ListOptions{Filters: d.projectFilter()})
	if err != nil {
		errs = append(errs, fmt.Errorf("list the volumes of project %s: %w", d.opts.Project, err))
	}
	for _, v := range vols.Volumes {
		key, title := "volume "+v.Name, "volume "+v.Name
		if !volumes && v.Labels[LabelVolume] != VolumeEngine {
			r.done(key, title, "kept (the catalogue survives; --volumes removes it)")
			continue
		}
		r.start(key, title)
		if err := d.api.VolumeRemove(ctx, v.Name, false); err != nil && !client.IsErrNotFound(err) {
			errs = append(errs, r.fail(key, title, fmt.Errorf("remove volume %s: %w", v.Name, err)))
			continue
		}
		r.done(key, title, "removed")
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	r.done("down", "project "+d.opts.Project+" removed", "")
	return nil
}
