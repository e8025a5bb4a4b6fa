package cli

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/topo-dev/topo/demo/engineproxy"
)

// newEngineProxyCmd is the hidden `topo engine-proxy`: the read-only view
// of the engine that the demo's registrator talks to, run in its own
// container, the only one of the demo holding the engine's socket.
func newEngineProxyCmd() *cobra.Command {
	var listen, engine string
	cmd := &cobra.Command{
		Use:    engineproxy.Command,
		Short:  "Serve a read-only view of the engine (ping, version, info, events, list and inspect containers) on a unix socket",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
			defer stop()
			log := slog.New(slog.NewTextHandler(os.Stderr, nil))
			l, err := engineproxy.Listen(listen)
			if err != nil {
				return err
			}
			log.Info("engine proxy listening", "socket", listen, "engine", engine)
			return engineproxy.Serve(ctx, l, engineproxy.NewHandler(engineproxy.UnixDialer(engine), log))
		},
	}
	cmd.Flags().StringVar(&listen, "listen", engineproxy.SocketPath, "unix socket to serve the read-only view on")
	cmd.Flags().StringVar(&engine, "engine", "/var/run/docker.sock", "the engine's unix socket")
	return cmd
}
