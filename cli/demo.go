package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/topo-dev/topo/demo/deploy"
	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/inert"
)

// demoFlags are the flags every `topo demo` command shares: which project,
// where its load balancer listens, which images and binary it runs.
type demoFlags struct {
	project    string
	lbPort     int
	lbBind     string
	selfBinary string
	images     deploy.Images
	// registries is how many registries up deploys (--registries, env
	// TOPO_DEMO_REGISTRIES, which the TUI's D reads); 0 keeps what runs.
	registries int
	// envErr is a demo variable of the environment in error.
	envErr error
}

// The environment sets the demo's defaults for the commands and the TUI
// alike (the TUI has no demo flags): a rehearsal on another port is one
// export away.
const (
	envDemoProject = "TOPO_DEMO_PROJECT"
	envDemoLBPort  = "TOPO_DEMO_LB_PORT"
	envDemoLBBind  = "TOPO_DEMO_LB_BIND"
	// envDemoRegistries is 2 for a second registry (see deploy.MaxRegistries).
	envDemoRegistries = "TOPO_DEMO_REGISTRIES"
)

func demoFlagsFromEnv(getenv func(string) string) *demoFlags {
	f := &demoFlags{
		project: cmp.Or(getenv(envDemoProject), deploy.DefaultProject),
		lbPort:  deploy.DefaultLBPort,
		lbBind:  cmp.Or(getenv(envDemoLBBind), deploy.DefaultLBBind),
		images:  deploy.ImagesFromEnv(getenv),
	}
	if v := getenv(envDemoRegistries); v != "" {
		n, err := strconv.Atoi(v)
		if err == nil {
			err = deploy.ValidateRegistries(n)
		}
		if err != nil {
			f.envErr = fmt.Errorf("%s=%q: write 1 or 2 (2 adds infra-consul, the infrastructure's registry), or unset it", envDemoRegistries, v)
		}
		f.registries = n
	}
	if v := getenv(envDemoLBPort); v != "" {
		p, err := strconv.Atoi(v)
		switch {
		case err != nil:
			f.envErr = fmt.Errorf("%s=%q is not a port number: unset it or write for example 8081", envDemoLBPort, v)
		case p < 1 || p > 65535:
			f.envErr = fmt.Errorf("%s=%d is not a TCP port: use 1 to 65535, or unset it for %d", envDemoLBPort, p, deploy.DefaultLBPort)
		}
		f.lbPort = p
	}
	return f
}

// check refuses settings in error before any contact with the engine.
func (f *demoFlags) check() error {
	if f.envErr != nil {
		return f.envErr
	}
	// The deployer reads a zero port as "the default": typed by a person,
	// 0 is a mistake to point out, not a wish for 8080.
	if f.lbPort < 1 || f.lbPort > 65535 {
		return fmt.Errorf("--lb-port %d is not a TCP port: use 1 to 65535 (default %d)", f.lbPort, deploy.DefaultLBPort)
	}
	_, err := deploy.New(nil, f.options())
	return err
}

func (f *demoFlags) options() deploy.Options {
	return deploy.Options{
		Project: f.project, LBPort: f.lbPort, LBBind: f.lbBind,
		SelfBinary: f.selfBinary, Images: f.images,
	}
}

// newDemoCmd is `topo demo`: the reference demo's deployer and its load
// generator, the commands behind the TUI's D, +, -, T and g keys.
func newDemoCmd(opts *globalOptions) *cobra.Command {
	f := demoFlagsFromEnv(os.Getenv)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Deploy and drive the reference demo: NGINX, the app, MongoDB, Consul and the registrator",
		Long: `The reference demo: an NGINX load balancer finds N instances of a REST app
through Consul's DNS; the registrator registers them in Consul; the app
searches a catalogue in MongoDB. Tiers sit on networks <project>_front and
<project>_back, MongoDB keeps its data in a volume, and only the load
balancer is published (127.0.0.1:8080 by default).

Every object carries Docker Compose's labels, so docker compose -p topo-demo
ps lists them. The app and the registrator run topo's own binary in a
FROM scratch image built locally (it must be a static Linux binary: make
build makes one; on macOS or Windows pass --self-binary with one built by
CGO_ENABLED=0 GOOS=linux go build). The other images default to the official
ones, pinned, pulled when missing; override them with the flags or with
TOPO_DEMO_IMAGE_CONSUL, TOPO_DEMO_IMAGE_MONGO and TOPO_DEMO_IMAGE_NGINX.`,
		Args: cobra.NoArgs,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.project, "project", f.project, "project name: prefixes and labels every object (env "+envDemoProject+")")
	pf.IntVar(&f.lbPort, "lb-port", f.lbPort, "host port of the load balancer (env "+envDemoLBPort+")")
	pf.StringVar(&f.lbBind, "lb-bind", f.lbBind, "host address the load balancer is published on, 0.0.0.0 for every interface (env "+envDemoLBBind+")")
	pf.StringVar(&f.selfBinary, "self-binary", "", "static Linux build of topo to run as app and registrator (default: this executable)")
	pf.StringVar(&f.images.Consul, "image-consul", f.images.Consul, "Consul image (env "+deploy.EnvImageConsul+")")
	pf.StringVar(&f.images.Mongo, "image-mongo", f.images.Mongo, "MongoDB image (env "+deploy.EnvImageMongo+")")
	pf.StringVar(&f.images.Nginx, "image-nginx", f.images.Nginx, "NGINX image (env "+deploy.EnvImageNginx+")")

	cmd.AddCommand(
		newDemoUpCmd(opts, f), newDemoDownCmd(opts, f), newDemoScaleCmd(opts, f),
		newDemoStatusCmd(opts, f), newDemoImagesCmd(opts, f), newDemoComposeCmd(opts, f),
		newDemoTrafficCmd(opts, f), newDemoAppCmd(), newDemoHealthcheckCmd(),
	)
	return cmd
}

// withDeployer connects to the engine, builds the deployer and runs fn
// with a context that Ctrl-C cancels, so an interrupted deploy stops
// between steps and a second `up` finishes it.
func withDeployer(cmd *cobra.Command, opts *globalOptions, f *demoFlags, fn func(ctx context.Context, d *deploy.Deployer) error) error {
	if err := f.check(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmdContext(cmd), os.Interrupt, syscall.SIGTERM)
	defer stop()
	engine, _, err := connect(ctx, opts)
	if err != nil {
		return err
	}
	defer engine.Close()
	// The registry of a swarm stack is published nowhere: status and the
	// wait for a deploy read it through the engine.
	tunnel := docker.NewTunnel(engine.sdk, f.selfBinary, nil)
	defer tunnel.Close()
	o := f.options()
	o.Tunnel = tunnel
	o.EngineHost = engine.Host
	d, err := deploy.New(engine.sdk, o)
	if err != nil {
		return err
	}
	return fn(ctx, d)
}

func cmdContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

func newDemoUpCmd(opts *globalOptions, f *demoFlags) *cobra.Command {
	var up deploy.UpOptions
	var onSwarm bool
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Deploy the demo, or finish a deploy left halfway (creates nothing twice)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Checked before any contact with the engine, as scale is.
			if err := deploy.ValidateScale(deploy.ServiceApp, up.Replicas); err != nil {
				return fmt.Errorf("--replicas: %w", err)
			}
			up.Registries = f.registries
			if err := deploy.ValidateRegistries(up.Registries); err != nil {
				return err
			}
			return withDeployer(cmd, opts, f, func(ctx context.Context, d *deploy.Deployer) error {
				p := newStepPrinter(cmd.OutOrStdout())
				deployUp := d.Up
				if onSwarm {
					deployUp = d.UpSwarm
				}
				res, err := deployUp(ctx, up, p.print)
				p.flush()
				if err != nil {
					return err
				}
				if res.Ready {
					fmt.Fprintln(cmd.OutOrStdout(), "ready:", res.URL)
				} else {
					fmt.Fprintln(cmd.OutOrStdout(), "deployed:", res.URL, "(add --wait to wait until it answers)")
				}
				if res.Reach != "" {
					fmt.Fprintln(cmd.OutOrStdout(), "reach:", res.Reach)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&up.Wait, "wait", false, "wait until every app instance is healthy and the load balancer answers")
	cmd.Flags().IntVar(&up.Replicas, "replicas", 0, "app instances (default: keep the current count, 2 on a first deploy)")
	cmd.Flags().IntVar(&f.registries, "registries", f.registries, "registries: 1 (consul), or 2 to add infra-consul, which holds the lb and mongo while consul holds the app instances (default: keep what runs, 1 on a first deploy; env "+envDemoRegistries+")")
	cmd.Flags().DurationVar(&up.WaitTimeout, "timeout", time.Minute, "with --wait, give up after this long")
	cmd.Flags().BoolVar(&onSwarm, "swarm", false, "deploy as Swarm services on overlay networks (the engine must be a manager; images must be on every node; the lb is published through the ingress mesh when the manager has IPVS, else with mode=host on a manager; either way on every interface of the node: a swarm has no bind address, so --lb-bind other than 0.0.0.0 is refused)")
	return cmd
}

func newDemoDownCmd(opts *globalOptions, f *demoFlags) *cobra.Command {
	var volumes, onSwarm bool
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Remove every container and network of the project (and its volume with --volumes)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDeployer(cmd, opts, f, func(ctx context.Context, d *deploy.Deployer) error {
				p := newStepPrinter(cmd.OutOrStdout())
				defer p.flush()
				steps := nothingToRemove(cmd.OutOrStdout(), d.Project(), p.print)
				if onSwarm {
					return d.DownSwarm(ctx, volumes, steps)
				}
				return d.Down(ctx, volumes, steps)
			})
		},
	}
	cmd.Flags().BoolVar(&volumes, "volumes", false, "also remove the MongoDB volume (the catalogue is seeded again on the next up)")
	cmd.Flags().BoolVar(&onSwarm, "swarm", false, "remove the stack deployed with up --swarm: its services, configs and overlay networks (down finds a stack by itself; the flag insists on it)")
	return cmd
}

// nothingToRemove passes a teardown's steps on, except when its first
// report is already its last ("project P removed", key "down"): then it
// found no object of the project, and says so rather than claim a removal
// (a mistyped --project must not look like a teardown).
func nothingToRemove(out io.Writer, project string, next deploy.Progress) deploy.Progress {
	first := true
	return func(s deploy.Step) {
		if first && s.Key == "down" && s.State == deploy.StepDone {
			fmt.Fprintf(out, "nothing to remove: project %s has no containers, services, networks or volumes on this engine\n", project)
			return
		}
		first = false
		next(s)
	}
}

func newDemoScaleCmd(opts *globalOptions, f *demoFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "scale SERVICE=N",
		Short:   "Run N instances of a service (only app scales)",
		Example: "  topo demo scale app=4",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			service, n, err := parseScale(args[0])
			if err != nil {
				return err
			}
			if err := deploy.ValidateScale(service, n); err != nil {
				return err
			}
			return withDeployer(cmd, opts, f, func(ctx context.Context, d *deploy.Deployer) error {
				p := newStepPrinter(cmd.OutOrStdout())
				defer p.flush()
				return d.Scale(ctx, service, n, p.print)
			})
		},
	}
}

// parseScale reads SERVICE=N.
func parseScale(arg string) (string, int, error) {
	service, count, ok := strings.Cut(arg, "=")
	if !ok || service == "" {
		return "", 0, fmt.Errorf("%q is not SERVICE=N: write for example app=4", arg)
	}
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if err != nil {
		return "", 0, fmt.Errorf("%q: %q is not a whole number of instances: write for example app=4", arg, count)
	}
	return strings.TrimSpace(service), n, nil
}

func newDemoStatusCmd(opts *globalOptions, f *demoFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the project's services, replicas, registry health and load balancer",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDeployer(cmd, opts, f, func(ctx context.Context, d *deploy.Deployer) error {
				st, err := d.Status(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(cmd.OutOrStdout(), st)
				}
				return printStatus(cmd.OutOrStdout(), inert.Value(st))
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

func printStatus(out io.Writer, st deploy.Status) error {
	if !st.Deployed {
		_, err := fmt.Fprintf(out, "project %s is not deployed: run `topo demo up`\n", st.Project)
		return err
	}
	what := "CONTAINERS"
	if st.Mode == deploy.ModeSwarm {
		fmt.Fprintf(out, "project %s (swarm stack)\n\n", st.Project)
		what = "TASKS"
	} else {
		fmt.Fprintf(out, "project %s\n\n", st.Project)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tRUNNING/DESIRED\t"+what)
	for _, s := range st.Services {
		var cs []string
		for _, c := range s.Containers {
			if c.Node != "" {
				cs = append(cs, c.Name+" on "+c.Node+" ("+c.State+")")
				continue
			}
			cs = append(cs, c.Name+" ("+c.Status+")")
		}
		fmt.Fprintf(tw, "%s\t%d/%d\t%s\n", s.Name, s.Running, s.Desired, strings.Join(cs, ", "))
	}
	tw.Flush()
	fmt.Fprintln(out)
	if st.Registry.Error != "" {
		fmt.Fprintf(out, "registry  unknown: %s\n", st.Registry.Error)
	} else {
		fmt.Fprintf(out, "registry  consul at %s\n", st.Registry.Address)
		for _, s := range st.Registry.Services {
			fmt.Fprintf(out, "  %-12s %d passing, %d warning, %d critical\n", s.Name, s.Passing, s.Warning, s.Critical)
		}
	}
	if st.LB.Answers {
		fmt.Fprintf(out, "lb        %s answers (served by %s)\n", st.LB.URL, st.LB.ServedBy)
	} else {
		fmt.Fprintf(out, "lb        %s does not answer: %s\n", st.LB.URL, st.LB.Error)
	}
	if st.LB.Reach != "" {
		fmt.Fprintf(out, "reach     %s\n", st.LB.Reach)
	}
	fmt.Fprintf(out, "networks  %s\nvolumes   %s\n", strings.Join(st.Networks, ", "), strings.Join(st.Volumes, ", "))
	return nil
}
