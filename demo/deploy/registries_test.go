package deploy

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/registry"
)

func TestValidateRegistries(t *testing.T) {
	for n, ok := range map[int]bool{-1: false, 0: true, 1: true, 2: true, 3: false} {
		if err := ValidateRegistries(n); (err == nil) != ok {
			t.Errorf("ValidateRegistries(%d) = %v", n, err)
		}
	}
}

// The second registry's container holds only what a Consul dev agent
// needs, and with one registry the lb's and mongo's specs are what they
// always were (a deploy of one recreates nothing).
func TestInfraConsulSpecIsLockedDown(t *testing.T) {
	d, err := New(nil, Options{Project: "p"})
	if err != nil {
		t.Fatal(err)
	}
	s := d.infraConsulSpec()
	_, host := d.containerConfig(s)
	if !host.ReadonlyRootfs || len(host.CapDrop) != 1 || host.CapDrop[0] != "ALL" || len(host.CapAdd) != 0 ||
		host.SecurityOpt[0] != "no-new-privileges" || s.User != unprivileged || len(host.PortBindings) != 0 {
		t.Errorf("infra-consul's host config holds more than it needs: %+v (user %q)", host, s.User)
	}
	if _, ok := host.Tmpfs["/tmp"]; !ok {
		t.Error("infra-consul has no writable /tmp")
	}
	if infraLabels(ServiceMongo, 1) != nil || infraLabels(ServiceLB, 0) != nil || infraLabels(ServiceApp, 2) != nil {
		t.Error("labels with one registry, or on the app")
	}
	if infraLabels(ServiceMongo, 2)[LabelRegistry] != ServiceInfraConsul {
		t.Error("mongo does not name infra-consul with two registries")
	}
}

// TestUpWithTwoRegistries: up --registries 2 on the real engine runs
// infra-consul beside consul; it holds the lb and mongo (passing, with
// instance IDs that name their containers) while consul holds only the
// app; a later up with one registry removes it, and down removes all.
func TestUpWithTwoRegistries(t *testing.T) {
	d, _ := newTestDeployer(t)
	ctx := context.Background()
	var steps stepLog
	if _, err := d.Up(ctx, UpOptions{Wait: true, Registries: 2}, steps.add); err != nil {
		t.Fatalf("up --registries 2: %v\nsteps:\n%s", err, &steps)
	}
	existing, err := d.containers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	infra := first(existing[ServiceInfraConsul])
	if infra == nil || infra.State != "running" {
		t.Fatalf("no running infra-consul: %+v", existing[ServiceInfraConsul])
	}
	c, err := d.api.ContainerInspect(ctx, infra.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Config.Labels[labelRole] != roleRegistry || c.Config.User != unprivileged || !c.HostConfig.ReadonlyRootfs {
		t.Errorf("infra-consul: labels %v, user %q, read-only %v", c.Config.Labels, c.Config.User, c.HostConfig.ReadonlyRootfs)
	}
	at, err := d.consulIn(ctx, infra.ID, infra.Name)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ServiceLB: d.ContainerName(ServiceLB, 1) + ":80", ServiceMongo: d.ContainerName(ServiceMongo, 1) + fmt.Sprintf(":%d", mongoPort)}
	dockertest.Eventually(t, 0, func() (bool, string) {
		var seen []string
		for svc, id := range want {
			in, err := d.registryHealth(ctx, at, svc)
			if err != nil {
				return false, err.Error()
			}
			if len(in) != 1 || in[0].ID != id || in[0].Status != "passing" {
				return false, fmt.Sprintf("%s in infra-consul: %+v, want %s passing", svc, in, id)
			}
			seen = append(seen, svc)
		}
		return true, strings.Join(seen, ",")
	})
	apps, err := d.consulEndpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.ReadOnce(ctx, d.target(apps))
	var svcs []string
	for _, s := range reg.Services {
		svcs = append(svcs, s.Name)
	}
	if err != nil || strings.Join(svcs, ",") != ServiceApp {
		t.Errorf("consul holds %v (%v), want only app", svcs, err)
	}
	for _, svc := range []string{ServiceLB, ServiceMongo} {
		c, err := d.api.ContainerInspect(ctx, first(existing[svc]).ID)
		if err != nil || c.Config.Labels[LabelRegistry] != ServiceInfraConsul {
			t.Errorf("%s does not name infra-consul: %v (%v)", svc, c.Config.Labels, err)
		}
	}

	// Up again without saying keeps both; with one, infra-consul goes.
	if _, err := d.Up(ctx, UpOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	if existing, _ = d.containers(ctx); len(existing[ServiceInfraConsul]) != 1 || existing[ServiceInfraConsul][0].ID != infra.ID {
		t.Errorf("up without --registries changed infra-consul: %+v", existing[ServiceInfraConsul])
	}
	if _, err := d.Up(ctx, UpOptions{Registries: 1}, nil); err != nil {
		t.Fatal(err)
	}
	if existing, _ = d.containers(ctx); len(existing[ServiceInfraConsul]) != 0 {
		t.Errorf("up --registries 1 left infra-consul: %+v", existing[ServiceInfraConsul])
	}
}
