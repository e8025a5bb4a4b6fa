package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/topo-dev/topo/tunnelagent"
)

// newTunnelAgentCmd is the hidden `topo tunnel-agent`, which topo execs
// inside its tunnel containers to reach a port no address of this machine
// leads to (see docker.Tunnel).
func newTunnelAgentCmd() *cobra.Command {
	return &cobra.Command{
		Use:                tunnelagent.Command + " HOST:PORT | --idle",
		Short:              "Relay standard input and output to HOST:PORT (run by topo's engine tunnel)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := tunnelagent.Main(args, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()); code != 0 {
				return fmt.Errorf("%s: exit status %d (the reason is printed above)", tunnelagent.Command, code)
			}
			return nil
		},
	}
}
