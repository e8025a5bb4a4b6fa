package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// explainArgs goes through the command tree once it is built, so that
// every command answers a wrong command line alike:
//
//   - a command that groups others (topo demo, topo swarm, and topo itself)
//     refuses an unknown one with a non-zero exit, the nearest commands
//     and a pointer to its help. Cobra does that only for the root, and
//     only when it sets no Args; a group without Run prints its help and
//     exits 0 whatever follows it, so a typo looked like success;
//   - a command given too few or too many arguments shows its usage line
//     and example, not only "accepts 1 arg(s), received 0".
func explainArgs(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		explainArgs(c)
	}
	if cmd.HasSubCommands() {
		cmd.Args = unknownCommand
		// Cobra's own default, which only its root check applies.
		cmd.SuggestionsMinimumDistance = 2
		if cmd.Run == nil && cmd.RunE == nil {
			// Runnable, so that Args is checked at all; with nothing
			// after it, a group still shows its help.
			cmd.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
		}
		return
	}
	if check := cmd.Args; check != nil {
		cmd.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usageError(cmd, err)
			}
			return nil
		}
	}
}

// unknownCommand is the Args of a command that groups others: by the time
// it runs, cobra found no subcommand named args[0].
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if near := cmd.SuggestionsFor(args[0]); len(near) > 0 {
		msg += fmt.Sprintf(": did you mean %s?", quoteJoin(near, " or "))
	} else {
		var names []string
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() && c.Name() != "help" && c.Name() != "completion" {
				names = append(names, c.Name())
			}
		}
		msg += ": the commands are " + strings.Join(names, ", ")
	}
	return fmt.Errorf("%s (see %s --help)", msg, cmd.CommandPath())
}

// usageError adds the usage line and the example to a refusal of the
// arguments.
func usageError(cmd *cobra.Command, err error) error {
	example := ""
	if cmd.Example != "" {
		example = "\nExample:\n" + cmd.Example + "\n"
	}
	return fmt.Errorf("%w\n\nUsage:\n  %s\n%s\nsee %s --help", err, cmd.UseLine(), example, cmd.CommandPath())
}

func quoteJoin(list []string, sep string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, sep)
}
