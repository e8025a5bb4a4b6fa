package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/topo-dev/topo/demo/deploy"
)

func newDemoImagesCmd(opts *globalOptions, f *demoFlags) *cobra.Command {
	var pull bool
	cmd := &cobra.Command{
		Use:   "images",
		Short: "List the images the demo needs and whether the engine has them; --pull fetches the missing ones",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDeployer(cmd, opts, f, func(ctx context.Context, d *deploy.Deployer) error {
				if pull {
					p := newStepPrinter(cmd.OutOrStdout())
					err := d.Pull(ctx, false, p.print)
					p.flush()
					if err != nil {
						return err
					}
				}
				list, err := d.Images(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "SERVICES\tIMAGE\tSTATE\tOVERRIDE")
				missing := 0
				for _, im := range list {
					state := "present"
					switch {
					case im.Local && !im.Present:
						state = "built by `topo demo up` (no pull)"
					case im.Local:
						state = "present (topo's own binary)"
					case !im.Present:
						state, missing = "missing", missing+1
					}
					override := "--self-binary"
					if im.Env != "" {
						override = im.Flag + " or " + im.Env
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", strings.Join(im.Services, ", "), im.Ref, state, override)
				}
				tw.Flush()
				if missing > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "\n%d image(s) missing: `topo demo images --pull` fetches them (needs the network; do it before the talk)\n", missing)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&pull, "pull", false, "pull the images the engine lacks")
	return cmd
}

func newDemoComposeCmd(opts *globalOptions, f *demoFlags) *cobra.Command {
	var replicas int
	cmd := &cobra.Command{
		Use:   "compose",
		Short: "Print a compose.yaml equivalent to the demo (for docker compose -p PROJECT -f - up)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := deploy.ValidateScale(deploy.ServiceApp, replicas); err != nil {
				return fmt.Errorf("--replicas: %w", err)
			}
			return withDeployer(cmd, opts, f, func(ctx context.Context, d *deploy.Deployer) error {
				if !cmd.Flags().Changed("replicas") {
					// Describe what runs, when something does.
					if st, err := d.Status(ctx); err == nil {
						for _, s := range st.Services {
							if s.Name == deploy.ServiceApp {
								replicas = s.Desired
							}
						}
					}
				}
				y, err := d.Compose(ctx, replicas)
				if err != nil {
					return err
				}
				_, err = io.WriteString(cmd.OutOrStdout(), y)
				return err
			})
		},
	}
	cmd.Flags().IntVar(&replicas, "replicas", 0, "app instances (default: as deployed, else 2)")
	return cmd
}
