package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/topo-dev/topo/flowagent"
)

// newFlowAgentCmd is the hidden `topo flow-agent`, which runs in topo's
// flow agent container on the engine (see docker.Flows).
func newFlowAgentCmd() *cobra.Command {
	return &cobra.Command{
		Use:                flowagent.Command + " --serve | --idle",
		Short:              "Print the TCP connections of container processes' namespaces (run by topo flows)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := flowagent.Main(args, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()); code != 0 {
				return fmt.Errorf("%s: exit status %d (the reason is printed above)", flowagent.Command, code)
			}
			return nil
		},
	}
}
