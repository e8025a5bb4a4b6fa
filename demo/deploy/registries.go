package deploy

import (
	"context"
	"fmt"
	"strconv"
)

// The demo's second registry (topo demo up --registries 2), the talk's
// point made on stage: one registry for the micro-services' internal
// topology (consul: the app instances, registered by the registrator as
// they come and go), another for the infrastructure (infra-consul: the
// load balancer and the database, declared once in its configuration,
// since they do not move). topo follows both, each in a section of its
// own.
const (
	ServiceInfraConsul = "infra-consul"
	// MaxRegistries is how many registries the demo can deploy.
	MaxRegistries = 2
	// LabelRegistry names the registry a container belongs in (the
	// model's topo.registry): on the infrastructure's containers, so that
	// topo flags one registered elsewhere.
	LabelRegistry = "topo.registry"
)

// infraServices are the services infra-consul holds, with their port.
var infraServices = []struct {
	service string
	port    int
}{{ServiceLB, 80}, {ServiceMongo, mongoPort}}

// ValidateRegistries checks --registries before anything is touched.
func ValidateRegistries(n int) error {
	if n < 0 || n > MaxRegistries {
		return fmt.Errorf("%w: --registries %d: the demo deploys 1 registry (consul) or 2 (consul for the app instances, infra-consul for the load balancer and the database)", ErrBadInput, n)
	}
	return nil
}

// infraConsulSpec is the second registry's container: a Consul dev agent
// that declares the lb and mongo, each checked over TCP by its name on
// the project's networks. Instance IDs are <container>:<port>, the
// registrator's convention, which is how topo ties each to its container.
func (d *Deployer) infraConsulSpec() spec {
	s := spec{Service: ServiceInfraConsul, Number: 1, Name: d.ContainerName(ServiceInfraConsul, 1), Aliases: []string{ServiceInfraConsul}}
	s.Image = d.opts.Images.Consul
	s.Cmd = []string{"agent", "-dev", "-client", "0.0.0.0", "-bind", "0.0.0.0", "-advertise", "127.0.0.1", "-datacenter", "infra"}
	for _, svc := range infraServices {
		name := d.ContainerName(svc.service, 1)
		s.Cmd = append(s.Cmd, "-hcl", fmt.Sprintf(`service { id = %q name = %q address = %q port = %d check { id = %q name = "tcp" tcp = "%s:%d" interval = "2s" timeout = "1s" } }`,
			name+":"+strconv.Itoa(svc.port), svc.service, svc.service, svc.port, svc.service+"-tcp", svc.service, svc.port))
	}
	s.Exposed = []int{consulHTTP}
	// On both networks: the lb is on front only, mongo on back only, and
	// the agent checks each by its name.
	s.Networks = []string{d.NetworkName(NetworkFront), d.NetworkName(NetworkBack)}
	// Nothing published, no root: the agent listens on unprivileged
	// ports, keeps its state in memory (-dev) and writes only under /tmp,
	// a tmpfs, so no capability and a read-only root are enough.
	s.Locked, s.User, s.MemoryMiB, s.Pids = true, unprivileged, 256, 256
	s.Tmpfs = []string{"/tmp"}
	s.Labels = map[string]string{labelRole: roleRegistry}
	return s
}

// infraLabels are the labels a service's containers carry with two
// registries: the infrastructure names infra-consul, so that topo flags
// it when registered elsewhere. None with one registry, so that a deploy
// of one leaves the specs (and so the containers) as they always were.
func infraLabels(service string, registries int) map[string]string {
	if registries < 2 {
		return nil
	}
	for _, svc := range infraServices {
		if svc.service == service {
			return map[string]string{LabelRegistry: ServiceInfraConsul}
		}
	}
	return nil
}

// ensureRegistries brings the second registry to what was asked: created
// or kept with two, removed with one (a deploy of one after one of two).
func (d *Deployer) ensureRegistries(ctx context.Context, r *reporter, registries int, existing map[string][]instance) error {
	if registries >= 2 {
		_, err := d.ensureContainer(ctx, r, d.infraConsulSpec(), first(existing[ServiceInfraConsul]))
		return err
	}
	for _, c := range existing[ServiceInfraConsul] {
		if err := d.removeInstance(ctx, r, c); err != nil {
			return err
		}
	}
	return nil
}

// deployedRegistries says how many registries the project runs: 2 when
// infra-consul is there.
func deployedRegistries(existing map[string][]instance) int {
	if len(existing[ServiceInfraConsul]) > 0 {
		return 2
	}
	return 1
}
