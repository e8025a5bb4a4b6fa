package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/charmbracelet/lipgloss"
	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/registry"
	"github.com/topo-dev/topo/ui"
)

// renderFPS caps how often the screen is redrawn; see runTUI.
const renderFPS = 60

func runTUI(ctx context.Context, opts *globalOptions) error {
	engine, err := dial(opts.host)
	if err != nil {
		return err
	}
	defer engine.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The watch's first read of the whole topology goes out at once,
	// alongside the check below, rather than after it: the first frame
	// waits on the read.
	updates := make(chan model.Update, 256)
	go engine.Watch(ctx, updates)
	// Contact the engine before taking over the terminal, so a failure is
	// a plain line in the shell rather than a flash of the alternate
	// screen. One round trip: the engine's version and swarm role come
	// once the first snapshot is in (describer), since the two calls behind
	// them cost an engine with 300 containers 25-60 ms each (Docker 20.10
	// runs runc and docker-init to answer them).
	pingCtx, pingCancel := context.WithTimeout(ctx, pingTimeout)
	err = engine.Reach(pingCtx)
	pingCancel()
	if err != nil {
		return err
	}
	info := docker.Info{Host: engine.Host, Source: engine.Source}
	var describe func() (ui.EngineDescribedMsg, bool)
	if opts.record != "" {
		// The recording's header says which engine, and its tee wraps
		// the cluster's feed: both wait for the description.
		pingCtx, pingCancel := context.WithTimeout(ctx, pingTimeout)
		info, err = engine.Ping(pingCtx)
		pingCancel()
		if err != nil {
			return err
		}
	} else {
		describe = describer(ctx, engine)
	}

	// Our theme uses the 16 ANSI colours, which the terminal adapts to its
	// background; saying so stops lipgloss from querying the terminal for
	// it, a query that can wait on a terminal that never answers.
	lipgloss.SetHasDarkBackground(true)
	// The tunnel starts containers only when a registry answers at no
	// address this machine can dial; Close removes them on the way out.
	tunnel := docker.NewTunnel(engine.sdk, opts.selfBinary, nil)
	defer tunnel.Close()
	cfg, err := tuiConfig(ctx, opts, engine, info, updates, tunnel)
	if err != nil {
		return err
	}
	cfg.Describe = describe
	if opts.record != "" {
		// A tee of every feed, after the probe so the header can say
		// which engine; the watch's channel holds what came meanwhile.
		rec, err := openRecording(opts.record, opts.version, info)
		if err != nil {
			return err
		}
		defer rec.closeAndReport()
		rec.wrap(ctx, &cfg)
	}
	return runProgram(ctx, cfg)
}

// programExit turns what Bubble Tea's Run returned into topo's exit:
// quitting, or being killed by a signal, is a clean end; anything else is
// an error. Bubble Tea reports a panic it caught (and printed, with its
// stack) as "program was killed: program experienced a panic", so a plain
// errors.Is(err, tea.ErrProgramKilled) would end a crash with status 0.
func programExit(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tea.ErrProgramPanic):
		return fmt.Errorf("topo crashed, a bug (the stack trace is printed above): please report it: %w", err)
	case err == tea.ErrProgramKilled, errors.Is(err, context.Canceled):
		// A signal (SIGTERM, SIGHUP of a closed terminal) or topo's own
		// context ending.
		return nil
	}
	return fmt.Errorf("terminal: %w", err)
}

// registryConnector finds the registries and starts a watch of each under
// topo's own context, so quitting ends every watcher goroutine.
type registryConnector struct {
	flagAddrs []string
	// engineHost is the host of a tcp:// engine, where the ports it
	// publishes are dialled; empty for a local engine.
	engineHost string
	// tunnel reaches a registry published nowhere (see registry.Tunnel).
	tunnel registry.Tunnel
	ctx    context.Context
}

func (r registryConnector) Connect(ctx context.Context, topo model.Topology) ([]ui.RegistryConn, error) {
	targets, err := registry.FindAll(ctx, r.flagAddrs, topo, r.engineHost, r.tunnel)
	if err != nil {
		return nil, err
	}
	conns := make([]ui.RegistryConn, 0, len(targets))
	for _, target := range targets {
		// Each registry its own watch and context: one failing or
		// replaced leaves the others as they are.
		watchCtx, cancel := context.WithCancel(r.ctx)
		ch, err := registry.Watch(watchCtx, target, registry.Options{})
		if err != nil {
			cancel()
			for _, c := range conns {
				c.Stop()
			}
			return nil, err
		}
		conns = append(conns, ui.RegistryConn{Updates: ch, Name: target.Name, Addr: target.Addr, Source: target.Source,
			Auto: !target.Named, Container: target.Container, TokenWithheld: target.TokenWithheld(), Stop: cancel})
	}
	return conns, nil
}

// LookAgain is the registry adapter's policy for a look that found no
// registry answering.
func (registryConnector) LookAgain(attempt int, err error) (time.Duration, bool) {
	return registry.LookAgain(attempt, err)
}

// remoteHost is the host of a tcp:// engine address, where that engine's
// published ports are reached; empty for a local socket; for ssh, none:
// the registry is reached through the engine.
func remoteHost(engineAddr string) string {
	u, err := url.Parse(engineAddr)
	if err == nil && u.Scheme == "ssh" {
		return registry.OnlyThroughEngine
	}
	if err != nil || u.Scheme != "tcp" {
		return ""
	}
	return u.Hostname()
}

// tuiConfig wires the adapters into the interface: the engine and its
// feed, the registries, the prober, logs, volumes, flows, the demo and,
// on a swarm manager, the cluster's feed.
func tuiConfig(ctx context.Context, opts *globalOptions, engine engineConn, info docker.Info, updates chan model.Update, tunnel *docker.Tunnel) (ui.Config, error) {
	cfg := ui.Config{
		Engine:     engine,
		EngineInfo: ui.EngineInfo{Host: info.Host, Source: info.Source, Version: info.Version},
		Updates:    updates,
		Registry:   registryConnector{flagAddrs: opts.consul, engineHost: remoteHost(engine.Host), tunnel: tunnel, ctx: ctx},
		Prober:     docker.NewProber(engine.Engine, docker.ProberOptions{Binary: opts.selfBinary}),
		Context:    ctx,
		Logs:       logSource{engine.Engine},
		Volumes:    engine.Engine,
		Screens:    svgScreens{dir: opts.svgDir},
		// Nothing runs until f: then one agent container, removed by
		// f again or on exit (ui.Model.Close).
		Flows: docker.NewFlows(engine.sdk, opts.selfBinary, nil),
		// On a manager, f may ask for every node's instead: then a
		// global service, removed the same way.
		SwarmFlows: docker.NewSwarmFlows(engine.sdk, opts.selfBinary, nil),
	}
	demo, trafficSource, err := newDemoUI(engine, opts, tunnel)
	if err != nil {
		return cfg, err
	}
	cfg.Demo, cfg.Traffic = demo, trafficSource
	cfg.Swarm, cfg.Cluster, cfg.SwarmNote = swarmFeed(ctx, engine, info)
	return cfg, nil
}

// swarmFeed starts the cluster's watch on a manager; on a worker it says
// why there is none.
func swarmFeed(ctx context.Context, engine engineConn, info docker.Info) (ui.SwarmEngine, <-chan model.Cluster, string) {
	switch {
	case info.SwarmManager:
		sw := docker.NewSwarm(engine.Engine)
		clusterUpdates := make(chan model.Cluster, 16)
		go sw.Watch(ctx, clusterUpdates)
		return sw, clusterUpdates, ""
	case info.SwarmState == "active":
		return nil, nil, model.ErrSwarmWorker.Error()
	}
	return nil, nil, ""
}

// describeTimeout bounds one ask for the engine's description.
const describeTimeout = 30 * time.Second

// describer asks for the engine's version and swarm role (the interface
// does, once its first snapshot is in) and returns them, with the
// cluster's watch on a manager. A failed ask is repeated each second: the
// watch says what is wrong with the engine meanwhile. False when ctx ends.
func describer(ctx context.Context, engine engineConn) func() (ui.EngineDescribedMsg, bool) {
	return func() (ui.EngineDescribedMsg, bool) {
		for {
			// Longer than the ping's bound: the engine answered, and a
			// busy one takes its time over these two (Podman 4.3 on a
			// loaded machine: 1-2 s each).
			pingCtx, cancel := context.WithTimeout(ctx, describeTimeout)
			info, err := engine.Ping(pingCtx)
			cancel()
			if err == nil {
				msg := ui.EngineDescribedMsg{Version: info.Version}
				msg.Swarm, msg.Cluster, msg.SwarmNote = swarmFeed(ctx, engine, info)
				return msg, true
			}
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return ui.EngineDescribedMsg{}, false
			}
		}
	}
}

// runProgram runs the interface in the terminal until it quits.
func runProgram(ctx context.Context, cfg ui.Config) error {
	app := ui.New(cfg)
	defer app.Close()
	// The frame rate is only a ceiling: the renderer carried in
	// third_party/bubbletea (issue 18) draws the first frame and the first
	// change after a quiet stretch at once, folds a burst into one frame
	// per interval, and sleeps while the view does not change, so a high
	// ceiling costs nothing idle (v1.3.10's ticker cost 1.15 % of a core
	// idle at 60, hence the 11 used before it). 60 keeps a burst of events
	// at most 17 ms behind the screen without redrawing 200x50 cells more
	// often than a terminal shows them.
	var root tea.Model = app
	var rec *faultsRecorder
	if path := os.Getenv(recordEnv); path != "" {
		rec = newFaultsRecorder(app, path)
		root = rec
		go rec.watchSignal(ctx)
	}
	runErr := runInTerminal(ctx, root)
	if rec != nil {
		if err := rec.write("exit"); err != nil {
			fmt.Fprintln(os.Stderr, "topo:", err)
		}
	}
	return programExit(runErr)
}

// runInTerminal runs root in the terminal, in the alternate screen, until
// it quits; what Bubble Tea's Run returned is for programExit. The
// terminal gone, topo quits as if q were pressed.
func runInTerminal(ctx context.Context, root tea.Model) error {
	tty, closeTTY, err := openTerminalInput()
	if err != nil {
		return err
	}
	defer closeTTY()
	var p *tea.Program
	input := &hangupInput{File: tty, gone: func() { p.Quit() }}
	p = tea.NewProgram(root, tea.WithAltScreen(), tea.WithMouseCellMotion(), tea.WithContext(ctx), tea.WithFPS(renderFPS), tea.WithInput(input))
	_, err = p.Run()
	return err
}
