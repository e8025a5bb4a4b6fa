package registrator

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/hashicorp/consul/api"
)

// drop deregisters the container's entry, if it has one.
func (r *registrator) drop(ctx context.Context, id, why string) error {
	prev, ok := r.owned[id]
	if !ok {
		return nil
	}
	if err := r.deregister(ctx, prev.serviceID, why); err != nil {
		return err
	}
	delete(r.owned, id)
	return nil
}

func (r *registrator) register(ctx context.Context, reg *api.AgentServiceRegistration) error {
	// ReplaceExistingChecks drops a check the container no longer asks
	// for, so that a re-registration leaves exactly what it describes.
	opts := api.ServiceRegisterOpts{ReplaceExistingChecks: true}.WithContext(ctx)
	if err := r.agent.ServiceRegisterOpts(reg, opts); err != nil {
		var se api.StatusError
		if errors.As(err, &se) && se.Code == http.StatusBadRequest {
			// Consul refuses this registration, not every registration:
			// starting over would fail on it forever and stall the rest.
			r.log.Error(fmt.Sprintf("consul refused to register %s", reg.ID), "err", err)
			return nil
		}
		return consulError("register "+reg.ID, err)
	}
	attrs := []any{"id", reg.ID, "container", reg.Meta[MetaContainerID][:min(12, len(reg.Meta[MetaContainerID]))]}
	if reg.Check != nil {
		attrs = append(attrs, "check", reg.Check.HTTP, "interval", reg.Check.Interval)
	}
	r.log.Info(fmt.Sprintf("registered %s as %s at %s", reg.Meta[MetaContainerName], reg.Name, hostPort(reg.Address, reg.Port)), attrs...)
	return nil
}

func (r *registrator) deregister(ctx context.Context, serviceID, why string) error {
	err := r.agent.ServiceDeregisterOpts(serviceID, (&api.QueryOptions{}).WithContext(ctx))
	var se api.StatusError
	if errors.As(err, &se) && se.Code == 404 {
		// Already gone (the agent restarted, or someone removed it): the
		// goal is reached.
		err = nil
	}
	if err != nil {
		return consulError("deregister "+serviceID, err)
	}
	r.log.Info(fmt.Sprintf("deregistered %s (%s)", serviceID, why))
	return nil
}
