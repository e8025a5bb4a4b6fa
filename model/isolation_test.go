package model_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/topo-dev/topo/model"
)

// isoTopo is the isolation fixture: two tiers and everything that is not a
// plain network member.
//
//	front: web, api, sidecar (in api's namespace), stopped
//	back:  api, db
//	bridge: legacy
//	host: hostc, hostc2      none: nonec
//	v6only (IPv6 only): v6a, v6b
//
// Every address is unique so that probe plans can be checked by address.
func isoTopo() model.Topology {
	nets := fixNets("front", "back", "bridge", "v6only")
	nets = append(nets, model.Network{ID: netID("host"), Name: "host", Driver: "host"},
		model.Network{ID: netID("none"), Name: "none", Driver: "null"})
	topo := fixTopo(nets)
	next := 10
	add := func(c model.Container) model.Container {
		for id, e := range c.Endpoints {
			e.IPv4 = fmt.Sprintf("172.30.0.%d", next)
			next++
			c.Endpoints[id] = e
		}
		topo.Containers[c.ID] = c
		return c
	}
	withPorts := func(c model.Container, ports ...model.Port) model.Container {
		c.Ports = ports
		return c
	}
	add(fixCtr("web", "web", "front"))
	add(withPorts(fixCtr("api", "api", "front", "back"), model.Port{Private: 8080, Protocol: "tcp"}))
	add(withPorts(fixCtr("db", "db", "back"), model.Port{Private: 27017, Protocol: "tcp"}, model.Port{Private: 53, Protocol: "udp"}))
	add(fixCtr("legacy", "legacy", "bridge"))
	stopped := fixCtr("stopped", "stopped", "front")
	stopped.State = model.StateExited
	add(stopped)
	sidecar := model.Container{ID: "sidecar", Name: "sidecar", State: model.StateRunning, NetworkMode: "container:api",
		Endpoints: map[string]model.Endpoint{}}
	topo.Containers[sidecar.ID] = sidecar
	for _, name := range []string{"hostc", "hostc2"} {
		c := fixCtr(name, name, "host")
		c.NetworkMode = "host"
		e := c.Endpoints[netID("host")]
		e.IPv4 = ""
		c.Endpoints[netID("host")] = e
		topo.Containers[c.ID] = c
	}
	nonec := fixCtr("nonec", "nonec", "none")
	e := nonec.Endpoints[netID("none")]
	e.IPv4 = ""
	nonec.Endpoints[netID("none")] = e
	topo.Containers[nonec.ID] = nonec // mode inferred from its only endpoint
	for i, name := range []string{"v6a", "v6b"} {
		c := fixCtr(name, name, "v6only")
		c.Endpoints[netID("v6only")] = model.Endpoint{NetworkID: netID("v6only"), NetworkName: "v6only", IPv6: fmt.Sprintf("fd00::%d", i+2)}
		c.Ports = []model.Port{{Private: 8080, Protocol: "tcp"}}
		topo.Containers[c.ID] = c
	}
	probe := fixCtr("probe", "topo-probe-x", "front")
	probe.Labels[model.LabelProbe] = "1"
	topo.Containers[probe.ID] = probe
	return topo
}

func peerSummary(p model.Peer) string {
	s := string(p.Reach)
	if len(p.Via) > 0 {
		s += " via " + strings.Join(p.Via, ",")
	}
	if p.SameNamespace {
		s += " (same namespace)"
	}
	return s
}

func TestIsolationExpectations(t *testing.T) {
	topo := isoTopo()
	for _, tc := range []struct {
		subject string
		want    map[string]string // peer ID -> reach via
		mode    model.NetMode
	}{
		{"web", map[string]string{
			"api": "reachable via front", "db": "isolated", "legacy": "isolated",
			"sidecar": "reachable via front", "stopped": "reachable via front",
			"hostc": "reachable via host", "nonec": "isolated", "v6a": "isolated",
		}, model.NetModeNetworks},
		{"api", map[string]string{
			"web": "reachable via front", "db": "reachable via back",
			"sidecar": "reachable (same namespace)", "legacy": "isolated",
		}, model.NetModeNetworks},
		{"sidecar", map[string]string{
			"db": "reachable via back", "web": "reachable via front", "api": "reachable (same namespace)",
		}, model.NetModeShared},
		{"hostc", map[string]string{
			"hostc2": "reachable via host", "web": "reachable via host", "legacy": "reachable via host",
			"nonec": "isolated", "v6a": "reachable via host",
		}, model.NetModeHost},
		{"nonec", map[string]string{
			"web": "isolated", "hostc": "isolated", "api": "isolated",
		}, model.NetModeNone},
		{"v6a", map[string]string{"v6b": "reachable via v6only", "web": "isolated"}, model.NetModeNetworks},
		{"stopped", map[string]string{"web": "reachable via front", "db": "isolated"}, model.NetModeNetworks},
	} {
		t.Run(tc.subject, func(t *testing.T) {
			iso, ok := topo.Isolation(tc.subject)
			if !ok {
				t.Fatalf("Isolation(%q) found nothing", tc.subject)
			}
			if iso.Mode != tc.mode {
				t.Errorf("mode = %q, want %q", iso.Mode, tc.mode)
			}
			for id, want := range tc.want {
				p, ok := iso.Peer(id)
				if !ok {
					t.Errorf("peer %s missing", id)
					continue
				}
				if got := peerSummary(p); got != want {
					t.Errorf("%s → %s: %s, want %s", tc.subject, id, got, want)
				}
			}
			if _, ok := iso.Peer("probe"); ok {
				t.Errorf("the probe container is listed as a peer; probes must be left out")
			}
			if _, ok := iso.Peer(tc.subject); ok {
				t.Errorf("the subject is listed as its own peer")
			}
		})
	}
	if _, ok := topo.Isolation("nope"); ok {
		t.Errorf("Isolation of an unknown ID reported ok")
	}
}

func TestIsolationLanesAndNotes(t *testing.T) {
	topo := isoTopo()
	on := func(id string) []string {
		iso, _ := topo.Isolation(id)
		var out []string
		for _, n := range topo.OrderedNetworks(true) {
			if iso.OnNetwork(n) {
				out = append(out, n.Name)
			}
		}
		return out
	}
	for id, want := range map[string][]string{
		"web": {"front"}, "api": {"back", "front"}, "sidecar": {"back", "front"},
		"hostc": {"host"}, "nonec": {"none"},
	} {
		if got := on(id); !slices.Equal(got, want) {
			t.Errorf("%s is on lanes %v, want %v", id, got, want)
		}
	}
	for id, want := range map[string]string{
		"web":     "",
		"hostc":   "hostc uses the host's network: it reaches containers on local bridges through the host",
		"nonec":   "nonec has network none: loopback only, it reaches no other container",
		"sidecar": "sidecar uses the network namespace of api: it reaches what that container reaches",
		"stopped": "stopped is exited: this is what it reaches once it runs",
	} {
		iso, _ := topo.Isolation(id)
		if got := iso.Note(); got != want {
			t.Errorf("Note of %s = %q, want %q", id, got, want)
		}
	}
}

func TestIsolationUnknownNamespaceOwner(t *testing.T) {
	topo := fixTopo(fixNets("front"), fixCtr("web", "web", "front"))
	orphan := model.Container{ID: "orphan", Name: "orphan", State: model.StateRunning, NetworkMode: "container:gone"}
	topo.Containers[orphan.ID] = orphan
	iso, _ := topo.Isolation("orphan")
	if p, _ := iso.Peer("web"); p.Reach != model.ReachUnknown {
		t.Errorf("a container in the namespace of an unknown container: reach %q, want unknown", p.Reach)
	}
	if want := "orphan uses the network namespace of gone, which topo does not know: its reach is unknown"; iso.Note() != want {
		t.Errorf("Note = %q, want %q", iso.Note(), want)
	}
}

func TestMatrixServices(t *testing.T) {
	topo := fixTopo(fixNets("front", "back", "bridge"),
		fixCompose("w1", "shop", "web", 1, "front"),
		fixCompose("w2", "shop", "web", 2, "front"),
		fixCompose("a1", "shop", "api", 1, "front", "back"),
		fixCompose("d1", "shop", "db", 1, "back"),
		fixCtr("tool", "tool", "bridge"),
	)
	m := topo.Matrix()
	if !m.Services {
		t.Errorf("Services = false with compose containers")
	}
	var labels []string
	for _, e := range m.Entries {
		labels = append(labels, e.Label)
	}
	if want := []string{"api", "db", "tool", "web"}; !slices.Equal(labels, want) {
		t.Fatalf("entries %v, want %v", labels, want)
	}
	web, _ := m.Index("w2")
	if m.Entries[web].Label != "web" || !slices.Equal(m.Entries[web].Members, []string{"w1", "w2"}) {
		t.Errorf("w2 is in entry %+v, want web with members w1, w2", m.Entries[web])
	}
	if i, ok := m.Index("shop/web"); !ok || i != web {
		t.Errorf("Index by key shop/web = %d, %v", i, ok)
	}
	cell := func(a, b string) string {
		i, _ := m.Index(a)
		j, _ := m.Index(b)
		c := m.Cell(i, j)
		if c.Self {
			return "self"
		}
		return string(c.Reach) + " " + strings.Join(c.Via, ",")
	}
	for _, tc := range []struct{ a, b, want string }{
		{"w1", "w2", "self"},
		{"w1", "a1", "reachable front"},
		{"a1", "d1", "reachable back"},
		{"w1", "d1", "isolated "},
		{"d1", "w1", "isolated "},
		{"tool", "a1", "isolated "},
	} {
		if got := cell(tc.a, tc.b); got != tc.want {
			t.Errorf("cell %s→%s = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestMatrixContainersWhenNoCompose(t *testing.T) {
	topo := isoTopo()
	m := topo.Matrix()
	if m.Services {
		t.Errorf("Services = true without compose containers")
	}
	if _, ok := m.Index("probe"); ok {
		t.Errorf("the probe container has a matrix entry")
	}
	if len(m.Entries) != len(topo.Containers)-1 {
		t.Errorf("%d entries for %d containers (one a probe)", len(m.Entries), len(topo.Containers))
	}
	i, _ := m.Index("hostc")
	j, _ := m.Index("web")
	k, _ := m.Index("nonec")
	if c := m.Cell(i, j); c.Reach != model.Reachable || !slices.Equal(c.Via, []string{"host"}) {
		t.Errorf("host-network container to a bridge container: %+v, want reachable via host", c)
	}
	if c := m.Cell(k, j); c.Reach != model.Isolated {
		t.Errorf("network none to web: %+v, want isolated", c)
	}
}

func TestMatrixSameServiceNameInTwoProjects(t *testing.T) {
	topo := fixTopo(fixNets("a", "b"),
		fixCompose("x1", "alpha", "web", 1, "a"),
		fixCompose("y1", "beta", "web", 1, "b"),
	)
	m := topo.Matrix()
	var labels []string
	for _, e := range m.Entries {
		labels = append(labels, e.Label)
	}
	if want := []string{"alpha/web", "beta/web"}; !slices.Equal(labels, want) {
		t.Errorf("labels %v, want %v", labels, want)
	}
}

func targetLines(plan model.ProbePlan) []string {
	var out []string
	for _, t := range plan.Targets {
		out = append(out, fmt.Sprintf("%s %s %s %s %s", t.Name, t.Address, t.PortSource, t.Expect, strings.Join(t.Via, ",")))
	}
	return out
}

func skippedLines(plan model.ProbePlan) []string {
	var out []string
	for _, l := range plan.Skipped {
		out = append(out, l.Target.Name+": "+l.Why)
	}
	return out
}

func TestPlanProbe(t *testing.T) {
	topo := isoTopo()
	addr := func(id, net string) string { return topo.Containers[id].Endpoints[netID(net)].IPv4 }
	for _, tc := range []struct {
		name     string
		from, to string
		port     int
		targets  []string
		skipped  []string
	}{
		{name: "front only: the back address of a two-network container is isolated", from: "web", targets: []string{
			"api " + addr("api", "back") + ":8080 exposed isolated ",
			"api " + addr("api", "front") + ":8080 exposed reachable front",
			"db " + addr("db", "back") + ":27017 exposed isolated ",
			"legacy " + addr("legacy", "bridge") + ":80 fallback isolated ",
			"sidecar " + addr("api", "back") + ":80 fallback isolated ",
			"sidecar " + addr("api", "front") + ":80 fallback reachable front",
			"v6a [fd00::2]:8080 exposed isolated ",
			"v6b [fd00::3]:8080 exposed isolated ",
		}, skipped: []string{
			"hostc: host network: no container address to try",
			"hostc2: host network: no container address to try",
			"nonec: network none: no address, nothing can reach it",
			"stopped: exited: no address to try",
		}},
		{name: "one target by name with a port", from: "web", to: "db", port: 5432, targets: []string{
			"db " + addr("db", "back") + ":5432 given isolated ",
		}},
		{name: "on both: reaches both tiers", from: "api", to: "db", targets: []string{
			"db " + addr("db", "back") + ":27017 exposed reachable back",
		}},
		{name: "same namespace is skipped", from: "api", to: "sidecar", skipped: []string{
			"sidecar: shares the network namespace: reachable on localhost",
		}},
		{name: "IPv6-only network", from: "v6a", to: "v6b", targets: []string{
			"v6b [fd00::3]:8080 exposed reachable v6only",
		}},
		{name: "host network reaches bridges through the host", from: "hostc", to: "web", port: 8080, targets: []string{
			"web " + addr("web", "front") + ":8080 given reachable host",
		}},
		{name: "network none expects nothing", from: "nonec", to: "api", targets: []string{
			"api " + addr("api", "back") + ":8080 exposed isolated ",
			"api " + addr("api", "front") + ":8080 exposed isolated ",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := topo.PlanProbe(tc.from, tc.to, tc.port)
			if err != nil {
				t.Fatalf("PlanProbe: %v", err)
			}
			if got := targetLines(plan); !slices.Equal(got, tc.targets) {
				t.Errorf("targets:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.targets, "\n  "))
			}
			if got := skippedLines(plan); !slices.Equal(got, tc.skipped) {
				t.Errorf("skipped:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.skipped, "\n  "))
			}
		})
	}
}

func TestPlanProbeTargetsByServiceName(t *testing.T) {
	topo := fixTopo(fixNets("front"),
		fixCompose("lb", "demo", "lb", 1, "front"),
		fixCompose("a1", "demo", "app", 1, "front"),
		fixCompose("a2", "demo", "app", 2, "front"),
	)
	for ref, want := range map[string]int{"app": 2, "app.2": 1, "demo-app-1": 1} {
		plan, err := topo.PlanProbe("lb", ref, 8080)
		if err != nil {
			t.Fatalf("PlanProbe(lb, %q): %v", ref, err)
		}
		if len(plan.Targets) != want {
			t.Errorf("target %q: %d addresses, want %d", ref, len(plan.Targets), want)
		}
	}
}

func TestPlanProbeErrors(t *testing.T) {
	topo := isoTopo()
	for _, tc := range []struct {
		from, to string
		is       error
		says     string
	}{
		{"nope", "", model.ErrNoContainer, `probe from "nope": no such container`},
		{"stopped", "", model.ErrNotRunning, "probe from stopped: not running (exited): it has no network namespace to probe from; start it first"},
		{"web", "nope", model.ErrNoContainer, `probe target "nope": no such container`},
		{"web", "web", nil, "it is the container probed from"},
	} {
		_, err := topo.PlanProbe(tc.from, tc.to, 0)
		if err == nil {
			t.Errorf("PlanProbe(%q, %q) gave no error", tc.from, tc.to)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("PlanProbe(%q, %q) = %v, want errors.Is %v", tc.from, tc.to, err, tc.is)
		}
		if !strings.Contains(err.Error(), tc.says) {
			t.Errorf("PlanProbe(%q, %q) = %q, want it to say %q", tc.from, tc.to, err, tc.says)
		}
	}
}

func TestJudge(t *testing.T) {
	reach := model.ProbeTarget{Address: "10.0.0.2:8080", Port: 8080, PortSource: model.PortExposed, Expect: model.Reachable, Via: []string{"front"}}
	fallback := reach
	fallback.PortSource, fallback.Port = model.PortFallback, 80
	isolated := model.ProbeTarget{Address: "10.0.1.2:8080", Port: 8080, Network: "back", Expect: model.Isolated}
	unknown := model.ProbeTarget{Address: "10.0.1.2:8080", Port: 8080, Expect: model.ReachUnknown}
	for _, tc := range []struct {
		name    string
		target  model.ProbeTarget
		outcome model.ProbeOutcome
		want    model.Verdict
		why     string
	}{
		{"reachable connected", reach, model.OutcomeConnected, model.VerdictReachable, ""},
		{"reachable timeout: ICC off or firewall", reach, model.OutcomeTimeout, model.VerdictBlocked, "inter-container communication disabled on front"},
		{"reachable but refused on an exposed port", reach, model.OutcomeRefused, model.VerdictNotListening, "nothing listens on 8080"},
		{"refused on the fallback port proves the path", fallback, model.OutcomeRefused, model.VerdictReachable, "proves the path"},
		{"reachable but no route", reach, model.OutcomeUnreachable, model.VerdictBlocked, "no route"},
		{"isolated timeout", isolated, model.OutcomeTimeout, model.VerdictIsolated, ""},
		{"isolated unreachable", isolated, model.OutcomeUnreachable, model.VerdictIsolated, ""},
		{"isolated but connected", isolated, model.OutcomeConnected, model.VerdictLeak, "bypasses"},
		{"isolated but refused", isolated, model.OutcomeRefused, model.VerdictLeak, "packets cross"},
		{"agent error", reach, model.OutcomeError, model.VerdictFailed, "could not try"},
		{"no expectation", unknown, model.OutcomeConnected, model.VerdictObserved, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, why := model.Judge(tc.target, model.ProbeResult{Address: tc.target.Address, Outcome: tc.outcome, Error: "boom"})
			if v != tc.want || !strings.Contains(why, tc.why) {
				t.Errorf("Judge = %q, %q; want %q, mentioning %q", v, why, tc.want, tc.why)
			}
		})
	}
	for v, bad := range map[model.Verdict]bool{
		model.VerdictReachable: false, model.VerdictIsolated: false, model.VerdictGone: false, model.VerdictSkipped: false,
		model.VerdictObserved: false, model.VerdictBlocked: true, model.VerdictLeak: true, model.VerdictNotListening: true,
		model.VerdictFailed: true,
	} {
		if v.Mismatch() != bad {
			t.Errorf("%q.Mismatch() = %v", v, !bad)
		}
	}
}

func TestProbeReport(t *testing.T) {
	topo := isoTopo()
	plan, err := topo.PlanProbe("web", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	apiFront := topo.Containers["api"].Endpoints[netID("front")].IPv4 + ":8080"
	sidecarFront := topo.Containers["api"].Endpoints[netID("front")].IPv4 + ":80"
	var results []model.ProbeResult
	for _, a := range plan.Addresses() {
		switch a {
		case apiFront:
			results = append(results, model.ProbeResult{Address: a, Outcome: model.OutcomeConnected, Millis: 0.4})
		case sidecarFront:
			// Left out: the report must say so rather than invent a result.
		default:
			results = append(results, model.ProbeResult{Address: a, Outcome: model.OutcomeTimeout, Millis: 400})
		}
	}
	// v6b "stopped" during the probe: its silence is explained, not a
	// mismatch.
	rep := plan.Report(results, func(id string) bool { return id != "v6b" })
	verdicts := map[string]model.Verdict{}
	for _, l := range rep.Lines {
		verdicts[l.Target.Name+" "+l.Target.Address] = l.Verdict
	}
	if v := verdicts["api "+apiFront]; v != model.VerdictReachable {
		t.Errorf("api front: %q", v)
	}
	if v := verdicts["sidecar "+sidecarFront]; v != model.VerdictFailed {
		t.Errorf("an address the agent did not report: %q, want %q", v, model.VerdictFailed)
	}
	if v := verdicts["v6b [fd00::3]:8080"]; v != model.VerdictIsolated {
		t.Errorf("v6b: %q (expected isolated and silent is isolated, stopped or not)", v)
	}
	if rep.Mismatches() != 1 {
		t.Errorf("Mismatches = %d, want 1 (the unreported address)", rep.Mismatches())
	}
	if want := "8 addresses probed from web: 7 as expected, 1 MISMATCH, 4 not probed"; rep.Summary() != want {
		t.Errorf("Summary = %q, want %q", rep.Summary(), want)
	}

	// A target expected reachable that stopped meanwhile.
	plan, _ = topo.PlanProbe("api", "db", 0)
	rep = plan.Report([]model.ProbeResult{{Address: plan.Targets[0].Address, Outcome: model.OutcomeTimeout}},
		func(id string) bool { return id != "db" })
	if rep.Lines[0].Verdict != model.VerdictGone || rep.Mismatches() != 0 {
		t.Errorf("a reachable target that stopped during the probe: %+v, want %q and no mismatch", rep.Lines[0], model.VerdictGone)
	}
}

func TestProbeLineResultText(t *testing.T) {
	for want, l := range map[string]model.ProbeLine{
		"":                 {Verdict: model.VerdictSkipped},
		"connected 0.4 ms": {Result: model.ProbeResult{Outcome: model.OutcomeConnected, Millis: 0.42}},
		"timeout 401 ms":   {Result: model.ProbeResult{Outcome: model.OutcomeTimeout, Millis: 400.7}},
		"error":            {Result: model.ProbeResult{Outcome: model.OutcomeError}},
	} {
		if got := l.ResultText(); got != want {
			t.Errorf("ResultText = %q, want %q", got, want)
		}
	}
}
