package registrator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/hashicorp/consul/api"
)

// resync registers every running container that should be, and removes
// the entries this registrator owns (its name and its engine's host in the
// meta) that no running container accounts for.
func (r *registrator) resync(ctx context.Context) error {
	opts := container.ListOptions{}
	if r.cfg.Label != "" {
		opts.Filters = filters.NewArgs(filters.Arg("label", r.cfg.Label))
	}
	running, err := r.engine.ContainerList(ctx, opts)
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	want := map[string]entry{}
	known := map[string]bool{}
	for _, s := range running {
		c, err := r.engine.ContainerInspect(ctx, s.ID)
		if client.IsErrNotFound(err) {
			continue // removed since the list: its destroy event follows
		}
		if err != nil {
			return fmt.Errorf("inspect container %.12s: %w", s.ID, err)
		}
		known[c.ID] = r.candidate(c)
		reg, err := r.desired(c)
		if errors.Is(err, errSkip) {
			r.log.Warn(err.Error())
			continue
		}
		if reg != nil {
			want[c.ID] = entry{serviceID: reg.ID, reg: reg}
		}
	}

	filter := fmt.Sprintf("Meta.%s == %q", MetaRegistrator, RegistratorName)
	have, err := r.agent.ServicesWithFilterOpts(filter, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return consulError("list the agent's services", err)
	}
	wanted := map[string]bool{}
	for _, e := range want {
		wanted[e.serviceID] = true
	}
	removed := 0
	for id, svc := range have {
		if svc.Meta[MetaHost] != r.host || wanted[id] {
			continue
		}
		if err := r.deregister(ctx, id, r.whyStale(ctx, svc)); err != nil {
			return err
		}
		removed++
	}
	added := 0
	for _, e := range want {
		if sameService(have[e.serviceID], e.reg) {
			continue
		}
		if err := r.register(ctx, e.reg); err != nil {
			return err
		}
		added++
	}
	r.owned, r.known = want, known
	r.log.Debug("resynced", "services", len(want), "registered", added, "deregistered", removed)
	return nil
}

// whyStale says, for the log, why an owned entry is being removed.
func (r *registrator) whyStale(ctx context.Context, svc *api.AgentService) string {
	id := svc.Meta[MetaContainerID]
	if id == "" {
		return "no container id in its meta"
	}
	c, err := r.engine.ContainerInspect(ctx, id)
	switch {
	case client.IsErrNotFound(err):
		return "container gone"
	case err != nil || c.State == nil:
		return "container not running"
	case !c.State.Running:
		return "container " + c.State.Status
	}
	return "container no longer registrable"
}

// sameRegistration compares two registrations made by this package.
func sameRegistration(a, b *api.AgentServiceRegistration) bool {
	if !sameService(&api.AgentService{Service: a.Name, Address: a.Address, Port: a.Port, Tags: a.Tags, Meta: a.Meta}, b) {
		return false
	}
	if (a.Check == nil) != (b.Check == nil) {
		return false
	}
	return a.Check == nil || a.Check.HTTP == b.Check.HTTP && a.Check.Interval == b.Check.Interval &&
		a.Check.Timeout == b.Check.Timeout && a.Check.Name == b.Check.Name
}

// consulError wraps a failed Consul call, saying what to do about the one
// failure a person can fix here: a missing or weak ACL token.
func consulError(op string, err error) error {
	var se api.StatusError
	if errors.As(err, &se) && se.Code == http.StatusForbidden {
		return fmt.Errorf("consul: %s: permission denied: set CONSUL_HTTP_TOKEN to a token with service:write and agent:read: %w", op, err)
	}
	return fmt.Errorf("consul: %s: %w", op, err)
}

func hostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		return fmt.Sprintf("[%s]:%d", host, port)
	}
	return fmt.Sprintf("%s:%d", host, port)
}
