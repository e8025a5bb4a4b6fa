package docker_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/probeagent"
)

// The check run in a container on the engine's host network answers as
// the kernel of this machine does (the engine is local: same kernel), in
// words that say what was looked at, and leaves no container behind.
func TestCheckIPVSAnswersForTheEnginesKernel(t *testing.T) {
	env := dockertest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	image, err := docker.SelfImage(ctx, env.Client, probeAgentBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	var here bytes.Buffer
	wantOK := probeagent.IPVSMain(&here) == probeagent.IPVSAvailable

	ok, why, err := docker.CheckIPVS(ctx, env.Client, image, env.Labels())
	if err != nil {
		t.Fatalf("CheckIPVS: %v", err)
	}
	if ok != wantOK {
		t.Errorf("CheckIPVS in a container says IPVS=%v (%s); this machine's kernel says %v (%s)", ok, why, wantOK, strings.TrimSpace(here.String()))
	}
	if !strings.Contains(why, "IPVS") {
		t.Errorf("the answer %q does not say what it looked at", why)
	}
	left, err := env.Client.ContainerList(ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", dockertest.LabelKey+"="+env.Prefix))})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("%d check containers left behind", len(left))
	}
}
