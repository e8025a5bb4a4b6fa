package cli

import (
	"testing"

	"github.com/topo-dev/topo/model"
)

func TestFindByDisplayNameAcceptsServiceN(t *testing.T) {
	topo := model.NewTopology()
	compose := func(id, project string) model.Container {
		return model.Container{ID: id, Name: project + "-web-1", Labels: map[string]string{
			model.LabelComposeProject: project, model.LabelComposeService: "web", model.LabelComposeNumber: "1"}}
	}
	topo.Containers["aaaa1111"] = compose("aaaa1111", "shop")
	if c, ok := findByDisplayName(topo, "web.1"); !ok || c.ID != "aaaa1111" {
		t.Fatalf("web.1 = %v, %v; want the shop container", c.ID, ok)
	}
	if c, ok := findByDisplayName(topo, "shop-web-1"); !ok || c.ID != "aaaa1111" {
		t.Fatalf("by name = %v, %v", c.ID, ok)
	}
	// Two projects with a web.1 each: the short name is ambiguous.
	topo.Containers["bbbb2222"] = compose("bbbb2222", "blog")
	if c, ok := findByDisplayName(topo, "web.1"); ok {
		t.Fatalf("ambiguous web.1 resolved to %v", c.Name)
	}
}
