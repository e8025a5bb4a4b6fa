package cli

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/topo-dev/topo/demo/deploy"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/tmuxtest"
)

// TestStageScript is the talk as a presenter gives it (issue 13, item 8),
// on a projector's 80×24 and on 120×35, against the real engine with
// other work running beside the demo: D, +, +, x on an app instance (y),
// g, i on the load balancer, T (y). After each step the screen shows the
// step's effect with no scroll or panel key pressed. The lanes of each
// step are kept in testdata/TestStageScript, compared loosely: names,
// counts and marks, not addresses (regenerate with -update).
func TestStageScript(t *testing.T) {
	requireDemoImages(t)
	for _, size := range []struct{ w, h int }{{80, 24}, {120, 35}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) { stageScript(t, size.w, size.h) })
	}
}

func stageScript(t *testing.T, w, h int) {
	env, _, port := demoProject(t)
	bin := tmuxtest.BuildTopo(t)
	// The bystanders: someone's compose project, and a plain container on
	// two networks of its own.
	shop := env.CreateNetwork(t, "shop", nil)
	a, b := env.CreateNetwork(t, "a", nil), env.CreateNetwork(t, "b", nil)
	for _, svc := range []string{"web", "api", "db"} {
		env.Run(t, dockertest.ContainerSpec{Suffix: "shop-" + svc, Image: dockertest.TestServerImage(t), Networks: []string{shop}, Start: true,
			Labels: map[string]string{"com.docker.compose.project": env.Prefix + "-shop", "com.docker.compose.service": svc,
				"com.docker.compose.container-number": "1"}})
	}
	env.Run(t, dockertest.ContainerSpec{Suffix: "scratchpad", Image: dockertest.TestServerImage(t), Networks: []string{a, b}, Start: true})

	url := "http://127.0.0.1:" + strconv.Itoa(port)
	term := tmuxtest.Start(t, w, h, []string{
		envDemoProject + "=" + env.Prefix, envDemoLBPort + "=" + strconv.Itoa(port),
		deploy.EnvImageConsul + "=" + os.Getenv(deploy.EnvImageConsul),
		deploy.EnvImageMongo + "=" + os.Getenv(deploy.EnvImageMongo),
		deploy.EnvImageNginx + "=" + os.Getenv(deploy.EnvImageNginx),
	}, bin)
	term.WaitForText(10*time.Second, "● live")
	keep := func(step, screen string) {
		t.Helper()
		t.Logf("%s:\n%s", step, screen)
		t.Run(step, func(t *testing.T) { golden.RequireEqual(t, []byte(stageLanes(screen, env.Prefix)+"\n")) })
	}
	all := func(texts ...string) func(string) bool {
		return func(s string) bool {
			for _, x := range texts {
				if !strings.Contains(s, x) {
					return false
				}
			}
			return true
		}
	}
	front, back := env.Prefix+"_front", env.Prefix+"_back"

	// D: the demo, alone on screen when everything would not fit, every
	// app instance registered.
	term.Send("D")
	registered := func(n int, texts ...string) func(string) bool {
		return func(s string) bool { return all(texts...)(s) && passingApps(s) == n }
	}
	keep("01_deployed", term.WaitFor(90*time.Second, "the demo deployed, focused, both app instances registered",
		registered(2, "ready: "+url, front, back, "mongo.1", "consul.1", "lb.1")))

	// + +: new instances, each registered.
	term.Send("+")
	keep("02_scaled_to_3", term.WaitFor(60*time.Second, "a third instance, registered", registered(3, "app: 3 instances")))
	term.Send("+")
	keep("03_scaled_to_4", term.WaitFor(60*time.Second, "a fourth instance, registered", registered(4, "app: 4 instances")))

	// x on one app instance: gone from the registry.
	term.Send("Up", "Up", "Left", "Left", "Left", "Left", "Left", "Left")
	term.WaitForText(5*time.Second, "▶● mongo.1")
	term.Send("Right", "Right")
	term.WaitFor(5*time.Second, "app.1 selected", func(s string) bool { return strings.Contains(s, "▶● app.1") })
	term.Send("x")
	term.WaitForText(5*time.Second, "Kill app.1")
	term.Send("y")
	keep("04_killed_app_1", term.WaitFor(30*time.Second, "app.1 killed and deregistered", registered(3, "killed app.1")))

	// g: traffic spread over the three instances left, none to the killed one.
	term.Send("g")
	served := regexp.MustCompile(`(?m)^app-(\d+) `)
	keep("05_traffic", term.WaitFor(30*time.Second, "traffic served by the instances left only", func(s string) bool {
		rows := served.FindAllStringSubmatch(s, -1)
		for _, r := range rows {
			if r[1] == "1" {
				return false
			}
		}
		return strings.Contains(s, "traffic → "+url) && len(rows) > 0
	}))

	// i on the load balancer: what it reaches, and the database isolated.
	// → steps through the app group's replicas, then on to the lb.
	term.Send("Down")
	for i := 0; i < 12 && !strings.Contains(term.Capture(), "▶● lb.1"); i++ {
		before := term.Capture()
		term.Send("Right")
		term.WaitFor(5*time.Second, "the selection moved", func(s string) bool { return s != before })
	}
	term.WaitForText(5*time.Second, "▶● lb.1")
	term.Send("i")
	keep("06_isolation_of_lb", term.WaitFor(10*time.Second, "mongo.1 named isolated from lb.1", func(s string) bool {
		_, isolated, ok := strings.Cut(s, "isolated (")
		return strings.Contains(s, "isolation of lb.1") && ok && strings.Contains(strings.SplitN(isolated, "\n", 2)[0], "mongo.1")
	}))
	term.Send("Escape")
	term.WaitFor(5*time.Second, "the overlay closed", func(s string) bool { return !strings.Contains(s, "isolation of") })

	// T: the demo gone, and its registry with it.
	term.Send("T")
	term.WaitForText(5*time.Second, "Tear down the demo")
	term.Send("y")
	// The registry's end: its log line ("registry NAME gone: container …
	// removed") scrolls away under the teardown's events; the status bar's
	// mark stays (○ gone).
	gone := regexp.MustCompile(`registry (\S+ )?gone|registry ○`)
	sawGone := false
	term.WaitFor(60*time.Second, "the demo gone", func(s string) bool {
		sawGone = sawGone || gone.MatchString(s)
		return strings.Contains(s, "the demo is gone")
	})
	if !sawGone {
		term.WaitFor(10*time.Second, "the registry gone", gone.MatchString)
	}
	term.Send("q")
	term.WaitForText(10*time.Second, "[exited 0]")
}

// passingApps counts the app instances the lanes mark as passing in the
// registry: R✓N on a replica group, R✓ on a single node; each instance is
// drawn on both demo lanes.
func passingApps(screen string) int {
	n := 0
	for _, m := range stagePassing.FindAllStringSubmatch(screen, -1) {
		if m[1] == "" {
			n++
		} else {
			k, _ := strconv.Atoi(m[1])
			n += k
		}
	}
	return n / 2
}

var (
	stagePassing = regexp.MustCompile(`R✓(\d*)`)
	stageIP      = regexp.MustCompile(`\d+\.\d+\.[\d.]*(/\d+|…)?`)
	stageSpaces  = regexp.MustCompile(`  +`)
	stageRule    = regexp.MustCompile(`[━╂]+`)
	stageOthers  = regexp.MustCompile(`isolated \(\d+\)|\+\d+ elsewhere`)
	stageDigits  = regexp.MustCompile(`\d+`)
	stageHealth  = regexp.MustCompile(` (♥|…|✗)`)
)

// stageLanes is the lanes block of a capture with what varies from run to
// run taken out: addresses, the project's random name, Docker's health
// (it settles at its own pace), where the selection first lands, how much
// other work runs, widths of rules and gaps.
func stageLanes(screen, project string) string {
	var out []string
	in := false
	for _, line := range strings.Split(screen, "\n") {
		title := strings.HasPrefix(line, "  ") && len(line) > 2 && line[2] != ' ' || strings.HasPrefix(line, "▸ ")
		switch {
		case title && strings.Contains(line, "Lanes"):
			in = true
		case title || strings.HasPrefix(line, "columns "):
			in = false
		}
		if !in {
			continue
		}
		line = strings.ReplaceAll(line, project, "PROJECT")
		line = stageIP.ReplaceAllString(line, "IP")
		line = stageHealth.ReplaceAllString(line, "")
		line = strings.ReplaceAll(line, "▶", "")
		if strings.Contains(line, " reaches: ") {
			// Other work on a shared engine may join the demo's networks.
			line, _, _ = strings.Cut(line, "; ")
		}
		line = stageRule.ReplaceAllString(line, " ━━ ")
		line = stageOthers.ReplaceAllStringFunc(line, func(m string) string { return stageDigits.ReplaceAllString(m, "N") })
		line = strings.TrimSpace(stageSpaces.ReplaceAllString(line, " "))
		if line != "" {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
