package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/registry"
	"github.com/topo-dev/topo/ui"
)

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
				tunnel := docker.NewTunnel(engine.sdk, opts.selfBinary, nil)
				defer tunnel.Close()
				regs, regErr := registrySnapshot(ctx, opts.consul, topo, remoteHost(engine.Host), tunnel)
				out := snapshotJSON{Engine: info, Export: topo.Export(), RegistryError: regErr}
				var elsewhere model.Elsewhere
				if info.SwarmManager {
					if c, err := docker.NewSwarm(engine.Engine).Read(ctx); err == nil {
						export := c.Export()
						out.Swarm, elsewhere = &export, c.Elsewhere()
					}
				}
				if len(regs) > 0 {
					// registry stays the first, as before several.
					reg := regs[0]
					links := reg.LinkElsewhere(topo, elsewhere)
					out.Registry, out.RegistryLinks = &reg, &links
				}
				if len(regs) > 1 {
					links := model.Registries(regs).LinkElsewhere(topo, elsewhere)
					out.Registries, out.RegistriesLinks = regs, &links
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

// registrySnapshotTimeout bounds how long a snapshot waits for the
// registry's first answer; a registry that is down is reported, not awaited.
const registrySnapshotTimeout = 3 * time.Second

// registrySnapshot reads every registry once for `topo snapshot --json`:
// the first complete answer of each one's watch, read at once, which is
// then cancelled. The error says what failed, registry by registry.
func registrySnapshot(ctx context.Context, flagAddrs []string, topo model.Topology, engineHost string, tunnel registry.Tunnel) ([]model.Registry, string) {
	ctx, cancel := context.WithTimeout(ctx, registrySnapshotTimeout)
	defer cancel()
	targets, err := registry.FindAll(ctx, flagAddrs, topo, engineHost, tunnel)
	if err != nil {
		return nil, err.Error()
	}
	regs := make([]*model.Registry, len(targets))
	errs := make([]string, len(targets))
	var wg sync.WaitGroup
	for i, target := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			regs[i], errs[i] = readRegistryOnce(ctx, target)
		}()
	}
	wg.Wait()
	var out []model.Registry
	var failed []string
	for i, r := range regs {
		if r != nil {
			out = append(out, *r)
		}
		if errs[i] != "" {
			failed = append(failed, errs[i])
		}
	}
	return out, strings.Join(failed, "; ")
}

// readRegistryOnce is the first complete answer of one registry's watch.
func readRegistryOnce(ctx context.Context, target registry.Target) (*model.Registry, string) {
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
