package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/inert"
	"github.com/topo-dev/topo/model"
)

// flowsLong is the help of `topo flows`.
const flowsLong = `Flows reads the established TCP connections of every running container's
network namespace from the kernel's socket tables, through one agent
container of topo's own binary on the engine (host PID namespace, no
network, no capability, read-only; removed on exit, shared with another topo
on the same engine), and groups them per client, server and port.

A flow between two containers the networks say cannot reach each other, or
one relayed across networks by a container not labelled topo.bridge, is
flagged (!). Listening ports nobody used and ports reachable from outside
are marked. /proc/net/tcp keeps no byte counters: flows have connection
counts and, over --for, new connections per second.

Without --swarm, flows are those of this engine's containers only. With
--swarm, on a swarm manager, topo runs its agent as a global service
(topo-flows-*: one task a node, reading the node's /proc read-only as
nobody, no capability; removed on exit unless another topo uses it) and
reads every node's output through the manager's service logs; flows name
tasks as service.slot@node. Each node needs topo's image (no registry is
used): a node lacking it is named, with the command that copies it.`

// newFlowsCmd is `topo flows`: the observed traffic for scripts and CI.
func newFlowsCmd(opts *globalOptions) *cobra.Command {
	var (
		asJSON     bool
		strict     bool
		watchFor   time.Duration
		selfBinary string
		onSwarm    bool
	)
	cmd := &cobra.Command{
		Use:   "flows",
		Short: "Print who talks to whom (established TCP connections), held against the isolation model",
		Long:  flowsLong,
		Example: `  topo flows
  topo flows --for 10s --json
  topo flows --strict   # exit 1 on a flagged flow
  topo flows --swarm    # on a manager: every node's tasks`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if watchFor < 0 || watchFor > time.Hour {
				return fmt.Errorf("--for %v: use a duration between 0 (one sample) and 1h", watchFor)
			}
			// Ctrl-C must reach the sampler as a cancellation, so that
			// the agent container is removed.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			engine, _, err := connect(ctx, opts)
			if err != nil {
				return err
			}
			defer engine.Close()
			binary := selfBinary
			if binary == "" {
				binary = opts.selfBinary
			}
			watch, closeFlows, err := flowSource(ctx, engine, binary, onSwarm)
			if err != nil {
				return err
			}
			defer closeFlows()
			tally, err := watchFlows(ctx, watch, watchFor)
			if err != nil {
				return err
			}
			if tally.Nodes != nil {
				for _, s := range tally.Nodes.Silent {
					fmt.Fprintf(cmd.ErrOrStderr(), "topo flows: no flows from node %s\n", inert.Text(s))
				}
			}
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), tally); err != nil {
					return err
				}
			} else if err := printFlows(cmd.OutOrStdout(), tally); err != nil {
				return err
			}
			return flowsVerdict(tally, strict)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the flows as JSON")
	cmd.Flags().BoolVar(&strict, "strict", false, "exit 1 when a flow is held against the isolation model")
	cmd.Flags().DurationVar(&watchFor, "for", 0, "sample once a second for this long (default: one sample)")
	cmd.Flags().BoolVar(&onSwarm, "swarm", false, "on a swarm manager: the tasks of every node, through a global service of topo's agent (default: this engine only)")
	cmd.Flags().StringVar(&selfBinary, "self-binary", "", "static Linux build of topo for the agent container (default: this executable)")
	return cmd
}

// flowWatch sends a sample a second to out until ctx ends.
type flowWatch func(ctx context.Context, out chan<- model.FlowSample) error

// flowSource is the sampler of this engine's containers, or with
// onSwarm of every node's tasks, and what removes its agent.
func flowSource(ctx context.Context, engine engineConn, binary string, onSwarm bool) (flowWatch, func() error, error) {
	if !onSwarm {
		flows := docker.NewFlows(engine.sdk, binary, nil)
		watch := func(ctx context.Context, out chan<- model.FlowSample) error {
			return flows.Watch(ctx, engine.Sync, out)
		}
		return watch, flows.Close, nil
	}
	sw := docker.NewSwarm(engine.Engine)
	// Refuse a worker or a lone engine before anything is created.
	if _, err := sw.Read(ctx); err != nil {
		return nil, nil, fmt.Errorf("flows across the swarm: %w", err)
	}
	flows := docker.NewSwarmFlows(engine.sdk, binary, nil)
	watch := func(ctx context.Context, out chan<- model.FlowSample) error {
		return flows.Watch(ctx, sw.Read, out)
	}
	return watch, flows.Close, nil
}

// swarmFlowsWait bounds how long the first swarm sample waits for every node's
// agent: a worker tries to pull the image before it runs the task, and
// offline that waits on its resolver.
const swarmFlowsWait = time.Minute

// complete says whether a sample can be the first: on a swarm, every node
// reports, or one lacks the image (which waiting does not mend).
func complete(s model.FlowSample) bool {
	if s.Nodes == nil || len(s.Nodes.Silent) == 0 {
		return true
	}
	for _, why := range s.Nodes.Silent {
		if strings.Contains(why, "lacks the image") {
			return true
		}
	}
	return false
}

// watchFlows samples once, or once a second for d after the first sample,
// reading the topology again before each sample so that a container
// started meanwhile counts. On a swarm the first sample is the first with
// every node (or after swarmFlowsWait, whatever it holds).
func watchFlows(ctx context.Context, watch flowWatch, d time.Duration) (model.FlowTally, error) {
	var tally model.FlowTally
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	samples := make(chan model.FlowSample)
	done := make(chan error, 1)
	go func() { done <- watch(ctx, samples) }()
	waitUntil := time.Now().Add(swarmFlowsWait)
	// The clock starts at the first sample, the baseline of "new": a
	// slow first sample (the agent's image built, a loaded engine) does
	// not eat the watch, and --for 2s always compares samples.
	var start time.Time
	for {
		select {
		case s := <-samples:
			if start.IsZero() && !complete(s) && time.Now().Before(waitUntil) {
				continue
			}
			if start.IsZero() {
				start = time.Now()
			}
			tally.Add(s, time.Since(start).Seconds())
			if time.Since(start) >= d {
				return tally, nil
			}
		case err := <-done:
			if err != nil {
				return tally, fmt.Errorf("sample the flows: %w", err)
			}
			if tally.Samples == 0 {
				return tally, fmt.Errorf("sample the flows: %w", context.Cause(ctx))
			}
			return tally, nil // interrupted: print what was seen
		}
	}
}

// flowsVerdict is the command's outcome once its output is printed: with
// --strict, a flagged flow is an error, which main turns into exit 1.
func flowsVerdict(t model.FlowTally, strict bool) error {
	if n := t.Flagged(); strict && n > 0 {
		return fmt.Errorf("%d flow(s) held against the isolation model (--strict)", n)
	}
	return nil
}

// printFlows writes the tally as two tables; every name and address
// passes inert.Text.
func printFlows(w io.Writer, t model.FlowTally) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT\tSERVER\tPORT\tCONNS\tNEW/S\tFLAG")
	for i, f := range t.Flows {
		rate := "-"
		if t.Samples > 1 {
			rate = fmt.Sprintf("%.1f", t.NewPerSecond[i])
		}
		flag := ""
		if f.Flag != "" {
			flag = "! " + f.Flag
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", endText(f.Client), endText(f.Server), f.Port, f.Conns, rate, inert.Text(flag))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LISTENER\tADDRESS\tUSED\tFROM OUTSIDE")
	for _, l := range t.Listeners {
		used, outside := "yes", ""
		if !l.Used {
			used = "unused"
		}
		if l.Outside {
			outside = "reachable from outside"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", inert.Text(l.Name), inert.Text(l.Addr), used, outside)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d flow(s), %d flagged, %d sample(s) over %.0f s\n", len(t.Flows), t.Flagged(), t.Samples, t.Seconds)
	return err
}

func endText(e model.FlowEnd) string {
	if e.Outside() {
		return inert.Text(e.Name) + " (outside)"
	}
	return inert.Text(e.Name)
}
