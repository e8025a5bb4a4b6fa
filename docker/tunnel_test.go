package docker_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
)

// A container with no network at all answers through the tunnel, which
// needs nothing but the engine's API; a closed port is the dial's error
// with its reason; Close leaves no tunnel container behind.
func TestTunnelReachesAPortNoAddressLeadsTo(t *testing.T) {
	t.Parallel()
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	id := env.Run(t, dockertest.ContainerSpec{Suffix: "isolated", Image: image, Networks: []string{"none"}, Start: true})
	e := connectTest(t, "")
	tunnel := docker.NewTunnel(docker.SDK(e), probeAgentBinary(t), env.Labels())
	t.Cleanup(func() { tunnel.Close() })
	ctx := context.Background()

	// The server may not listen yet right after its start.
	var body string
	dockertest.Eventually(t, 0, func() (bool, string) {
		httpc := &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return tunnel.Dial(ctx, id, 8080) },
		}}
		resp, err := httpc.Get("http://tunnelled/hello")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	if !strings.HasPrefix(body, "ok ") || !strings.Contains(body, "/hello") {
		t.Errorf("answer through the tunnel %q, want the test server's", body)
	}

	if _, err := tunnel.Dial(ctx, id, 9999); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("Dial of a closed port = %v, want an error saying it was refused", err)
	}

	if err := tunnel.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	left, err := env.Client.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", docker.LabelTunnelTarget+"="+id))})
	if err != nil || len(left) != 0 {
		t.Errorf("after Close: %d tunnel containers left (%v)", len(left), err)
	}
}
