package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
)

// UpOptions say how far Up goes.
type UpOptions struct {
	// Replicas is the app's instance count; zero keeps the current count,
	// or DefaultReplicas on a first deploy.
	Replicas int
	// Wait makes Up return only once every app instance passes its
	// registry check and the load balancer answers a search.
	Wait bool
	// WaitTimeout bounds the wait; one minute when zero.
	WaitTimeout time.Duration
	// Registries is how many registries to run: 1 (consul) or 2 (consul
	// for the app instances, infra-consul for the lb and mongo, see
	// registries.go); zero keeps what runs, or 1 on a first deploy.
	Registries int
}

// Result is what a finished Up reports.
type Result struct {
	// URL is the load balancer's address.
	URL string
	// Reach says how to get to URL from this machine when the URL alone
	// does not (a remote engine's loopback); empty otherwise.
	Reach string
	// Ready is set when Up waited and everything answered.
	Ready bool
}

// Up deploys the project, or finishes a deploy left halfway: it creates
// what is missing, recreates what has other settings than asked for,
// starts what is stopped, and leaves the rest alone, so running it twice
// creates nothing twice. Images are made sure of before anything is
// created. Killed app instances are started again, as `docker compose up`
// does.
func (d *Deployer) Up(ctx context.Context, opts UpOptions, progress Progress) (Result, error) {
	res := Result{URL: d.LBURL(), Reach: d.Reach(d.opts.LBBind, d.opts.LBPort)}
	if opts.Replicas < 0 || opts.Replicas > MaxReplicas {
		return res, fmt.Errorf("%w: --replicas %d: use 1 to %d", ErrBadInput, opts.Replicas, MaxReplicas)
	}
	if err := ValidateRegistries(opts.Registries); err != nil {
		return res, err
	}
	d.op.Lock()
	defer d.op.Unlock()
	r := newReporter(progress)
	if err := d.checkOwned(ctx, r, "deploy into"); err != nil {
		return res, err
	}

	if mode, err := d.DeployedMode(ctx); err != nil {
		return res, err
	} else if mode == ModeSwarm {
		return res, fmt.Errorf("%w: project %s runs as swarm services here: use `topo demo up --swarm`, or remove it first with `topo demo down`", ErrBadInput, d.opts.Project)
	}
	self, err := d.prepare(ctx, r, d.ensureNetwork)
	if err != nil {
		return res, err
	}
	for _, v := range []string{VolumeMongo, VolumeEngine} {
		if err := d.ensureVolume(ctx, r, v); err != nil {
			return res, err
		}
	}

	existing, err := d.containers(ctx)
	if err != nil {
		return res, err
	}
	// Dependency order, one tier at a time, each tier at once: consul,
	// mongo and the engine proxy need nothing; the registrator needs
	// consul and the proxy, and the app needs mongo (both retry until
	// their dependency answers, and the registrator resyncs at start, so
	// starting them together loses nothing); nginx resolves consul's name
	// when it starts.
	registries := opts.Registries
	if registries == 0 {
		registries = deployedRegistries(existing)
	}
	consulChanged, err := d.upInfra(ctx, r, self, registries, existing)
	if err != nil {
		return res, err
	}
	if err := d.upApps(ctx, r, self, opts.Replicas, existing); err != nil {
		return res, err
	}
	if err := d.upLB(ctx, r, self, registries, existing, consulChanged); err != nil {
		return res, err
	}
	return finishUp(r, opts, res, func(timeout time.Duration) error { return d.waitReady(ctx, r, timeout) })
}

// finishUp waits, when asked to (opts.Wait), until the deploy answers,
// and says so in the last step.
func finishUp(r *reporter, opts UpOptions, res Result, wait func(timeout time.Duration) error) (Result, error) {
	if !opts.Wait {
		r.done("ready", "deployed: "+res.URL, "not waiting for health (use --wait)")
		return res, nil
	}
	timeout := opts.WaitTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	if err := wait(timeout); err != nil {
		return res, err
	}
	res.Ready = true
	r.done("ready", "ready: "+res.URL, "")
	return res, nil
}

// upInfra makes sure of the first tier: consul (and the registries
// beyond the first), mongo and the engine proxy; it says whether consul
// was created or recreated.
func (d *Deployer) upInfra(ctx context.Context, r *reporter, self string, registries int, existing map[string][]instance) (consulChanged bool, err error) {
	err = parallel(
		func() (err error) {
			consulChanged, err = d.ensureContainer(ctx, r, d.specFor(ServiceConsul, 1, self), first(existing[ServiceConsul]))
			return err
		},
		func() error { return d.ensureRegistries(ctx, r, registries, existing) },
		func() error {
			s := d.specFor(ServiceMongo, 1, self)
			s.Labels = infraLabels(ServiceMongo, registries)
			_, err := d.ensureContainer(ctx, r, s, first(existing[ServiceMongo]))
			return err
		},
		func() error {
			_, err := d.ensureContainer(ctx, r, d.specFor(ServiceEngineProxy, 1, self), first(existing[ServiceEngineProxy]))
			return err
		},
	)
	if err != nil {
		return false, err
	}
	return consulChanged, nil
}

// upApps makes sure of the second tier: the registrator, and the app
// instances asked for (0: as many as run, at least DefaultReplicas).
func (d *Deployer) upApps(ctx context.Context, r *reporter, self string, replicas int, existing map[string][]instance) error {
	apps := existing[ServiceApp]
	want := replicas
	if want == 0 {
		want = max(len(apps), DefaultReplicas)
	}
	return parallel(
		func() error {
			_, err := d.ensureContainer(ctx, r, d.specFor(ServiceRegistrator, 1, self), first(existing[ServiceRegistrator]))
			return err
		},
		func() error { return d.scaleApps(ctx, r, apps, want, self, true) },
	)
}

// upLB makes sure of the load balancer, and restarts the one that runs
// when consul was recreated under it.
func (d *Deployer) upLB(ctx context.Context, r *reporter, self string, registries int, existing map[string][]instance, consulChanged bool) error {
	lb := d.specFor(ServiceLB, 1, self)
	lb.Labels = infraLabels(ServiceLB, registries)
	lbChanged, err := d.ensureContainer(ctx, r, lb, first(existing[ServiceLB]))
	if err != nil {
		return err
	}
	if consulChanged && !lbChanged && first(existing[ServiceLB]) != nil {
		// nginx resolved consul's name once, at start: a new consul may
		// have another address.
		if err := d.restart(ctx, r, first(existing[ServiceLB]).ID, d.ContainerName(ServiceLB, 1), "consul was recreated: restarting to find it"); err != nil {
			return err
		}
	}

	return nil
}

// instance is one container of the project, as listed.
type instance struct {
	ID      string
	Name    string
	Number  int
	State   string
	Status  string
	Spec    string
	Image   string
	Service string
}

func first(list []instance) *instance {
	if len(list) == 0 {
		return nil
	}
	return &list[0]
}

// containers lists the project's containers by service, each service's
// sorted by container number.
func (d *Deployer) containers(ctx context.Context) (map[string][]instance, error) {
	list, err := d.api.ContainerList(ctx, container.ListOptions{All: true, Filters: d.projectFilter()})
	if err != nil {
		return nil, fmt.Errorf("list the containers of project %s: %w", d.opts.Project, err)
	}
	out := map[string][]instance{}
	for _, c := range list {
		if c.Labels[labelSwarmTask] != "" {
			// A task of the project's swarm stack on this node: the swarm
			// owns it, not the single-engine deployer.
			continue
		}
		n, _ := strconv.Atoi(c.Labels[LabelNumber])
		name := ""
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		svc := c.Labels[LabelService]
		out[svc] = append(out[svc], instance{
			ID: c.ID, Name: name, Number: n, State: string(c.State), Status: c.Status,
			Spec: c.Labels[labelSpec], Image: c.Image, Service: svc,
		})
	}
	for _, l := range out {
		sort.Slice(l, func(i, j int) bool { return l[i].Number < l[j].Number })
	}
	return out, nil
}

// remove stops a container gracefully and removes it with its anonymous
// volumes (the official mongo image declares some).
func (d *Deployer) remove(ctx context.Context, id string) error {
	timeout := stopTimeout
	if err := d.api.ContainerStop(ctx, id, container.StopOptions{Timeout: &timeout}); err != nil && !client.IsErrNotFound(err) {
		return fmt.Errorf("stop: %w", err)
	}
	if err := d.api.ContainerRemove(ctx, id, container.RemoveOptions{RemoveVolumes: true, Force: true}); err != nil && !client.IsErrNotFound(err) {
		return fmt.Errorf("remove: %w", err)
	}
	return nil
}

func (d *Deployer) restart(ctx context.Context, r *reporter, id, name, why string) error {
	key := "restart " + name
	r.start(key, name+": "+why)
	timeout := stopTimeout
	if err := d.api.ContainerStop(ctx, id, container.StopOptions{Timeout: &timeout}); err != nil {
		return r.fail(key, name, fmt.Errorf("stop %s: %w", name, err))
	}
	if err := d.api.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return r.fail(key, name, fmt.Errorf("start %s: %w", name, err))
	}
	r.done(key, name+": "+why, "restarted")
	return nil
}

// scaleApps makes want app instances exist: new ones get the numbers after
// the highest, and the highest numbers go first when there are too many.
// With startStopped (Up), stopped instances are started again; Scale
// leaves a killed instance dead, so that the audience keeps seeing it.
func (d *Deployer) scaleApps(ctx context.Context, r *reporter, apps []instance, want int, self string, startStopped bool) error {
	var jobs []func() error
	run := func(f func() error) { jobs = append(jobs, f) }
	keep := apps[:min(want, len(apps))]
	for _, a := range apps[len(keep):] {
		run(func() error { return d.removeInstance(ctx, r, a) })
	}
	for _, a := range keep {
		if startStopped {
			run(func() error {
				_, err := d.ensureContainer(ctx, r, d.specFor(ServiceApp, a.Number, self), &a)
				return err
			})
		}
	}
	next := 1
	if len(apps) > 0 {
		next = apps[len(apps)-1].Number + 1
	}
	for i := len(keep); i < want; i++ {
		n := next + i - len(keep)
		run(func() error {
			_, err := d.ensureContainer(ctx, r, d.specFor(ServiceApp, n, self), nil)
			return err
		})
	}
	return parallel(jobs...)
}

// parallel runs fns at once and joins their errors.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, f := range fns {
		wg.Go(func() { errs[i] = f() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (d *Deployer) removeInstance(ctx context.Context, r *reporter, a instance) error {
	key := fmt.Sprintf("container %s-%d", a.Service, a.Number)
	r.progress(key, a.Name, "stopping", -1)
	if err := d.remove(ctx, a.ID); err != nil {
		return r.fail(key, a.Name, fmt.Errorf("remove %s: %w", a.Name, err))
	}
	r.done(key, a.Name, "removed")
	return nil
}

// servicesInOrder returns the services present, in dependency order, then
// any unknown ones carrying the project's label.
func servicesInOrder(byService map[string][]instance) []string {
	out := slices.Clone(Services)
	var extra []string
	for s := range byService {
		if !slices.Contains(Services, s) {
			extra = append(extra, s)
		}
	}
	sort.Strings(extra)
	return append(out, extra...)
}
