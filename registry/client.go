// Package registry is topo's adapter to the Consul service registry. It
// decides which agent to talk to (a flag, CONSUL_HTTP_ADDR, or a Consul
// container found on the engine) and when to look again for one that does
// not answer yet (LookAgain), and keeps a model.Registry current with
// blocking queries on the catalog and on the health of each service,
// following the rules of consul-template's watcher; commands that ask once
// (the demo's deployer) read it with ReadOnce and ReadService. Consul API
// types never leave this package: it hands out model values only. It
// imports no ui and no demo package.
package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/consul/api"
)

// The Consul client calls this package makes, one small interface per
// endpoint group of the client, so the list of what topo asks Consul is in
// one place.
type (
	catalogAPI interface {
		Services(q *api.QueryOptions) (map[string][]string, *api.QueryMeta, error)
	}
	healthAPI interface {
		Service(service, tag string, passingOnly bool, q *api.QueryOptions) ([]*api.ServiceEntry, *api.QueryMeta, error)
	}
	statusAPI interface {
		LeaderWithQueryOptions(q *api.QueryOptions) (string, error)
	}
	// rawAPI reads /v1/agent/self: Agent.Self takes no context, and every
	// call here must end with the caller's.
	rawAPI interface {
		Query(endpoint string, out any, q *api.QueryOptions) (*api.QueryMeta, error)
	}
)

var (
	_ catalogAPI = (*api.Catalog)(nil)
	_ healthAPI  = (*api.Health)(nil)
	_ statusAPI  = (*api.Status)(nil)
	_ rawAPI     = (*api.Raw)(nil)
)

// consulAPI bundles the calls of one agent.
type consulAPI struct {
	catalog catalogAPI
	health  healthAPI
	status  statusAPI
	raw     rawAPI
}

// newClient builds a Consul client for addr, a function that closes its idle
// connections once the caller is done with it, and whether a token is sent.
// api.DefaultConfig reads CONSUL_HTTP_TOKEN (and the TLS variables) from
// the environment; only the address is ours. The user's credentials go
// only to an agent the user named (see Target.Named).
func newClient(target Target, pooled bool) (*api.Client, func(), bool, error) {
	addr, named := target.Addr, target.Named
	cfg := api.DefaultConfig()
	if !pooled {
		cfg = api.DefaultNonPooledConfig()
	}
	cfg.Address = addr
	if pooled {
		// Each watched service holds one connection in a blocking query;
		// keep them all idle between queries instead of reconnecting.
		cfg.Transport.MaxIdleConnsPerHost = 1024
	}
	transport := cfg.Transport
	if target.Through != "" {
		_, portText, err := net.SplitHostPort(addr)
		port, perr := strconv.Atoi(portText)
		if err != nil || perr != nil {
			return nil, nil, false, fmt.Errorf("consul address %q inside container %s has no port", addr, target.Through)
		}
		// Every connection goes through the engine to the container's
		// own loopback; the address the client thinks it dials is only
		// the Host header.
		transport.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return target.Tunnel.Dial(ctx, target.Through, port)
		}
	}
	if !named {
		// Clearing cfg.Token is not enough: api.NewClient puts
		// CONSUL_HTTP_TOKEN back into an empty Token. The transport
		// below is what guarantees the credentials never leave.
		cfg.Token, cfg.TokenFile, cfg.HttpAuth = "", "", nil
		hc, err := api.NewHttpClient(transport, cfg.TLSConfig)
		if err != nil {
			return nil, nil, false, fmt.Errorf("consul client for %s: %w (check the CONSUL_HTTP_SSL/CONSUL_CACERT variables)", addr, err)
		}
		hc.Transport = withoutCredentials{hc.Transport}
		cfg.HttpClient = hc
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, nil, false, fmt.Errorf("consul client for %s: %w (check --consul/CONSUL_HTTP_ADDR and the CONSUL_HTTP_SSL/CONSUL_CACERT variables)", addr, err)
	}
	return c, transport.CloseIdleConnections, named && (cfg.Token != "" || cfg.TokenFile != ""), nil
}

// withoutCredentials sends requests with every form of Consul credential
// removed: the ACL token header, the basic auth of CONSUL_HTTP_AUTH, and
// a token query parameter.
type withoutCredentials struct{ next http.RoundTripper }

func (t withoutCredentials) RoundTrip(req *http.Request) (*http.Response, error) {
	// A RoundTripper must not change the caller's request: work on a copy.
	req = req.Clone(req.Context())
	req.Header.Del("X-Consul-Token")
	req.Header.Del("Authorization")
	if q := req.URL.Query(); q.Has("token") {
		q.Del("token")
		req.URL.RawQuery = q.Encode()
	}
	return t.next.RoundTrip(req)
}

// credentialsInEnv says whether the environment gives Consul credentials.
func credentialsInEnv() bool {
	cfg := api.DefaultNonPooledConfig()
	return cfg.Token != "" || cfg.TokenFile != "" || cfg.HttpAuth != nil
}

func apiOf(c *api.Client) consulAPI {
	return consulAPI{catalog: c.Catalog(), health: c.Health(), status: c.Status(), raw: c.Raw()}
}

// ErrPermissionDenied is what a 403 from Consul means for topo.
var ErrPermissionDenied = errors.New("permission denied: set CONSUL_HTTP_TOKEN to a token that can read the catalog")

// explain wraps an error of the Consul client so that it says what failed,
// why, and what to do; what is the thing being read ("the catalog").
func explain(what, addr string, err error) error {
	var se api.StatusError
	if errors.As(err, &se) {
		if se.Code == 403 {
			return fmt.Errorf("reading %s from consul at %s: %w (consul said %q)", what, addr, ErrPermissionDenied, se.Body)
		}
		return fmt.Errorf("reading %s from consul at %s: it answered %d: %w; retrying", what, addr, se.Code, err)
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || (errors.As(err, &ne) && ne.Timeout()) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("consul at %s unreachable while reading %s: %w; start it or point --consul/CONSUL_HTTP_ADDR at it (retrying)", addr, what, err)
	}
	return fmt.Errorf("reading %s from consul at %s: %w; retrying", what, addr, err)
}

// hidden is the error for an answer ACLs filtered: the data shown is
// incomplete, and the fix is the same as for a 403.
func hidden(what, addr, why string) error {
	return fmt.Errorf("reading %s from consul at %s: %w (%s)", what, addr, ErrPermissionDenied, why)
}

// isPermission reports whether err is a 403 from Consul.
func isPermission(err error) bool {
	var se api.StatusError
	return errors.As(err, &se) && se.Code == 403
}

// probe asks addr for its leader with a short timeout: the cheapest call
// that proves a Consul agent answers there. A 403 proves it too (an
// ACL-protected agent is still the registry).
func probe(ctx context.Context, addr string, timeout time.Duration) error {
	return probeTarget(ctx, Target{Addr: addr}, timeout)
}

// probeTarget is probe for a target that may be reached through a tunnel.
func probeTarget(ctx context.Context, target Target, timeout time.Duration) error {
	// Probes go to candidates found on the engine, never named: no
	// credentials.
	target.Named = false
	c, closeIdle, _, err := newClient(target, false)
	if err != nil {
		return err
	}
	defer closeIdle()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err = c.Status().LeaderWithQueryOptions((&api.QueryOptions{}).WithContext(ctx))
	if err != nil && !isPermission(err) {
		return err
	}
	return nil
}
