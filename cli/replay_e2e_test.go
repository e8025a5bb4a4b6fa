package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/topo-dev/topo/demo/deploy"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/internal/tmuxtest"
	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/record"
)

// TestEndToEndRecordThenReplay is issue 15's done-when at small scale: a
// session recorded in tmux against the real engine (topo --record) while
// the test starts, stops and removes its containers, the screen captured
// at five moments; then topo replay of the file, stepped to each moment,
// shows the same containers in the same states on the same lanes.
func TestEndToEndRecordThenReplay(t *testing.T) {
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	bin := tmuxtest.BuildTopo(t)
	netName := env.Name("rr")
	env.CreateNetwork(t, "rr", nil)
	path := filepath.Join(t.TempDir(), "session.jsonl")
	run := func(service string) string {
		return env.Run(t, dockertest.ContainerSpec{
			Suffix: service, Image: image, Networks: []string{netName}, Start: true,
			Labels: map[string]string{
				"com.docker.compose.project": env.Prefix, "com.docker.compose.service": service,
				"com.docker.compose.container-number": "1",
			},
		})
	}
	ctx := context.Background()

	live := tmuxtest.Start(t, 120, 32, nil, bin, "--record", path)
	live.WaitForText(10*time.Second, "● live")
	// The engine is shared: the screen is filtered to this test's objects.
	live.Send("/")
	live.Send("-l", env.Prefix)
	live.Send("Enter")

	var moments []moment
	capture := func(what string, cond func(s string) bool) {
		t.Helper()
		screen := live.WaitFor(15*time.Second, what, cond)
		moments = append(moments, moment{what, time.Now(), screen})
	}
	has := func(parts ...string) func(string) bool {
		return func(s string) bool {
			for _, p := range parts {
				if !strings.Contains(s, p) {
					return false
				}
			}
			return true
		}
	}
	a := run("rra")
	capture("rra.1 running", has("● rra.1", "━━━ "+netName))
	b := run("rrb")
	capture("rrb.1 running beside it", has("● rra.1", "● rrb.1"))
	timeout := 0
	if err := env.Client.ContainerStop(ctx, a, container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	capture("rra.1 stopped", has("○ rra.1", "● rrb.1"))
	if err := env.Client.ContainerRemove(ctx, b, container.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	// On the lanes, not in the event log, which keeps its name.
	capture("rrb.1 gone", func(s string) bool { return strings.Contains(s, "○ rra.1") && !onLanes(s, "rrb.1") })
	if err := env.Client.ContainerStart(ctx, a, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	capture("rra.1 running again", func(s string) bool { return strings.Contains(s, "● rra.1") && !onLanes(s, "rrb.1") })
	live.Send("q")
	live.WaitForText(10*time.Second, "[exited 0]")

	rec, err := record.ReadFile(path)
	if err != nil || rec.Stopped != nil {
		t.Fatalf("read the recording: %v, %v", err, rec.Stopped)
	}
	replay := tmuxtest.Start(t, 120, 32, nil, bin, "replay", path)
	replay.WaitForText(10*time.Second, "replay │")
	replay.Send("Space")
	replay.WaitForText(5*time.Second, "‖ paused")
	replay.Send("/")
	replay.Send("-l", env.Prefix)
	replay.Send("Enter")
	compareMoments(t, replay, rec, moments, func(s string) []string { return screenFacts(s, netName) })
	replay.Send("q")
	replay.WaitForText(5*time.Second, "[exited 0]")
}

// TestEndToEndDemoRecordThenReplay is issue 15's done-when in full: the
// demo on stage recorded in tmux (D, +, x y, g, T y), the screen captured
// after each, then the recording replayed and stepped to each moment: the
// same containers in the same states, the same demo outcome, the traffic
// pane and the registry where they were.
func TestEndToEndDemoRecordThenReplay(t *testing.T) {
	requireDemoImages(t)
	env, d, port := demoProject(t)
	bin := tmuxtest.BuildTopo(t)
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	path := filepath.Join(t.TempDir(), "demo.jsonl")
	live := tmuxtest.Start(t, 200, 50, []string{
		envDemoProject + "=" + env.Prefix, envDemoLBPort + "=" + strconv.Itoa(port),
		deploy.EnvImageConsul + "=" + os.Getenv(deploy.EnvImageConsul),
		deploy.EnvImageMongo + "=" + os.Getenv(deploy.EnvImageMongo),
		deploy.EnvImageNginx + "=" + os.Getenv(deploy.EnvImageNginx),
	}, bin, "--record", path)
	live.WaitForText(10*time.Second, "● live")
	// The engine is shared (other demos may run): the lanes are filtered
	// to this test's project, all of whose containers fit at 200 columns.
	filter := func(s *tmuxtest.Session, text string) {
		s.Send("/")
		s.Send("-l", text)
		s.Send("Enter")
		s.WaitForText(5*time.Second, "filter “"+text+"”")
	}
	filter(live, env.Prefix)

	var moments []moment
	capture := func(what string, within time.Duration, cond func(s string) bool) {
		t.Helper()
		screen := live.WaitFor(within, what, cond)
		moments = append(moments, moment{what, time.Now(), screen})
	}
	live.Send("D")
	capture("the demo ready", 90*time.Second, func(s string) bool {
		return strings.Contains(s, "ready: "+url) && strings.Contains(s, "Registry")
	})
	live.Send("+")
	capture("app: 3 instances", 30*time.Second, func(s string) bool { return strings.Contains(s, "app: 3 instances") })
	live.Send("Escape")
	live.WaitFor(5*time.Second, "the filter cleared", func(s string) bool { return !strings.Contains(s, "filter “") })
	filter(live, d.ContainerName(deploy.ServiceApp, 3))
	live.WaitFor(5*time.Second, "app.3 selected", func(s string) bool { return strings.Contains(s, "▶● app.3") })
	live.Send("x")
	live.WaitForText(5*time.Second, "Kill app.3")
	live.Send("y")
	live.WaitForText(10*time.Second, "killed app.3")
	live.Send("Escape")
	live.WaitFor(5*time.Second, "the filter cleared", func(s string) bool { return !strings.Contains(s, "filter “") })
	filter(live, env.Prefix)
	capture("app.3 killed", 10*time.Second, func(s string) bool {
		return strings.Contains(s, "○ app.3") && strings.Contains(s, "● app.1")
	})
	live.Send("g")
	capture("traffic served", 20*time.Second, func(s string) bool {
		return strings.Contains(s, "traffic → "+url) && strings.Contains(s, "p50 ")
	})
	live.Send("T")
	live.Send("y")
	capture("the demo gone", 60*time.Second, func(s string) bool { return strings.Contains(s, "the demo is gone") })
	live.Send("q")
	live.WaitForText(10*time.Second, "[exited 0]")

	rec, err := record.ReadFile(path)
	if err != nil || rec.Stopped != nil {
		t.Fatalf("read the recording: %v, %v", err, rec.Stopped)
	}
	shots := t.TempDir()
	replay := tmuxtest.Start(t, 200, 50, nil, bin, "replay", path, "--svg-dir", shots)
	replay.WaitForText(10*time.Second, "replay │")
	replay.Send("Space")
	replay.WaitForText(5*time.Second, "‖ paused")
	filter(replay, env.Prefix)
	positions := compareMoments(t, replay, rec, moments, demoFacts(url))

	// e at the moment of three instances: a picture with every name.
	stepTo(t, replay, positions[1], len(rec.Entries))
	replay.Send("e")
	screen := replay.WaitForText(5*time.Second, "saved the screen to "+shots)
	files, _ := filepath.Glob(filepath.Join(shots, "topo-*.svg"))
	if len(files) != 1 {
		t.Fatalf("e saved %v; screen:\n%s", files, screen)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	text := svgText(t, data)
	for _, name := range []string{"app.1", "app.2", "app.3", "lb.1", "mongo.1", "consul.1", "registrator.1", "app: 3 instances"} {
		if !strings.Contains(text, name) {
			t.Errorf("the saved screen lacks %q:\n%s", name, text)
		}
	}
	if rsvg, err := exec.LookPath("rsvg-convert"); err != nil {
		testenv.Missing(t, "rsvg-convert is not installed: apt-get install librsvg2-bin (scripts/ensure-engine.sh does)")
	} else if out, err := exec.Command(rsvg, "-o", filepath.Join(shots, "screen.png"), files[0]).CombinedOutput(); err != nil {
		t.Errorf("rsvg-convert refused the saved screen: %v: %s", err, out)
	}
	replay.Send("q")
	replay.WaitForText(5*time.Second, "[exited 0]")
}

// moment is a screen captured while recording, and when.
type moment struct {
	what   string
	at     time.Time
	screen string
}

// compareMoments steps the replay to each moment (the entries recorded by
// then: the tee writes an update before the interface applies it) and
// compares what facts picks out of both screens.
func compareMoments(t *testing.T, replay *tmuxtest.Session, rec *record.Recording, moments []moment, facts func(string) []string) (positions []int) {
	t.Helper()
	for k, mo := range moments {
		pos := 0
		for _, e := range rec.Entries {
			if !e.At.After(mo.at) {
				pos++
			}
		}
		positions = append(positions, pos)
		screen := stepTo(t, replay, pos, len(rec.Entries))
		want, got := facts(mo.screen), facts(screen)
		if len(want) < 2 {
			t.Errorf("moment %d (%s): the live capture shows nothing of the test's:\n%s", k+1, mo.what, mo.screen)
		}
		if !slices.Equal(want, got) {
			t.Errorf("moment %d (%s, event %d): the replay shows %v, the live screen showed %v\nlive:\n%s\nreplay:\n%s",
				k+1, mo.what, pos, got, want, mo.screen, screen)
		}
	}
	return positions
}

var demoNodeRE = regexp.MustCompile(`([●○✖‖↻⌫])\s?((?:app|lb|mongo|consul|registrator)\.\d+)`)

// demoFacts picks the demo's containers with their state marks and the
// panels' words that say where the demo stands.
func demoFacts(url string) func(string) []string {
	return func(screen string) []string {
		var out []string
		for _, m := range demoNodeRE.FindAllStringSubmatch(screen, -1) {
			out = append(out, m[1]+" "+m[2])
		}
		for _, w := range []string{"ready: " + url, "app: 3 instances", "the demo is gone", "traffic → " + url, "Registry"} {
			if strings.Contains(screen, w) {
				out = append(out, w)
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
}

var positionRE = regexp.MustCompile(`event (\d+) of (\d+)`)

// stepTo presses ] or [ until the replay bar says event want of n, and
// returns that screen.
func stepTo(t *testing.T, s *tmuxtest.Session, want, n int) string {
	t.Helper()
	target := "event " + strconv.Itoa(want) + " of " + strconv.Itoa(n)
	for range 4 {
		screen := s.WaitFor(5*time.Second, "the replay bar's position", func(sc string) bool { return positionRE.MatchString(sc) })
		m := positionRE.FindStringSubmatch(screen)
		at, _ := strconv.Atoi(m[1])
		switch {
		case at < want:
			s.Send("-l", strings.Repeat("]", want-at))
		case at > want:
			s.Send("-l", strings.Repeat("[", at-want))
		default:
			return screen
		}
		// Keys typed together arrive as one message and are taken one
		// at a time; wait for the last one's screen.
		s.WaitForText(10*time.Second, target)
	}
	return s.WaitForText(5*time.Second, target)
}

var nodeRE = regexp.MustCompile(`([●○✖‖↻⌫])\s?(rr[ab]\.1)`)

// screenFacts is what a replay must draw as the live screen did: each of
// the test's containers with its state mark, and its lane. Addresses, the
// clock and the status bar's counts are left out.
func screenFacts(screen, lane string) []string {
	var out []string
	for _, m := range nodeRE.FindAllStringSubmatch(screen, -1) {
		out = append(out, m[1]+" "+m[2])
	}
	if strings.Contains(screen, "━━━ "+lane) {
		out = append(out, "lane "+lane)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestReplayBadInput: a missing file and a recording from a newer topo
// are one line and status 1; a recording cut mid-line plays up to its last
// whole line, the bar says where it stops, and the shell gets the line
// after quitting, with status 0.
func TestReplayBadInput(t *testing.T) {
	bin := tmuxtest.BuildTopo(t)
	dir := t.TempDir()

	oneLine := func(t *testing.T, path string, want ...string) {
		t.Helper()
		out, err := exec.Command(bin, "replay", path).CombinedOutput()
		exit, ok := err.(*exec.ExitError)
		if !ok || exit.ExitCode() != 1 {
			t.Fatalf("want exit status 1, got %v; output:\n%s", err, out)
		}
		text := strings.TrimSpace(string(out))
		if strings.Contains(text, "\n") {
			t.Errorf("want one line, got:\n%s", text)
		}
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%q does not say %q", text, w)
			}
		}
	}
	t.Run("missing", func(t *testing.T) {
		oneLine(t, filepath.Join(dir, "nothing.jsonl"), "no recording at", "nothing.jsonl", "does not exist")
	})
	t.Run("newer", func(t *testing.T) {
		path := filepath.Join(dir, "newer.jsonl")
		header := `{"kind":"header","at":"2026-01-01T00:00:00Z","header":{"format":99,"writer":"topo","version":"v9.1.0","start":"2026-01-01T00:00:00Z"}}` + "\n"
		if err := os.WriteFile(path, []byte(header), 0o644); err != nil {
			t.Fatal(err)
		}
		oneLine(t, path, "topo v9.1.0", "format 99")
	})
	t.Run("truncated", func(t *testing.T) {
		path := filepath.Join(dir, "cut.jsonl")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		w, err := record.NewWriter(f, "topo", "test", start, nil)
		if err != nil {
			t.Fatal(err)
		}
		topo := model.NewTopology()
		topo.Networks["n1"] = model.Network{ID: "n1", Name: "cutnet", Driver: "bridge", Scope: "local"}
		topo.Containers["c1"] = model.Container{ID: "c1", Name: "survivor", State: model.StateRunning,
			Endpoints: map[string]model.Endpoint{"n1": {NetworkID: "n1", NetworkName: "cutnet", IPv4: "10.0.0.2"}}}
		if err := w.Update(start.Add(100*time.Millisecond), model.Update{Snapshot: &topo}); err != nil {
			t.Fatal(err)
		}
		// A recorder killed mid-line: half of an event line.
		if _, err := f.WriteString(`{"kind":"event","at":"` + start.Add(time.Second).Format(time.RFC3339Nano) + `","event":{"type":"contai`); err != nil {
			t.Fatal(err)
		}
		f.Close()

		s := tmuxtest.Start(t, 80, 24, nil, bin, "replay", path)
		s.WaitForText(10*time.Second, "recording stops at line 3")
		// What the recording held before the cut is shown.
		s.WaitFor(10*time.Second, "the container recorded before the cut", func(sc string) bool {
			return strings.Contains(sc, "survivor") && strings.Contains(sc, "cutnet") && strings.Contains(sc, "■ end")
		})
		s.Send("q")
		// The line wraps at 80 columns: read it whole.
		after := strings.ReplaceAll(s.WaitForText(5*time.Second, "[exited 0]"), "\n", "")
		if !strings.Contains(after, "stops at line 3") || !strings.Contains(after, "played up to line 2") {
			t.Errorf("the shell is not told where the recording stops:\n%s", after)
		}
	})
}

// eventLine matches a line of the event log: it starts with its time.
var eventLine = regexp.MustCompile(`^\s*\d\d:\d\d:\d\d `)

// onLanes says whether name is on a line of the screen that is not an
// event log line (a node on a lane, a details title).
func onLanes(screen, name string) bool {
	for _, line := range strings.Split(screen, "\n") {
		if strings.Contains(line, name) && !eventLine.MatchString(line) {
			return true
		}
	}
	return false
}
