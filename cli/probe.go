package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/inert"
	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/probeagent"
)

// probeCmdTimeout bounds a whole `topo probe`: building the self image the
// first time takes a few seconds, a probe itself about one.
const probeCmdTimeout = 2 * time.Minute

// ProbeMismatchError is what `topo probe` returns when a result contradicts
// the topology. The report and its summary are already printed when it is
// returned, so main exits with status 1 without printing it again.
type ProbeMismatchError struct {
	Mismatches int
	Summary    string
}

func (e *ProbeMismatchError) Error() string { return e.Summary }

// newProbeCmd is `topo probe`: the isolation check for scripts and CI.
func newProbeCmd(opts *globalOptions) *cobra.Command {
	var (
		asJSON     bool
		timeout    time.Duration
		selfBinary string
	)
	cmd := &cobra.Command{
		Use:   "probe CONTAINER [TARGET[:PORT]]",
		Short: "Prove from inside a container which others it reaches; exit 1 on any surprise",
		Long: `Probe proves network isolation from inside CONTAINER's own network namespace:
a short-lived container of topo's own binary joins it (--network
container:CONTAINER, nothing is pulled and the probed image needs no tools)
and opens a TCP connection to every address of every other container, on
each exposed TCP port (port 80 when none is exposed), all at once.

Each result is compared with what the networks say: containers that share a
network are expected to reach each other, all others to be isolated. The
exit status is 1 when any result contradicts that (blocked although a
network is shared: inter-container communication disabled, a firewall, a
service not listening; or reachable although none is), so a CI job can
hold a network policy.

TARGET limits the probe to one container (name, ID, or compose service.N)
or to every replica of a compose service; :PORT tries that port instead of
the exposed ones (":PORT" alone: every container on that port).`,
		Example: `  topo probe demo-lb-1
  topo probe demo-lb-1 mongo:27017 --json`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var target string
			var port int
			if len(args) == 2 {
				var err error
				if target, port, err = parseProbeTarget(args[1]); err != nil {
					return err
				}
			}
			if timeout <= 0 || timeout > time.Minute {
				return fmt.Errorf("--timeout %v: use a duration between 1ms and 1m (isolated addresses cost the whole timeout)", timeout)
			}
			// Ctrl-C must reach the prober as a cancellation, which
			// removes the probe container, not kill topo before it can.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			engine, _, err := connect(ctx, opts)
			if err != nil {
				return err
			}
			defer engine.Close()
			ctx, cancel := context.WithTimeout(ctx, probeCmdTimeout)
			defer cancel()
			prober := docker.NewProber(engine.Engine, docker.ProberOptions{Binary: selfBinary, DialTimeout: timeout})
			rep, err := prober.ProbeTo(ctx, args[0], target, port)
			if err != nil {
				return err
			}
			return writeProbeReport(cmd.OutOrStdout(), rep, asJSON)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.DurationVar(&timeout, "timeout", probeagent.DefaultTimeout, "bound of each connection attempt; an isolated address costs all of it")
	f.StringVar(&selfBinary, "self-binary", "", "static Linux build of topo to run as the probe (default: this executable)")
	return cmd
}

// parseProbeTarget splits TARGET[:PORT]; ":PORT" alone means every target.
// Container names cannot hold a colon, so a colon always starts the port.
func parseProbeTarget(s string) (string, int, error) {
	name, portText, hasPort := strings.Cut(s, ":")
	if !hasPort {
		return s, 0, nil
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("target %q: the port must be a number from 1 to 65535, as in web:8080 or :8080", s)
	}
	return name, port, nil
}

// writeProbeReport prints the report as a table (or JSON) and returns a
// *ProbeMismatchError when any result contradicts the expectation.
func writeProbeReport(w io.Writer, rep model.ProbeReport, asJSON bool) error {
	summary := rep.Summary()
	if asJSON {
		err := writeJSON(w, struct {
			model.ProbeReport
			Mismatches int    `json:"mismatches"`
			Summary    string `json:"summary"`
		}{rep, rep.Mismatches(), summary})
		if err != nil {
			return err
		}
	} else if err := writeProbeTable(w, inert.Value(rep)); err != nil {
		return err
	}
	if n := rep.Mismatches(); n > 0 {
		return &ProbeMismatchError{Mismatches: n, Summary: summary}
	}
	return nil
}

func writeProbeTable(w io.Writer, rep model.ProbeReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tADDRESS\tEXPECTATION\tRESULT\tVERDICT")
	var why []string
	for _, l := range rep.Lines {
		addr, result, verdict := l.Target.Address, l.ResultText(), string(l.Verdict)
		if addr == "" {
			addr = "-"
		}
		if result == "" {
			result = "-"
		}
		switch {
		case l.Verdict.Mismatch():
			verdict = "✗ " + verdict
			why = append(why, fmt.Sprintf("✗ %s %s: %s", l.Target.Name, l.Target.Address, l.Why))
		case l.Verdict == model.VerdictSkipped, l.Verdict == model.VerdictGone:
			verdict += ": " + l.Why
		default:
			verdict = "✓ " + verdict
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.Target.Name, addr, l.Target.ExpectText(), result, verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(why) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, strings.Join(why, "\n"))
	}
	if rep.Note != "" {
		fmt.Fprintln(w, rep.Note)
	}
	_, err := fmt.Fprintln(w, rep.Summary())
	return err
}

// newProbeAgentCmd is the hidden `topo probe-agent`, which `topo probe`
// runs inside the probed container's namespace. Its flags are the agent's
// own, parsed by probeagent, so the prober and the agent cannot disagree.
func newProbeAgentCmd() *cobra.Command {
	return &cobra.Command{
		Use:                probeagent.Command + " [--timeout D] HOST:PORT...",
		Short:              "Dial every address at once and print JSON results (run by topo probe)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := probeagent.Main(args, cmd.OutOrStdout(), cmd.ErrOrStderr()); code != 0 {
				return fmt.Errorf("%s: exit status %d (the reason is printed above)", probeagent.Command, code)
			}
			return nil
		},
	}
}

// newIPVSCheckCmd is the hidden `topo ipvs-check`, which `topo demo up
// --swarm` runs in a container on a manager (no network, no capability)
// to choose how the load balancer is published.
func newIPVSCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:    probeagent.IPVSCommand,
		Short:  "Exit 0 when this kernel has IPVS (Swarm's routing mesh), 3 when not, 1 when it cannot tell",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// The status is the answer (3: no IPVS), not a failure to
			// report on stderr.
			os.Exit(probeagent.IPVSMain(cmd.OutOrStdout()))
			return nil
		},
	}
}
