package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/inert"
	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/record"
	"github.com/topo-dev/topo/ui"
)

// recorder writes what topo applies to its model into a recording file;
// the feeds reach it through tees, so the interface is unchanged.
type recorder struct {
	f    *os.File
	w    *record.Writer
	path string
}

// openRecording creates (or empties) path and writes the header. O_APPEND
// makes every line one appending write, so a killed recorder leaves whole
// lines behind.
func openRecording(path, version string, info docker.Info) (*recorder, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create the recording: %w", err)
	}
	w, err := record.NewWriter(f, "topo", version, time.Now(), info)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &recorder{f: f, w: w, path: path}, nil
}

// Close ends the recording; the first write error, if any, is returned so
// that a full disk is reported rather than a short file found later.
func (r *recorder) Close() error {
	werr := r.w.Err()
	cerr := r.f.Close()
	if werr != nil {
		return werr
	}
	return cerr
}

// closeAndReport closes the recording after the interface has given the
// terminal back, and says on stderr if it could not be written whole.
func (r *recorder) closeAndReport() {
	if err := r.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "topo: the recording", inert.Text(r.path), "is incomplete:", inert.Text(err.Error()))
	}
}

// teeUpdates records each engine update, then passes it on in order.
func (r *recorder) teeUpdates(ctx context.Context, in <-chan model.Update) <-chan model.Update {
	out := make(chan model.Update, cap(in))
	go func() {
		defer close(out)
		for u := range in {
			_ = r.w.Update(time.Now(), u) // a failed write stops the recording, not topo; closing reports it
			select {
			case out <- u:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// teeCluster records each swarm update, then passes it on.
func (r *recorder) teeCluster(ctx context.Context, in <-chan model.Cluster) <-chan model.Cluster {
	out := make(chan model.Cluster, cap(in))
	go func() {
		defer close(out)
		for c := range in {
			_ = r.w.Cluster(time.Now(), c)
			select {
			case out <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// teeRegistry records each registry snapshot, then passes it on.
func (r *recorder) teeRegistry(ctx context.Context, in <-chan model.Registry) <-chan model.Registry {
	out := make(chan model.Registry, cap(in))
	go func() {
		defer close(out)
		for reg := range in {
			_ = r.w.Registry(time.Now(), reg)
			select {
			case out <- reg:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// wrap points every feed of cfg through the recorder: the engine watch,
// the swarm watch, the registry watch the UI connects, the demo's
// progress and the traffic statistics.
func (r *recorder) wrap(ctx context.Context, cfg *ui.Config) {
	cfg.Updates = r.teeUpdates(ctx, cfg.Updates)
	if cfg.Cluster != nil {
		cfg.Cluster = r.teeCluster(ctx, cfg.Cluster)
	}
	if cfg.Registry != nil {
		cfg.Registry = recordedRegistry{inner: cfg.Registry, r: r, ctx: ctx}
	}
	if cfg.Demo != nil {
		cfg.Demo = recordedDemo{DemoDeployer: cfg.Demo, w: r.w}
	}
	if cfg.Traffic != nil {
		cfg.Traffic = recordedTraffic{inner: cfg.Traffic, w: r.w}
	}
}

type recordedRegistry struct {
	inner ui.RegistryConnector
	r     *recorder
	ctx   context.Context
}

func (c recordedRegistry) Connect(ctx context.Context, topo model.Topology) ([]ui.RegistryConn, error) {
	conns, err := c.inner.Connect(ctx, topo)
	for i := range conns {
		if conns[i].Updates != nil {
			conns[i].Updates = c.r.teeRegistry(c.ctx, conns[i].Updates)
		}
	}
	return conns, err
}

func (c recordedRegistry) LookAgain(attempt int, err error) (time.Duration, bool) {
	return c.inner.LookAgain(attempt, err)
}

// demoLine is a demo progress report as recorded: ui.DemoStep with its
// error as text, or the end of an operation.
type demoLine struct {
	Op       string  `json:"op"`
	Key      string  `json:"key,omitempty"`
	Title    string  `json:"title,omitempty"`
	State    string  `json:"state,omitempty"`
	Detail   string  `json:"detail,omitempty"`
	Fraction float64 `json:"fraction,omitempty"`
	Err      string  `json:"error,omitempty"`
	Done     bool    `json:"done,omitempty"`
	URL      string  `json:"url,omitempty"`
	Count    int     `json:"count,omitempty"`
	// Delta is what a scale asked for (+1, -1), for the replay's title.
	Delta int `json:"delta,omitempty"`
}

// recordedDemo records the operations' progress; methods it does not
// override (Project, Scalable, any added later) pass through.
type recordedDemo struct {
	ui.DemoDeployer
	w *record.Writer
}

func (d recordedDemo) progress(op string, next func(ui.DemoStep)) func(ui.DemoStep) {
	return d.progressDelta(op, 0, next)
}

func (d recordedDemo) progressDelta(op string, delta int, next func(ui.DemoStep)) func(ui.DemoStep) {
	return func(s ui.DemoStep) {
		l := demoLine{Op: op, Delta: delta, Key: s.Key, Title: s.Title, Detail: s.Detail, Fraction: s.Fraction,
			State: [...]string{"running", "done", "failed"}[min(max(int(s.State), 0), 2)]}
		if s.Err != nil {
			l.Err = s.Err.Error()
		}
		_ = d.w.Demo(time.Now(), l)
		next(s)
	}
}

func (d recordedDemo) done(l demoLine, err error) {
	l.Done = true
	if err != nil {
		l.Err = err.Error()
	}
	_ = d.w.Demo(time.Now(), l)
}

func (d recordedDemo) Up(ctx context.Context, progress func(ui.DemoStep)) (string, error) {
	url, err := d.DemoDeployer.Up(ctx, d.progress("up", progress))
	d.done(demoLine{Op: "up", URL: url}, err)
	return url, err
}

func (d recordedDemo) UpSwarm(ctx context.Context, progress func(ui.DemoStep)) (string, error) {
	url, err := d.DemoDeployer.UpSwarm(ctx, d.progress("up-swarm", progress))
	d.done(demoLine{Op: "up-swarm", URL: url}, err)
	return url, err
}

func (d recordedDemo) ScaleBy(ctx context.Context, service string, delta int, progress func(ui.DemoStep)) (int, error) {
	n, err := d.DemoDeployer.ScaleBy(ctx, service, delta, d.progressDelta("scale "+service, delta, progress))
	d.done(demoLine{Op: "scale " + service, Delta: delta, Count: n}, err)
	return n, err
}

func (d recordedDemo) Down(ctx context.Context, progress func(ui.DemoStep)) error {
	err := d.DemoDeployer.Down(ctx, d.progress("down", progress))
	d.done(demoLine{Op: "down"}, err)
	return err
}

type recordedTraffic struct {
	inner ui.TrafficSource
	w     *record.Writer
}

func (t recordedTraffic) Target() string { return t.inner.Target() }

// Run records each snapshot on its way to out. The source closes its
// channel when it ends, which ends the forwarding; out is closed after,
// as the source would have.
func (t recordedTraffic) Run(ctx context.Context, out chan<- ui.TrafficSnapshot) error {
	mid := make(chan ui.TrafficSnapshot, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		for s := range mid {
			_ = t.w.Traffic(time.Now(), trafficLine{TrafficSnapshot: s, Source: t.inner.Target()})
			select {
			case out <- s:
			case <-ctx.Done():
			}
		}
	}()
	err := t.inner.Run(ctx, mid)
	<-done
	// The end of a run, so a replay closes the pane where g did.
	end := trafficLine{Stopped: true}
	if err != nil && !errors.Is(err, context.Canceled) {
		end.Err = err.Error()
	}
	_ = t.w.Traffic(time.Now(), end)
	return err
}

// trafficLine is a traffic line as recorded: a snapshot with where the
// traffic goes, or the end of a run. Recordings from before the envelope
// hold bare snapshots, which read as the same fields.
type trafficLine struct {
	ui.TrafficSnapshot
	Source  string `json:"source,omitempty"`
	Stopped bool   `json:"stopped,omitempty"`
	Err     string `json:"error,omitempty"`
}

func newRecordCmd(opts *globalOptions) *cobra.Command {
	var forDur time.Duration
	cmd := &cobra.Command{
		Use:   "record FILE",
		Short: "Record what topo sees (engine, registry, swarm) to FILE without the interface",
		Long: `record writes everything topo would apply to its model as timestamped JSON
lines: the engine's topology, each event with the state read for it, the
registry and the swarm. It runs until --for has passed or it is
interrupted (Ctrl-C); the file is readable up to its last line at any moment.
Play it back with: topo replay FILE, or one moment with topo snapshot --from FILE [--at DURATION].`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if forDur < 0 {
				return fmt.Errorf("--for %s is negative: give how long to record, e.g. --for 30s", forDur)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if forDur > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, forDur)
				defer cancel()
			}
			return runRecord(ctx, opts, args[0], cmd.ErrOrStderr())
		},
	}
	cmd.Flags().DurationVar(&forDur, "for", 0, "stop after this long (default: until interrupted)")
	return cmd
}

// runRecord records until ctx ends.
func runRecord(ctx context.Context, opts *globalOptions, path string, stderr interface{ Write([]byte) (int, error) }) error {
	engine, info, err := connect(ctx, opts)
	if err != nil {
		return err
	}
	defer engine.Close()
	rec, err := openRecording(path, opts.version, info)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	updates := make(chan model.Update, 256)
	go engine.Watch(ctx, updates)
	if info.SwarmManager {
		clusterUpdates := make(chan model.Cluster, 16)
		go docker.NewSwarm(engine.Engine).Watch(ctx, clusterUpdates)
		go func() {
			for c := range rec.teeCluster(ctx, clusterUpdates) {
				_ = c
			}
		}()
	}
	tunnel := docker.NewTunnel(engine.sdk, opts.selfBinary, nil)
	defer tunnel.Close()
	reg := registryConnector{flagAddrs: opts.consul, engineHost: remoteHost(engine.Host), tunnel: tunnel, ctx: ctx}
	looked := false
	for {
		select {
		case <-ctx.Done():
			lines, bytes := rec.w.Stats()
			fmt.Fprintf(stderr, "topo: recorded %d lines (%d bytes) to %s\n", lines, bytes, inert.Text(path))
			return rec.Close()
		case u, ok := <-updates:
			if !ok {
				// The watch ends only with ctx; wait for it.
				updates = nil
				continue
			}
			_ = rec.w.Update(time.Now(), u)
			// The registry is looked for once, in the first topology, as
			// the interface does.
			if u.Snapshot != nil && !looked {
				looked = true
				go recordRegistry(ctx, reg, *u.Snapshot, rec)
			}
		}
	}
}

func recordRegistry(ctx context.Context, reg registryConnector, topo model.Topology, rec *recorder) {
	findCtx, cancel := context.WithTimeout(ctx, registrySnapshotTimeout)
	conns, err := reg.Connect(findCtx, topo)
	cancel()
	if err != nil {
		return
	}
	var wg sync.WaitGroup
	for _, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Stop()
			for r := range rec.teeRegistry(ctx, conn.Updates) {
				_ = r
			}
		}()
	}
	wg.Wait()
}
