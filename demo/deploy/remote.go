package deploy

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// A remote engine (ssh://) runs the demo on another machine: the ports it
// publishes are that machine's, and its container addresses lead nowhere
// from here (or, worse, to this machine's own networks of the same
// range). The deployer then checks the load balancer and reads consul
// through the engine (Options.Tunnel), and the URLs it prints name the
// remote host, with a hint on how to reach a load balancer published on
// the remote's loopback.

// lbPort is the port nginx listens on inside the load balancer container.
const lbPort = 80

// remoteHost is the engine's host name when it is reached over ssh, empty
// for an engine on this machine (a socket, or tcp:// whose addresses the
// existing code already names).
func (d *Deployer) remoteHost() string {
	u, err := url.Parse(d.opts.EngineHost)
	if err != nil || u.Scheme != "ssh" {
		return ""
	}
	return u.Hostname()
}

// lbURL is the address a person browses to for a load balancer published
// on bind:port: the bind address itself, except that 0.0.0.0 (where nginx
// listens, not an address) becomes loopback here, or the ssh host on a
// remote engine, as does the remote's loopback (with Reach saying how to
// get there).
func (d *Deployer) lbURL(bind string, port int) string {
	ip := net.ParseIP(bind)
	host := bind
	switch remote := d.remoteHost(); {
	case remote != "" && (ip == nil || ip.IsUnspecified() || ip.IsLoopback()):
		host = remote
	case ip == nil || ip.IsUnspecified():
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// Reach says how a person on this machine reaches a load balancer
// published on bind:port of a remote engine; empty for a local engine,
// or when the URL alone does.
func (d *Deployer) Reach(bind string, port int) string {
	forward := d.Forward(bind, port)
	if forward == "" {
		return ""
	}
	remote := d.remoteHost()
	return fmt.Sprintf("the load balancer listens on the loopback of %s only (--lb-bind %s): forward it with `%s` and browse http://127.0.0.1:%d, or deploy with --lb-bind 0.0.0.0 to publish it on every interface of %s",
		remote, bind, forward, port, remote)
}

// Forward is the ssh command that brings a load balancer published on
// the remote engine's loopback bind:port to the same port here; empty
// when the load balancer is not on a remote's loopback.
func (d *Deployer) Forward(bind string, port int) string {
	ip := net.ParseIP(bind)
	if d.remoteHost() == "" || ip == nil || !ip.IsLoopback() {
		return ""
	}
	u, _ := url.Parse(d.opts.EngineHost)
	login := u.Hostname()
	if u.User != nil {
		login = u.User.Username() + "@" + login
	}
	sshPort := ""
	if p := u.Port(); p != "" {
		sshPort = " -p " + p
	}
	return fmt.Sprintf("ssh -N -L %d:%s:%d%s %s", port, bind, port, sshPort, login)
}

// lbContainer is the ID of the project's load balancer container, through
// whose network namespace a remote engine's load balancer is checked.
func (d *Deployer) lbContainer(ctx context.Context) (string, error) {
	byService, err := d.containers(ctx)
	if err != nil {
		return "", err
	}
	lb := first(byService[ServiceLB])
	if lb == nil {
		return "", fmt.Errorf("project %s has no load balancer container: run `topo demo up`", d.opts.Project)
	}
	return lb.ID, nil
}

// lbClient is the HTTP client that reaches the project's load balancer:
// the default one for a local engine; on a remote engine one that dials
// port 80 inside the lb container through the engine, one connection per
// request, so that the check needs neither a published port nor a route.
func (d *Deployer) lbClient(ctx context.Context) (*http.Client, error) {
	if d.remoteHost() == "" {
		return http.DefaultClient, nil
	}
	if d.opts.Tunnel == nil {
		return nil, fmt.Errorf("the engine %s is remote and this command has no tunnel through it to the load balancer", d.opts.EngineHost)
	}
	id, err := d.lbContainer(ctx)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: d.tunnelTransport(id, lbPort)}, nil
}

// tunnelTransport is the HTTP transport to port inside container id
// through the engine, kept while the deployer lives: the checks of a
// wait then share one connection, where a connection each cost an exec,
// and over ssh a new ssh connection, every time. An idle connection is
// closed after a few seconds, so no exec lingers.
func (d *Deployer) tunnelTransport(id string, port int) *http.Transport {
	d.tunnelMu.Lock()
	defer d.tunnelMu.Unlock()
	key := id + ":" + strconv.Itoa(port)
	if t, ok := d.tunnels[key]; ok {
		return t
	}
	if d.tunnels == nil {
		d.tunnels = map[string]*http.Transport{}
	}
	t := &http.Transport{
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     3 * time.Second,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.opts.Tunnel.Dial(ctx, id, port)
		},
	}
	d.tunnels[key] = t
	return t
}
