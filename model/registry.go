package model

import (
	"errors"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrRegistryNotAnswering says a registry container was found but did not
// answer yet: typically a Consul that is still starting, which is worth
// asking again shortly.
var ErrRegistryNotAnswering = errors.New("found a consul container but none answered")

// CheckStatus is the state of a registry health check, as Consul names it.
type CheckStatus string

// The statuses a check can have. Consul reports maintenance as a critical
// check with a reserved ID; the adapter turns that into CheckMaintenance so
// the panel can tell "down on purpose" from "failing".
const (
	CheckPassing     CheckStatus = "passing"
	CheckWarning     CheckStatus = "warning"
	CheckCritical    CheckStatus = "critical"
	CheckMaintenance CheckStatus = "maintenance"
)

// severity ranks statuses so that the worst one wins an aggregate.
// Maintenance ranks worst, as in Consul's own aggregation: an instance in
// maintenance takes no traffic whatever its other checks say.
func (s CheckStatus) severity() int {
	switch s {
	case CheckPassing:
		return 0
	case CheckWarning:
		return 1
	case CheckCritical:
		return 2
	case CheckMaintenance:
		return 3
	}
	// An unknown status is treated as failing rather than hidden.
	return 2
}

// WorseStatus returns the worse of two statuses.
func WorseStatus(a, b CheckStatus) CheckStatus {
	if b.severity() > a.severity() {
		return b
	}
	return a
}

// Check is one health check of an instance.
type Check struct {
	ID     string      `json:"id"`
	Name   string      `json:"name"`
	Status CheckStatus `json:"status"`
	// Output is the first line of the check's last output: enough to say
	// why it fails without flooding the panel with an HTTP body.
	Output string `json:"output,omitempty"`
	// Node marks a node-level check (such as serfHealth): it applies to
	// every instance on that node.
	Node bool `json:"node,omitempty"`
}

// FirstLine cuts a check's output to its first non-empty line, trimmed.
func FirstLine(output string) string {
	for _, line := range strings.Split(output, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}

// Instance is one registered instance of a service.
type Instance struct {
	ID      string `json:"id"`
	Service string `json:"service"`
	// Address is the service's own address; empty means the node's address,
	// as in Consul.
	Address     string            `json:"address,omitempty"`
	Port        int               `json:"port,omitempty"`
	Node        string            `json:"node"`
	NodeAddress string            `json:"node_address,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	Meta        map[string]string `json:"meta,omitempty"`
	Checks      []Check           `json:"checks,omitempty"`
}

// Key identifies an instance across the registry: instance IDs are only
// unique per node.
func (i Instance) Key() string { return i.Node + "/" + i.ID }

// EffectiveAddress is the address clients are given: the service address,
// else the node's.
func (i Instance) EffectiveAddress() string {
	if i.Address != "" {
		return i.Address
	}
	return i.NodeAddress
}

// HostPort renders address:port (IPv6 in brackets); just the address when
// the instance has no port.
func (i Instance) HostPort() string {
	addr := i.EffectiveAddress()
	if i.Port == 0 {
		return addr
	}
	return net.JoinHostPort(addr, strconv.Itoa(i.Port))
}

// Health aggregates the instance's checks: the worst status wins, and an
// instance without checks is passing, as Consul treats it.
func (i Instance) Health() CheckStatus {
	h := CheckPassing
	for _, c := range i.Checks {
		h = WorseStatus(h, c.Status)
	}
	return h
}

// Service is one registered service and its instances.
type Service struct {
	Name string   `json:"name"`
	Tags []string `json:"tags,omitempty"`
	// Instances are sorted by node then ID.
	Instances []Instance `json:"instances"`
}

// HealthCounts counts a service's instances by aggregate health.
type HealthCounts struct {
	Passing     int `json:"passing"`
	Warning     int `json:"warning"`
	Critical    int `json:"critical"`
	Maintenance int `json:"maintenance,omitempty"`
}

// Counts counts the service's instances by their aggregate health.
func (s Service) Counts() HealthCounts {
	var n HealthCounts
	for _, in := range s.Instances {
		switch in.Health() {
		case CheckPassing:
			n.Passing++
		case CheckWarning:
			n.Warning++
		case CheckMaintenance:
			n.Maintenance++
		default:
			n.Critical++
		}
	}
	return n
}

// Registry is one snapshot of the service registry. The adapter hands out a
// new value for every change and never modifies one it has handed out, so a
// holder may keep it and share its slices; nobody may write to them.
type Registry struct {
	// Name tells registries apart when topo follows several (see
	// Registries); empty when it follows one.
	Name string `json:"name,omitempty"`
	// Addr is the agent's HTTP address (host:port).
	Addr string `json:"addr,omitempty"`
	// ComposeProject and ComposeService are those of the container the
	// registry was found in, if any: a container of that project that
	// names the service as its registry means this one, whatever Name
	// topo had to give it (two projects may each run an infra-consul).
	ComposeProject string `json:"compose_project,omitempty"`
	ComposeService string `json:"compose_service,omitempty"`
	// Source says how topo found the registry, for the status bar:
	// "--consul 127.0.0.1:8500", "CONSUL_HTTP_ADDR 10.0.0.5:8500",
	// "auto: container consul-1 (published 127.0.0.1:8500)".
	Source     string `json:"source,omitempty"`
	Datacenter string `json:"datacenter,omitempty"`
	Leader     string `json:"leader,omitempty"`
	// LastIndex is the highest Consul index behind the data.
	LastIndex uint64 `json:"last_index,omitempty"`
	// FetchedAt is when the registry last answered. While Error is empty
	// the watch is live and the data current whatever FetchedAt says
	// (blocking queries only answer on change); once Error is set it says
	// how old the kept data is.
	FetchedAt time.Time `json:"fetched_at"`
	// Error says what is wrong with the watch, for a person; the data
	// kept is the last good one.
	Error      string    `json:"error,omitempty"`
	ErrorSince time.Time `json:"error_since"`
	// Services are sorted by name.
	Services []Service `json:"services"`
}

// Live reports whether the registry has answered and the watch has no error.
func (r Registry) Live() bool { return r.Error == "" && !r.FetchedAt.IsZero() }

// Age is how long ago the registry last answered; zero before it ever has.
func (r Registry) Age(now time.Time) time.Duration {
	if r.FetchedAt.IsZero() {
		return 0
	}
	return now.Sub(r.FetchedAt)
}

// ErrorAge is how long the current error has lasted; zero without one.
func (r Registry) ErrorAge(now time.Time) time.Duration {
	if r.Error == "" || r.ErrorSince.IsZero() {
		return 0
	}
	return now.Sub(r.ErrorSince)
}

// Service looks a service up by name.
func (r Registry) Service(name string) (Service, bool) {
	i := sort.Search(len(r.Services), func(i int) bool { return r.Services[i].Name >= name })
	if i < len(r.Services) && r.Services[i].Name == name {
		return r.Services[i], true
	}
	return Service{}, false
}

// Instance looks an instance up by its Key.
func (r Registry) Instance(key string) (Instance, bool) {
	for _, s := range r.Services {
		for _, in := range s.Instances {
			if in.Key() == key {
				return in, true
			}
		}
	}
	return Instance{}, false
}

// InstanceCount counts the instances of every service.
func (r Registry) InstanceCount() int {
	n := 0
	for _, s := range r.Services {
		n += len(s.Instances)
	}
	return n
}
