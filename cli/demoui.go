package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/topo-dev/topo/demo/deploy"
	"github.com/topo-dev/topo/demo/traffic"
	"github.com/topo-dev/topo/ui"
)

// newDemoUI builds what the TUI's demo keys drive: the deployer (project,
// port and images from the environment as for `topo demo`, the binary from
// --self-binary) and a 20 req/s traffic source through its load balancer.
func newDemoUI(engine engineConn, opts *globalOptions, tunnel deploy.Tunnel) (ui.DemoDeployer, ui.TrafficSource, error) {
	f := demoFlagsFromEnv(os.Getenv)
	f.selfBinary = opts.selfBinary
	if err := f.check(); err != nil {
		return nil, nil, fmt.Errorf("the demo's settings: %w", err)
	}
	o := f.options()
	o.Tunnel = tunnel
	o.EngineHost = engine.Host
	d, err := deploy.New(engine.sdk, o)
	if err != nil {
		return nil, nil, fmt.Errorf("the demo's settings: %w", err)
	}
	return demoUI{d: d, registries: f.registries}, trafficUI{url: d.LBURL(), resolve: d.URL, project: d.Project(), rate: traffic.DefaultRate}, nil
}

// demoUI adapts *deploy.Deployer to ui.DemoDeployer: the TUI's deploy
// waits until the demo answers, and its teardown keeps the data volume.
type demoUI struct {
	d *deploy.Deployer
	// registries is TOPO_DEMO_REGISTRIES: D deploys a second registry
	// when it says 2.
	registries int
}

func (a demoUI) Project() string { return a.d.Project() }

func (a demoUI) Up(ctx context.Context, progress func(ui.DemoStep)) (string, error) {
	res, err := a.d.Up(ctx, deploy.UpOptions{Wait: true, Registries: a.registries}, uiSteps(progress))
	// On a remote engine's loopback the URL alone leads nowhere from
	// here: the log line says how to get there.
	if o := a.d.Options(); res.Reach != "" {
		return res.URL + " (on its loopback: " + a.d.Forward(o.LBBind, o.LBPort) + ")", err
	}
	return res.URL, err
}

func (a demoUI) UpSwarm(ctx context.Context, progress func(ui.DemoStep)) (string, error) {
	res, err := a.d.UpSwarm(ctx, deploy.UpOptions{Wait: true}, uiSteps(progress))
	return res.URL, err
}

func (a demoUI) ScaleBy(ctx context.Context, service string, delta int, progress func(ui.DemoStep)) (int, error) {
	return a.d.ScaleBy(ctx, service, delta, uiSteps(progress))
}

func (a demoUI) Down(ctx context.Context, progress func(ui.DemoStep)) error {
	return a.d.Down(ctx, false, uiSteps(progress))
}

func uiSteps(progress func(ui.DemoStep)) deploy.Progress {
	return func(s deploy.Step) {
		st := ui.DemoStepRunning
		switch s.State {
		case deploy.StepDone:
			st = ui.DemoStepDone
		case deploy.StepFailed:
			st = ui.DemoStepFailed
		}
		progress(ui.DemoStep{Key: s.Key, Title: s.Title, State: st, Detail: s.Detail, Fraction: s.Fraction, Err: s.Err})
	}
}

// trafficUI adapts demo/traffic to ui.TrafficSource. Instances are shown
// without the project prefix (app-1, not topo-demo-app-1; app.1 for a
// swarm replica): on a projector every cell counts.
//
// The URL is found when traffic starts: the demo may run as containers or
// as a swarm stack, published on a port other than the settings' (a CLI
// deploy with --lb-port); url is the settings' guess shown until then.
type trafficUI struct {
	url, project string
	resolve      func(context.Context) string
	rate         float64
}

func (t trafficUI) Target() string { return t.url }

func (t trafficUI) Run(ctx context.Context, out chan<- ui.TrafficSnapshot) error {
	defer close(out)
	target := t.url
	if t.resolve != nil {
		target = t.resolve(ctx)
	}
	in := make(chan traffic.Snapshot, 1)
	errc := make(chan error, 1)
	go func() { errc <- traffic.Run(ctx, traffic.Config{URL: target, Rate: t.rate}, in) }()
	for s := range in {
		u := ui.TrafficSnapshot{
			Target: target, At: s.At, Rate: s.Rate, PerSecond: s.PerSecond, ErrorRate: s.ErrorRate, Errors: s.Errors,
			P50: s.P50, P95: s.P95, TotalRequests: s.TotalRequests, TotalErrors: s.TotalErrors, LastError: s.LastError,
		}
		for _, in := range s.Instances {
			// Containers are named project-app-1, swarm replicas project_app.1.
			name := strings.TrimPrefix(strings.TrimPrefix(in.Name, t.project+"-"), t.project+"_")
			u.Instances = append(u.Instances, ui.TrafficInstance{Name: name, PerSecond: in.PerSecond})
		}
		// A reader that left (topo quitting) must not hold the generator:
		// drop the snapshot and let Run's context end it.
		select {
		case out <- u:
		case <-ctx.Done():
		}
	}
	return <-errc
}

// Scalable tells the TUI which demo services + and - can scale: the rest
// run exactly one instance, so + on them scales the app instead.
func (a demoUI) Scalable(service string) bool { return deploy.ValidateScale(service, 1) == nil }

var (
	_ ui.DemoDeployer  = demoUI{}
	_ ui.TrafficSource = trafficUI{}
)
