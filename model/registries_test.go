package model_test

import (
	"reflect"
	"testing"

	"github.com/topo-dev/topo/model"
)

// reg is a registry named name holding, per service, instances of the
// given container IDs (tied by meta container_id).
func reg(name string, services map[string][]string) model.Registry {
	r := model.Registry{Name: name}
	for svc, ids := range services {
		s := model.Service{Name: svc}
		for _, id := range ids {
			s.Instances = append(s.Instances, model.Instance{ID: svc + "-" + id, Service: svc, Node: "n",
				Meta: map[string]string{model.MetaContainerID: id}})
		}
		r.Services = append(r.Services, s)
	}
	return r
}

func labelled(c model.Container, labels map[string]string) model.Container {
	c.Labels = labels
	return c
}

func TestRegistriesLink(t *testing.T) {
	topo := model.NewTopology()
	for _, c := range []model.Container{
		labelled(fixCtr("app1", "app-1"), map[string]string{model.LabelRegistry: "apps"}),
		labelled(fixCtr("app2", "app-2"), map[string]string{model.LabelRegistry: "apps"}),
		labelled(fixCtr("db", "mongo"), map[string]string{model.LabelServiceRegistry: "infra"}),
		labelled(fixCtr("lb", "nginx"), nil),
		labelled(fixCtr("both", "cache"), map[string]string{model.LabelRegistry: "infra"}),
		labelled(fixCtr("lost", "worker"), map[string]string{model.LabelRegistry: "jobs"}),
		withServiceEnv(fixCtr("envd", "metrics"), map[string]string{"SERVICE_REGISTRY": "infra"}),
	} {
		topo.Containers[c.ID] = c
	}
	regs := model.Registries{
		reg("apps", map[string][]string{"app": {"app1"}, "mongo": {"db"}, "nginx": {"lb"}, "cache": {"both"}, "worker": {"lost"}, "metrics": {"envd"}}),
		reg("infra", map[string][]string{"app": {"app2"}, "cache": {"both"}}),
	}
	got := regs.Link(topo)
	want := []model.Misplaced{
		{ContainerID: "app2", Expected: "apps", Known: true, RegisteredIn: []string{"infra"}, Missing: true},
		{ContainerID: "both", Expected: "infra", Known: true, RegisteredIn: []string{"apps"}, Missing: false},
		{ContainerID: "db", Expected: "infra", Known: true, RegisteredIn: []string{"apps"}, Missing: true},
		{ContainerID: "envd", Expected: "infra", Known: true, RegisteredIn: []string{"apps"}, Missing: true},
		{ContainerID: "lost", Expected: "jobs", Known: false, RegisteredIn: []string{"apps"}, Missing: true},
	}
	if !reflect.DeepEqual(got.Misplaced, want) {
		t.Errorf("Misplaced =\n%+v\nwant\n%+v", got.Misplaced, want)
	}
	for id, in := range map[string][]string{"app1": {"apps"}, "app2": {"infra"}, "both": {"apps", "infra"}, "lb": {"apps"}} {
		if !reflect.DeepEqual(got.RegisteredIn[id], in) {
			t.Errorf("RegisteredIn[%s] = %v, want %v", id, got.RegisteredIn[id], in)
		}
	}
	if _, ok := got.MisplacedIn("app1"); ok {
		t.Error("app1 is where its label says, yet flagged")
	}
	if _, ok := got.MisplacedIn("lb"); ok {
		t.Error("lb names no registry, yet flagged")
	}
	if n := len(got.ByRegistry["infra"].ByContainer); n != 2 {
		t.Errorf("infra links %d containers, want 2", n)
	}
}

func TestRegistriesLinkOneRegistryFlagsNothingWithoutLabels(t *testing.T) {
	topo := model.NewTopology()
	topo.Containers["a"] = fixCtr("a", "a")
	got := model.Registries{reg("", map[string][]string{"a": {"a"}})}.Link(topo)
	if len(got.Misplaced) != 0 || !reflect.DeepEqual(got.RegisteredIn["a"], []string{""}) {
		t.Errorf("got %+v", got)
	}
}

func withServiceEnv(c model.Container, env map[string]string) model.Container {
	c.ServiceEnv = env
	return c
}

// With two registries holding a service, a container registered in one
// is not "unregistered" in the other, nor is one naming the other.
func TestRegistriesUnregisteredOnlyWhereExpected(t *testing.T) {
	topo := model.NewTopology()
	for _, c := range []model.Container{
		labelled(fixCtr("a1", "app-1"), map[string]string{model.LabelServiceName: "app"}),
		labelled(fixCtr("a2", "app-2"), map[string]string{model.LabelServiceName: "app", model.LabelRegistry: "infra"}),
		labelled(fixCtr("a3", "app-3"), map[string]string{model.LabelServiceName: "app", model.LabelRegistry: "apps"}),
	} {
		topo.Containers[c.ID] = c
	}
	links := model.Registries{reg("apps", map[string][]string{"app": {"a1"}}), reg("infra", map[string][]string{"app": {"a2"}})}.Link(topo)
	if u := links.ByRegistry["infra"].Unregistered; len(u) != 0 {
		t.Errorf("unregistered in infra: %+v, want none (a1 is in apps, a3 names apps)", u)
	}
	if u := links.ByRegistry["apps"].Unregistered; len(u) != 1 || u[0].ContainerID != "a3" {
		t.Errorf("unregistered in apps: %+v, want a3 only", u)
	}
}

// Two projects each run an infra-consul: topo names them apart (their
// container names), and a container naming infra-consul means its own
// project's.
func TestRegistriesExpectedByComposeServiceOfTheProject(t *testing.T) {
	withProject := func(c model.Container, project, registry string) model.Container {
		return labelled(c, map[string]string{model.LabelComposeProject: project, model.LabelRegistry: registry})
	}
	topo := model.NewTopology()
	for _, c := range []model.Container{
		withProject(fixCtr("a", "a-mongo-1"), "a", "infra-consul"),
		withProject(fixCtr("b", "b-mongo-1"), "b", "infra-consul"),
	} {
		topo.Containers[c.ID] = c
	}
	ra := reg("a-infra-consul-1", map[string][]string{"mongo": {"a"}})
	ra.ComposeProject, ra.ComposeService = "a", "infra-consul"
	rb := reg("b-infra-consul-1", map[string][]string{"mongo": {"a", "b"}})
	rb.ComposeProject, rb.ComposeService = "b", "infra-consul"
	links := model.Registries{ra, rb}.Link(topo)
	want := []model.Misplaced{{ContainerID: "a", Expected: "a-infra-consul-1", Known: true, RegisteredIn: []string{"b-infra-consul-1"}}}
	if !reflect.DeepEqual(links.Misplaced, want) {
		t.Errorf("Misplaced = %+v, want only a (also in b's registry)", links.Misplaced)
	}
}
