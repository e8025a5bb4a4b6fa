package cli

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/topo-dev/topo/demo/registrator"
)

// newRegistratorCmd is `topo registrator`: the demo's registrator, which
// also runs as the command of the demo's registrator container, reading
// the engine through engine-proxy's read-only view.
func newRegistratorCmd() *cobra.Command {
	var cfg registrator.Config
	cmd := &cobra.Command{
		Use:   "registrator",
		Short: "Register containers that carry SERVICE_NAME in Consul, following Docker events",
		Long: `Register every running container whose labels or environment carry
SERVICE_NAME in a Consul agent, and deregister it when it stops, following
the engine's events. Optional settings, read the same way:
  SERVICE_TAGS            comma-separated tags
  SERVICE_PORT            the port to register (default: the single exposed port, else 0)
  SERVICE_CHECK_HTTP      a path such as /health: Consul checks http://IP:PORT/PATH
  SERVICE_CHECK_INTERVAL  Go duration, default 1s
The address is the container's IP on --network, else on its first network
by name. Instances are named "<container name>:<port>" and carry the
container's ID in their meta, which is how topo ties them to containers.

Consul is --consul, else CONSUL_HTTP_ADDR, else 127.0.0.1:8500, with the
token in CONSUL_HTTP_TOKEN. The engine is --host, else DOCKER_HOST, else the
default socket.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// The root's --host names the engine for every command; looked up
			// by name so that this command works under any root.
			if f := cmd.Flag("host"); f != nil {
				cfg.DockerHost = f.Value.String()
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
			defer stop()
			log := slog.New(slog.NewTextHandler(os.Stderr, nil))
			r, err := registrator.New(cfg, log)
			if err != nil {
				return err
			}
			defer r.Close()
			log.Info("registrator starting", "consul", r.ConsulAddr(), "network", cfg.Network, "label", cfg.Label)
			return r.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.ConsulAddr, "consul", "", "Consul agent HTTP address, host:port or URL (default: CONSUL_HTTP_ADDR, else 127.0.0.1:8500)")
	f.StringVar(&cfg.Network, "network", "", "register each container's IP on this network (default: its first network by name)")
	f.StringVar(&cfg.Label, "label", "", "only containers carrying this label, KEY or KEY=VALUE")
	f.DurationVar(&cfg.ResyncInterval, "resync", 0, "full resync period, repairing what events cannot show (default 10s; negative: never)")
	return cmd
}
