package deploy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/topo-dev/topo/demo/registrator"
	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/registry"
)

// The host reaches the demo's consul at its container address: only the
// load balancer is published. That works wherever the engine's bridge
// networks are routed from the host (Linux); elsewhere (Docker Desktop)
// the registry's health is reported as unreachable, never guessed.

// registryAt is where the deployer reads the demo's consul: an address
// this machine dials, or, with via set, the loopback of container via,
// reached through the engine (Options.Tunnel).
type registryAt struct {
	addr string // host:port
	via  string // container ID
	name string // its name, for a person
}

func (r registryAt) String() string {
	if r.via == "" {
		return r.addr
	}
	return r.addr + " in " + r.name + " (through the engine)"
}

// consulEndpoint returns where this machine reaches the demo's consul:
// its address on a project network when one answers, else (with a tunnel)
// its own loopback through the engine.
func (d *Deployer) consulEndpoint(ctx context.Context) (registryAt, error) {
	byService, err := d.containers(ctx)
	if err != nil {
		return registryAt{}, err
	}
	c := first(byService[ServiceConsul])
	if c == nil {
		return registryAt{}, fmt.Errorf("project %s has no consul container: run `topo demo up`", d.opts.Project)
	}
	if c.State != "running" {
		return registryAt{}, fmt.Errorf("%s is %s: run `topo demo up` to start it", c.Name, c.State)
	}
	return d.consulIn(ctx, c.ID, c.Name)
}

// consulIn finds how to reach the consul of container id: an address on
// a project network, else through the tunnel.
func (d *Deployer) consulIn(ctx context.Context, id, name string) (registryAt, error) {
	in, err := d.api.ContainerInspect(ctx, id)
	if err != nil {
		return registryAt{}, fmt.Errorf("inspect %s: %w", name, err)
	}
	var tried []string
	// A remote engine's container addresses are the remote's: dialled
	// from here they time out, or reach this machine's own network of
	// the same range.
	direct := []string{d.NetworkName(NetworkBack), d.NetworkName(NetworkFront)}
	if d.remoteHost() != "" {
		direct = nil
	}
	for _, n := range direct {
		ep := in.NetworkSettings.Networks[n]
		if ep == nil || ep.IPAddress == "" {
			continue
		}
		addr := net.JoinHostPort(ep.IPAddress, strconv.Itoa(consulHTTP))
		tried = append(tried, addr)
		dialer := net.Dialer{Timeout: 300 * time.Millisecond}
		conn, err := dialer.DialContext(ctx, "tcp", addr)
		if err == nil {
			conn.Close()
			return registryAt{addr: addr}, nil
		}
	}
	if d.opts.Tunnel != nil {
		at := registryAt{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(consulHTTP)), via: id, name: name}
		conn, err := d.opts.Tunnel.Dial(ctx, id, consulHTTP)
		if err == nil {
			conn.Close()
			return at, nil
		}
		tried = append(tried, "through the engine: "+err.Error())
	}
	if len(tried) == 0 {
		return registryAt{}, fmt.Errorf("%s has no address on the project's networks yet", name)
	}
	return registryAt{}, fmt.Errorf("consul at %v does not answer from this host: it may still be starting, or container addresses are not routed to this host (Docker Desktop); `docker logs %s` shows its side", tried, name)
}

// RegistryInstance is one instance in the demo's registry.
type RegistryInstance struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	Port    int    `json:"port"`
	// Status is the worst of its checks: passing, warning or critical.
	Status    string `json:"status"`
	Container string `json:"container,omitempty"`
}

// target is at as the registry adapter's Target. The demo's consul is
// found, not named by the user: Named stays false, so no credentials from
// the environment are sent to it.
func (d *Deployer) target(at registryAt) registry.Target {
	t := registry.Target{Name: at.name, Addr: at.addr}
	if at.via != "" {
		t.Through, t.Tunnel = at.via, d.opts.Tunnel
	}
	return t
}

// registryHealth lists a service's instances with their health, sorted by
// ID, in one read bounded by httpTimeout.
func (d *Deployer) registryHealth(ctx context.Context, at registryAt, service string) ([]RegistryInstance, error) {
	ctx, cancel := context.WithTimeout(ctx, d.httpTimeout)
	defer cancel()
	list, err := registry.ReadService(ctx, d.target(at), service)
	if err != nil {
		return nil, err
	}
	return registryInstances(list), nil
}

// registryInstances converts instances for the status. Maintenance counts
// as critical, as Consul reports it: RegistryInstance.Status promises
// passing, warning or critical.
func registryInstances(list []model.Instance) []RegistryInstance {
	out := make([]RegistryInstance, 0, len(list))
	for _, in := range list {
		st := in.Health()
		if st == model.CheckMaintenance {
			st = model.CheckCritical
		}
		out = append(out, RegistryInstance{
			ID: in.ID, Address: in.Address, Port: in.Port, Status: string(st),
			Container: in.Meta[registrator.MetaContainerName],
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// checkLB sends one search through the load balancer and returns the
// instance that answered.
func (d *Deployer) checkLB(ctx context.Context) (string, error) {
	return d.checkEngineLB(ctx, d.LBURL())
}

// checkEngineLB checks the project's load balancer container at base, or
// through the engine when the engine is remote (lbClient).
func (d *Deployer) checkEngineLB(ctx context.Context, base string) (string, error) {
	client, err := d.lbClient(ctx)
	if err != nil {
		return "", err
	}
	return d.checkWith(ctx, client, base)
}

func (d *Deployer) checkURL(ctx context.Context, base string) (string, error) {
	return d.checkWith(ctx, http.DefaultClient, base)
}

func (d *Deployer) checkWith(ctx context.Context, client *http.Client, base string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*d.httpTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/search?q=consul", nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET /search answered %s", resp.Status)
	}
	return resp.Header.Get("X-Served-By"), nil
}

// waitReady waits until every running app instance passes its check in
// the registry and the load balancer answers a search.
func (d *Deployer) waitReady(ctx context.Context, r *reporter, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	const regKey, regTitle = "wait registry", "app instances passing in the registry"
	r.start(regKey, regTitle)
	var addr registryAt
	why := "not checked yet"
	for {
		ok, detail, err := d.appsPassing(ctx, &addr)
		if err != nil {
			why = err.Error()
		} else {
			why = detail
			r.progress(regKey, regTitle, detail, -1)
			if ok {
				break
			}
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			if ctx.Err() == context.DeadlineExceeded {
				return r.fail(regKey, regTitle, fmt.Errorf("app instances not all passing within %v (%s): `topo demo status` and `docker logs %s` tell why", timeout, why, d.ContainerName(ServiceApp, 1)))
			}
			return r.fail(regKey, regTitle, ctx.Err())
		}
	}
	r.done(regKey, regTitle, why)

	const lbKey, lbTitle = "wait lb", "load balancer answers"
	r.start(lbKey, lbTitle)
	for {
		who, err := d.checkLB(ctx)
		if err == nil {
			r.done(lbKey, lbTitle, "served by "+who)
			return nil
		}
		why = err.Error()
		if !sleepCtx(ctx, 100*time.Millisecond) {
			if ctx.Err() == context.DeadlineExceeded {
				return r.fail(lbKey, lbTitle, fmt.Errorf("the load balancer at %s did not answer within %v (%s): `docker logs %s` tells why", d.LBURL(), timeout, why, d.ContainerName(ServiceLB, 1)))
			}
			return r.fail(lbKey, lbTitle, ctx.Err())
		}
	}
}

// appsPassing says whether every running app container has a passing
// instance in the registry; addr caches consul's address across calls.
func (d *Deployer) appsPassing(ctx context.Context, addr *registryAt) (bool, string, error) {
	byService, err := d.containers(ctx)
	if err != nil {
		return false, "", err
	}
	running := map[string]bool{}
	for _, a := range byService[ServiceApp] {
		if a.State == "running" {
			running[a.Name] = true
		}
	}
	if addr.addr == "" {
		if *addr, err = d.consulEndpoint(ctx); err != nil {
			return false, "", err
		}
	}
	list, err := d.registryHealth(ctx, *addr, ServiceApp)
	if err != nil {
		*addr = registryAt{}
		return false, "", fmt.Errorf("ask consul: %w", err)
	}
	passing := 0
	for _, in := range list {
		if in.Status == string(model.CheckPassing) && running[in.Container] {
			passing++
		}
	}
	detail := fmt.Sprintf("%d/%d passing", passing, len(running))
	return passing == len(running) && len(running) > 0, detail, nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
