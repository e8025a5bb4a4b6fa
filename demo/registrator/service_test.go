package registrator

import (
	"errors"
	"slices"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"
)

const fullID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// inspected builds the engine's view of a running container on networks
// given as name -> IP.
func inspected(env []string, labels map[string]string, nets map[string]string) container.InspectResponse {
	eps := map[string]*network.EndpointSettings{}
	for n, ip := range nets {
		eps[n] = &network.EndpointSettings{NetworkID: "id-of-" + n + "-0123456789", IPAddress: ip}
	}
	return container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{ID: fullID, Name: "/web.1", State: &container.State{Running: true, Status: "running"}},
		Config:            &container.Config{Env: env, Labels: labels},
		NetworkSettings:   &container.NetworkSettings{Networks: eps},
	}
}

func TestRegistrationFor(t *testing.T) {
	oneNet := map[string]string{"front": "172.18.0.3"}
	for _, tc := range []struct {
		name    string
		c       container.InspectResponse
		network string
		// wantID empty means "not a service"; wantSkip means "a service
		// that cannot be registered".
		wantID, wantAddr string
		wantPort         int
		wantSkip         bool
		wantCheck        string
		wantInterval     string
	}{
		{name: "no SERVICE_NAME", c: inspected([]string{"PATH=/bin"}, nil, oneNet)},
		{name: "env", c: inspected([]string{"SERVICE_NAME=web", "SERVICE_PORT=8080"}, nil, oneNet),
			wantID: "web.1:8080", wantAddr: "172.18.0.3", wantPort: 8080},
		{name: "label overrides env", c: inspected([]string{"SERVICE_NAME=env", "SERVICE_PORT=1"}, map[string]string{"SERVICE_PORT": "9090"}, oneNet),
			wantID: "web.1:9090", wantAddr: "172.18.0.3", wantPort: 9090},
		{name: "empty label opts out", c: inspected([]string{"SERVICE_NAME=web"}, map[string]string{"SERVICE_NAME": ""}, oneNet)},
		{name: "last env assignment wins", c: inspected([]string{"SERVICE_PORT=1", "SERVICE_NAME=web", "SERVICE_PORT=2"}, nil, oneNet),
			wantID: "web.1:2", wantAddr: "172.18.0.3", wantPort: 2},
		{name: "no port", c: inspected([]string{"SERVICE_NAME=web"}, nil, oneNet),
			wantID: "web.1:0", wantAddr: "172.18.0.3"},
		{name: "single exposed port", c: func() container.InspectResponse {
			c := inspected([]string{"SERVICE_NAME=web"}, nil, oneNet)
			c.Config.ExposedPorts = nat.PortSet{"3000/tcp": {}}
			return c
		}(), wantID: "web.1:3000", wantAddr: "172.18.0.3", wantPort: 3000},
		{name: "several exposed ports", c: func() container.InspectResponse {
			c := inspected([]string{"SERVICE_NAME=web"}, nil, oneNet)
			c.Config.ExposedPorts = nat.PortSet{"3000/tcp": {}, "3001/tcp": {}}
			return c
		}(), wantID: "web.1:0", wantAddr: "172.18.0.3"},
		{name: "bad port", c: inspected([]string{"SERVICE_NAME=web", "SERVICE_PORT=http"}, nil, oneNet), wantSkip: true},
		{name: "first network by name", c: inspected([]string{"SERVICE_NAME=web"}, nil, map[string]string{"zeta": "10.0.0.9", "alpha": "10.0.0.1", "mid": "10.0.0.5"}),
			wantID: "web.1:0", wantAddr: "10.0.0.1"},
		{name: "named network", network: "zeta", c: inspected([]string{"SERVICE_NAME=web"}, nil, map[string]string{"zeta": "10.0.0.9", "alpha": "10.0.0.1"}),
			wantID: "web.1:0", wantAddr: "10.0.0.9"},
		{name: "named network by ID", network: "id-of-zeta-0123456789", c: inspected([]string{"SERVICE_NAME=web"}, nil, map[string]string{"zeta": "10.0.0.9", "alpha": "10.0.0.1"}),
			wantID: "web.1:0", wantAddr: "10.0.0.9"},
		{name: "not on the named network", network: "back", c: inspected([]string{"SERVICE_NAME=web"}, nil, oneNet), wantSkip: true},
		{name: "host network", c: inspected([]string{"SERVICE_NAME=web"}, nil, map[string]string{"host": ""}), wantSkip: true},
		{name: "check", c: inspected([]string{"SERVICE_NAME=web", "SERVICE_PORT=8080", "SERVICE_CHECK_HTTP=/health"}, nil, oneNet),
			wantID: "web.1:8080", wantAddr: "172.18.0.3", wantPort: 8080, wantCheck: "http://172.18.0.3:8080/health", wantInterval: "1s"},
		{name: "check path without slash, interval", c: inspected([]string{"SERVICE_NAME=web", "SERVICE_PORT=8080", "SERVICE_CHECK_HTTP=ready", "SERVICE_CHECK_INTERVAL=250ms"}, nil, oneNet),
			wantID: "web.1:8080", wantAddr: "172.18.0.3", wantPort: 8080, wantCheck: "http://172.18.0.3:8080/ready", wantInterval: "250ms"},
		{name: "bad interval", c: inspected([]string{"SERVICE_NAME=web", "SERVICE_PORT=8080", "SERVICE_CHECK_HTTP=/", "SERVICE_CHECK_INTERVAL=often"}, nil, oneNet), wantSkip: true},
		{name: "check without port", c: inspected([]string{"SERVICE_NAME=web", "SERVICE_CHECK_HTTP=/"}, nil, oneNet), wantSkip: true},
		{name: "not running", c: func() container.InspectResponse {
			c := inspected([]string{"SERVICE_NAME=web"}, nil, oneNet)
			c.State.Running = false
			return c
		}()},
		{name: "paused stays", c: func() container.InspectResponse {
			c := inspected([]string{"SERVICE_NAME=web"}, nil, oneNet)
			c.State.Paused = true
			return c
		}(), wantID: "web.1:0", wantAddr: "172.18.0.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, err := registrationFor(tc.c, tc.network, "engine-1")
			if tc.wantSkip {
				if !errors.Is(err, errSkip) {
					t.Fatalf("got %+v, %v; want a skip", reg, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantID == "" {
				if reg != nil {
					t.Fatalf("registered %+v, want nothing", reg)
				}
				return
			}
			if reg == nil {
				t.Fatal("not registered")
			}
			if reg.ID != tc.wantID || reg.Address != tc.wantAddr || reg.Port != tc.wantPort {
				t.Errorf("got %s at %s:%d, want %s at %s:%d", reg.ID, reg.Address, reg.Port, tc.wantID, tc.wantAddr, tc.wantPort)
			}
			want := map[string]string{"registrator": "topo", "container_id": fullID, "container_name": "web.1", "registrator_host": "engine-1"}
			for k, v := range want {
				if reg.Meta[k] != v {
					t.Errorf("meta %s = %q, want %q", k, reg.Meta[k], v)
				}
			}
			switch {
			case tc.wantCheck == "" && reg.Check != nil:
				t.Errorf("unexpected check %+v", reg.Check)
			case tc.wantCheck != "" && reg.Check == nil:
				t.Errorf("no check, want %s", tc.wantCheck)
			case tc.wantCheck != "":
				if reg.Check.HTTP != tc.wantCheck || reg.Check.Interval != tc.wantInterval || reg.Check.DeregisterCriticalServiceAfter != "" {
					t.Errorf("check %+v, want %s every %s and no deregister-after", reg.Check, tc.wantCheck, tc.wantInterval)
				}
			}
		})
	}
}

func TestSplitTags(t *testing.T) {
	if got := splitTags(" a, b ,,c "); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("splitTags = %q", got)
	}
	if got := splitTags(""); got != nil {
		t.Errorf("splitTags(\"\") = %q, want nil", got)
	}
}

func TestFatalSignal(t *testing.T) {
	for s, want := range map[string]bool{"15": true, "9": true, "SIGTERM": true, "KILL": true, "": true, "1": false, "SIGHUP": false, "10": false} {
		if fatalSignal(s) != want {
			t.Errorf("fatalSignal(%q) = %v, want %v", s, !want, want)
		}
	}
}
