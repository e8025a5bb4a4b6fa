package cli

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/model"
)

// TestSnapshotJSONMatchesTheEngine compares `topo snapshot --json` with
// what the engine says when inspected directly, network by network and
// container by container: names, membership and addresses.
func TestSnapshotJSONMatchesTheEngine(t *testing.T) {
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	ctx := context.Background()
	netA := env.CreateNetwork(t, "a", nil)
	netB := env.CreateNetwork(t, "b", nil)
	ids := []string{
		env.Run(t, dockertest.ContainerSpec{Suffix: "one", Image: image, Networks: []string{netA}, Start: true}),
		env.Run(t, dockertest.ContainerSpec{Suffix: "both", Image: image, Networks: []string{netA, netB}, Start: true,
			Labels: map[string]string{model.LabelComposeProject: env.Prefix, model.LabelComposeService: "web", model.LabelComposeNumber: "1"}}),
		// Created, never started: on b by configuration, with no address.
		env.Run(t, dockertest.ContainerSpec{Suffix: "idle", Image: image, Networks: []string{netB}}),
	}

	out, err := runTopo(t, "snapshot", "--json")
	if err != nil {
		t.Fatalf("topo snapshot --json: %v\n%s", err, out)
	}
	var snap model.Export
	if err := json.Unmarshal([]byte(out), &snap); err != nil {
		t.Fatalf("topo snapshot --json is not JSON: %v\n%s", err, out)
	}

	for _, id := range []string{netA, netB} {
		want, err := env.Client.NetworkInspect(ctx, id, network.InspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var got *model.ExportNetwork
		for i := range snap.Networks {
			if snap.Networks[i].ID == id {
				got = &snap.Networks[i]
			}
		}
		if got == nil {
			t.Errorf("network %s is not in the snapshot", want.Name)
			continue
		}
		var subnets []string
		for _, c := range want.IPAM.Config {
			subnets = append(subnets, c.Subnet)
		}
		if got.Name != want.Name || got.Driver != want.Driver || strings.Join(got.Subnets, ",") != strings.Join(subnets, ",") {
			t.Errorf("network %s: snapshot says %s/%s %v, the engine %s/%s %v", id[:12], got.Name, got.Driver, got.Subnets, want.Name, want.Driver, subnets)
		}
		// Members as the engine lists them (the containers attached now),
		// plus those configured on it and not started: the engine's
		// network lists them nowhere, topo draws them on the lane with no
		// address, as their own inspect says.
		var wantMembers, gotMembers []string
		for cid, ep := range want.Containers {
			ip, _, _ := strings.Cut(ep.IPv4Address, "/")
			wantMembers = append(wantMembers, ep.Name+"="+cid+"@"+ip)
		}
		for _, cid := range ids {
			c, err := env.Client.ContainerInspect(ctx, cid)
			if err != nil {
				t.Fatal(err)
			}
			if _, on := c.NetworkSettings.Networks[want.Name]; on && c.State.Status == "created" {
				wantMembers = append(wantMembers, strings.TrimPrefix(c.Name, "/")+"="+cid+"@")
			}
		}
		for _, m := range got.Containers {
			gotMembers = append(gotMembers, m.Name+"="+m.ID+"@"+m.IPv4)
		}
		sort.Strings(wantMembers)
		sort.Strings(gotMembers)
		if strings.Join(gotMembers, " ") != strings.Join(wantMembers, " ") {
			t.Errorf("network %s members:\n snapshot %v\n engine   %v", want.Name, gotMembers, wantMembers)
		}
	}

	for _, id := range ids {
		want, err := env.Client.ContainerInspect(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var got *model.ExportContainer
		for i := range snap.Containers {
			if snap.Containers[i].ID == id {
				got = &snap.Containers[i]
			}
		}
		name := strings.TrimPrefix(want.Name, "/")
		if got == nil {
			t.Errorf("container %s is not in the snapshot", name)
			continue
		}
		if got.Name != name || got.Image != want.Config.Image || string(got.State) != want.State.Status {
			t.Errorf("container %s: snapshot says %q %q %q, the engine %q %q %q", id[:12], got.Name, got.Image, got.State, name, want.Config.Image, want.State.Status)
		}
		if got.Project != want.Config.Labels[model.LabelComposeProject] || got.Service != want.Config.Labels[model.LabelComposeService] {
			t.Errorf("container %s: project/service %q/%q, labels say %q/%q", name, got.Project, got.Service,
				want.Config.Labels[model.LabelComposeProject], want.Config.Labels[model.LabelComposeService])
		}
		var wantNets, gotNets []string
		for netName, ep := range want.NetworkSettings.Networks {
			wantNets = append(wantNets, netName+"@"+ep.IPAddress)
		}
		for _, ep := range got.Networks {
			gotNets = append(gotNets, ep.NetworkName+"@"+ep.IPv4)
		}
		sort.Strings(wantNets)
		if strings.Join(gotNets, " ") != strings.Join(wantNets, " ") {
			t.Errorf("container %s networks:\n snapshot %v\n engine   %v", name, gotNets, wantNets)
		}
	}
}

// TestContainerCommandsOnTheEngine runs topo stop, start, restart and kill
// on a container of the test's and reads its state back from the engine
// after each; a second container of the test is never touched.
func TestContainerCommandsOnTheEngine(t *testing.T) {
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	ctx := context.Background()
	netID := env.CreateNetwork(t, "actions", nil)
	service := strings.ReplaceAll(env.Prefix, "-", "") + "web"
	target := env.Run(t, dockertest.ContainerSpec{Suffix: "target", Image: image, Networks: []string{netID}, Start: true,
		Labels: map[string]string{model.LabelComposeProject: env.Prefix, model.LabelComposeService: service, model.LabelComposeNumber: "1"}})
	bystander := env.Run(t, dockertest.ContainerSpec{Suffix: "bystander", Image: image, Networks: []string{netID}, Start: true})
	inspect := func(id string) container.InspectResponse {
		t.Helper()
		c, err := env.Client.ContainerInspect(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	before := inspect(bystander)
	short := target[:12]

	steps := []struct {
		args    []string
		said    string
		running bool
		check   func(prev, now container.InspectResponse) string
	}{
		{[]string{"stop", env.Name("target")}, "stopped " + service + ".1 (" + short + ")", false, func(_, now container.InspectResponse) string {
			if now.State.Status != "exited" {
				return "state " + now.State.Status + ", want exited"
			}
			return ""
		}},
		{[]string{"start", short}, "started " + service + ".1 (" + short + ")", true, nil},
		// By the service.N the lanes show.
		{[]string{"restart", service + ".1"}, "restarted " + service + ".1 (" + short + ")", true, func(prev, now container.InspectResponse) string {
			if now.State.StartedAt == prev.State.StartedAt {
				return "not started again: StartedAt still " + now.State.StartedAt
			}
			return ""
		}},
		{[]string{"kill", env.Name("target")}, "killed " + service + ".1 (" + short + ")", false, func(_, now container.InspectResponse) string {
			if now.State.ExitCode != 137 {
				return "exit code " + strconv.Itoa(now.State.ExitCode) + ", want 137 (SIGKILL)"
			}
			return ""
		}},
	}
	prev := inspect(target)
	for _, s := range steps {
		out, err := runTopo(t, s.args...)
		if err != nil {
			t.Fatalf("topo %s: %v\n%s", strings.Join(s.args, " "), err, out)
		}
		if strings.TrimSpace(out) != s.said {
			t.Errorf("topo %s said %q, want %q", strings.Join(s.args, " "), strings.TrimSpace(out), s.said)
		}
		now := inspect(target)
		if now.State.Running != s.running {
			t.Errorf("after topo %s the engine says running=%v (%s)", strings.Join(s.args, " "), now.State.Running, now.State.Status)
		}
		if s.check != nil {
			if why := s.check(prev, now); why != "" {
				t.Errorf("after topo %s: %s", strings.Join(s.args, " "), why)
			}
		}
		prev = now
	}

	if out, err := runTopo(t, "kill", env.Name("no-such")); err == nil || !strings.Contains(err.Error(), "no container") {
		t.Errorf("topo kill of an unknown name: %v\n%s", err, out)
	}
	after := inspect(bystander)
	if !after.State.Running || after.State.StartedAt != before.State.StartedAt {
		t.Errorf("the bystander was touched: running=%v, started %s then %s", after.State.Running, before.State.StartedAt, after.State.StartedAt)
	}
}
