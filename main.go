// Command topo shows the live topology of a Docker application in the
// terminal (networks as lanes, containers as nodes, the service registry
// beside them) and drives the reference demo on stage. Every key has a
// plain command too, for scripts, tests and rehearsal.
//
// main.go is the only place that builds concrete clients and wires them.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/inert"
	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/registry"
	"github.com/topo-dev/topo/ui"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// renderFPS caps how often the screen is redrawn; see runTUI.
const renderFPS = 60

// probeTimeout bounds the first contact with the engine: a local socket
// answers in milliseconds, so waiting longer only delays the error.
const probeTimeout = 5 * time.Second

func main() {
	if err := newRootCmd().Execute(); err != nil {
		// A probe that contradicts its expectation has printed its table
		// and summary already; only the exit status is left to say.
		var mismatch *ProbeMismatchError
		if !errors.As(err, &mismatch) {
			// Errors name containers, services and what the engine said.
			fmt.Fprintln(os.Stderr, "topo:", inert.Screen(err.Error()))
		}
		os.Exit(1)
	}
}

// globalOptions are the flags every command shares.
type globalOptions struct {
	host   string
	consul string
	// selfBinary is the static Linux build of topo that probe and demo
	// containers run; empty means the running executable.
	selfBinary string
	// record is the file --record writes; empty for none.
	record string
}

func newRootCmd() *cobra.Command {
	opts := &globalOptions{}
	root := &cobra.Command{
		Use:   "topo",
		Short: "Live topology of a Docker application: networks as lanes, containers as nodes",
		Long: `topo draws what runs on a Docker engine, live: every network as a lane and
every container as a node in each lane it is attached to.

The engine is the one named by --host, else DOCKER_HOST, else the current
docker context, else the default socket.`,
		Version:       versionLine(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTUI(cmd.Context(), opts)
		},
	}
	root.PersistentFlags().StringVarP(&opts.host, "host", "H", "", "Docker engine address (unix:///var/run/docker.sock, tcp://HOST:2375)")
	root.Flags().StringVar(&opts.record, "record", "", "record what topo sees to this file (replay with topo snapshot --from)")
	root.Flags().StringVar(&opts.selfBinary, "self-binary", "", "static Linux build of topo for probe and demo containers (default: this executable)")
	root.PersistentFlags().StringVar(&opts.consul, "consul", "", "Consul HTTP address (default: CONSUL_HTTP_ADDR, else a Consul container found on the engine)")
	root.SetVersionTemplate("topo {{.Version}}\n")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())
	})
	root.AddCommand(newActionCmds(opts)...)
	root.AddCommand(newTunnelAgentCmd())
	root.AddCommand(newFlowAgentCmd(), newFlowsCmd(opts))
	root.AddCommand(newSnapshotCmd(opts), newRegistratorCmd(), newProbeCmd(opts), newProbeAgentCmd(), newIPVSCheckCmd(), newEngineProxyCmd(), newDemoCmd(opts), newSwarmCmd(opts), newRecordCmd(opts))
	explainArgs(root)
	return root
}

// connect builds the engine client and checks it answers.
func connect(ctx context.Context, opts *globalOptions) (*docker.Engine, docker.Info, error) {
	engine, err := docker.Connect(opts.host)
	if err != nil {
		return nil, docker.Info{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	info, err := engine.Probe(ctx)
	if err != nil {
		engine.Close()
		return nil, info, err
	}
	return engine, info, nil
}

func runTUI(ctx context.Context, opts *globalOptions) error {
	engine, err := docker.Connect(opts.host)
	if err != nil {
		return err
	}
	defer engine.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The watch's first read of the whole topology goes out at once,
	// alongside the probe, rather than after it: the first frame waits on
	// both, and the probe is three round trips.
	updates := make(chan model.Update, 256)
	go engine.Watch(ctx, updates)
	// Contact the engine before taking over the terminal, so a failure is
	// a plain line in the shell rather than a flash of the alternate screen.
	probeCtx, probeCancel := context.WithTimeout(ctx, probeTimeout)
	info, err := engine.Probe(probeCtx)
	probeCancel()
	if err != nil {
		return err
	}

	// Our theme uses the 16 ANSI colours, which the terminal adapts to its
	// background; saying so stops lipgloss from querying the terminal for
	// it, a query that can wait on a terminal that never answers.
	lipgloss.SetHasDarkBackground(true)
	// The tunnel starts containers only when a registry answers at no
	// address this machine can dial; Close removes them on the way out.
	tunnel := docker.NewTunnel(engine.Client, opts.selfBinary, nil)
	defer tunnel.Close()
	cfg := ui.Config{
		Engine:     engine,
		EngineInfo: ui.EngineInfo{Host: info.Host, Source: info.Source, Version: info.Version},
		Updates:    updates,
		Registry:   registryConnector{flagAddr: opts.consul, engineHost: remoteHost(engine.Host), tunnel: tunnel, ctx: ctx},
		Prober:     docker.NewProber(engine, docker.ProberOptions{Binary: opts.selfBinary}),
		Context:    ctx,
		// Nothing runs until f: then one agent container, removed by
		// f again or on exit (ui.Model.Close).
		Flows: docker.NewFlows(engine.Client, opts.selfBinary, nil),
	}
	demo, trafficSource, err := newDemoUI(engine, opts, tunnel)
	if err != nil {
		return err
	}
	cfg.Demo, cfg.Traffic = demo, trafficSource
	switch {
	case info.SwarmManager:
		sw := docker.NewSwarm(engine)
		clusterUpdates := make(chan model.Cluster, 16)
		go sw.Watch(ctx, clusterUpdates)
		cfg.Swarm, cfg.Cluster = sw, clusterUpdates
	case info.SwarmState == "active":
		cfg.SwarmNote = model.ErrSwarmWorker.Error()
	}
	if opts.record != "" {
		// A tee of every feed, after the probe so the header can say
		// which engine; the watch's channel holds what came meanwhile.
		rec, err := openRecording(opts.record, info)
		if err != nil {
			return err
		}
		defer rec.closeAndReport()
		rec.wrap(ctx, &cfg)
	}
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
	tty, closeTTY, err := openTerminalInput()
	if err != nil {
		return err
	}
	defer closeTTY()
	var p *tea.Program
	// The terminal gone, topo quits as if q were pressed.
	input := &hangupInput{File: tty, gone: func() { p.Quit() }}
	p = tea.NewProgram(root, tea.WithAltScreen(), tea.WithMouseCellMotion(), tea.WithContext(ctx), tea.WithFPS(renderFPS), tea.WithInput(input))
	_, runErr := p.Run()
	if rec != nil {
		if err := rec.write("exit"); err != nil {
			fmt.Fprintln(os.Stderr, "topo:", err)
		}
	}
	return programExit(runErr)
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

func newSnapshotCmd(opts *globalOptions) *cobra.Command {
	var (
		width   int
		asJSON  bool
		builtIn bool
		replay  replayFlags
	)
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Print the lanes once (or the topology as JSON) and exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if width < 0 || (width > 0 && width < ui.MinWidth) {
				return fmt.Errorf("--width %d is too narrow: use at least %d", width, ui.MinWidth)
			}
			if replay.from != "" {
				return snapshotFrom(cmd, replay, width, asJSON, builtIn)
			}
			engine, info, err := connect(cmd.Context(), opts)
			if err != nil {
				return err
			}
			defer engine.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			topo, err := engine.Sync(ctx)
			if err != nil {
				return err
			}
			if replay.svg != "" {
				return writeSnapshotSVG(cmd, replay.svg, topo, width, builtIn)
			}
			if asJSON {
				tunnel := docker.NewTunnel(engine.Client, opts.selfBinary, nil)
				defer tunnel.Close()
				reg, regErr := registrySnapshot(ctx, opts.consul, topo, remoteHost(engine.Host), tunnel)
				out := snapshotJSON{Engine: info, Export: topo.Export(), RegistryError: regErr}
				var elsewhere model.Elsewhere
				if info.SwarmManager {
					if c, err := docker.NewSwarm(engine).Read(ctx); err == nil {
						export := c.Export()
						out.Swarm, elsewhere = &export, c.Elsewhere()
					}
				}
				if reg != nil {
					links := reg.LinkElsewhere(topo, elsewhere)
					out.Registry, out.RegistryLinks = reg, &links
				}
				return writeJSON(cmd.OutOrStdout(), out)
			}
			if width == 0 {
				width = 120
				if w, _, err := term.GetSize(os.Stdout.Fd()); err == nil && w > 0 {
					width = w
				}
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), ui.RenderSnapshot(topo, ui.NewStyles(ui.DefaultTheme()), width, builtIn))
			return err
		},
	}
	cmd.Flags().IntVar(&width, "width", 0, "width in columns (default: the terminal's, or 120)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the topology model as JSON")
	cmd.Flags().BoolVarP(&builtIn, "all", "a", true, "include the built-in networks (bridge, host, none)")
	replay.register(cmd)
	return cmd
}

// registryConnector finds the registry and starts its watch under topo's
// own context, so quitting ends every watcher goroutine.
type registryConnector struct {
	flagAddr string
	// engineHost is the host of a tcp:// engine, where the ports it
	// publishes are dialled; empty for a local engine.
	engineHost string
	// tunnel reaches a registry published nowhere (see registry.Tunnel).
	tunnel registry.Tunnel
	ctx    context.Context
}

func (r registryConnector) Connect(ctx context.Context, topo model.Topology) (ui.RegistryConn, error) {
	target, err := registry.Find(ctx, r.flagAddr, topo, r.engineHost, r.tunnel)
	if err != nil {
		return ui.RegistryConn{}, err
	}
	watchCtx, cancel := context.WithCancel(r.ctx)
	ch, err := registry.Watch(watchCtx, target, registry.Options{})
	if err != nil {
		cancel()
		return ui.RegistryConn{}, err
	}
	return ui.RegistryConn{Updates: ch, Addr: target.Addr, Source: target.Source, Auto: !target.Named, TokenWithheld: target.TokenWithheld(), Stop: cancel}, nil
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

// registrySnapshotTimeout bounds how long a snapshot waits for the
// registry's first answer; a registry that is down is reported, not awaited.
const registrySnapshotTimeout = 3 * time.Second

// registrySnapshot reads the registry once for `topo snapshot --json`:
// the first complete answer of a watch, which is then cancelled.
func registrySnapshot(ctx context.Context, flagAddr string, topo model.Topology, engineHost string, tunnel registry.Tunnel) (*model.Registry, string) {
	ctx, cancel := context.WithTimeout(ctx, registrySnapshotTimeout)
	defer cancel()
	target, err := registry.Find(ctx, flagAddr, topo, engineHost, tunnel)
	if err != nil {
		return nil, err.Error()
	}
	ch, err := registry.Watch(ctx, target, registry.Options{})
	if err != nil {
		return nil, err.Error()
	}
	for r := range ch {
		if r.Error != "" {
			return &r, r.Error
		}
		if !r.FetchedAt.IsZero() {
			return &r, ""
		}
	}
	return nil, "no answer from the registry at " + target.Addr + " within " + registrySnapshotTimeout.String()
}
