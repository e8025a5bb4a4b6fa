package docker_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/model"
)

// TestDetailsKeepsOnlyServiceEnv: an inspected container carries its
// SERVICE_* variables (where the registrator may read the registry it
// expects) and nothing else of its environment.
func TestDetailsKeepsOnlyServiceEnv(t *testing.T) {
	t.Parallel()
	env := dockertest.New(t)
	id := env.Run(t, dockertest.ContainerSpec{Suffix: "svc", Image: dockertest.TestServerImage(t),
		Env: []string{"SERVICE_REGISTRY=infra", "SERVICE_NAME=metrics", "DB_PASSWORD=hunter2"}})
	c, err := connectTest(t, "").Details(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"SERVICE_REGISTRY": "infra", "SERVICE_NAME": "metrics"}
	if !reflect.DeepEqual(c.ServiceEnv, want) {
		t.Errorf("ServiceEnv = %v, want %v", c.ServiceEnv, want)
	}
	if got := model.ExpectedRegistry(c); got != "infra" {
		t.Errorf("ExpectedRegistry = %q, want infra", got)
	}
}
