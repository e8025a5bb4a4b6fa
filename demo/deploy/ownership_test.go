package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"topo/internal/dockertest"
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
		err := op.run(steps.add)
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
