package deploy

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"

	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/swarmtest"
)

// demoLookalike is a user's own compose project with the demo's service,
// network and volume names.
func demoLookalike() []dockertest.ComposeService {
	return []dockertest.ComposeService{
		{Name: ServiceLB, Networks: []string{NetworkFront}},
		{Name: ServiceApp, Networks: []string{NetworkFront, NetworkBack}, Scale: 2},
		{Name: ServiceConsul, Networks: []string{NetworkFront, NetworkBack}},
		{Name: ServiceMongo, Networks: []string{NetworkBack}, Volumes: []string{VolumeMongo + ":/data"}},
	}
}

// TestForeignComposeProjectSurvivesUpScaleDown: --project naming a real
// docker-compose project with the demo's services used to make down remove
// it and up recreate its containers. Now up, scale, the TUI's - (ScaleBy)
// and T (Down without volumes), and down in both forms refuse, naming every
// object, and the project is untouched: the same container IDs, states,
// start times and network endpoints, the same networks and volume.
func TestForeignComposeProjectSurvivesUpScaleDown(t *testing.T) {
	env := dockertest.New(t)
	project := env.StartCompose(t, env.Prefix, demoLookalike())
	before := project.Snapshot(t)
	names := project.Names(t)
	if len(names) != 8 {
		t.Fatalf("the compose project has %d objects, want 5 containers, 2 networks and 1 volume:\n%s", len(names), strings.Join(before, "\n"))
	}
	// Images the engine has and a binary it can run: were the refusal
	// missing, up and scale would go on (and recreate the project's
	// containers) rather than stop at a pull or a build.
	img := dockertest.TestServerImage(t)
	d, err := New(env.Client, Options{
		Project: project.Name, LBPort: freePort(t), SelfBinary: selfBinary(t),
		Images: Images{Consul: img, Mongo: img, Nginx: img}, ExtraLabels: env.Labels(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, op := range []struct {
		name, action string
		run          func(Progress) error
	}{
		{"up", "deploy into", func(p Progress) error { _, err := d.Up(ctx, UpOptions{Replicas: 3}, p); return err }},
		{"scale app=3", "scale", func(p Progress) error { return d.Scale(ctx, ServiceApp, 3, p) }},
		{"scale app=0", "scale", func(p Progress) error { return d.Scale(ctx, ServiceApp, 0, p) }},
		{"the - key", "scale", func(p Progress) error { _, err := d.ScaleBy(ctx, ServiceApp, -1, p); return err }},
		{"the T key", "remove", func(p Progress) error { return d.Down(ctx, false, p) }},
		{"down --volumes", "remove", func(p Progress) error { return d.Down(ctx, true, p) }},
		{"down --swarm --volumes", "remove", func(p Progress) error { return d.DownSwarm(ctx, true, p) }},
	} {
		var steps stepLog
		start := time.Now()
		err := op.run(steps.add)
		t.Logf("%s: refused in %v", op.name, time.Since(start).Round(time.Millisecond))
		if after := project.Snapshot(t); !slices.Equal(after, before) {
			t.Fatalf("%s changed the compose project (error: %v):\nbefore:\n%s\nafter:\n%s\nsteps:\n%s", op.name, err,
				strings.Join(before, "\n"), strings.Join(after, "\n"), &steps)
		}
		if !errors.Is(err, ErrForeign) {
			t.Errorf("%s on a compose project topo did not create = %v, want a refusal (ErrForeign)\n%s", op.name, err, &steps)
			continue
		}
		msg := err.Error()
		for _, want := range append([]string{"topo will not " + op.action, "--project", LabelOwner + "=" + OwnerTopo}, names...) {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: the refusal does not say %q: %s", op.name, want, msg)
			}
		}
		if strings.Contains(msg, "docker rm") {
			t.Errorf("%s: the refusal offers commands that remove another's project: %s", op.name, msg)
		}
		if f := steps.finals()["ownership"]; f.State != StepFailed || !errors.Is(f.Err, ErrForeign) {
			t.Errorf("%s: the ownership step ended %v (%v), want failed with the refusal\n%s", op.name, f.State, f.Err, &steps)
		}
	}
}

// TestForeignErrorSaysWhatToDo: the refusal names what it found and the
// way out; removal commands are offered only for what an earlier topo
// made (its containers carry topo.demo.spec), never for another tool's.
func TestForeignErrorSaysWhatToDo(t *testing.T) {
	compose := &ForeignError{Project: "p", Action: "remove", Objects: []ForeignObject{
		{Kind: "container", Name: "p_app_1"}, {Kind: "network", Name: "p_front"},
	}}
	older := &ForeignError{Project: "p", Action: "deploy into", Objects: []ForeignObject{
		{Kind: "container", Name: "p-app-1", OlderTopo: true}, {Kind: "container", Name: "p-lb-1", OlderTopo: true},
		{Kind: "network", Name: "p_back"}, {Kind: "network", Name: "p_front"}, {Kind: "volume", Name: "p_mongo-data"},
	}}
	mixed := &ForeignError{Project: "p", Action: "scale", Objects: []ForeignObject{
		{Kind: "container", Name: "p-app-1", OlderTopo: true}, {Kind: "container", Name: "p-sidecar-1"},
	}}
	olderStack := &ForeignError{Project: "p", Action: "remove", Objects: []ForeignObject{
		{Kind: "service", Name: "p_app", OlderTopo: true}, {Kind: "config", Name: "p_lb_conf_1234"}, {Kind: "network", Name: "p_front"},
	}}
	var many []ForeignObject
	for i := 1; i <= 13; i++ {
		many = append(many, ForeignObject{Kind: "container", Name: fmt.Sprintf("p_app_%d", i)})
	}
	for _, tc := range []struct {
		name      string
		err       *ForeignError
		want, not []string
	}{
		{"another compose project", compose,
			[]string{"project p holds objects topo did not create, so topo will not remove it: container p_app_1, network p_front", "topo.owner=topo", "choose another --project (or TOPO_DEMO_PROJECT)", "with the tool that made them"},
			[]string{"docker rm", "docker network rm"}},
		{"a demo of an earlier topo", older,
			[]string{"will not deploy into it", "earlier topo", "docker rm -f p-app-1 p-lb-1; docker network rm p_back p_front; docker volume rm p_mongo-data"},
			nil},
		{"an earlier demo with another's container in it", mixed,
			[]string{"will not scale it", "p-sidecar-1", "with the tool that made them"},
			[]string{"docker rm"}},
		{"a stack of an earlier topo", olderStack,
			[]string{"docker service rm p_app; docker config rm p_lb_conf_1234; docker network rm p_front"},
			nil},
		{"a name holding escapes", &ForeignError{Project: "p", Action: "remove", Objects: []ForeignObject{
			{Kind: "container", Name: "p-app-1", OlderTopo: true}, {Kind: "network", Name: "p_front\x1b]0;owned\a\u202e"},
		}},
			[]string{`network "p_front\x1b]0;owned\a\u202e"`, "with the tool that made them"},
			[]string{"\x1b]", "docker rm", "\u202e"}},
		{"many objects", &ForeignError{Project: "p", Action: "remove", Objects: many},
			[]string{"container p_app_10 and 3 more"},
			[]string{"p_app_11"}},
	} {
		msg := tc.err.Error()
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q lacks %q", tc.name, msg, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(msg, n) {
				t.Errorf("%s: %q says %q", tc.name, msg, n)
			}
		}
		if !errors.Is(fmt.Errorf("wrapped: %w", tc.err), ErrForeign) {
			t.Errorf("%s: errors.Is(…, ErrForeign) is false", tc.name)
		}
	}
}

// TestEveryObjectCarriesTheOwnerLabel: containers, networks, volumes,
// services, their tasks' containers and volumes all carry topo.owner=topo,
// and no extra label can replace it.
func TestEveryObjectCarriesTheOwnerLabel(t *testing.T) {
	d, err := New(nil, Options{Project: "p1", ExtraLabels: map[string]string{LabelOwner: "someone-else", "x": "y"},
		Images: Images{Consul: "c:1", Mongo: "m:1", Nginx: "n:1"}})
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, l map[string]string) {
		t.Helper()
		if l[LabelOwner] != OwnerTopo || l[LabelProject] != "p1" || l["x"] != "y" {
			t.Errorf("%s labels %v, want %s=%s beside the project's and the extra ones", what, l, LabelOwner, OwnerTopo)
		}
	}
	check("networks and volumes", d.labels(map[string]string{LabelNetwork: NetworkFront}))
	check("stack networks and configs", d.stackLabels(nil))
	for _, svc := range Services {
		cfg, _ := d.containerConfig(d.specFor(svc, 1, "self:1"))
		check("container "+svc, cfg.Labels)
		if svc == ServiceLB {
			continue // its spec stores a config through the engine
		}
		spec, err := d.serviceSpec(context.Background(), nil, svc, "self:1", 2, false)
		if err != nil {
			t.Fatal(err)
		}
		check("service "+svc, spec.Labels)
		check("the containers of service "+svc, spec.TaskTemplate.ContainerSpec.Labels)
		for _, m := range spec.TaskTemplate.ContainerSpec.Mounts {
			if m.VolumeOptions != nil {
				check("the volume of service "+svc, m.VolumeOptions.Labels)
			}
		}
	}
}

// TestForeignStackSurvivesUpScaleDown is the swarm form: a real stack of
// `docker stack deploy` named like the demo, with the demo's services, an
// overlay pair, a config and the volume, on a Docker-in-Docker swarm.
// Both modes of up, scale, - and down refuse, naming every object, and
// the stack is untouched: the same services at the same versions, tasks,
// configs, networks and volume.
func TestForeignStackSurvivesUpScaleDown(t *testing.T) {
	img := dockertest.TestServerImage(t)
	cl := swarmtest.Start(t, swarmtest.Options{Workers: 1, Images: []string{img}})
	cl.Own(t)
	mgr := cl.Manager()
	stack := cl.Env.Prefix
	file := fmt.Sprintf(`version: "3.8"
services:
  lb:
    image: %[1]q
    networks: [front]
    configs: [{source: lbconf, target: /etc/lb.conf}]
    deploy: {endpoint_mode: dnsrr}
  app:
    image: %[1]q
    networks: [front, back]
    deploy: {replicas: 2, endpoint_mode: dnsrr}
  consul:
    image: %[1]q
    networks: [front, back]
    deploy: {endpoint_mode: dnsrr}
  mongo:
    image: %[1]q
    networks: [back]
    volumes: ["mongo-data:/data"]
    deploy: {endpoint_mode: dnsrr, placement: {constraints: [node.role==manager]}}
configs:
  lbconf: {file: /tmp/lb.conf}
networks:
  front: {driver: overlay, driver_opts: {com.docker.network.driver.mtu: %[2]q}}
  back: {driver: overlay, driver_opts: {com.docker.network.driver.mtu: %[2]q}}
volumes:
  mongo-data: {}
`, img, swarmtest.OverlayMTU)
	// The node's own docker CLI deploys it, as a user on the manager would.
	deployCmd := exec.Command("docker", "exec", "-i", mgr.ContainerID, "sh", "-c",
		"echo 'listen 80;' > /tmp/lb.conf && cat > /tmp/stack.yml && docker stack deploy --resolve-image never -c /tmp/stack.yml "+stack)
	deployCmd.Stdin = strings.NewReader(file)
	if out, err := deployCmd.CombinedOutput(); err != nil {
		t.Fatalf("docker stack deploy: %v\n%s", err, out)
	}

	ctx := context.Background()
	f := filters.NewArgs(filters.Arg("label", LabelStack+"="+stack))
	// read describes the stack: services with their versions, the tasks
	// meant to run with their state, configs, networks and the volume.
	read := func() (lines, names []string, settled bool, why string) {
		t.Helper()
		svcs, err := mgr.Client.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range svcs {
			lines = append(lines, fmt.Sprintf("service %s %s version %d", s.Spec.Name, s.ID, s.Version.Index))
			names = append(names, s.Spec.Name)
		}
		tasks, err := mgr.Client.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(
			filters.Arg("label", LabelStack+"="+stack), filters.Arg("desired-state", "running"))})
		if err != nil {
			t.Fatal(err)
		}
		running := 0
		for _, tk := range tasks {
			lines = append(lines, fmt.Sprintf("task %s %s %s", tk.ID, tk.Status.State, tk.Status.Err))
			if tk.Status.State == swarm.TaskStateRunning {
				running++
			}
		}
		configs, err := mgr.Client.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range configs {
			lines = append(lines, "config "+c.Spec.Name+" "+c.ID)
			names = append(names, c.Spec.Name)
		}
		nets, err := mgr.Client.NetworkList(ctx, network.ListOptions{Filters: f})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nets {
			lines = append(lines, "network "+n.Name+" "+n.ID)
			names = append(names, n.Name)
		}
		vols, err := mgr.Client.VolumeList(ctx, volume.ListOptions{Filters: f})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vols.Volumes {
			lines = append(lines, "volume "+v.Name+" "+v.CreatedAt)
			names = append(names, v.Name)
		}
		slices.Sort(lines)
		why = fmt.Sprintf("%d services, %d of %d tasks running, %d configs, %d networks, %d volumes",
			len(svcs), running, len(tasks), len(configs), len(nets), len(vols.Volumes))
		return lines, names, len(svcs) == 4 && len(tasks) == 5 && running == 5 && len(configs) == 1 && len(nets) == 2 && len(vols.Volumes) == 1, why
	}
	// Compared once every task runs: a task still starting would be
	// replaced by the swarm, not by topo.
	var before, names []string
	dockertest.Eventually(t, time.Minute, func() (bool, string) {
		var settled bool
		var why string
		before, names, settled, why = read()
		return settled, why
	})

	d, err := New(mgr.Client, Options{
		Project: stack, SelfBinary: selfBinary(t), Images: Images{Consul: img, Mongo: img, Nginx: img},
		ExtraLabels: cl.Env.Labels(), OverlayMTU: 1350,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []struct {
		name string
		run  func(Progress) error
	}{
		{"up --swarm", func(p Progress) error { _, err := d.UpSwarm(ctx, UpOptions{Replicas: 3}, p); return err }},
		{"up", func(p Progress) error { _, err := d.Up(ctx, UpOptions{}, p); return err }},
		{"scale app=3", func(p Progress) error { return d.Scale(ctx, ServiceApp, 3, p) }},
		{"the - key", func(p Progress) error { _, err := d.ScaleBy(ctx, ServiceApp, -1, p); return err }},
		{"the T key", func(p Progress) error { return d.Down(ctx, false, p) }},
		{"down --swarm --volumes", func(p Progress) error { return d.DownSwarm(ctx, true, p) }},
	} {
		var steps stepLog
		err := op.run(steps.add)
		if after, _, _, _ := read(); !slices.Equal(after, before) {
			t.Fatalf("%s changed the stack (error: %v):\nbefore:\n%s\nafter:\n%s\nsteps:\n%s", op.name, err,
				strings.Join(before, "\n"), strings.Join(after, "\n"), &steps)
		}
		if !errors.Is(err, ErrForeign) {
			t.Errorf("%s on a stack topo did not create = %v, want a refusal (ErrForeign)\n%s", op.name, err, &steps)
			continue
		}
		for _, want := range append([]string{"--project"}, names...) {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: the refusal does not say %q: %v", op.name, want, err)
			}
		}
	}
}
