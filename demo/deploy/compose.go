package deploy

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Compose returns a compose.yaml equivalent to what Up deploys with
// replicas app instances (DefaultReplicas when zero), for `docker compose
// -p PROJECT -f - up`. It builds topo's own image when missing, since the
// file names it.
//
// Two things differ by necessity. Compose cannot copy a file into a
// container before start, so the load balancer writes its configuration
// from an environment variable with /bin/sh, which the official nginx
// image has (the FROM scratch test stand-in does not, so with it only
// `docker compose config` is meaningful). And compose gives every replica
// the same environment, so app instances name themselves by hostname
// rather than by container name.
func (d *Deployer) Compose(ctx context.Context, replicas int) (string, error) {
	if replicas < 0 || replicas > MaxReplicas {
		return "", fmt.Errorf("%w: %d app instances: use 1 to %d", ErrBadInput, replicas, MaxReplicas)
	}
	if replicas == 0 {
		replicas = DefaultReplicas
	}
	self, err := d.ensureSelfImage(ctx, nil)
	if err != nil {
		return "", err
	}
	return d.composeYAML(self, replicas), nil
}

// yamlText writes compose.yaml one indented line at a time.
type yamlText struct{ strings.Builder }

func (y *yamlText) line(indent int, format string, args ...any) {
	y.WriteString(strings.Repeat("  ", indent))
	fmt.Fprintf(y, format, args...)
	y.WriteByte('\n')
}

// composeDeps is the start order compose follows, as Up starts them.
var composeDeps = map[string][]string{
	ServiceRegistrator: {ServiceConsul, ServiceEngineProxy},
	ServiceApp:         {ServiceMongo, ServiceRegistrator},
	ServiceLB:          {ServiceConsul, ServiceApp},
}

func (d *Deployer) composeYAML(self string, replicas int) string {
	var y yamlText
	y.line(0, "# The topo demo as a compose project, equivalent to `topo demo up --project %s`.", d.opts.Project)
	y.line(0, "# Run it with: docker compose -p %s -f compose.yaml up -d", d.opts.Project)
	y.line(0, "# (the project name matters: the registrator watches the network %s).", d.NetworkName(NetworkFront))
	y.line(0, "services:")
	for _, svc := range Services {
		d.composeService(&y, svc, d.specFor(svc, 1, self), replicas)
	}
	y.line(0, "networks:")
	y.line(1, "%s: {}", NetworkFront)
	y.line(1, "%s: {}", NetworkBack)
	y.line(0, "volumes:")
	y.line(1, "%s: {}", VolumeMongo)
	y.line(1, "%s: {}", VolumeEngine)
	return y.String()
}

// composeService writes one service of compose.yaml.
func (d *Deployer) composeService(y *yamlText, svc string, s spec, replicas int) {
	y.line(1, "%s:", svc)
	y.line(2, "image: %s", q(s.Image))
	if svc == ServiceLB {
		y.line(2, "entrypoint: %s", flow([]string{"/bin/sh", "-c",
			`printf '%s' "$$TOPO_LB_CONF" > ` + nginxConfDir + "/" + nginxConf + ` && exec nginx -g 'daemon off;'`}))
	}
	if len(s.Cmd) > 0 {
		y.line(2, "command: %s", flow(escapeDollar(s.Cmd)))
	}
	composeEnvironment(y, svc, s.Env)
	if svc == ServiceApp {
		// As containerConfig labels it: meant to carry front to back.
		y.line(2, "labels:")
		y.line(3, "%s: %s", labelBridge, q("1"))
	}
	for port, to := range s.Publish {
		y.line(2, "ports:")
		y.line(3, "- %s", q(to+":"+strconv.Itoa(port)))
	}
	d.composeVolumes(y, s.Mounts)
	if len(s.Health) > 0 {
		y.line(2, "healthcheck:")
		y.line(3, "test: %s", flow(append([]string{"CMD"}, s.Health...)))
		y.line(3, "interval: 2s")
		y.line(3, "timeout: 1s")
		y.line(3, "retries: 2")
		y.line(3, "start_period: 10s")
	}
	composeRights(y, s)
	if len(s.Networks) == 0 {
		y.line(2, "network_mode: \"none\"")
	} else {
		y.line(2, "networks: %s", flow(shortNetworks(s.Networks, d.opts.Project)))
	}
	if len(composeDeps[svc]) > 0 {
		y.line(2, "depends_on: %s", flow(composeDeps[svc]))
	}
	y.line(2, "stop_grace_period: %ds", stopTimeout)
	if svc == ServiceApp {
		y.line(2, "deploy:")
		y.line(3, "replicas: %d", replicas)
	}
}

// composeEnvironment writes a service's environment; the load balancer's
// carries its nginx configuration, and the app's leaves out the instance
// name (compose gives every replica the same environment).
func composeEnvironment(y *yamlText, svc string, env []string) {
	if svc == ServiceApp {
		env = slices.DeleteFunc(slices.Clone(env), func(e string) bool { return strings.HasPrefix(e, "INSTANCE_NAME=") })
	}
	if len(env) == 0 && svc != ServiceLB {
		return
	}
	y.line(2, "environment:")
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		y.line(3, "%s: %s", k, q(strings.ReplaceAll(v, "$", "$$")))
	}
	if svc != ServiceLB {
		return
	}
	y.line(3, "TOPO_LB_CONF: |")
	for _, line := range strings.Split(strings.TrimRight(NginxConf(), "\n"), "\n") {
		if line == "" {
			y.WriteByte('\n')
			continue
		}
		y.line(4, "%s", strings.ReplaceAll(line, "$", "$$"))
	}
}

func (d *Deployer) composeVolumes(y *yamlText, mounts []string) {
	if len(mounts) == 0 {
		return
	}
	y.line(2, "volumes:")
	for _, m := range mounts {
		pm := parseMount(m)
		src := pm.Source
		if pm.Type == "volume" {
			src = strings.TrimPrefix(src, d.opts.Project+"_") // compose prefixes the project itself
		}
		v := src + ":" + pm.Target
		if pm.ReadOnly {
			v += ":ro"
		}
		y.line(3, "- %s", q(v))
	}
}

// composeRights writes the user, capabilities and limits a service runs
// with, as Up gives them.
func composeRights(y *yamlText, s spec) {
	if s.User != "" {
		y.line(2, "user: %s", q(s.User))
	}
	if s.Locked {
		y.line(2, "cap_drop: [\"ALL\"]")
		if len(s.CapAdd) > 0 {
			y.line(2, "cap_add: %s", flow(s.CapAdd))
		}
		y.line(2, "read_only: true")
		y.line(2, "security_opt: [\"no-new-privileges:true\"]")
	}
	if s.MemoryMiB > 0 {
		y.line(2, "mem_limit: %dm", s.MemoryMiB)
	}
	if s.Pids > 0 {
		y.line(2, "pids_limit: %d", s.Pids)
	}
}

func shortNetworks(names []string, project string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.TrimPrefix(n, project+"_")
	}
	return out
}

// escapeDollar keeps compose from interpolating a literal $.
func escapeDollar(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.ReplaceAll(s, "$", "$$")
	}
	return out
}

// q quotes a YAML scalar; Go's escapes are a subset of YAML's
// double-quoted ones.
func q(s string) string { return strconv.Quote(s) }

func flow(list []string) string {
	quoted := make([]string, len(list))
	for i, s := range list {
		quoted[i] = q(s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}
