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
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTUI(cmd.Context(), opts)
		},
	}
	root.PersistentFlags().StringVarP(&opts.host, "host", "H", "", "Docker engine address (unix:///var/run/docker.sock, tcp://HOST:2375)")
	root.Flags().StringVar(&opts.selfBinary, "self-binary", "", "static Linux build of topo for probe and demo containers (default: this executable)")
	root.PersistentFlags().StringVar(&opts.consul, "consul", "", "Consul HTTP address (default: CONSUL_HTTP_ADDR, else a Consul container found on the engine)")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())
	})
	root.AddCommand(newActionCmds(opts)...)
	root.AddCommand(newTunnelAgentCmd())
	root.AddCommand(newSnapshotCmd(opts), newRegistratorCmd(), newProbeCmd(opts), newProbeAgentCmd(), newIPVSCheckCmd(), newEngineProxyCmd(), newDemoCmd(opts), newSwarmCmd(opts))
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
	p := tea.NewProgram(app, tea.WithAltScreen(), tea.WithMouseCellMotion(), tea.WithContext(ctx), tea.WithFPS(renderFPS))
	if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("terminal: %w", err)
	}
	return nil
}

func newSnapshotCmd(opts *globalOptions) *cobra.Command {
	var (
		width   int
		asJSON  bool
		builtIn bool
	)
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Print the lanes once (or the topology as JSON) and exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if width < 0 || (width > 0 && width < ui.MinWidth) {
				return fmt.Errorf("--width %d is too narrow: use at least %d", width, ui.MinWidth)
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
			if asJSON {
				tunnel := docker.NewTunnel(engine.Client, opts.selfBinary, nil)
				defer tunnel.Close()
				reg, regErr := registrySnapshot(ctx, opts.consul, topo, remoteHost(engine.Host), tunnel)
				out := struct {
					Engine docker.Info `json:"engine"`
					model.Export
					Registry      *model.Registry      `json:"registry,omitempty"`
					RegistryLinks *model.Links         `json:"registry_links,omitempty"`
					RegistryError string               `json:"registry_error,omitempty"`
					Swarm         *model.ClusterExport `json:"swarm,omitempty"`
				}{Engine: info, Export: topo.Export(), RegistryError: regErr}
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
// published ports are reached; empty for a local socket.
func remoteHost(engineAddr string) string {
	u, err := url.Parse(engineAddr)
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
