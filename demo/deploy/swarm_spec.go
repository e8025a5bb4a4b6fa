package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
)

// serviceSpec turns the single-engine spec of a service into a Swarm
// service, so both modes run the same images, commands and settings.
//
// With ingress (the manager's kernel has IPVS) the load balancer gets a
// virtual IP and is published through the routing mesh, on every node;
// without, it is published with mode=host on a manager. Consul's HTTP
// port is published with mode=host on a manager either way, so that topo
// and `topo demo status`, outside the overlay, can read the registry.
func (d *Deployer) serviceSpec(ctx context.Context, r *reporter, service, self string, replicas uint64, ingress bool) (swarm.ServiceSpec, error) {
	s := d.specFor(service, 1, self)
	labels := d.stackLabels(map[string]string{LabelService: service})
	cs, err := d.swarmContainer(ctx, r, service, s, labels)
	if err != nil {
		return swarm.ServiceSpec{}, err
	}
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: d.ServiceName(service), Labels: maps.Clone(labels)},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: cs,
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny, Delay: durationPtr(swarmRestartDelay)},
		},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
	}
	if s.MemoryMiB > 0 || s.Pids > 0 {
		spec.TaskTemplate.Resources = &swarm.ResourceRequirements{Limits: &swarm.Limit{MemoryBytes: s.MemoryMiB << 20, Pids: s.Pids}}
	}
	for _, n := range s.Networks {
		spec.TaskTemplate.Networks = append(spec.TaskTemplate.Networks, swarm.NetworkAttachmentConfig{Target: n, Aliases: s.Aliases})
	}
	d.swarmSchedule(&spec, service, s, replicas)
	d.swarmPlacement(&spec, service, s, ingress)
	if err := hashSpec(&spec); err != nil {
		return swarm.ServiceSpec{}, err
	}
	return spec, nil
}

// swarmContainer is the container of a service's tasks: the single-engine
// spec's image, command, health, rights, mounts and files (as configs).
// The containers carry the labels too: the registrator selects them by
// the project label, and topo groups them by it.
func (d *Deployer) swarmContainer(ctx context.Context, r *reporter, service string, s spec, labels map[string]string) (*swarm.ContainerSpec, error) {
	cs := &swarm.ContainerSpec{
		Image: s.Image, Args: s.Cmd, Env: s.Env, Labels: labels,
		StopGracePeriod: durationPtr(stopTimeout * time.Second),
	}
	if service == ServiceApp {
		// One name per replica, which the app answers in X-Served-By.
		for i, e := range cs.Env {
			if strings.HasPrefix(e, "INSTANCE_NAME=") {
				cs.Env[i] = "INSTANCE_NAME={{.Service.Name}}.{{.Task.Slot}}"
			}
		}
	}
	if len(s.Health) > 0 {
		cs.Healthcheck = healthConfig(s.Health)
	}
	cs.User = s.User
	if s.Locked {
		cs.CapabilityDrop = []string{"ALL"}
		cs.CapabilityAdd = s.CapAdd
		cs.ReadOnly = true
		// Honoured by engines from API 1.44 on; older ones drop it, and
		// then what stands in for it is that topo's image has no setuid
		// binary and these containers keep no capability to gain.
		cs.Privileges = &swarm.Privileges{NoNewPrivileges: true}
	}
	for _, m := range s.Mounts {
		mt := parseMount(m)
		if mt.Type == mount.TypeVolume {
			short := strings.TrimPrefix(mt.Source, d.opts.Project+"_")
			mt.VolumeOptions = &mount.VolumeOptions{Labels: d.stackLabels(map[string]string{LabelVolume: short, LabelComposeV: composeVersion})}
		}
		cs.Mounts = append(cs.Mounts, mt)
	}
	files := slices.Sorted(maps.Keys(s.Files))
	for _, file := range files {
		ref, err := d.ensureConfig(ctx, r, service, file, s.Files[file])
		if err != nil {
			return nil, err
		}
		cs.Configs = append(cs.Configs, ref)
	}
	return cs, nil
}

// swarmSchedule sets how many tasks a service runs and how an update
// replaces them.
func (d *Deployer) swarmSchedule(svc *swarm.ServiceSpec, service string, s spec, replicas uint64) {
	// Updates (a rolling restart, new settings) replace one task at a
	// time, watched for a second rather than the default five, and go on
	// past a failed one: on stage a paused update is an unexplained stall.
	svc.UpdateConfig = &swarm.UpdateConfig{Parallelism: 1, Monitor: time.Second, FailureAction: swarm.UpdateFailureActionContinue}
	if service == ServiceApp || service == ServiceRegistrator || service == ServiceEngineProxy {
		// The new task starts before the old one stops: the app keeps its
		// capacity through a rolling restart, and a task stuck pulling an
		// image that is not there (offline, until the pull times out) does
		// not hold up its replacement. The single-instance services keep
		// stop-first: a published port or a volume cannot be shared.
		svc.UpdateConfig.Order = swarm.UpdateOrderStartFirst
	}
	switch service {
	case ServiceRegistrator:
		// Every node's at once: each resyncs the registry as it starts.
		svc.UpdateConfig.Parallelism = 0
		// A registrator sees only its own engine's containers: one per node.
		// It registers them with their IP on front, which every node's
		// nginx reaches over the overlay.
		svc.TaskTemplate.Networks = append(svc.TaskTemplate.Networks,
			swarm.NetworkAttachmentConfig{Target: d.NetworkName(NetworkFront), Aliases: s.Aliases})
		svc.Mode = swarm.ServiceMode{Global: &swarm.GlobalService{}}
	case ServiceEngineProxy:
		// Beside every registrator, on its node: the socket volume is a
		// node's local volume, so each registrator meets its own node's
		// proxy there, and no proxy is reachable over any network.
		svc.UpdateConfig.Parallelism = 0
		svc.Mode = swarm.ServiceMode{Global: &swarm.GlobalService{}}
	default:
		n := uint64(1)
		if service == ServiceApp {
			n = replicas
		}
		svc.Mode = swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &n}}
	}
}

// swarmPlacement pins the services that must run on a manager and
// publishes the load balancer.
func (d *Deployer) swarmPlacement(svc *swarm.ServiceSpec, service string, s spec, ingress bool) {
	onManager := &swarm.Placement{Constraints: []string{"node.role==manager"}}
	switch service {
	case ServiceMongo:
		// mongo's volume is a node's local volume: it must come back on
		// the same kind of node, and `down --volumes` on the manager finds
		// it.
		svc.TaskTemplate.Placement = onManager
	case ServiceConsul:
		// On a manager, so that topo, which speaks to a manager, reaches
		// its task through the engine (Options.Tunnel). It publishes
		// nothing: a dev agent has no ACL, and a published 8500 let anyone
		// on the manager's network register a fake app and take the load
		// balancer's traffic.
		svc.TaskTemplate.Placement = onManager
	case ServiceLB:
		mode := swarm.PortConfigPublishModeIngress
		if ingress {
			svc.EndpointSpec.Mode = swarm.ResolutionModeVIP
		} else {
			// Published on the node the user's client talks to.
			mode = swarm.PortConfigPublishModeHost
			svc.TaskTemplate.Placement = onManager
		}
		for port := range s.Publish {
			svc.EndpointSpec.Ports = append(svc.EndpointSpec.Ports, swarm.PortConfig{
				Protocol: swarm.PortConfigProtocolTCP, TargetPort: uint32(port), PublishedPort: uint32(d.opts.LBPort),
				PublishMode: mode,
			})
		}
	}
}

// hashSpec labels a service with the hash of its spec: a later up
// compares it to find a service deployed with other settings. Replicas
// are not settings (scaling changes them), so they are left out of it.
func hashSpec(svc *swarm.ServiceSpec) error {
	hashed := *svc
	hashed.Mode = swarm.ServiceMode{Global: svc.Mode.Global}
	b, err := json.Marshal(hashed)
	if err != nil {
		return fmt.Errorf("hash the spec of service %s: %w", svc.Name, err)
	}
	sum := sha256.Sum256(b)
	svc.Labels[labelSpec] = hex.EncodeToString(sum[:])[:16]
	return nil
}

func durationPtr(d time.Duration) *time.Duration { return &d }

// ensureConfig stores a file of a service as a Swarm config (the
// single-engine deployer copies it into the container instead). Configs
// cannot change, so the name carries a hash of the content.
func (d *Deployer) ensureConfig(ctx context.Context, r *reporter, service, file, content string) (*swarm.ConfigReference, error) {
	short := service + "_" + strings.ReplaceAll(strings.TrimPrefix(file, "/"), "/", "_")
	name := d.opts.Project + "_" + short + "_" + spec{Files: map[string]string{file: content}}.hash()[:8]
	key, title := "config "+short, "config "+name
	ref := &swarm.ConfigReference{
		ConfigName: name,
		File:       &swarm.ConfigReferenceFileTarget{Name: file, UID: "0", GID: "0", Mode: 0o444},
	}
	list, err := d.swarm().ConfigList(ctx, swarm.ConfigListOptions{Filters: filters.NewArgs(filters.Arg("name", name))})
	if err != nil {
		return nil, r.fail(key, title, fmt.Errorf("list configs: %w", err))
	}
	for _, c := range list {
		if c.Spec.Name == name {
			// The name's hash is short: a config of that name that topo
			// did not make may hold another file, which the load balancer
			// would then serve.
			if c.Spec.Labels[LabelOwner] != OwnerTopo || c.Spec.Labels[LabelStack] != d.opts.Project {
				return nil, r.fail(key, title, fmt.Errorf("config %s exists but topo did not create it for stack %s: remove it (docker config rm %s) or choose another --project", name, d.opts.Project, name))
			}
			ref.ConfigID = c.ID
			r.done(key, title, "exists")
			return ref, nil
		}
	}
	resp, err := d.swarm().ConfigCreate(ctx, swarm.ConfigSpec{
		Annotations: swarm.Annotations{Name: name, Labels: d.stackLabels(map[string]string{LabelService: service})},
		Data:        []byte(content),
	})
	if err != nil {
		return nil, r.fail(key, title, fmt.Errorf("create config %s: %w", name, err))
	}
	ref.ConfigID = resp.ID
	r.done(key, title, "created")
	return ref, nil
}
