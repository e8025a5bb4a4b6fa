package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/topo-dev/topo/internal/inert"
	"github.com/topo-dev/topo/model"
)

// newActionCmds are the plain commands behind the container keys (x, s, r),
// so a rehearsal script does exactly what the presenter's keys do.
func newActionCmds(opts *globalOptions) []*cobra.Command {
	actions := []struct {
		action model.Action
		short  string
	}{
		{model.ActionKill, "Kill a container (SIGKILL), as the x key does"},
		{model.ActionStop, "Stop a container (SIGTERM, then SIGKILL after 5 s), as the s key does"},
		{model.ActionStart, "Start a stopped container, as the s key does"},
		{model.ActionRestart, "Restart a container, as the r key does"},
	}
	var cmds []*cobra.Command
	for _, a := range actions {
		cmds = append(cmds, &cobra.Command{
			Use:   string(a.action) + " CONTAINER",
			Short: a.short,
			Long: a.short + `.

CONTAINER is a name, an ID (or its first 4+ characters), or a compose
service.N as the lanes show it.`,
			Example: "  topo " + string(a.action) + " web.1\n  topo " + string(a.action) + " shop-web-1",
			Args:    cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return runAction(cmd.Context(), opts, a.action, args[0], cmd)
			},
		})
	}
	return cmds
}

// actionCommandTimeout bounds one action: a stop waits up to 5 s for the
// process, so this only trips on a stuck engine.
const actionCommandTimeout = 30 * time.Second

func runAction(ctx context.Context, opts *globalOptions, action model.Action, ref string, cmd *cobra.Command) error {
	engine, _, err := connect(ctx, opts)
	if err != nil {
		return err
	}
	defer engine.Close()
	ctx, cancel := context.WithTimeout(ctx, actionCommandTimeout)
	defer cancel()
	topo, err := engine.Sync(ctx)
	if err != nil {
		return err
	}
	c, ok := findByDisplayName(topo, ref)
	if !ok {
		return fmt.Errorf("no container %q: name it by name, ID or service.N (topo snapshot lists them)", ref)
	}
	if err := engine.Do(ctx, action, c.ID); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s %s (%s)\n", action.PastTense(), inert.Text(c.DisplayName()), c.ShortID())
	return nil
}

// findByDisplayName also accepts the `service.N` the lanes show, when it
// names exactly one container.
func findByDisplayName(topo model.Topology, ref string) (model.Container, bool) {
	if c, ok := topo.FindContainer(ref); ok {
		return c, true
	}
	var found []model.Container
	for _, c := range topo.Containers {
		if c.DisplayName() == ref {
			found = append(found, c)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return model.Container{}, false
}
