package cli

import (
	"cmp"
	"context"
	"fmt"
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
	// The capacity settings are read from the environment when the
	// command runs, so that a malformed value is an error, not a panic.
	concurrency, queue := os.Getenv("APP_CONCURRENCY"), os.Getenv("APP_QUEUE")
	serviceTime, refresh := os.Getenv("APP_SERVICE_TIME"), os.Getenv("APP_REFRESH")
	cmd := &cobra.Command{
		Use:    "app",
		Short:  "Run the demo's REST app (search a talk catalogue in MongoDB)",
		Hidden: true,
		Long: `Run the demo's REST app: GET /search?q= searches a catalogue of talks in
MongoDB (seeded on first start), GET /health answers 200 once the instance
holds its copy of the catalogue, and every response names the instance in
its body and in X-Served-By.

Each instance keeps the catalogue in memory, rereads it from MongoDB every
--refresh, and has a fixed capacity: --concurrency searches at once, each
taking --service-time, so one instance serves concurrency/service-time
searches a second (2/100ms = 20/s by default) whatever the machine. Up to
--queue more wait for a slot; beyond that a search is answered 503 at once.

Each flag defaults to an environment variable, which is how the deployer
configures the container: APP_LISTEN, MONGO_URI, MONGO_DATABASE,
INSTANCE_NAME (default: the hostname, which in Docker is the container ID),
APP_CONCURRENCY, APP_QUEUE, APP_SERVICE_TIME, APP_REFRESH.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := capacityFromEnv(cmd, &cfg, concurrency, queue, serviceTime, refresh); err != nil {
				return err
			}
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
	f.IntVar(&cfg.Concurrency, "concurrency", app.DefaultConcurrency, "searches served at once (env APP_CONCURRENCY)")
	f.IntVar(&cfg.Queue, "queue", 0, "searches waiting for a slot before 503 (env APP_QUEUE; default: the concurrency; -1: none)")
	f.DurationVar(&cfg.ServiceTime, "service-time", app.DefaultServiceTime, "time each search holds its slot (env APP_SERVICE_TIME; -1ns: none)")
	f.DurationVar(&cfg.Refresh, "refresh", app.DefaultRefresh, "how often the catalogue is reread from MongoDB (env APP_REFRESH)")
	return cmd
}

// capacityFromEnv applies the APP_* capacity variables to the flags the
// command line did not set: a flag given wins over the environment.
func capacityFromEnv(cmd *cobra.Command, cfg *app.Config, concurrency, queue, serviceTime, refresh string) error {
	f := cmd.Flags()
	for _, e := range []struct{ flag, env, value string }{
		{"concurrency", "APP_CONCURRENCY", concurrency},
		{"queue", "APP_QUEUE", queue},
		{"service-time", "APP_SERVICE_TIME", serviceTime},
		{"refresh", "APP_REFRESH", refresh},
	} {
		if e.value == "" || f.Changed(e.flag) {
			continue
		}
		if err := f.Set(e.flag, e.value); err != nil {
			return fmt.Errorf("%s=%q: %w (set it like the --%s flag)", e.env, e.value, err, e.flag)
		}
	}
	return nil
}
