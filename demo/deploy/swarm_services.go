package deploy

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/swarm"
)

// swarmPlan is what UpSwarm settled before it walks the services.
type swarmPlan struct {
	self    string // topo's own image
	want    uint64 // app replicas to create with
	asked   int    // replicas the user asked for; 0: keep what runs
	ingress bool
	lacking map[string]bool // services with tasks that found no image
}

// keepService brings a service that exists to the plan: rolled over to
// new settings, its tasks restarted where they found no image, or the app
// scaled to the replicas asked for; else left alone.
func (d *Deployer) keepService(ctx context.Context, r *reporter, plan swarmPlan, svc string, s swarm.Service) error {
	key, title := "service "+svc, "service "+s.Spec.Name
	spec, err := d.serviceSpec(ctx, r, svc, plan.self, plan.want, plan.ingress)
	if err != nil {
		return err
	}
	if s.Spec.Labels[labelSpec] != spec.Labels[labelSpec] {
		// Other settings than asked for (another --lb-port, image,
		// or topo version): the swarm rolls the service over to the
		// new spec. The app keeps its replica count unless asked.
		if rep := s.Spec.Mode.Replicated; svc == ServiceApp && plan.asked == 0 && rep != nil && rep.Replicas != nil {
			spec.Mode.Replicated.Replicas = rep.Replicas
		}
		r.start(key, title)
		if _, err := d.swarm().ServiceUpdate(ctx, s.ID, s.Version, spec, swarm.ServiceUpdateOptions{}); err != nil {
			return r.fail(key, title, fmt.Errorf("update service %s to the settings asked for: %w", s.Spec.Name, err))
		}
		r.done(key, title, "updated: its settings changed")
		return nil
	}
	if plan.lacking[s.ID] {
		s.Spec.TaskTemplate.ForceUpdate++
		r.start(key, title)
		if _, err := d.swarm().ServiceUpdate(ctx, s.ID, s.Version, s.Spec, swarm.ServiceUpdateOptions{}); err != nil {
			return r.fail(key, title, fmt.Errorf("restart the tasks of service %s: %w", s.Spec.Name, err))
		}
		r.done(key, title, "tasks restarted: some had found no image on their node")
		return nil
	}
	rep := s.Spec.Mode.Replicated
	if svc != ServiceApp || plan.asked == 0 || rep == nil || rep.Replicas == nil || *rep.Replicas == plan.want {
		r.done(key, title, "exists")
		return nil
	}
	from, to := *rep.Replicas, plan.want
	rep.Replicas = &to
	if _, err := d.swarm().ServiceUpdate(ctx, s.ID, s.Version, s.Spec, swarm.ServiceUpdateOptions{}); err != nil {
		return r.fail(key, title, fmt.Errorf("scale service %s to %d: %w", s.Spec.Name, to, err))
	}
	r.done(key, title, fmt.Sprintf("scaled %d → %d", from, to))
	return nil
}

// createService creates a service the stack lacks.
func (d *Deployer) createService(ctx context.Context, r *reporter, plan swarmPlan, svc string) error {
	spec, err := d.serviceSpec(ctx, r, svc, plan.self, plan.want, plan.ingress)
	if err != nil {
		return err
	}
	if svc == ServiceLB {
		// nginx resolves consul's name as it starts, and exits when
		// that fails: the swarm would restart it, leaving a failed
		// task for the audience to wonder at.
		if err := d.waitServiceRunning(ctx, r, ServiceConsul, swarmConsulWait); err != nil {
			return err
		}
	}
	key, title := "service "+svc, "service "+spec.Name
	r.start(key, title)
	// No registry is asked for the image's digest: the images are the
	// nodes' own, and a registry may well be out of reach.
	if _, err := d.swarm().ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{QueryRegistry: false}); err != nil {
		return r.fail(key, title, fmt.Errorf("create service %s: %w", spec.Name, err))
	}
	r.done(key, title, "created")
	return nil
}
