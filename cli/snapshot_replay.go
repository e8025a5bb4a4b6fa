package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/ansisvg"
	"github.com/topo-dev/topo/internal/inert"
	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/record"
	"github.com/topo-dev/topo/ui"
)

// replayFlags are the flags of `topo snapshot` that read a recording or
// write a picture.
type replayFlags struct {
	from string
	at   time.Duration
	svg  string
}

func (f *replayFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.from, "from", "", "read the state from a recording (topo record, topo --record) instead of the engine")
	cmd.Flags().DurationVar(&f.at, "at", -1, "with --from: the moment of the recording, from its start (default: its end)")
	cmd.Flags().StringVar(&f.svg, "svg", "", "write the lanes as an SVG picture to this file (- for standard output)")
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		if cmd.Flags().Changed("at") && f.from == "" {
			return fmt.Errorf("--at is a moment of a recording: give the recording with --from FILE")
		}
		return nil
	}
}

// snapshotFrom prints the state a recording holds at --at, as `topo
// snapshot` prints the engine's.
func snapshotFrom(cmd *cobra.Command, f replayFlags, width int, asJSON, builtIn bool) error {
	if cmd.Flags().Changed("at") && f.at < 0 {
		return fmt.Errorf("--at %s is before the recording: give a moment from its start, e.g. --at 90s", f.at)
	}
	rec, err := record.ReadFile(f.from)
	if err != nil {
		return err
	}
	if rec.Stopped != nil {
		// Not fatal: a recorder killed mid-line leaves a file worth
		// playing up to there.
		fmt.Fprintln(cmd.ErrOrStderr(), "topo:", inert.Text(f.from)+":", inert.Text(rec.Stopped.Error()))
	}
	st := rec.StateAt(f.at)
	if f.at > rec.Duration() {
		fmt.Fprintf(cmd.ErrOrStderr(), "topo: --at %s is past the recording's end (%s): showing its end\n", f.at, rec.Duration().Round(time.Millisecond))
	}
	if f.svg != "" {
		return writeSnapshotSVG(cmd, f.svg, st.Topology, width, builtIn)
	}
	if asJSON {
		return writeJSON(cmd.OutOrStdout(), replayExport(rec, st))
	}
	_, err = fmt.Fprint(cmd.OutOrStdout(), ui.RenderSnapshot(st.Topology, ui.NewStyles(ui.DefaultTheme()), snapshotWidth(width), builtIn))
	return err
}

// snapshotJSON is the document `topo snapshot --json` prints.
type snapshotJSON struct {
	Engine docker.Info `json:"engine"`
	model.Export
	Registry      *model.Registry `json:"registry,omitempty"`
	RegistryLinks *model.Links    `json:"registry_links,omitempty"`
	RegistryError string          `json:"registry_error,omitempty"`
	// Registries and RegistriesLinks are every registry when topo
	// follows more than one (registry is then the first).
	Registries      []model.Registry     `json:"registries,omitempty"`
	RegistriesLinks *model.RegistryLinks `json:"registries_links,omitempty"`
	Swarm           *model.ClusterExport `json:"swarm,omitempty"`
}

// replayExport builds the --json document from a recorded state: the
// engine as the header described it, the registry and swarm as last
// recorded before the moment.
func replayExport(rec *record.Recording, st record.State) snapshotJSON {
	out := snapshotJSON{Export: st.Topology.Export()}
	if len(rec.Header.Engine) > 0 {
		_ = json.Unmarshal(rec.Header.Engine, &out.Engine) // a header without it leaves it empty
	}
	var elsewhere model.Elsewhere
	if st.Cluster != nil {
		export := st.Cluster.Export()
		out.Swarm, elsewhere = &export, st.Cluster.Elsewhere()
	}
	if st.Registry != nil {
		reg := *st.Registry
		links := reg.LinkElsewhere(st.Topology, elsewhere)
		out.Registry, out.RegistryLinks, out.RegistryError = &reg, &links, reg.Error
	}
	return out
}

func snapshotWidth(width int) int {
	if width == 0 {
		width = 120
		if w, _, err := term.GetSize(os.Stdout.Fd()); err == nil && w > 0 {
			width = w
		}
	}
	return width
}

// writeSnapshotSVG draws the lanes as `topo snapshot` does, in colour
// whatever the output is, and writes them as an SVG picture.
func writeSnapshotSVG(cmd *cobra.Command, path string, topo model.Topology, width int, builtIn bool) error {
	b := snapshotSVG(topo, snapshotWidth(width), builtIn)
	if path == "-" {
		_, err := cmd.OutOrStdout().Write(b)
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write the picture: %w", err)
	}
	fmt.Fprintln(cmd.ErrOrStderr(), "topo: wrote", inert.Text(path))
	return nil
}

// snapshotSVG renders the lanes with 256 colours (the theme's 16 come out
// as themselves) and turns the colour sequences into SVG.
func snapshotSVG(topo model.Topology, width int, builtIn bool) []byte {
	prev := lipgloss.ColorProfile()
	lipgloss.SetColorProfile(termenv.ANSI256)
	defer lipgloss.SetColorProfile(prev)
	text := ui.RenderSnapshot(topo, ui.NewStyles(ui.DefaultTheme()), width, builtIn)
	return ansisvg.Convert(text, ansisvg.Options{})
}
