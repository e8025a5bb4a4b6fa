package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/topo-dev/topo/model"
)

func TestSnapshotShowsLanesAndSelectsTheFirstNode(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	if got := hs.selected(); got != "worker" {
		t.Errorf("selected %q after the first snapshot, want worker (first node of the first lane)", got)
	}
	v := hs.view()
	for _, want := range []string{"backend", "data", "frontend", "spare", "▶● worker", "● live", "7 networks · 7/7 running"} {
		if !strings.Contains(v, want) {
			t.Errorf("screen lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "legacy") {
		t.Errorf("built-in networks are shown before b is pressed:\n%s", v)
	}
}

func TestEventStartAddsTheNodeAndALogLine(t *testing.T) {
	topo := basicTopo()
	// 149 columns: the widest without side panels, so all seven columns fit.
	hs := newHarness(t, 149, 40, &topo)
	fresh := model.Container{ID: ctrID("newcomer"), Name: "newcomer", Image: "example/new:1", State: model.StateRunning,
		Endpoints: map[string]model.Endpoint{netID("spare"): {NetworkID: netID("spare"), NetworkName: "spare", IPv4: "172.26.0.9"}}}
	hs.event(model.Event{Type: model.EventContainer, Action: "start", ActorID: fresh.ID, Container: &fresh, Attributes: map[string]string{"name": "newcomer"}})
	v := hs.view()
	for _, want := range []string{"● newcomer", "172.26.0.9", "start newcomer", "spare bridge/local 172.26.0.0/16 · 1 container"} {
		if !strings.Contains(v, want) {
			t.Errorf("screen lacks %q after the start event:\n%s", want, v)
		}
	}
	if got := hs.selected(); got != "worker" {
		t.Errorf("a new container moved the selection to %q", got)
	}
}

func TestEventDestroyRemovesTheSelectedNodeAndSelectsANeighbour(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	hs.press("j", "j", "right", "right") // db, in data
	if got := hs.selected(); got != "db" {
		t.Fatalf("selected %q, want db", got)
	}
	hs.event(model.Event{Type: model.EventContainer, Action: "destroy", ActorID: ctrID("db"), Attributes: map[string]string{"name": "db"}})
	v := hs.view()
	if strings.Contains(v, "● db") {
		t.Errorf("db still on screen after destroy:\n%s", v)
	}
	if !strings.Contains(v, "destroy db") {
		t.Errorf("the log does not name the destroyed container:\n%s", v)
	}
	if got, lane := hs.selected(), hs.selectedLane(); got == "" || lane != "data" {
		t.Errorf("after destroying the selection, selected %q in %q, want a neighbour in data", got, lane)
	}
}

func TestEngineLostKeepsTheLanesMarkedStaleUntilTheResync(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	hs.send(EngineUpdateMsg{Update: model.Update{Lost: errors.New("engine restarting"), Retry: hs.now.Add(2 * time.Second)}})
	v := hs.view()
	for _, want := range []string{"STALE", "retry in 2s", "▶● worker", "lost the engine: engine restarting", "engine lost: engine restarting"} {
		if !strings.Contains(v, want) {
			t.Errorf("stale screen lacks %q:\n%s", want, v)
		}
	}
	// A second loss while stale does not repeat the log line.
	hs.send(EngineUpdateMsg{Update: model.Update{Lost: errors.New("engine restarting"), Retry: hs.now.Add(4 * time.Second)}})
	if n := strings.Count(hs.view(), "lost the engine"); n != 1 {
		t.Errorf("the log says %d times that the engine was lost, want once", n)
	}

	resynced := basicTopo()
	delete(resynced.Containers, ctrID("web"))
	hs.snapshot(resynced)
	v = hs.view()
	if strings.Contains(v, "STALE") || !strings.Contains(v, "● live") {
		t.Errorf("still stale after the resync:\n%s", v)
	}
	if !strings.Contains(v, "reconnected: resynced the whole topology") {
		t.Errorf("the log does not say the topology was resynced:\n%s", v)
	}
	if strings.Contains(v, "● web") {
		t.Errorf("a container gone during the gap is still drawn:\n%s", v)
	}
}

func TestEngineClosedSaysStopped(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	hs.send(EngineClosedMsg{})
	if v := hs.view(); !strings.Contains(v, "■ stopped") {
		t.Errorf("status bar does not say the watch stopped:\n%s", v)
	}
}

// TestMovesWithinAndAcrossLanes walks the basic grid:
//
//	backend:  worker proxy api
//	frontend:        proxy api web gateway
//	data:                  api     gateway db
func TestMovesWithinAndAcrossLanes(t *testing.T) {
	for _, keys := range []struct{ name, left, right, up, down string }{
		{"arrows", "left", "right", "up", "down"},
		{"hjk, and the arrow for right (l is the logs)", "h", "right", "k", "j"},
	} {
		t.Run(keys.name, func(t *testing.T) {
			topo := basicTopo()
			hs := newHarness(t, 200, 50, &topo)
			steps := []struct {
				key, name, lane string
			}{
				{keys.right, "proxy", "backend"},
				{keys.right, "api", "backend"},
				{keys.right, "api", "backend"}, // end of the lane: stays
				{keys.down, "api", "frontend"}, // same container, next lane
				{keys.right, "web", "frontend"},
				{keys.down, "api", "data"}, // nearest node of data to web's column, left first
				{keys.right, "gateway", "data"},
				{keys.right, "db", "data"},
				{keys.down, "db", "data"}, // spare is empty: nowhere to go
				{keys.left, "gateway", "data"},
				{keys.up, "gateway", "frontend"},
				{keys.left, "web", "frontend"},
				{keys.left, "api", "frontend"},
				{keys.left, "proxy", "frontend"},
				{keys.up, "proxy", "backend"},
				{keys.left, "worker", "backend"},
				{keys.up, "worker", "backend"},
			}
			for i, st := range steps {
				hs.press(st.key)
				if got, lane := hs.selected(), hs.selectedLane(); got != st.name || lane != st.lane {
					t.Fatalf("step %d (%s): selected %s in %s, want %s in %s", i+1, st.key, got, lane, st.name, st.lane)
				}
			}
			if v := hs.view(); !strings.Contains(v, "▶● worker") {
				t.Errorf("the screen does not mark the selection:\n%s", v)
			}
		})
	}
}

func TestTabCyclesPanes(t *testing.T) {
	topo := basicTopo()
	t.Run("narrow: lanes and log", func(t *testing.T) {
		hs := newHarness(t, 80, 24, &topo)
		var got []pane
		for range 3 {
			hs.press("tab")
			got = append(got, hs.m.focus)
		}
		if want := []pane{paneLog, paneLanes, paneLog}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("focus after tabs %v, want %v", got, want)
		}
	})
	t.Run("wide: lanes, details and log", func(t *testing.T) {
		hs := newHarness(t, 200, 50, &topo)
		var got []pane
		for range 4 {
			hs.press("tab")
			got = append(got, hs.m.focus)
		}
		if want := []pane{paneDetails, paneLog, paneLanes, paneDetails}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("focus after tabs %v, want %v", got, want)
		}
	})
	t.Run("arrows scroll the focused pane, not the lanes", func(t *testing.T) {
		hs := newHarness(t, 200, 50, &topo)
		hs.press("tab", "tab", "right", "j")
		if got := hs.selected(); got != "worker" {
			t.Errorf("with the log focused, arrows moved the selection to %q", got)
		}
		hs.press("esc", "right")
		if got := hs.selected(); got != "proxy" {
			t.Errorf("esc did not give the keys back to the lanes: selected %q", got)
		}
	})
}

// Regression: in monochrome (NO_COLOR, which lipgloss renders as the Ascii
// profile) the focused pane's title was told apart by underline alone, which
// that profile drops, so Tab changed nothing on screen.
func TestFocusedPaneIsVisibleWithoutColour(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	before := hs.view()
	hs.press("tab")
	if after := hs.view(); after == before {
		t.Errorf("Tab moved the focus to %v but the monochrome screen did not change:\n%s", hs.m.focus, after)
	}
}

func TestFilterNarrowsAsYouTypeAndEscClears(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	hs.sendOnly(keyRunes("/"))
	if hs.m.mode != modeFilter {
		t.Fatalf("/ did not open the filter")
	}
	hs.typeText("gate")
	v := hs.view()
	if !strings.Contains(v, "▶● gateway") || strings.Contains(v, "● worker") || strings.Contains(v, "● api") {
		t.Errorf("filter “gate” does not show just gateway, selected:\n%s", v)
	}
	if !strings.Contains(v, "/gate") {
		t.Errorf("the footer does not echo what was typed:\n%s", v)
	}
	// Keys are text while filtering: q does not quit, x does not kill.
	hs.sendOnly(keyRunes("q"))
	hs.sendOnly(keyRunes("x"))
	if got := hs.m.filter.Value(); got != "gateqx" || hs.m.mode != modeFilter {
		t.Errorf("q and x while filtering: filter %q, mode %v; want them typed", got, hs.m.mode)
	}
	if got := hs.engine.Actions(); len(got) != 0 {
		t.Errorf("typing x in the filter sent %v", got)
	}
	hs.press("esc")
	v = hs.view()
	if hs.m.mode != modeNormal || hs.m.filter.Value() != "" {
		t.Errorf("esc left mode %v, filter %q", hs.m.mode, hs.m.filter.Value())
	}
	if !strings.Contains(v, "● worker") || !strings.Contains(v, "● gateway") || strings.Contains(v, "filter “") {
		t.Errorf("esc did not clear the filter:\n%s", v)
	}
}

func TestFilterKeptWithEnterAndClearedWithEscLater(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	hs.sendOnly(keyRunes("/"))
	hs.typeText("db")
	hs.press("enter")
	if hs.m.mode != modeNormal || hs.m.filter.Value() != "db" {
		t.Fatalf("enter: mode %v, filter %q", hs.m.mode, hs.m.filter.Value())
	}
	if got := hs.selected(); got != "db" {
		t.Errorf("selected %q under filter db", got)
	}
	if v := hs.view(); !strings.Contains(v, "filter “db”") {
		t.Errorf("the lanes title does not show the kept filter:\n%s", v)
	}
	hs.press("esc")
	if hs.m.filter.Value() != "" || !strings.Contains(hs.view(), "● worker") {
		t.Errorf("esc in the lanes did not clear the kept filter")
	}
}

func TestFilterMatchesImageAndLabel(t *testing.T) {
	topo := composeTopo()
	hs := newHarness(t, 200, 50, &topo)
	hs.sendOnly(keyRunes("/"))
	hs.typeText("com.docker.compose.service=web")
	hs.press("enter")
	v := hs.view()
	if strings.Count(v, "● web.") != 3 || strings.Contains(v, "● api.") {
		t.Errorf("label filter does not keep exactly the web replicas:\n%s", v)
	}
}

func TestKillThenNoSendsNothing(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	hs.press("x")
	if v := hs.view(); !strings.Contains(v, "Kill worker ("+ctrID("worker")[:12]+")? y yes  n no") {
		t.Fatalf("x does not ask for confirmation:\n%s", v)
	}
	hs.press("n")
	if got := hs.engine.Actions(); len(got) != 0 {
		t.Errorf("x then n sent %v to the engine", got)
	}
	if v := hs.view(); !strings.Contains(v, "cancelled: nothing was done") {
		t.Errorf("no word that nothing was done:\n%s", v)
	}
	hs.press("x", "esc")
	if got := hs.engine.Actions(); len(got) != 0 || hs.m.mode != modeNormal {
		t.Errorf("x then esc: mode %v, sent %v", hs.m.mode, got)
	}
}

func TestKillThenYesKillsAndSaysKilled(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	hs.press("x")
	cmd := hs.sendOnly(keyRunes("y"))
	// While the action runs the footer shows it and the key is disabled.
	if v := hs.view(); !strings.Contains(v, "kill worker…") {
		t.Errorf("no progress while the kill runs:\n%s", v)
	}
	if hs.m.keys.Kill.Enabled() {
		t.Errorf("x is still enabled while a kill of the same container runs")
	}
	hs.run(cmd)
	if got, want := hs.engine.Actions(), []string{"kill " + ctrID("worker")}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("engine got %v, want %v", got, want)
	}
	if v := hs.view(); !strings.Contains(v, "killed worker") {
		t.Errorf("no result after the kill:\n%s", v)
	}
	// The result stays a while, then the help comes back.
	hs.now = hs.now.Add(flashFor + time.Second)
	hs.sendOnly(TickMsg(hs.now))
	if v := hs.view(); strings.Contains(v, "killed worker") || !strings.Contains(v, "? help") {
		t.Errorf("the result did not give way to the help:\n%s", v)
	}
}

func TestKillErrorShowsTheErrorText(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	hs.engine.doErr = errors.New("cannot kill worker: container 87eba76e7f31 is not running")
	hs.press("x", "y")
	v := hs.view()
	if !strings.Contains(v, "cannot kill worker: container 87eba76e7f31 is not running") {
		t.Errorf("the error is not on screen:\n%s", v)
	}
	if strings.Contains(v, "killed worker") {
		t.Errorf("a failed kill says killed:\n%s", v)
	}
}

// Regression: when an action ended, the container's action keys stayed
// disabled (and out of the footer's help) until the selection moved,
// because ActionDoneMsg cleared the busy mark without updating the keys.
func TestActionKeysComeBackWhenTheActionEnds(t *testing.T) {
	for _, doErr := range []error{nil, errors.New("cannot kill worker: engine said no")} {
		topo := basicTopo()
		hs := newHarness(t, 120, 40, &topo)
		hs.engine.doErr = doErr
		hs.press("x", "y")
		if !hs.m.keys.Kill.Enabled() || !hs.m.keys.Restart.Enabled() {
			t.Errorf("after a kill that ended with error %v, x or r is still disabled", doErr)
		}
	}
}

func TestKillOfAContainerThatVanishedSaysSo(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	hs.press("x")
	hs.event(model.Event{Type: model.EventContainer, Action: "destroy", ActorID: ctrID("worker"), Attributes: map[string]string{"name": "worker"}})
	hs.engine.doErr = errors.New("worker is gone: it was removed")
	hs.press("y")
	if v := hs.view(); !strings.Contains(v, "worker is gone") {
		t.Errorf("no clear message for a container that vanished:\n%s", v)
	}
}

func TestStartOnAStoppedContainerStartsIt(t *testing.T) {
	topo := statesTopo()
	hs := newHarness(t, 120, 40, &topo)
	if got := hs.selected(); got != "finished" {
		t.Fatalf("selected %q, want finished (exited)", got)
	}
	if hs.m.keys.Kill.Enabled() {
		t.Errorf("x is enabled on an exited container")
	}
	hs.press("x")
	if hs.m.mode != modeNormal {
		t.Errorf("x on an exited container asked for confirmation")
	}
	hs.press("s")
	if v := hs.view(); !strings.Contains(v, "Start finished (") {
		t.Fatalf("s on a stopped container does not offer to start it:\n%s", v)
	}
	hs.press("y")
	if got, want := hs.engine.Actions(), []string{"start " + ctrID("finished")}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("engine got %v, want %v", got, want)
	}
	if v := hs.view(); !strings.Contains(v, "started finished") {
		t.Errorf("no result after the start:\n%s", v)
	}
}

func TestStopAndRestartOnARunningContainer(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	hs.press("s", "y")
	// The engine reports the stop; the lanes follow its events.
	worker := hs.m.topo.Containers[ctrID("worker")]
	worker.State, worker.ExitCode = model.StateExited, 0
	hs.event(model.Event{Type: model.EventContainer, Action: "die", ActorID: worker.ID, Container: &worker, Attributes: map[string]string{"exitCode": "0"}})
	if v := hs.view(); !strings.Contains(v, "exited(0)") || !strings.Contains(v, "stopped worker") {
		t.Errorf("after the stop the screen does not show it:\n%s", v)
	}
	hs.press("r", "y")
	want := []string{"stop " + ctrID("worker"), "restart " + ctrID("worker")}
	if got := hs.engine.Actions(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("engine got %v, want %v", got, want)
	}
}

func TestMouseClickSelectsTheNode(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	click := func(x, y int) {
		hs.send(tea.MouseMsg{X: x, Y: y, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	}
	// Screen rows: 0 status, 1 lanes title, 2 backend header, 3-4 its
	// nodes, 5 frontend header, 6-7 its nodes, 8 data header, 9-10 data
	// nodes. Columns are 20 cells: db is column 5 (x 100..119).
	click(105, 9)
	if got, lane := hs.selected(), hs.selectedLane(); got != "db" || lane != "data" {
		t.Errorf("click on db selected %q in %q", got, lane)
	}
	click(45, 4) // api's address line in backend
	if got, lane := hs.selected(), hs.selectedLane(); got != "api" || lane != "backend" {
		t.Errorf("click on api's address selected %q in %q", got, lane)
	}
	click(60, 5) // a lane header
	click(40, 6) // proxy's rail passing through data: no node there
	if got := hs.selected(); got != "api" {
		t.Errorf("a click on a header or a passing rail moved the selection to %q", got)
	}
	hs.send(tea.MouseMsg{X: 60, Y: 6, Action: tea.MouseActionRelease, Button: tea.MouseButtonLeft})
	if got := hs.selected(); got != "api" {
		t.Errorf("a button release selected %q", got)
	}
}

func TestMouseClickWhenScrolledSelectsTheNodeUnderThePointer(t *testing.T) {
	topo := sixtyTopo()
	hs := newHarness(t, 80, 24, &topo)
	for range 30 {
		hs.press("right")
	}
	hs.send(tea.MouseMsg{X: 2, Y: 3, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	v := hs.view()
	var first string
	for _, line := range strings.Split(v, "\n") {
		if strings.Contains(line, "node-") {
			first = strings.Fields(strings.TrimLeft(line, " ▶●"))[0]
			break
		}
	}
	if got := hs.selected(); got != first {
		t.Errorf("click on the leftmost node %q selected %q:\n%s", first, got, v)
	}
}

func TestBTogglesTheBuiltInNetworks(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 200, 50, &topo)
	if v := hs.view(); strings.Contains(v, "━━━ bridge") || !strings.Contains(v, "b: built-in nets") {
		t.Fatalf("built-in networks shown at start, or no hint of b:\n%s", v)
	}
	hs.press("b")
	v := hs.view()
	for _, want := range []string{"━━━ bridge", "━━━ host", "━━━ none", "● legacy"} {
		if !strings.Contains(v, want) {
			t.Errorf("after b the screen lacks %q:\n%s", want, v)
		}
	}
	if strings.Index(v, "━━━ spare") > strings.Index(v, "━━━ bridge") {
		t.Errorf("built-in lanes are not after the user lanes:\n%s", v)
	}
	hs.press("b")
	if v := hs.view(); strings.Contains(v, "━━━ bridge") {
		t.Errorf("second b did not hide them:\n%s", v)
	}
}

func TestBHidingTheSelectedLaneMovesTheSelection(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 200, 50, &topo)
	hs.press("b")
	for range 5 {
		hs.press("j")
	}
	if got := hs.selected(); got != "legacy" {
		t.Fatalf("selected %q, want legacy on bridge", got)
	}
	hs.press("b")
	if got := hs.selected(); got == "" || got == "legacy" {
		t.Errorf("selection %q after its lane was hidden", got)
	}
}

func TestResizeKeepsTheSelectionVisible(t *testing.T) {
	t.Run("horizontal", func(t *testing.T) {
		topo := sixtyTopo()
		hs := newHarness(t, 200, 50, &topo)
		for range 39 {
			hs.press("right")
		}
		if !strings.Contains(hs.view(), "▶● node-40") {
			t.Fatalf("node-40 not selected on screen")
		}
		for _, size := range [][2]int{{80, 24}, {60, 16}, {120, 40}, {200, 50}} {
			hs.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			if v := hs.view(); !strings.Contains(v, "▶● node-40") {
				t.Errorf("at %dx%d the selection is off screen:\n%s", size[0], size[1], v)
			}
		}
	})
	t.Run("vertical", func(t *testing.T) {
		b := newTopo()
		for i := range 12 {
			b.net(fmt.Sprintf("lane%02d", i))
		}
		for i := range 12 {
			b.ctr(fmt.Sprintf("box%02d", i), []string{fmt.Sprintf("lane%02d", i)})
		}
		topo := b.build()
		hs := newHarness(t, 200, 50, &topo)
		for range 11 {
			hs.press("j")
		}
		for _, size := range [][2]int{{80, 24}, {60, 16}, {200, 50}} {
			hs.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			v := hs.view()
			if !strings.Contains(v, "▶● box11") {
				t.Errorf("at %dx%d the selection is off screen:\n%s", size[0], size[1], v)
			}
		}
		hs.send(tea.WindowSizeMsg{Width: 80, Height: 24})
		for range 11 {
			hs.press("k")
		}
		if v := hs.view(); !strings.Contains(v, "▶● box00") || !strings.Contains(v, "━━━ lane00") {
			t.Errorf("scrolling back up does not show the first lane:\n%s", v)
		}
	})
	t.Run("wide to narrow closes nothing and keeps details", func(t *testing.T) {
		topo := basicTopo()
		hs := newHarness(t, 80, 24, &topo)
		hs.press("enter")
		if !hs.m.on(screenDetails) {
			t.Fatalf("enter did not open the details on a narrow terminal")
		}
		hs.send(tea.WindowSizeMsg{Width: 200, Height: 50})
		if v := hs.view(); !strings.Contains(v, "▶● worker") || !strings.Contains(v, "Details") {
			t.Errorf("widening does not show lanes and details side by side:\n%s", v)
		}
	})
}

func TestEnterOpensDetailsAndEscCloses(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 80, 24, &topo)
	hs.press("right", "right", "enter")
	v := hs.view()
	for _, want := range []string{"Details", "api  " + ctrID("api")[:12], "example/api:1.0", "aka api.internal", "frontend 172.23.0.3", "0.0.0.0:18080->8080/tcp"} {
		if !strings.Contains(v, want) {
			t.Errorf("details lack %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "aka api.internal, "+ctrID("api")[:12]) {
		t.Errorf("details list the short ID as an alias:\n%s", v)
	}
	hs.press("esc")
	if v := hs.view(); !strings.Contains(v, "▶● api") {
		t.Errorf("esc did not go back to the lanes:\n%s", v)
	}
}

// Regression: widening a narrow terminal brought the details pane in
// beside the lanes saying "reading details…" until the selection moved: a
// resize never asked for the inspection.
func TestWideningAsksForTheSelectionsDetails(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 80, 24, &topo)
	hs.press("right", "right")
	if strings.Contains(hs.view(), "aka api.internal") {
		t.Fatalf("details at 80 columns before enter:\n%s", hs.view())
	}
	hs.send(tea.WindowSizeMsg{Width: 200, Height: 50})
	v := hs.view()
	if strings.Contains(v, "reading details…") || !strings.Contains(v, "aka api.internal") {
		t.Errorf("after widening, the details beside the lanes lack the inspection:\n%s", v)
	}
}

// Regression (issue 13): the details said "running for 1h30m" for as long
// as they were open: the uptime was drawn once, when the selection moved.
func TestDetailsUptimeCountsWithTheClock(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 80, 24, &topo)
	hs.press("right", "enter")
	if v := hs.view(); !strings.Contains(v, "running for 1h30m") {
		t.Fatalf("details lack the uptime:\n%s", v)
	}
	hs.now = hs.now.Add(2 * time.Minute)
	hs.sendOnly(TickMsg(hs.now))
	if v := hs.view(); !strings.Contains(v, "running for 1h32m") {
		t.Errorf("a second's tick left the uptime as it was:\n%s", v)
	}
}

func TestDetailsShowAnInspectionErrorReadably(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 80, 24, &topo)
	delete(hs.engine.details, ctrID("worker"))
	hs.press("enter")
	if v := hs.view(); !strings.Contains(v, "no such container:") {
		t.Errorf("the inspection error is not shown:\n%s", v)
	}
}

// Regression: the details pane wrapped with lipgloss word wrap, which moves
// a long unbreakable label (an image source URL) to its own line and leaves
// its indentation behind as a blank line.
func TestDetailsLongLabelWrapsWithoutABlankLine(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 200, 50, &topo)
	lines := strings.Split(hs.m.details.View(), "\n")
	for i, line := range lines {
		if strings.TrimSpace(line) == "labels" && i+1 < len(lines) && strings.TrimSpace(lines[i+1]) == "" {
			t.Errorf("a blank line follows the labels heading:\n%s", strings.Join(lines, "\n"))
		}
		if strings.HasPrefix(line, "org.") {
			t.Errorf("a wrapped label lost its indentation: %q", line)
		}
	}
}

func TestHelpShowsEveryBindingAndAnyKeyCloses(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	hs.press("?")
	v := hs.view()
	for _, want := range []string{"↑/k", "↓/j", "←/h", "→", "tab", "v", "enter", "/", "x", "s", "r", "b", "esc", "q"} {
		if !strings.Contains(v, want+" ") {
			t.Errorf("help lacks %q:\n%s", want, v)
		}
	}
	hs.press("j")
	if hs.m.mode != modeNormal || hs.selected() != "worker" {
		t.Errorf("a key in help did not just close it: mode %v, selected %q", hs.m.mode, hs.selected())
	}
}

// Regression: the help legend listed every state symbol but ⌫ (removing),
// which nodes do show.
func TestHelpLegendNamesEveryStateSymbol(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 200, 50, &topo)
	hs.press("?")
	v := hs.view()
	for _, st := range []model.State{model.StateRunning, model.StatePaused, model.StateRestarting, model.StateExited, model.StateDead, model.StateRemoving} {
		if !strings.Contains(v, StateSymbol(st)+" ") {
			t.Errorf("help legend lacks %s (%s)", StateSymbol(st), st)
		}
	}
}

func TestQuitKeys(t *testing.T) {
	for _, k := range []tea.KeyMsg{keyRunes("q"), keyType(tea.KeyCtrlC)} {
		topo := basicTopo()
		hs := newHarness(t, 120, 40, &topo)
		if msgs := runCmdNonBlocking(hs.sendOnly(k)); !containsQuit(msgs) {
			t.Errorf("%s does not quit", k)
		}
	}
}

// Regression: the status bar said "1 nets" and "1 networks".
func TestStatusBarCountsAreGrammatical(t *testing.T) {
	topo := statesTopo()
	for _, w := range []int{80, 200} {
		hs := newHarness(t, w, 40, &topo)
		status := strings.Split(hs.view(), "\n")[0]
		if strings.Contains(status, "1 nets") || strings.Contains(status, "1 networks") {
			t.Errorf("at width %d: %q", w, status)
		}
	}
}

// Regression: at 80 columns the status bar cut the engine's address or
// version in the middle ("20.", "/var/run/d"), which reads as a wrong value:
// a field that does not fit should go whole.
func TestStatusBarNeverCutsTheEngineAddressOrVersion(t *testing.T) {
	topo := basicTopo()
	for _, w := range []int{60, 80, 100, 120, 200} {
		hs := newHarness(t, w, 24, &topo)
		status := strings.Split(hs.view(), "\n")[0]
		if strings.Contains(status, "/var/run/d") && !strings.Contains(status, "/var/run/docker.sock") {
			t.Errorf("at width %d the status bar cuts the address: %q", w, status)
		}
		if strings.Contains(status, "20.") && !strings.Contains(status, "20.10.24") {
			t.Errorf("at width %d the status bar cuts the version: %q", w, status)
		}
	}
}

// Regression: the filter's footer hint ("enter keep · esc clear") is wider
// than the room the filter input leaves, so "clear" was cut off.
func TestFilterFooterShowsTheWholeHint(t *testing.T) {
	topo := basicTopo()
	for _, w := range []int{80, 200} {
		hs := newHarness(t, w, 24, &topo)
		hs.sendOnly(keyRunes("/"))
		lines := strings.Split(hs.view(), "\n")
		if footer := lines[len(lines)-1]; !strings.Contains(footer, "esc clear") {
			t.Errorf("at width %d the filter footer is %q", w, footer)
		}
	}
}

// TestNodeOfAContainerOnSeveralNetworksSitsInOneColumn checks the rule the
// lanes are built on: the same column in every lane, joined by a rail on
// every line between its nodes (except where a lane header's title covers
// it), with wide characters in names too.
func TestNodeOfAContainerOnSeveralNetworksSitsInOneColumn(t *testing.T) {
	for _, tc := range []struct {
		topo  func() model.Topology
		name  string
		lanes int
	}{
		{basicTopo, "api", 3},
		{basicTopo, "proxy", 2},
		{basicTopo, "gateway", 2},
		{unicodeTopo, "数据库服务器", 2},
	} {
		out := RenderSnapshot(tc.topo(), NewStyles(DefaultTheme()), 200, false)
		lines := strings.Split(out, "\n")
		var cols, rows []int
		for i, line := range lines {
			if j := strings.Index(line, "● "+tc.name); j >= 0 {
				cols = append(cols, ansi.StringWidth(line[:j]))
				rows = append(rows, i)
			}
		}
		if len(cols) != tc.lanes {
			t.Errorf("%s: %d nodes, want %d:\n%s", tc.name, len(cols), tc.lanes, out)
			continue
		}
		for _, c := range cols[1:] {
			if c != cols[0] {
				t.Errorf("%s: nodes at columns %v, want one column:\n%s", tc.name, cols, out)
			}
		}
		for r := rows[0] + 1; r < rows[len(rows)-1]; r++ {
			if slicesContainsInt(rows, r) {
				continue
			}
			cell := cellAt(lines[r], cols[0])
			if cell != "│" && cell != "╂" && !strings.HasPrefix(lines[r], "━━━ ") {
				t.Errorf("%s: line %d has %q where the rail should run:\n%s", tc.name, r+1, cell, out)
			}
		}
	}
}

func slicesContainsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// cellAt returns the grapheme at display column col of a plain line.
func cellAt(line string, col int) string {
	w := 0
	for _, r := range line {
		if w == col {
			return string(r)
		}
		w += ansi.StringWidth(string(r))
		if w > col {
			return ""
		}
	}
	return " "
}

func containsQuit(msgs []tea.Msg) bool {
	for _, m := range msgs {
		if _, ok := m.(tea.QuitMsg); ok {
			return true
		}
	}
	return false
}

// runCmdNonBlocking runs a command that must answer at once (tea.Quit) and
// skips batches' members, which may be timers.
func runCmdNonBlocking(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if msg == nil {
		return nil
	}
	if _, ok := msg.(tea.BatchMsg); ok {
		return nil
	}
	return []tea.Msg{msg}
}

func TestNetworkEventsMoveNodesBetweenLanes(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 200, 50, &topo)
	worker := cloneContainer(hs.m.topo.Containers[ctrID("worker")])
	worker.Endpoints[netID("spare")] = model.Endpoint{NetworkID: netID("spare"), NetworkName: "spare", IPv4: "172.26.0.7"}
	hs.event(model.Event{Type: model.EventNetwork, Action: "connect", ActorID: netID("spare"), Container: &worker,
		Attributes: map[string]string{"name": "spare", "container": worker.ID}})
	v := hs.view()
	if !strings.Contains(v, "spare bridge/local 172.26.0.0/16 · 1 container") || !strings.Contains(v, "172.26.0.7") {
		t.Errorf("connect to spare does not show worker in spare:\n%s", v)
	}
	if !strings.Contains(v, "connect worker → spare") {
		t.Errorf("the log does not say worker joined spare:\n%s", v)
	}
	hs.event(model.Event{Type: model.EventNetwork, Action: "disconnect", ActorID: netID("spare"),
		Attributes: map[string]string{"name": "spare", "container": worker.ID}})
	if v := hs.view(); !strings.Contains(v, "spare bridge/local 172.26.0.0/16 · empty") {
		t.Errorf("disconnect leaves worker in spare:\n%s", v)
	}
	// The selected container's only lane goes: the selection moves on.
	hs.event(model.Event{Type: model.EventNetwork, Action: "destroy", ActorID: netID("backend"), Attributes: map[string]string{"name": "backend"}})
	v = hs.view()
	if strings.Contains(v, "━━━ backend") {
		t.Errorf("backend still drawn after its destroy:\n%s", v)
	}
	if got := hs.selected(); got == "" || got == "worker" {
		t.Errorf("selection %q after its only lane was destroyed", got)
	}
}

func TestRenameAndHealthEventsRedrawTheNode(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 200, 50, &topo)
	hs.event(model.Event{Type: model.EventContainer, Action: "rename", ActorID: ctrID("worker"), Attributes: map[string]string{"name": "/cruncher", "oldName": "/worker"}})
	if v := hs.view(); !strings.Contains(v, "▶● cruncher") || strings.Contains(v, "● worker") {
		t.Errorf("rename not drawn:\n%s", v)
	}
	hs.event(model.Event{Type: model.EventContainer, Action: "health_status: unhealthy", ActorID: ctrID("worker")})
	v := hs.view()
	if !strings.Contains(v, "▶● cruncher ✗") {
		t.Errorf("unhealthy badge not drawn next to the name:\n%s", v)
	}
	if !strings.Contains(v, "health_status: unhealthy cruncher") {
		t.Errorf("the health event is not in the log:\n%s", v)
	}
}

func TestMouseIsIgnoredWhileTypingAFilterOrConfirming(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	hs.press("x")
	hs.send(tea.MouseMsg{X: 60, Y: 6, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	if got := hs.selected(); got != "worker" {
		t.Errorf("a click during the kill prompt changed the target to %q", got)
	}
	hs.press("y")
	if got, want := hs.engine.Actions(), []string{"kill " + ctrID("worker")}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("engine got %v, want %v", got, want)
	}
}

func TestTooSmallThenBackKeepsTheSelection(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	hs.press("j", "j", "right", "right") // db
	hs.send(tea.WindowSizeMsg{Width: 40, Height: 10})
	if v := hs.m.View(); !strings.Contains(v, "terminal too small") {
		t.Errorf("40x10 is not refused: %q", v)
	}
	hs.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	if v := hs.view(); !strings.Contains(v, "▶● db") {
		t.Errorf("the selection did not survive a too-small terminal:\n%s", v)
	}
}

// Regression: at 80 columns the help screen's last column did not fit, and
// lipgloss wrapped it into the rows of the others ("? help" on a row of its
// own under "↑/k up"), so keys and columns no longer lined up.
func TestHelpKeepsItsColumnsOnOneRowAt80Columns(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 80, 24, &topo)
	hs.press("?")
	v := hs.view()
	first := hs.m.keys.FullHelp()
	var row string
	for _, line := range strings.Split(v, "\n") {
		if strings.Contains(line, first[0][0].Help().Key+" "+first[0][0].Help().Desc) {
			row = line
		}
	}
	for _, col := range first {
		for _, b := range col {
			if !b.Enabled() {
				continue
			}
			if h := b.Help(); !strings.Contains(row, h.Key) {
				t.Errorf("the first row of help %q lacks %q, the first key of its column:\n%s", row, h.Key, v)
			}
			break
		}
	}
}
