package main

import (
	"cmp"
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/topo-dev/topo/demo/app"
)

// newDemoAppCmd is `topo demo app`: the demo's REST service, run as the
// command of the app image (a FROM scratch image holding topo itself). It
// is hidden because a presenter never types it; the deployer sets its
// environment.
func newDemoAppCmd() *cobra.Command {
	cfg := app.Config{
		Listen:   cmp.Or(os.Getenv("APP_LISTEN"), app.DefaultListen),
		MongoURI: cmp.Or(os.Getenv("MONGO_URI"), app.DefaultMongoURI),
		Database: cmp.Or(os.Getenv("MONGO_DATABASE"), app.DefaultDatabase),
		Instance: os.Getenv("INSTANCE_NAME"),
	}
	cmd := &cobra.Command{
		Use:    "app",
		Short:  "Run the demo's REST app (search a talk catalogue in MongoDB)",
		Hidden: true,
		Long: `Run the demo's REST app: GET /search?q= searches a catalogue of talks in
MongoDB (seeded on first start), GET /health answers 200 once the database
does, and every response names the instance in its body and in X-Served-By.

Each flag defaults to an environment variable, which is how the deployer
configures the container: APP_LISTEN, MONGO_URI, MONGO_DATABASE,
INSTANCE_NAME (default: the hostname, which in Docker is the container ID).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// As PID 1 of a container the process gets no default SIGTERM
			// handling: without this, docker stop would wait for SIGKILL.
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
			defer stop()
			log := slog.New(slog.NewTextHandler(os.Stderr, nil))
			return app.Run(ctx, cfg, log)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Listen, "listen", cfg.Listen, "HTTP listen address (env APP_LISTEN)")
	f.StringVar(&cfg.MongoURI, "mongo-uri", cfg.MongoURI, "MongoDB connection string (env MONGO_URI)")
	f.StringVar(&cfg.Database, "database", cfg.Database, "database holding the catalogue (env MONGO_DATABASE)")
	f.StringVar(&cfg.Instance, "instance", cfg.Instance, "instance name shown in responses (env INSTANCE_NAME; default: hostname)")
	return cmd
}
