package model_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/topo-dev/topo/model"
)

// flowCtr is a running container with one address per network, given as
// "net=IP".
func flowCtr(id string, addrs ...string) model.Container {
	c := fixCtr(id, id)
	for _, a := range addrs {
		n, ip, _ := strings.Cut(a, "=")
		c.Endpoints[netID(n)] = model.Endpoint{NetworkID: netID(n), NetworkName: n, IPv4: ip}
	}
	return c
}

// flowLine renders a flow for comparison: "client>server:port xN +new !".
func flowLine(f model.Flow) string {
	s := fmt.Sprintf("%s>%s:%d x%d +%d", f.Client.Name, f.Server.Name, f.Port, f.Conns, f.New)
	if f.Flag != "" {
		s += " !"
	}
	return s
}

func TestFlows(t *testing.T) {
	nets := fixNets("front", "back", "other")
	for i := range nets {
		nets[i].Subnets = []string{fmt.Sprintf("10.0.%d.0/24", i+1)}
	}
	lb := flowCtr("lb", "front=10.0.1.2", "back=10.0.2.2")
	lb.Labels[model.LabelBridge] = "1"
	app := flowCtr("app", "back=10.0.2.3")
	client := flowCtr("client", "front=10.0.1.3")
	relay := flowCtr("relay", "front=10.0.1.4", "back=10.0.2.4")
	lone := flowCtr("lone", "other=10.0.3.2")
	joined := fixCtr("joined", "joined")
	joined.NetworkMode = "container:app"
	web := flowCtr("web", "front=10.0.1.9")
	web.Ports = []model.Port{{Private: 80, Public: 8080, Protocol: "tcp"}}
	topo := fixTopo(nets, lb, app, client, relay, lone, joined, web)

	tests := []struct {
		name      string
		tables    []model.SocketTable
		prev      map[string]bool
		want      []string
		listeners []string // "name addr used outside"
	}{
		{
			name: "both ends' tables make one connection, the client known by its address",
			tables: []model.SocketTable{
				{Containers: []string{"client"}, Conns: []model.SocketConn{{"10.0.1.3:40000", "10.0.1.2:80"}, {"10.0.1.3:40001", "10.0.1.2:80"}}},
				{Containers: []string{"lb"}, Listen: []string{"0.0.0.0:80", "127.0.0.1:9000"},
					Conns: []model.SocketConn{{"10.0.1.2:80", "10.0.1.3:40000"}, {"10.0.1.2:80", "10.0.1.3:40001"}, {"10.0.2.2:50000", "10.0.2.3:8080"}}},
				{Containers: []string{"app", "joined"}, Listen: []string{"0.0.0.0:8080", "0.0.0.0:9090"}, Conns: []model.SocketConn{{"10.0.2.3:8080", "10.0.2.2:50000"}}},
			},
			want:      []string{"client>lb:80 x2 +2", "lb>app:8080 x1 +1"},
			listeners: []string{"app 0.0.0.0:8080 used", "app 0.0.0.0:9090 unused", "lb 0.0.0.0:80 used"},
		},
		{
			name:   "a connection seen before is not new",
			tables: []model.SocketTable{{Containers: []string{"client"}, Conns: []model.SocketConn{{"10.0.1.3:40000", "10.0.1.2:80"}, {"10.0.1.3:40001", "10.0.1.2:80"}}}},
			prev:   map[string]bool{"10.0.1.3:40000>10.0.1.2:80": true},
			want:   []string{"client>lb:80 x2 +1"},
		},
		{
			name: "an address of no container is outside; a published port used from outside is marked",
			tables: []model.SocketTable{
				{Containers: []string{"web"}, Listen: []string{"[::]:80"}, Conns: []model.SocketConn{{"10.0.1.9:80", "10.0.1.1:33000"}, {"10.0.1.9:41000", "93.184.216.34:443"}}},
			},
			want:      []string{"10.0.1.1>web:80 x1 +1", "web>93.184.216.34:443 x1 +1"},
			listeners: []string{"web [::]:80 used outside"},
		},
		{
			name: "a client of a published port on the host's address reaches its container",
			tables: []model.SocketTable{
				{Containers: []string{"client"}, Conns: []model.SocketConn{{"10.0.1.3:40000", "10.0.1.1:8080"}}},
			},
			want: []string{"client>web:8080 x1 +1"},
		},
		{
			name: "the same port on an address outside the engine's networks is not the published one",
			tables: []model.SocketTable{
				{Containers: []string{"client"}, Conns: []model.SocketConn{{"10.0.1.3:40000", "93.184.216.34:8080"}}},
			},
			want: []string{"client>93.184.216.34:8080 x1 +1"},
		},
		{
			name: "a flow between containers isolation says cannot reach each other is flagged",
			tables: []model.SocketTable{
				{Containers: []string{"lone"}, Conns: []model.SocketConn{{"10.0.3.2:40000", "10.0.2.3:8080"}}},
			},
			want: []string{"lone>app:8080 x1 +1 !"},
		},
		{
			name: "a container sharing a namespace is the owner's flow, and reaches what it reaches",
			tables: []model.SocketTable{
				{Containers: []string{"app", "joined"}, Conns: []model.SocketConn{{"10.0.2.3:40000", "10.0.2.2:80"}}},
			},
			want: []string{"app>lb:80 x1 +1"},
		},
		{
			name: "a relay across networks not labelled as a bridge is flagged, the labelled lb is not",
			tables: []model.SocketTable{
				{Containers: []string{"relay"}, Listen: []string{"0.0.0.0:80"},
					Conns: []model.SocketConn{{"10.0.1.4:80", "10.0.1.3:40000"}, {"10.0.2.4:50000", "10.0.2.3:8080"}}},
				{Containers: []string{"lb"}, Listen: []string{"0.0.0.0:80"},
					Conns: []model.SocketConn{{"10.0.1.2:80", "10.0.1.3:40001"}, {"10.0.2.2:50001", "10.0.2.3:8080"}}},
			},
			want:      []string{"client>lb:80 x1 +1", "client>relay:80 x1 +1 !", "lb>app:8080 x1 +1", "relay>app:8080 x1 +1 !"},
			listeners: []string{"lb 0.0.0.0:80 used", "relay 0.0.0.0:80 used"},
		},
		{
			name: "a connection opened and closed between samples counts as new, not as held",
			tables: []model.SocketTable{
				{Containers: []string{"app"}, Listen: []string{"0.0.0.0:8080"},
					Conns: []model.SocketConn{{"10.0.2.3:8080", "10.0.2.2:50000"}},
					Ended: []model.SocketConn{{"10.0.2.3:8080", "10.0.2.2:50001"}, {"10.0.2.3:8080", "10.0.2.2:50002"}}},
			},
			prev: map[string]bool{"10.0.2.2:50000>10.0.2.3:8080": true, "10.0.2.2:50001>10.0.2.3:8080": true},
			want: []string{"lb>app:8080 x1 +1"},
		},
		{
			name: "a flow whose connections all closed before the last sample is gone",
			tables: []model.SocketTable{
				{Containers: []string{"app"}, Listen: []string{"0.0.0.0:8080"},
					Ended: []model.SocketConn{{"10.0.2.3:8080", "10.0.2.2:50001"}}},
			},
			prev:      map[string]bool{"10.0.2.2:50001>10.0.2.3:8080": true},
			listeners: []string{"app 0.0.0.0:8080 unused"},
		},
		{
			name: "loopback connections stay inside a namespace",
			tables: []model.SocketTable{
				{Containers: []string{"app"}, Listen: []string{"127.0.0.1:9000"}, Conns: []model.SocketConn{{"127.0.0.1:9000", "127.0.0.1:40000"}, {"127.0.0.1:40000", "127.0.0.1:9000"}}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := topo.Flows(tc.tables, tc.prev)
			var got []string
			for _, f := range s.Flows {
				got = append(got, flowLine(f))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("flows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if tc.listeners != nil {
				var ls []string
				for _, l := range s.Listeners {
					line := l.Name + " " + l.Addr
					if l.Used {
						line += " used"
					} else {
						line += " unused"
					}
					if l.Outside {
						line += " outside"
					}
					ls = append(ls, line)
				}
				if strings.Join(ls, "\n") != strings.Join(tc.listeners, "\n") {
					t.Errorf("listeners:\n%s\nwant:\n%s", strings.Join(ls, "\n"), strings.Join(tc.listeners, "\n"))
				}
			}
			flagged := 0
			for _, w := range tc.want {
				if strings.HasSuffix(w, "!") {
					flagged++
				}
			}
			if s.Flagged() != flagged {
				t.Errorf("Flagged() = %d, want %d", s.Flagged(), flagged)
			}
		})
	}
}

func TestFlowTallyCountsNewAfterTheFirstSample(t *testing.T) {
	topo := fixTopo(fixNets("front"), flowCtr("a", "front=10.0.1.2"), flowCtr("b", "front=10.0.1.3"))
	tab := func(ports ...int) []model.SocketTable {
		var conns []model.SocketConn
		for _, p := range ports {
			conns = append(conns, model.SocketConn{Local: fmt.Sprintf("10.0.1.2:%d", p), Remote: "10.0.1.3:80"})
		}
		return []model.SocketTable{{Containers: []string{"a"}, Conns: conns}, {Containers: []string{"b"}, Listen: []string{"0.0.0.0:80", "0.0.0.0:81"}}}
	}
	var tally model.FlowTally
	s1 := topo.Flows(tab(1, 2), nil)
	tally.Add(s1, 0)
	s2 := topo.Flows(tab(2, 3, 4), s1.Seen)
	tally.Add(s2, 2)
	if len(tally.Flows) != 1 || tally.Flows[0].Conns != 3 || tally.Flows[0].New != 2 || tally.NewPerSecond[0] != 1 {
		t.Fatalf("tally = %+v, want one flow of at most 3 connections, 2 new, 1/s", tally)
	}
	if len(tally.Listeners) != 2 || !tally.Listeners[0].Used || tally.Listeners[1].Used {
		t.Errorf("listeners = %+v, want :80 used and :81 not", tally.Listeners)
	}
}
