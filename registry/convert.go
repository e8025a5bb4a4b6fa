package registry

import (
	"sort"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/topo-dev/topo/model"
)

// Consul's maintenance mode is a critical check with a reserved ID.
const (
	nodeMaintenanceID      = "_node_maintenance"
	serviceMaintenancePref = "_service_maintenance:"
)

// toInstances converts a health answer. Empty maps and slices become nil
// and everything is sorted, so that two answers with the same content
// compare equal and an unchanged service is not redrawn.
func toInstances(entries []*api.ServiceEntry) []model.Instance {
	out := make([]model.Instance, 0, len(entries))
	for _, e := range entries {
		if e == nil || e.Service == nil {
			continue
		}
		in := model.Instance{
			ID:      e.Service.ID,
			Service: e.Service.Service,
			Address: e.Service.Address,
			Port:    e.Service.Port,
			Tags:    nonEmpty(e.Service.Tags),
		}
		if len(e.Service.Meta) > 0 {
			in.Meta = e.Service.Meta
		}
		if e.Node != nil {
			in.Node, in.NodeAddress = e.Node.Node, e.Node.Address
		}
		for _, c := range e.Checks {
			if c == nil {
				continue
			}
			status := model.CheckStatus(c.Status)
			if c.CheckID == nodeMaintenanceID || strings.HasPrefix(c.CheckID, serviceMaintenancePref) {
				status = model.CheckMaintenance
			}
			in.Checks = append(in.Checks, model.Check{
				ID:     c.CheckID,
				Name:   c.Name,
				Status: status,
				Output: model.FirstLine(c.Output),
				Node:   c.ServiceID == "",
			})
		}
		// Node checks first: when the node fails, that is the cause.
		sort.SliceStable(in.Checks, func(i, j int) bool {
			a, b := in.Checks[i], in.Checks[j]
			if a.Node != b.Node {
				return a.Node
			}
			return a.ID < b.ID
		})
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Node != out[j].Node {
			return out[i].Node < out[j].Node
		}
		return out[i].ID < out[j].ID
	})
	if len(out) == 0 {
		return nil
	}
	return out
}

func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
