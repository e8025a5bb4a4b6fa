package docker

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/topo-dev/topo/model"
)

// updateRetries bounds the retries of an update that lost a race with
// another writer (the swarm refuses a stale version).
const updateRetries = 3

// Scale sets a replicated service's replica count.
func (s *Swarm) Scale(ctx context.Context, service string, replicas uint64) error {
	return s.updateService(ctx, service, fmt.Sprintf("scale %s to %d", service, replicas), func(spec *swarm.ServiceSpec) error {
		if spec.Mode.Replicated == nil {
			return fmt.Errorf("it is a %s service: only replicated services have a replica count (a global one runs on every active node: drain or activate nodes instead)", modeName(spec.Mode))
		}
		spec.Mode.Replicated.Replicas = &replicas
		return nil
	})
}

// Restart replaces every task of a service, one by one as its update
// config says, by bumping ForceUpdate (what `docker service update
// --force` does).
func (s *Swarm) Restart(ctx context.Context, service string) error {
	return s.updateService(ctx, service, "restart "+service, func(spec *swarm.ServiceSpec) error {
		spec.TaskTemplate.ForceUpdate++
		return nil
	})
}

func modeName(m swarm.ServiceMode) string {
	switch {
	case m.Global != nil:
		return "global"
	case m.ReplicatedJob != nil:
		return "replicated-job"
	case m.GlobalJob != nil:
		return "global-job"
	}
	return "replicated"
}

func (s *Swarm) updateService(ctx context.Context, ref, what string, change func(*swarm.ServiceSpec) error) error {
	for attempt := 0; ; attempt++ {
		svc, _, err := s.api.ServiceInspectWithRaw(ctx, ref, swarm.ServiceInspectOptions{})
		if err != nil {
			return s.objectError(ctx, what, "service", err)
		}
		spec := svc.Spec
		if err := change(&spec); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		// QueryRegistry stays false: the image was resolved at create,
		// and asking a registry here would fail offline.
		_, err = s.api.ServiceUpdate(ctx, svc.ID, svc.Version, spec, swarm.ServiceUpdateOptions{})
		if err == nil {
			return nil
		}
		if isOutOfSequence(err) && attempt < updateRetries {
			continue
		}
		return s.objectError(ctx, what, "service", err)
	}
}

// SetAvailability drains, pauses or activates a node.
func (s *Swarm) SetAvailability(ctx context.Context, node string, a model.NodeAvailability) error {
	what := fmt.Sprintf("set node %s to %s", node, a)
	switch a {
	case model.AvailabilityActive, model.AvailabilityDrain, model.AvailabilityPause:
	default:
		return fmt.Errorf("%s: unknown availability (use active, drain or pause)", what)
	}
	for attempt := 0; ; attempt++ {
		n, _, err := s.api.NodeInspectWithRaw(ctx, node)
		if err != nil {
			return s.objectError(ctx, what, "node", err)
		}
		spec := n.Spec
		spec.Availability = swarm.NodeAvailability(a)
		err = s.api.NodeUpdate(ctx, n.ID, n.Version, spec)
		if err == nil {
			return nil
		}
		if isOutOfSequence(err) && attempt < updateRetries {
			continue
		}
		return s.objectError(ctx, what, "node", err)
	}
}

func isOutOfSequence(err error) bool {
	return strings.Contains(err.Error(), "update out of sequence")
}

// objectError says why an action failed in terms of what to do next.
func (s *Swarm) objectError(ctx context.Context, what, kind string, err error) error {
	switch {
	case client.IsErrNotFound(err):
		list := "docker service ls"
		if kind == "node" {
			list = "docker node ls"
		}
		return fmt.Errorf("%s: no such %s on the swarm (%s on a manager lists them)", what, kind, list)
	case strings.Contains(err.Error(), "not a swarm manager"):
		if _, rerr := s.role(ctx); rerr != nil {
			return fmt.Errorf("%s: %w", what, rerr)
		}
	}
	return fmt.Errorf("%s: %w", what, s.explainIfDown(err))
}
