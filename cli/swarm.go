package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/inert"
	"github.com/topo-dev/topo/model"
)

// swarmTimeout bounds one swarm command's requests; --wait has its own.
const swarmTimeout = 30 * time.Second

// newSwarmCmd is `topo swarm`: the plain commands behind the cluster view's
// keys (+/- scale, R restart, d drain/activate), for scripts and rehearsal.
func newSwarmCmd(opts *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "swarm",
		Short: "Show and drive the Docker Swarm the engine manages",
		Long: `Show and drive the Docker Swarm whose manager is the engine topo talks to
(--host, DOCKER_HOST, the docker context, the default socket).

Workers know nothing of the cluster: point topo at a manager.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newSwarmScaleCmd(opts), newSwarmRestartCmd(opts),
		newSwarmAvailabilityCmd(opts, "drain", "Move every task off a node and place no new ones there", model.AvailabilityDrain, "draining"),
		newSwarmAvailabilityCmd(opts, "activate", "Let the scheduler place tasks on a node again", model.AvailabilityActive, "activated"),
		newSwarmStatusCmd(opts))
	return cmd
}

// swarmWait is the --wait and --timeout pair of the commands that change
// the swarm: the change is asked for at once, and --wait follows the
// cluster until it says the change is done.
type swarmWait struct {
	wait    bool
	timeout time.Duration
}

func (w *swarmWait) flags(c *cobra.Command) {
	c.Flags().BoolVar(&w.wait, "wait", false, "wait until the swarm has converged")
	c.Flags().DurationVar(&w.timeout, "timeout", 2*time.Minute, "how long --wait waits")
}

// until returns at once without --wait, else when done says so.
func (w *swarmWait) until(ctx context.Context, sw *docker.Swarm, what string, done func(model.Cluster) (bool, string)) error {
	if !w.wait {
		return nil
	}
	return waitForCluster(ctx, sw, w.timeout, what, done)
}

// swarmTarget is one SERVICE=N of `topo swarm scale`.
type swarmTarget struct {
	service  string
	replicas uint64
}

func newSwarmScaleCmd(opts *globalOptions) *cobra.Command {
	var w swarmWait
	cmd := &cobra.Command{
		Use:     "scale SERVICE=N...",
		Short:   "Set the replica count of replicated services",
		Example: "  topo swarm scale web=3\n  topo swarm scale demo_app=4 --wait",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var targets []swarmTarget
			for _, a := range args {
				name, replicas, err := parseSwarmScale(a)
				if err != nil {
					return err
				}
				targets = append(targets, swarmTarget{name, replicas})
			}
			return withSwarm(cmd.Context(), opts, func(ctx context.Context, sw *docker.Swarm) error {
				for _, tg := range targets {
					if err := sw.Scale(ctx, tg.service, tg.replicas); err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "scaled %s to %d\n", tg.service, tg.replicas)
				}
				return w.until(cmd.Context(), sw, "scale", scaled(targets))
			})
		},
	}
	w.flags(cmd)
	return cmd
}

// scaled says whether every target runs its replica count and is done
// converging.
func scaled(targets []swarmTarget) func(model.Cluster) (bool, string) {
	return func(c model.Cluster) (bool, string) {
		for _, tg := range targets {
			s, ok := c.FindService(tg.service)
			if !ok {
				return false, tg.service + " not found"
			}
			if running, _ := c.Replicas(s.ID); running != int(tg.replicas) || c.ServiceConverging(s.ID) {
				return false, fmt.Sprintf("%s %d/%d running", tg.service, running, tg.replicas)
			}
		}
		return true, ""
	}
}

func newSwarmRestartCmd(opts *globalOptions) *cobra.Command {
	var w swarmWait
	cmd := &cobra.Command{
		Use:     "restart SERVICE",
		Short:   "Replace every task of a service, rolling as its update config says",
		Example: "  topo swarm restart web\n  topo swarm restart demo_app --wait",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			service := args[0]
			return withSwarm(cmd.Context(), opts, func(ctx context.Context, sw *docker.Swarm) error {
				// The tasks meant to run now: the restart is done when
				// none of them is meant to run any more.
				before, err := sw.Read(ctx)
				if err != nil {
					return err
				}
				old := map[string]bool{}
				if s, ok := before.FindService(service); ok {
					for _, t := range before.Tasks {
						if t.ServiceID == s.ID && t.DesiredState == model.TaskRunning {
							old[t.ID] = true
						}
					}
				}
				if err := sw.Restart(ctx, service); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "restarting %s: every task is being replaced\n", service)
				return w.until(cmd.Context(), sw, "restart", replaced(service, old))
			})
		},
	}
	w.flags(cmd)
	return cmd
}

// replaced says whether none of the old tasks of service is meant to run
// any more and the service is done converging.
func replaced(service string, old map[string]bool) func(model.Cluster) (bool, string) {
	return func(c model.Cluster) (bool, string) {
		s, ok := c.FindService(service)
		if !ok {
			return false, service + " not found"
		}
		left := 0
		for _, t := range c.Tasks {
			if old[t.ID] && t.DesiredState == model.TaskRunning {
				left++
			}
		}
		running, desired := c.Replicas(s.ID)
		return left == 0 && !c.ServiceConverging(s.ID), fmt.Sprintf("%d old tasks left, %d/%d running", left, running, desired)
	}
}

func newSwarmAvailabilityCmd(opts *globalOptions, use, short string, a model.NodeAvailability, done string) *cobra.Command {
	var w swarmWait
	cmd := &cobra.Command{
		Use:     use + " NODE",
		Short:   short,
		Example: "  topo swarm " + use + " worker-2",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			node := args[0]
			return withSwarm(cmd.Context(), opts, func(ctx context.Context, sw *docker.Swarm) error {
				if err := sw.SetAvailability(ctx, node, a); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", done, node)
				return w.until(cmd.Context(), sw, use, available(node, a))
			})
		},
	}
	w.flags(cmd)
	return cmd
}

// available says whether node has availability a and, for a drain, no
// task left on it; for an activation, whether the swarm has placed its
// tasks.
func available(node string, a model.NodeAvailability) func(model.Cluster) (bool, string) {
	return func(c model.Cluster) (bool, string) {
		n, ok := c.FindNode(node)
		if !ok {
			return false, node + " not found"
		}
		if n.Availability != a {
			return false, "availability still " + string(n.Availability)
		}
		if a == model.AvailabilityDrain {
			// Done when the node is empty: the tasks may find no other
			// node and stay pending, which is the swarm's business, not
			// the drain's.
			for _, t := range c.Tasks {
				if t.NodeID == n.ID && !t.State.Terminal() {
					return false, "tasks still on " + node
				}
			}
			return true, ""
		}
		return !c.Converging(), "the swarm is still placing tasks"
	}
}

func newSwarmStatusCmd(opts *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Print the nodes, services and tasks of the swarm",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withSwarm(cmd.Context(), opts, func(ctx context.Context, sw *docker.Swarm) error {
				c, err := sw.Read(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(cmd.OutOrStdout(), c.Export())
				}
				return printClusterStatus(cmd.OutOrStdout(), inert.Value(c))
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print nodes, services and every task (history included) as JSON")
	return cmd
}

// maxSwarmReplicas bounds `topo swarm scale`. The cluster view draws every
// task and was measured with 110 (BENCHMARKS-swarm.md); beyond a few
// hundred per service a typo (web=300 for web=30) would fill the nodes
// rather than show anything, and a real fleet that size is not scaled
// from a presenter's laptop.
const maxSwarmReplicas = 200

// parseSwarmScale reads SERVICE=N for `topo swarm scale`.
func parseSwarmScale(arg string) (string, uint64, error) {
	name, count, ok := strings.Cut(arg, "=")
	if !ok || name == "" {
		return "", 0, fmt.Errorf("scale: %q is not SERVICE=N (for example web=3)", arg)
	}
	n, err := strconv.Atoi(count)
	switch {
	case err != nil:
		return "", 0, fmt.Errorf("scale: %q: %q is not a whole number of replicas (for example web=3)", arg, count)
	case n < 0:
		return "", 0, fmt.Errorf("scale: %q: cannot run %d replicas: use 0 to %d", arg, n, maxSwarmReplicas)
	case n > maxSwarmReplicas:
		return "", 0, fmt.Errorf("scale: %q: %d replicas is more than topo swarm scale allows (%d): use docker service scale for a fleet that size", arg, n, maxSwarmReplicas)
	}
	return name, uint64(n), nil
}

// withSwarm connects to the engine, checks it is a manager, and runs f
// with the swarm adapter and a bounded context.
func withSwarm(ctx context.Context, opts *globalOptions, f func(context.Context, *docker.Swarm) error) error {
	engine, info, err := connect(ctx, opts)
	if err != nil {
		return err
	}
	defer engine.Close()
	if !info.SwarmManager {
		if info.SwarmState == "active" || info.SwarmState == "pending" {
			return docker.ErrSwarmWorker
		}
		return docker.ErrNotSwarm
	}
	ctx, cancel := context.WithTimeout(ctx, swarmTimeout)
	defer cancel()
	return f(ctx, docker.NewSwarm(engine.Engine))
}

// waitForCluster follows the cluster until cond holds, as the TUI would
// (events, and re-lists while converging), or timeout passes.
func waitForCluster(ctx context.Context, sw *docker.Swarm, timeout time.Duration, what string, cond func(model.Cluster) (bool, string)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ch := make(chan model.Cluster)
	errc := make(chan error, 1)
	go func() { errc <- sw.Watch(ctx, ch) }()
	why := "no answer from the manager"
	for c := range ch {
		if c.Stale != nil {
			why = c.Stale.Error()
			continue
		}
		var ok bool
		if ok, why = cond(c); ok {
			cancel()
			for range ch {
			}
			return nil
		}
	}
	if err := <-errc; err != nil {
		return fmt.Errorf("%s --wait: %w", what, err)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s --wait: not converged within %v (%s): `topo swarm status` shows where it stands", what, timeout, why)
	}
	return ctx.Err()
}

// printClusterStatus prints the cluster as three tables, for a person.
func printClusterStatus(w io.Writer, c model.Cluster) error {
	running := 0
	for _, t := range c.VisibleTasks() {
		if t.State == model.TaskRunning {
			running++
		}
	}
	id := c.ID
	if len(id) > 12 {
		id = id[:12]
	}
	fmt.Fprintf(w, "swarm %s · %d nodes · %d services · %d tasks running\n\n", id, len(c.Nodes), len(c.Services), running)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tROLE\tSTATE\tAVAILABILITY\tENGINE\tADDRESS\tTASKS")
	for _, n := range c.OrderedNodes() {
		role := string(n.Role)
		if n.Leader {
			role += " (leader)"
		} else if n.Role == model.RoleManager && n.Reachability != "" {
			role += " (" + n.Reachability + ")"
		}
		name := n.Hostname
		if n.ID == c.LocalNodeID {
			name += " *"
		}
		state := string(n.State)
		if n.State != model.NodeReady {
			state = strings.ToUpper(state)
		}
		avail := string(n.Availability)
		if n.Availability != model.AvailabilityActive {
			avail = strings.ToUpper(avail)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", name, role, state, avail, n.EngineVersion, n.Addr, len(c.TasksOn(n.ID)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tMODE\tREPLICAS\tIMAGE\tUPDATE\tENDPOINT\tPORTS")
	for _, e := range c.Export().Services {
		replicas := fmt.Sprintf("%d/%d", e.Running, e.Desired)
		if e.Converging {
			replicas += " converging"
		}
		update := e.UpdateState
		if update == "" {
			update = "-"
		}
		var ports []string
		for _, p := range e.Ports {
			ports = append(ports, p.String())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, e.Mode, replicas, e.Image, update, e.EndpointMode, strings.Join(ports, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TASK\tNODE\tDESIRED\tCURRENT\tADDRESSES\tERROR")
	for _, t := range c.VisibleTasks() {
		node := "(unassigned)"
		if n, ok := c.Node(t.NodeID); ok {
			node = n.Hostname
		}
		var addrs []string
		for _, a := range t.Networks {
			addrs = append(addrs, a.Name+" "+a.IP())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.TaskName(t), node, t.DesiredState, t.State, strings.Join(addrs, ", "), t.Err)
	}
	return tw.Flush()
}
