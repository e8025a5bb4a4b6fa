package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/topo-dev/topo/demo/deploy"
	"github.com/topo-dev/topo/demo/traffic"
	"github.com/topo-dev/topo/internal/inert"
)

func newDemoTrafficCmd(opts *globalOptions, f *demoFlags) *cobra.Command {
	var (
		rate     float64
		duration time.Duration
		target   string
	)
	cmd := &cobra.Command{
		Use:   "traffic",
		Short: "Send searches through the load balancer and print requests/s per instance, errors and latency each second",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmdContext(cmd), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if duration > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, duration)
				defer cancel()
			}
			if err := traffic.CheckRate(rate); err != nil {
				return err
			}
			if target == "" {
				// The deployed load balancer's address: containers or a
				// swarm stack, on the port it was deployed with.
				err := withDeployer(cmd, opts, f, func(ctx context.Context, d *deploy.Deployer) error {
					// Requests to a project that is not there would fail
					// forever at 100 %: say why instead, as scale does.
					mode, err := d.DeployedMode(ctx)
					if err != nil {
						return err
					}
					if mode == deploy.ModeNone {
						return fmt.Errorf("project %s is not deployed: run `topo demo up` first", d.Project())
					}
					target = d.URL(ctx)
					return nil
				})
				if err != nil {
					return fmt.Errorf("find the demo's load balancer: %w (or give it with --url)", err)
				}
			}
			snaps := make(chan traffic.Snapshot, 1)
			errc := make(chan error, 1)
			go func() {
				errc <- traffic.Run(ctx, traffic.Config{URL: target, Rate: rate, Interval: time.Second}, snaps)
			}()
			var last traffic.Snapshot
			for s := range snaps {
				last = s
				fmt.Fprintln(cmd.OutOrStdout(), inert.Text(s.Summary()))
			}
			if err := <-errc; err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sent %d requests to %s: %d failed, %d skipped (too many in flight)\n",
				last.TotalRequests, target, last.TotalErrors, last.Skipped)
			return nil
		},
	}
	cmd.Flags().Float64Var(&rate, "rate", traffic.DefaultRate, "requests per second")
	cmd.Flags().DurationVar(&duration, "duration", 0, "stop after this long (default: until Ctrl-C)")
	cmd.Flags().StringVar(&target, "url", "", "load balancer URL (default: from --lb-bind and --lb-port)")
	return cmd
}

// newDemoHealthcheckCmd is the app image's Docker healthcheck: the image
// holds nothing but topo, so topo probes its own /health.
func newDemoHealthcheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "healthcheck URL",
		Short:  "Exit 0 when URL answers 2xx within a second (the app image's Docker healthcheck)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmdContext(cmd), time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			if resp.StatusCode/100 != 2 {
				return fmt.Errorf("%s answered %s: %s", args[0], resp.Status, strings.TrimSpace(string(body)))
			}
			return nil
		},
	}
}
