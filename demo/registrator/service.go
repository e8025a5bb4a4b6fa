package registrator

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hashicorp/consul/api"
)

// The container settings the registrator reads, from labels or environment
// (a label wins: it can be set at deploy time without rebuilding an image),
// named as gliderlabs/registrator names them.
const (
	KeyName          = "SERVICE_NAME"
	KeyTags          = "SERVICE_TAGS"
	KeyPort          = "SERVICE_PORT"
	KeyCheckHTTP     = "SERVICE_CHECK_HTTP"
	KeyCheckInterval = "SERVICE_CHECK_INTERVAL"
	KeyCheckTimeout  = "SERVICE_CHECK_TIMEOUT"
)

// Meta keys written on every registration. The TUI ties an instance to its
// container with MetaContainerID (and, failing that, with the service ID
// "<container name>:<port>"); the registrator only ever removes entries
// carrying MetaRegistrator = RegistratorName and its own MetaHost.
const (
	MetaRegistrator   = "registrator"
	MetaContainerID   = "container_id"
	MetaContainerName = "container_name"
	MetaHost          = "registrator_host"
	RegistratorName   = "topo"
)

// DefaultInterval is the check interval when SERVICE_CHECK_INTERVAL is
// unset: short, so that the demo's registry reacts within a second.
const DefaultInterval = time.Second

const maxDefaultTimeout = 10 * time.Second

// errSkip marks a container that asks to be registered but cannot be; the
// message says why, for the log.
var errSkip = errors.New("not registered")

// setting returns a container's SERVICE_* value, label first; a label set
// to "" hides the environment's value, which is how an operator opts a
// container out without rebuilding its image.
func setting(c *container.Config, key string) string {
	if v, ok := c.Labels[key]; ok {
		return strings.TrimSpace(v)
	}
	prefix := key + "="
	// The last assignment wins, as it does for the process inside.
	for _, e := range slices.Backward(c.Env) {
		if v, ok := strings.CutPrefix(e, prefix); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// serviceID is the convention the TUI relies on to find an instance's
// container: the container's name, a colon, the registered port.
func serviceID(containerName string, port int) string {
	return containerName + ":" + strconv.Itoa(port)
}

// registrationFor computes what a container should be registered as. It
// returns nil, nil for a container that is not a service (no SERVICE_NAME)
// or not running, and an error wrapping errSkip for one that asks to be
// registered but cannot be. A paused container stays registered: its
// health check turning critical is what the audience should see.
func registrationFor(c container.InspectResponse, network, host string) (*api.AgentServiceRegistration, error) {
	if c.ContainerJSONBase == nil || c.Config == nil || c.State == nil {
		return nil, nil
	}
	name := setting(c.Config, KeyName)
	if name == "" || !c.State.Running {
		return nil, nil
	}
	cname := strings.TrimPrefix(c.Name, "/")

	ip, err := address(c, network)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errSkip, cname, err)
	}
	port, err := servicePort(c.Config)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errSkip, cname, err)
	}

	reg := &api.AgentServiceRegistration{
		ID:      serviceID(cname, port),
		Name:    name,
		Tags:    splitTags(setting(c.Config, KeyTags)),
		Port:    port,
		Address: ip,
		Meta: map[string]string{
			MetaRegistrator:   RegistratorName,
			MetaContainerID:   c.ID,
			MetaContainerName: cname,
			MetaHost:          host,
		},
	}
	if path := setting(c.Config, KeyCheckHTTP); path != "" {
		check, err := httpCheck(c.Config, ip, port, path)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", errSkip, cname, err)
		}
		reg.Check = check
	}
	return reg, nil
}

// address picks the container's IP on the named network, or on its first
// network by name when none is named: a map has no order, and registering a
// different network's IP on every resync would make the entry flap.
func address(c container.InspectResponse, network string) (string, error) {
	if c.NetworkSettings == nil || len(c.NetworkSettings.Networks) == 0 {
		return "", errors.New("it is on no network")
	}
	nets := c.NetworkSettings.Networks
	if network != "" {
		ep, ok := nets[network]
		if !ok {
			// --network may name the network by ID as well.
			for _, e := range nets {
				if e != nil && e.NetworkID != "" && (e.NetworkID == network || len(network) >= 12 && strings.HasPrefix(e.NetworkID, network)) {
					ep, ok = e, true
					break
				}
			}
		}
		if !ok || ep == nil {
			return "", fmt.Errorf("it is not attached to network %s", network)
		}
		if ep.IPAddress == "" {
			return "", fmt.Errorf("it has no IPv4 address on network %s yet", network)
		}
		return ep.IPAddress, nil
	}
	names := make([]string, 0, len(nets))
	for n := range nets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if ep := nets[n]; ep != nil && ep.IPAddress != "" {
			return ep.IPAddress, nil
		}
	}
	return "", errors.New("it has no IPv4 address on any network (host network mode?)")
}

// servicePort is SERVICE_PORT, else the image's single exposed port, else 0
// (Consul accepts a service without a port; several exposed ports would be
// a guess).
func servicePort(c *container.Config) (int, error) {
	if v := setting(c, KeyPort); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			return 0, fmt.Errorf("%s=%q is not a port number", KeyPort, v)
		}
		return p, nil
	}
	if len(c.ExposedPorts) == 1 {
		for p := range c.ExposedPorts {
			return p.Int(), nil
		}
	}
	return 0, nil
}

func splitTags(s string) []string {
	var tags []string
	for t := range strings.SplitSeq(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

// httpCheck builds the HTTP check Consul runs against the container's own
// address. DeregisterCriticalServiceAfter stays unset: the registrator
// removes an instance when its container stops, and a live but failing
// instance must stay visible as critical, not vanish.
func httpCheck(c *container.Config, ip string, port int, path string) (*api.AgentServiceCheck, error) {
	if port == 0 {
		return nil, fmt.Errorf("%s needs a port: set %s", KeyCheckHTTP, KeyPort)
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	interval := DefaultInterval
	if v := setting(c, KeyCheckInterval); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s=%q is not a positive Go duration like 1s", KeyCheckInterval, v)
		}
		interval = d
	}
	// A check slower than its interval would overlap the next one.
	timeout := min(interval, maxDefaultTimeout)
	if v := setting(c, KeyCheckTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s=%q is not a positive Go duration like 1s", KeyCheckTimeout, v)
		}
		timeout = d
	}
	return &api.AgentServiceCheck{
		Name:     "HTTP GET " + path,
		HTTP:     "http://" + net.JoinHostPort(ip, strconv.Itoa(port)) + path,
		Method:   "GET",
		Interval: interval.String(),
		Timeout:  timeout.String(),
	}, nil
}

// sameService says whether an entry the agent holds already matches a
// registration, so that a resync does not re-register (and reset the check
// of) every instance. The check is not compared: it derives from the
// container's immutable settings and from address and port, which are.
func sameService(have *api.AgentService, want *api.AgentServiceRegistration) bool {
	if have == nil {
		return false
	}
	if have.Service != want.Name || have.Address != want.Address || have.Port != want.Port {
		return false
	}
	if !slices.Equal(normTags(have.Tags), normTags(want.Tags)) || len(have.Meta) != len(want.Meta) {
		return false
	}
	for k, v := range want.Meta {
		if have.Meta[k] != v {
			return false
		}
	}
	return true
}

// normTags treats nil and empty alike: the agent returns [] for none.
func normTags(t []string) []string {
	if len(t) == 0 {
		return nil
	}
	return t
}
