package cli

import (
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/topo-dev/topo/demo/deploy"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/tmuxtest"
)

// TestEndToEndForeignProjectIsRefused: --project (or TOPO_DEMO_PROJECT)
// naming a real docker-compose project with the demo's services. The
// commands `topo demo up`, `scale` and `down` exit non-zero naming its
// objects, the TUI's -, + and T show the refusal as the operation's
// failure, and the project is untouched throughout.
func TestEndToEndForeignProjectIsRefused(t *testing.T) {
	env := dockertest.New(t)
	project := env.StartCompose(t, env.Prefix, []dockertest.ComposeService{
		{Name: deploy.ServiceLB, Networks: []string{deploy.NetworkFront}},
		{Name: deploy.ServiceApp, Networks: []string{deploy.NetworkFront, deploy.NetworkBack}, Scale: 2},
		{Name: deploy.ServiceConsul, Networks: []string{deploy.NetworkFront, deploy.NetworkBack}},
		{Name: deploy.ServiceMongo, Networks: []string{deploy.NetworkBack}, Volumes: []string{deploy.VolumeMongo + ":/data"}},
	})
	before := project.Snapshot(t)
	names := project.Names(t)
	unchanged := func(after string) {
		t.Helper()
		if now := project.Snapshot(t); !slices.Equal(now, before) {
			t.Fatalf("%s changed the compose project:\nbefore:\n%s\nafter:\n%s", after, strings.Join(before, "\n"), strings.Join(now, "\n"))
		}
	}
	bin := tmuxtest.BuildTopo(t)
	// Images the engine has, so that nothing is ever pulled, even were
	// the refusal missing.
	img := dockertest.TestServerImage(t)
	port := strconv.Itoa(freeTCPPort(t))
	demoEnv := []string{
		envDemoProject + "=" + project.Name, envDemoLBPort + "=" + port,
		deploy.EnvImageConsul + "=" + img, deploy.EnvImageMongo + "=" + img, deploy.EnvImageNginx + "=" + img,
	}

	for _, args := range [][]string{
		{"demo", "down", "--project", project.Name},
		{"demo", "down", "--volumes", "--project", project.Name},
		{"demo", "scale", "app=1", "--project", project.Name},
		{"demo", "up", "--project", project.Name, "--lb-port", port},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(cmd.Environ(), demoEnv[2:]...)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("topo %s succeeded on a compose project topo did not create:\n%s", strings.Join(args, " "), out)
		}
		for _, want := range append([]string{"holds objects topo did not create", "choose another --project"}, names...) {
			if !strings.Contains(string(out), want) {
				t.Errorf("topo %s does not say %q:\n%s", strings.Join(args, " "), want, out)
			}
		}
		unchanged("topo " + strings.Join(args, " "))
	}

	term := tmuxtest.Start(t, 160, 50, demoEnv, bin)
	term.WaitForText(10*time.Second, "bridge")
	// The panel, right of a border, wraps the error at its width: compare
	// its column without the spaces and line breaks wrapping put in.
	squeeze := regexp.MustCompile(`\s+`)
	refused := func(op string) func(string) bool {
		return func(screen string) bool {
			var panel strings.Builder
			for _, line := range strings.Split(screen, "\n") {
				if i := strings.LastIndex(line, "│"); i >= 0 {
					panel.WriteString(line[i+len("│"):])
				}
			}
			s := squeeze.ReplaceAllString(panel.String(), "")
			return strings.Contains(s, squeeze.ReplaceAllString(op+" failed: project "+project.Name+" holds objects topo did not create", "")) &&
				strings.Contains(s, project.Name+"_lb_1")
		}
	}
	term.Send("-")
	term.WaitFor(30*time.Second, "scale refused", refused("scale"))
	unchanged("the - key")
	// Esc puts the failure away, so that the next one is seen anew.
	term.Send("Escape")
	term.WaitFor(5*time.Second, "the refusal put away", func(s string) bool { return !refused("scale")(s) })
	term.Send("+")
	term.WaitFor(30*time.Second, "scale refused", refused("scale"))
	unchanged("the + key")
	term.Send("T")
	term.WaitForText(5*time.Second, "Tear down the demo")
	term.Send("y")
	term.WaitFor(30*time.Second, "teardown refused", refused("teardown"))
	unchanged("the T key")
	term.Send("q")
	term.WaitForText(10*time.Second, "[exited 0]")
}
