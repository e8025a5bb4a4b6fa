package dockertest

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"

	"github.com/topo-dev/topo/internal/testenv"
)

// ComposeService is one service of a test's compose project: Scale
// containers of the test server image on Networks (short names, created
// by compose as <project>_<name>), with Volumes ("name:/path", named
// volumes of the project).
type ComposeService struct {
	Name     string
	Networks []string
	Volumes  []string
	Scale    int
}

// ComposeProject is a real docker-compose project a test started: what a
// user's own project looks like to the engine, made by the tool that
// makes them, not imitated with hand-set labels.
type ComposeProject struct {
	Name string
	env  *Env
}

// StartCompose runs services as the compose project name with
// docker-compose (v1, /usr/bin/docker-compose here), detached. Every
// service, network and volume carries the test's label, so the test's
// cleanup removes them like anything else it made.
func (e *Env) StartCompose(t testing.TB, name string, services []ComposeService) *ComposeProject {
	t.Helper()
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		testenv.Missing(t, "docker-compose is not on PATH (apt-get install -y docker-compose; scripts/ensure-engine.sh does)")
	}
	image := TestServerImage(t)
	labels := fmt.Sprintf("{%q: %q}", LabelKey, e.Prefix)
	var b strings.Builder
	b.WriteString("version: \"2.4\"\nservices:\n")
	nets, vols := map[string]bool{}, map[string]bool{}
	args := []string{"-p", name, "-f", "-", "up", "-d", "--no-build"}
	for _, s := range services {
		fmt.Fprintf(&b, "  %s:\n    image: %q\n    labels: %s\n    stop_grace_period: 1s\n", s.Name, image, labels)
		fmt.Fprintf(&b, "    networks: [%s]\n", strings.Join(s.Networks, ", "))
		for _, n := range s.Networks {
			nets[n] = true
		}
		if len(s.Volumes) > 0 {
			fmt.Fprintf(&b, "    volumes: [%s]\n", strings.Join(s.Volumes, ", "))
			for _, v := range s.Volumes {
				vols[strings.SplitN(v, ":", 2)[0]] = true
			}
		}
		if s.Scale > 1 {
			args = append(args, "--scale", fmt.Sprintf("%s=%d", s.Name, s.Scale))
		}
	}
	for _, section := range []struct {
		key string
		set map[string]bool
	}{{"networks", nets}, {"volumes", vols}} {
		if len(section.set) == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s:\n", section.key)
		for _, n := range sortedKeys(section.set) {
			fmt.Fprintf(&b, "  %s:\n    labels: %s\n", n, labels)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(b.String())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("docker-compose %s: %v\n%s\n--- file:\n%s", strings.Join(args, " "), err, out.String(), b.String())
	}
	return &ComposeProject{Name: name, env: e}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Snapshot describes every container, network and volume carrying the
// project's compose label, one line each, sorted: IDs, states, start
// times, restart counts and network endpoints, so that two snapshots are
// equal only if nothing was removed, recreated, restarted, stopped,
// disconnected or added.
func (p *ComposeProject) Snapshot(t testing.TB) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli := p.env.Client
	f := filters.NewArgs(filters.Arg("label", "com.docker.compose.project="+p.Name))
	var lines []string
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatalf("list the containers of compose project %s: %v", p.Name, err)
	}
	for _, c := range cs {
		in, err := cli.ContainerInspect(ctx, c.ID)
		if err != nil {
			t.Fatalf("inspect %s: %v", c.ID, err)
		}
		var eps []string
		if in.NetworkSettings != nil {
			for n, ep := range in.NetworkSettings.Networks {
				eps = append(eps, n+"="+ep.EndpointID)
			}
		}
		sort.Strings(eps)
		lines = append(lines, fmt.Sprintf("container %s %s %s started %s restarts %d networks %v",
			in.Name, in.ID, in.State.Status, in.State.StartedAt, in.RestartCount, eps))
	}
	nets, err := cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		t.Fatalf("list the networks of compose project %s: %v", p.Name, err)
	}
	for _, n := range nets {
		lines = append(lines, fmt.Sprintf("network %s %s", n.Name, n.ID))
	}
	vols, err := cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		t.Fatalf("list the volumes of compose project %s: %v", p.Name, err)
	}
	for _, v := range vols.Volumes {
		lines = append(lines, fmt.Sprintf("volume %s created %s", v.Name, v.CreatedAt))
	}
	sort.Strings(lines)
	return lines
}

// Names lists the names of the project's containers (as the engine names
// them, without the leading slash), networks and volumes.
func (p *ComposeProject) Names(t testing.TB) []string {
	t.Helper()
	var names []string
	for _, l := range p.Snapshot(t) {
		f := strings.Fields(l)
		names = append(names, strings.TrimPrefix(f[1], "/"))
	}
	return names
}
