package registry

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/topo-dev/topo/model"
)

// ParseConsulFlag reads one --consul value: NAME=ADDR names the registry
// (the name a container's topo.registry label refers to), a bare ADDR is
// named by itself.
func ParseConsulFlag(value string) (Target, error) {
	value = strings.TrimSpace(value)
	name, addr := value, value
	// A name is a plain word: an address with a scheme or query may hold
	// '=' itself.
	if n, a, ok := strings.Cut(value, "="); ok && n != "" && !strings.ContainsAny(n, ":/?") {
		name, addr = n, a
	}
	if addr == "" {
		return Target{}, fmt.Errorf("--consul %q: no address: write --consul ADDR or --consul NAME=ADDR", value)
	}
	return Target{Name: name, Addr: addr, Source: "--consul " + value, Named: true}, nil
}

// FindAll decides every registry to follow: each --consul value (the flag
// may be repeated), else CONSUL_HTTP_ADDR, else every Consul on the engine
// that answers (DetectAll). Names must differ, since labels refer to
// registries by name. Find remains for a caller that follows one.
func FindAll(ctx context.Context, flagAddrs []string, topo model.Topology, engineHost string, tunnel Tunnel) ([]Target, error) {
	if len(flagAddrs) > 0 {
		var out []Target
		seen := map[string]bool{}
		for _, v := range flagAddrs {
			t, err := ParseConsulFlag(v)
			if err != nil {
				return nil, err
			}
			if seen[t.Name] {
				return nil, fmt.Errorf("--consul %q: the name %s is given twice: name each registry once (--consul NAME=ADDR)", v, t.Name)
			}
			seen[t.Name] = true
			out = append(out, t)
		}
		return out, nil
	}
	if env := os.Getenv("CONSUL_HTTP_ADDR"); env != "" {
		return []Target{{Name: env, Addr: env, Source: "CONSUL_HTTP_ADDR " + env, Named: true}}, nil
	}
	return DetectAll(ctx, topo, DefaultProbeTimeout, engineHost, tunnel)
}

// DetectAll is Detect for every Consul container on the engine rather than
// the first: each container's addresses are probed in Detect's order of
// preference (the containers at once), and each container that answers
// somewhere is a registry, named by its compose service when that is
// unique among them, else by its container name. The order is Detect's
// (labelled registries first, then by name). The error wraps
// ErrNoRegistry when none answers, listing what was tried.
func DetectAll(ctx context.Context, topo model.Topology, timeout time.Duration, engineHost string, tunnel Tunnel) ([]Target, error) {
	found := registryContainers(topo)
	if len(found) == 0 {
		return nil, ErrNoRegistry
	}
	type result struct {
		target Target
		tried  []string
		ok     bool
	}
	results := make([]result, len(found))
	var wg sync.WaitGroup
	for i, c := range found {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			var cands []candidate
			// As in Detect: over ssh no container address is dialled
			// here, and an address that refused is reachable (a Consul
			// still starting), so the tunnel would find the same.
			if engineHost != OnlyThroughEngine {
				cands = candidates([]model.Container{c}, engineHost)
			}
			var errs []error
			if len(cands) > 0 {
				var t Target
				if t, errs = probeAll(ctx, cands, timeout); errs == nil {
					r.target, r.ok = t, true
					return
				}
				for j, cand := range cands {
					r.tried = append(r.tried, cand.addr+": "+shortErr(errs[j]))
				}
			}
			if tunnel != nil && !anyRefused(errs) {
				name := displayName(c)
				t := Target{Addr: loopbackConsul, Source: "auto: container " + name + " (through the engine)", Through: c.ID, Tunnel: tunnel, Container: c.ID}
				if err := probeTarget(ctx, t, tunnelProbeTimeout); err != nil {
					r.tried = append(r.tried, name+" through the engine: "+shortErr(err))
					return
				}
				r.target, r.ok = t, true
			}
		}()
	}
	wg.Wait()
	services := map[string]int{}
	for _, c := range found {
		if s := c.Service(); s != "" {
			services[s]++
		}
	}
	var out []Target
	var tried []string
	for i, r := range results {
		if !r.ok {
			tried = append(tried, r.tried...)
			continue
		}
		c := found[i]
		r.target.ComposeProject, r.target.ComposeService = c.Project(), c.Service()
		r.target.Name = displayName(c)
		if s := c.Service(); s != "" && services[s] == 1 {
			r.target.Name = s
		}
		out = append(out, r.target)
	}
	if len(out) > 0 {
		return out, nil
	}
	if len(tried) == 0 {
		return nil, ErrNoRegistry
	}
	return nil, fmt.Errorf("%w (%w: %s)", ErrNoRegistry, model.ErrRegistryNotAnswering, strings.Join(tried, "; "))
}
