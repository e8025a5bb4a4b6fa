// Package cli is topo's command line: one file per command (the TUI,
// snapshot, container actions, probe, flows, record and replay, swarm, the
// demo and the hidden helpers topo's own containers run), and the one
// place that builds the concrete adapters (engine, registry, deployer) and
// hands them to ui. It prints to the terminal through output.go and
// internal/inert only. Nothing imports cli but main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/docker/docker/client"
	"github.com/spf13/cobra"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/inert"
)

// pingTimeout bounds the first contact with the engine: a local socket
// answers in milliseconds, so waiting longer only delays the error.
const pingTimeout = 5 * time.Second

// Main runs the command line with os.Args and returns the process's exit
// status; version is what the build called this topo (main's -ldflags).
func Main(version string) int {
	if err := newRootCmd(version).Execute(); err != nil {
		// A probe that contradicts its expectation has printed its table
		// and summary already; only the exit status is left to say.
		var mismatch *ProbeMismatchError
		if !errors.As(err, &mismatch) {
			// Errors name containers, services and what the engine said.
			fmt.Fprintln(os.Stderr, "topo:", inert.Screen(err.Error()))
		}
		return 1
	}
	return 0
}

// globalOptions are the flags every command shares.
type globalOptions struct {
	host string
	// consul holds each --consul value (the flag may be repeated, one
	// registry each, as NAME=ADDR or ADDR).
	consul []string
	// selfBinary is the static Linux build of topo that probe and demo
	// containers run; empty means the running executable.
	selfBinary string
	// record is the file --record writes; empty for none.
	record string
	// svgDir is where e saves the screen; empty for the current directory.
	svgDir string
	// version is what the build called this topo; see versionLine.
	version string
}

func newRootCmd(version string) *cobra.Command {
	opts := &globalOptions{version: version}
	root := &cobra.Command{
		Use:   "topo",
		Short: "Live topology of a Docker application: networks as lanes, containers as nodes",
		Long: `topo draws what runs on a Docker engine, live: every network as a lane and
every container as a node in each lane it is attached to.

The engine is the one named by --host, else DOCKER_HOST, else the current
docker context, else the default socket.`,
		Version:       versionLine(version),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTUI(cmd.Context(), opts)
		},
	}
	root.PersistentFlags().StringVarP(&opts.host, "host", "H", "", "Docker engine address (unix:///var/run/docker.sock, tcp://HOST:2375)")
	root.Flags().StringVar(&opts.record, "record", "", "record what topo sees to this file (play it with topo replay FILE)")
	root.Flags().StringVar(&opts.svgDir, "svg-dir", "", "where e saves the screen as SVG (default: the current directory)")
	root.Flags().StringVar(&opts.selfBinary, "self-binary", "", "static Linux build of topo for probe and demo containers (default: this executable)")
	root.PersistentFlags().StringArrayVar(&opts.consul, "consul", nil, "Consul HTTP address, or NAME=ADDR; repeat for several registries (default: CONSUL_HTTP_ADDR, else every Consul container found on the engine)")
	root.SetVersionTemplate("topo {{.Version}}\n")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())
	})
	root.AddCommand(newActionCmds(opts)...)
	root.AddCommand(newTunnelAgentCmd())
	root.AddCommand(newFlowAgentCmd(), newFlowsCmd(opts))
	root.AddCommand(newSnapshotCmd(opts), newRegistratorCmd(), newProbeCmd(opts), newProbeAgentCmd(), newIPVSCheckCmd(), newEngineProxyCmd(), newDemoCmd(opts), newSwarmCmd(opts), newRecordCmd(opts), newReplayCmd(opts))
	explainArgs(root)
	return root
}

// engineConn is a command's one connection to the engine: topo's adapter
// for reads, events and actions, and the SDK client it wraps, which only
// cli hands to the adapters that speak the API themselves (the demo's
// deployer, tunnels, flows). One client, so one set of connections.
type engineConn struct {
	*docker.Engine
	sdk *client.Client
}

// dial builds the engine's client (it does not dial yet: Ping does).
func dial(host string) (engineConn, error) {
	sdk, target, err := docker.NewClient(host)
	if err != nil {
		return engineConn{}, err
	}
	return engineConn{Engine: docker.NewEngine(sdk, target), sdk: sdk}, nil
}

// connect builds the engine client and checks it answers.
func connect(ctx context.Context, opts *globalOptions) (engineConn, docker.Info, error) {
	engine, err := dial(opts.host)
	if err != nil {
		return engineConn{}, docker.Info{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	info, err := engine.Ping(ctx)
	if err != nil {
		engine.Close()
		return engineConn{}, info, err
	}
	return engine, info, nil
}
