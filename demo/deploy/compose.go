package deploy

import (
	"context"
	"fmt"
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

func (d *Deployer) composeYAML(self string, replicas int) string {
	var b strings.Builder
	w := func(indent int, format string, args ...any) {
		b.WriteString(strings.Repeat("  ", indent))
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	w(0, "# The topo demo as a compose project, equivalent to `topo demo up --project %s`.", d.opts.Project)
	w(0, "# Run it with: docker compose -p %s -f compose.yaml up -d", d.opts.Project)
	w(0, "# (the project name matters: the registrator watches the network %s).", d.NetworkName(NetworkFront))
	w(0, "services:")
	deps := map[string][]string{
		ServiceRegistrator: {ServiceConsul, ServiceEngineProxy},
		ServiceApp:         {ServiceMongo, ServiceRegistrator},
		ServiceLB:          {ServiceConsul, ServiceApp},
	}
	for _, svc := range Services {
		s := d.specFor(svc, 1, self)
		w(1, "%s:", svc)
		w(2, "image: %s", q(s.Image))
		if svc == ServiceLB {
			w(2, "entrypoint: %s", flow([]string{"/bin/sh", "-c",
				`printf '%s' "$$TOPO_LB_CONF" > ` + nginxConfDir + "/" + nginxConf + ` && exec nginx -g 'daemon off;'`}))
		}
		if len(s.Cmd) > 0 {
			w(2, "command: %s", flow(escapeDollar(s.Cmd)))
		}
		env := s.Env
		if svc == ServiceApp {
			env = nil
			for _, e := range s.Env {
				if !strings.HasPrefix(e, "INSTANCE_NAME=") {
					env = append(env, e)
				}
			}
		}
		if len(env) > 0 || svc == ServiceLB {
			w(2, "environment:")
			for _, e := range env {
				k, v, _ := strings.Cut(e, "=")
				w(3, "%s: %s", k, q(strings.ReplaceAll(v, "$", "$$")))
			}
			if svc == ServiceLB {
				w(3, "TOPO_LB_CONF: |")
				for _, line := range strings.Split(strings.TrimRight(NginxConf(), "\n"), "\n") {
					if line == "" {
						b.WriteByte('\n')
						continue
					}
					w(4, "%s", strings.ReplaceAll(line, "$", "$$"))
				}
			}
		}
		if svc == ServiceApp {
			// As containerConfig labels it: meant to carry front to back.
			w(2, "labels:")
			w(3, "%s: %s", labelBridge, q("1"))
		}
		for port, to := range s.Publish {
			w(2, "ports:")
			w(3, "- %s", q(to+":"+strconv.Itoa(port)))
		}
		if len(s.Mounts) > 0 {
			w(2, "volumes:")
			for _, m := range s.Mounts {
				pm := parseMount(m)
				src := pm.Source
				if pm.Type == "volume" {
					src = strings.TrimPrefix(src, d.opts.Project+"_") // compose prefixes the project itself
				}
				v := src + ":" + pm.Target
				if pm.ReadOnly {
					v += ":ro"
				}
				w(3, "- %s", q(v))
			}
		}
		if len(s.Health) > 0 {
			w(2, "healthcheck:")
			w(3, "test: %s", flow(append([]string{"CMD"}, s.Health...)))
			w(3, "interval: 2s")
			w(3, "timeout: 1s")
			w(3, "retries: 2")
			w(3, "start_period: 10s")
		}
		if s.User != "" {
			w(2, "user: %s", q(s.User))
		}
		if s.Locked {
			w(2, "cap_drop: [\"ALL\"]")
			if len(s.CapAdd) > 0 {
				w(2, "cap_add: %s", flow(s.CapAdd))
			}
			w(2, "read_only: true")
			w(2, "security_opt: [\"no-new-privileges:true\"]")
		}
		if s.MemoryMiB > 0 {
			w(2, "mem_limit: %dm", s.MemoryMiB)
		}
		if s.Pids > 0 {
			w(2, "pids_limit: %d", s.Pids)
		}
		if len(s.Networks) == 0 {
			w(2, "network_mode: \"none\"")
		} else {
			w(2, "networks: %s", flow(shortNetworks(s.Networks, d.opts.Project)))
		}
		if len(deps[svc]) > 0 {
			w(2, "depends_on: %s", flow(deps[svc]))
		}
		w(2, "stop_grace_period: %ds", stopTimeout)
		if svc == ServiceApp {
			w(2, "deploy:")
			w(3, "replicas: %d", replicas)
		}
	}
	w(0, "networks:")
	w(1, "%s: {}", NetworkFront)
	w(1, "%s: {}", NetworkBack)
	w(0, "volumes:")
	w(1, "%s: {}", VolumeMongo)
	w(1, "%s: {}", VolumeEngine)
	return b.String()
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
