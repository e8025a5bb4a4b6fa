package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/spf13/cobra"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/inert"
	"github.com/topo-dev/topo/record"
	"github.com/topo-dev/topo/ui"
)

func newReplayCmd(opts *globalOptions) *cobra.Command {
	var (
		speed float64
		from  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "replay FILE",
		Short: "Play a recording (topo --record, topo record) in the interface, with no engine",
		Long: `replay opens topo's interface on a recording instead of an engine: the lanes,
details, registry, isolation views, swarm view, demo and traffic panels as
they were, each recorded update at its moment (scaled by --speed).

Keys of the replay: space pauses and plays, [ and ] step to the previous and
next event, < and > halve and double the speed. Keys that would act on an
engine (x s r p D + - T g R d) are refused: a replay is read-only.

A recording cut short (a recorder killed mid-line, a damaged file) plays up
to its last whole line, and the replay bar says where it stops.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if speed <= 0 {
				return fmt.Errorf("--speed %g is not a speed: give a factor above 0, e.g. --speed 2 (twice as fast) or 0.5", speed)
			}
			if from < 0 {
				return fmt.Errorf("--from %s is before the recording: give a moment from its start, e.g. --from 90s", from)
			}
			return runReplay(cmd.Context(), opts, args[0], speed, from)
		},
	}
	cmd.Flags().Float64Var(&speed, "speed", 1, "play this many times as fast as recorded (< and > change it)")
	cmd.Flags().DurationVar(&from, "from", 0, "start at this moment of the recording, e.g. 90s")
	cmd.Flags().StringVar(&opts.svgDir, "svg-dir", "", "where e saves the screen as SVG (default: the current directory)")
	return cmd
}

// runReplay reads the recording whole, then plays it in the interface.
// Reading comes first so that a missing, foreign or newer file is one line
// in the shell, not a flash of the alternate screen.
func runReplay(ctx context.Context, opts *globalOptions, path string, speed float64, from time.Duration) error {
	rec, err := record.ReadFile(path)
	if err != nil {
		return err
	}
	if len(rec.Entries) == 0 {
		if rec.Stopped != nil {
			return fmt.Errorf("%s: nothing to replay: %w", path, rec.Stopped)
		}
		return fmt.Errorf("%s: nothing to replay: the recording holds its header only (was the recorder stopped at once?)", path)
	}
	replay := &ui.Replay{Start: rec.Header.Start, Entries: replayEntries(rec), Speed: speed, From: from}
	if s := rec.Stopped; s != nil {
		replay.Stopped = fmt.Sprintf("recording stops at line %d", s.Line)
		replay.StopReason = s.Error()
	}
	var info docker.Info
	_ = json.Unmarshal(rec.Header.Engine, &info) // a header without it names no engine
	host := info.Host
	if host == "" {
		host = "recorded engine"
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lipgloss.SetHasDarkBackground(true) // see runTUI
	app := ui.New(ui.Config{
		EngineInfo: ui.EngineInfo{Host: host, Source: "recording " + path, Version: info.Version},
		Replay:     replay,
		ReadOnly:   true,
		Screens:    svgScreens{dir: opts.svgDir},
		Context:    ctx,
	})
	defer app.Close()
	runErr := runInTerminal(ctx, app)
	if rec.Stopped != nil {
		// Said again in the shell, where it stays.
		fmt.Fprintln(os.Stderr, "topo:", inert.Text(path)+":", inert.Text(rec.Stopped.Error()))
	}
	return programExit(runErr)
}

// replayEntries turns each recorded line into the message its live feed
// sent. A demo or traffic line that cannot be read keeps its place, as a
// moment with nothing to show, so the positions match the file.
func replayEntries(rec *record.Recording) []ui.ReplayEntry {
	out := make([]ui.ReplayEntry, len(rec.Entries))
	for i, e := range rec.Entries {
		out[i].Offset = rec.Offset(e)
		switch {
		case e.Update != nil:
			out[i].Msg = ui.EngineUpdateMsg{Update: *e.Update}
		case e.Registry != nil:
			out[i].Msg = ui.RegistryMsg{Registry: *e.Registry}
		case e.Cluster != nil:
			out[i].Msg = ui.ClusterUpdateMsg{Cluster: *e.Cluster}
		case e.Demo != nil:
			var l demoLine
			if json.Unmarshal(e.Demo, &l) == nil {
				out[i].Msg = demoReplay(l)
			}
		case e.Traffic != nil:
			var l trafficLine
			if json.Unmarshal(e.Traffic, &l) == nil {
				out[i].Msg = trafficReplay(l)
			}
		}
	}
	return out
}

// demoReplay turns a recorded demo report back into the panel's terms
// (see recordedDemo for how it was written).
func demoReplay(l demoLine) ui.DemoReplayMsg {
	msg := ui.DemoReplayMsg{Delta: l.Delta}
	switch op, service, _ := strings.Cut(l.Op, " "); op {
	case "up":
		msg.Op = ui.DemoDeploy
	case "up-swarm":
		msg.Op = ui.DemoSwarm
	case "scale":
		msg.Op, msg.Service = ui.DemoScale, service
	case "down":
		msg.Op = ui.DemoTeardown
	default:
		msg.Op = ui.DemoOp(l.Op)
	}
	if l.Done {
		msg.Done = &ui.DemoDoneMsg{Op: msg.Op, Service: msg.Service, URL: l.URL, Count: l.Count, Err: recordedErr(l.Err)}
		return msg
	}
	state := map[string]ui.DemoStepState{"done": ui.DemoStepDone, "failed": ui.DemoStepFailed}[l.State]
	msg.Step = &ui.DemoStep{Key: l.Key, Title: l.Title, State: state, Detail: l.Detail, Fraction: l.Fraction, Err: recordedErr(l.Err)}
	return msg
}

func trafficReplay(l trafficLine) ui.TrafficReplayMsg {
	if l.Stopped {
		return ui.TrafficReplayMsg{Stopped: true, Err: recordedErr(l.Err)}
	}
	s := l.TrafficSnapshot
	return ui.TrafficReplayMsg{Target: l.Source, Snapshot: &s}
}

// recordedErr is an error as recorded, its text; a cancellation is one
// again, since the panel tells it from a failure.
func recordedErr(text string) error {
	switch text {
	case "":
		return nil
	case context.Canceled.Error():
		return context.Canceled
	}
	return errors.New(text)
}
