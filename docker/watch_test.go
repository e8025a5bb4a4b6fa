package docker_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/model"
)

// settle bounds how long a test waits for an engine change to reach the
// model. It is a deadline for a condition, generous on purpose so that a
// loaded machine does not fail the suite: how fast changes arrive is a
// number that make bench measures, not something a test asserts.
const settle = 20 * time.Second

func TestWatchAppliesEachChange(t *testing.T) {
	t.Parallel()
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	ctx := context.Background()
	front, back := env.Name("front"), env.Name("back")
	env.CreateNetwork(t, "front", nil)
	backID := env.CreateNetwork(t, "back", nil)

	w := startWatch(t, connectTest(t, ""), env.Prefix)
	w.waitFor(t, 5*time.Second, "first snapshot", func(w *watcher) (bool, string) {
		return w.snapshots == 1, "no snapshot"
	})
	w.mu.Lock()
	first := w.updates[0]
	w.mu.Unlock()
	if first.Snapshot == nil {
		t.Fatalf("first update is not a snapshot: %+v", first)
	}
	if _, ok := first.Snapshot.Networks[backID]; !ok {
		t.Fatalf("snapshot lacks the test's network %s", back)
	}

	name := env.Name("node")
	var id string
	type timing struct {
		step       string
		fromCall   time.Duration // call issued -> model shows it
		fromReturn time.Duration // call returned -> model shows it (negative: before)
	}
	var timings []timing
	// step runs one change on the engine and waits for the model to show it.
	step := func(what string, act func(), cond func(w *watcher) (bool, string)) {
		t.Helper()
		issued := time.Now()
		act()
		returned := time.Now()
		applied := w.waitFor(t, settle, what, cond)
		timings = append(timings, timing{what, applied.Sub(issued), applied.Sub(returned)})
	}
	node := func(w *watcher) (model.Container, string) {
		c, ok := w.topo.Containers[id]
		if !ok {
			return c, "container not in the model"
		}
		return c, fmt.Sprintf("state %s name %s endpoints %v", c.State, c.Name, c.Endpoints)
	}
	onNet := func(c model.Container, netName string) (model.Endpoint, bool) {
		for _, e := range c.Endpoints {
			if e.NetworkName == netName {
				return e, true
			}
		}
		return model.Endpoint{}, false
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	step("create", func() {
		id = env.Run(t, dockertest.ContainerSpec{Suffix: "node", Image: image, Networks: []string{front}})
	}, func(w *watcher) (bool, string) {
		c, why := node(w)
		_, on := onNet(c, front)
		l := w.topo.Layout(model.LayoutOptions{Filter: name})
		return c.State == model.StateCreated && on && len(l.Columns) == 1, why
	})
	step("start", func() { must(env.Client.ContainerStart(ctx, id, container.StartOptions{})) }, func(w *watcher) (bool, string) {
		c, why := node(w)
		ep, _ := onNet(c, front)
		return c.State == model.StateRunning && ep.IPv4 != "", why
	})
	step("connect to a second network", func() { must(env.Client.NetworkConnect(ctx, back, id, nil)) }, func(w *watcher) (bool, string) {
		c, why := node(w)
		ep, on := onNet(c, back)
		l := w.topo.Layout(model.LayoutOptions{Filter: name})
		lf, cf, _ := l.Position(id, c.Endpoints[ep.NetworkID].NetworkID)
		return on && ep.IPv4 != "" && l.Attached(lf, cf) && len(model.SharedNetworks(c, c)) == 2, why
	})
	step("disconnect", func() { must(env.Client.NetworkDisconnect(ctx, back, id, false)) }, func(w *watcher) (bool, string) {
		c, why := node(w)
		_, on := onNet(c, back)
		_, stillFront := onNet(c, front)
		return !on && stillFront, why
	})
	step("pause", func() { must(env.Client.ContainerPause(ctx, id)) }, func(w *watcher) (bool, string) {
		c, why := node(w)
		return c.State == model.StatePaused, why
	})
	step("unpause", func() { must(env.Client.ContainerUnpause(ctx, id)) }, func(w *watcher) (bool, string) {
		c, why := node(w)
		return c.State == model.StateRunning, why
	})
	step("rename", func() { must(env.Client.ContainerRename(ctx, id, name+"-renamed")) }, func(w *watcher) (bool, string) {
		c, why := node(w)
		return c.Name == name+"-renamed", why
	})
	step("stop", func() {
		timeout := 5
		must(env.Client.ContainerStop(ctx, id, container.StopOptions{Timeout: &timeout}))
	}, func(w *watcher) (bool, string) {
		c, why := node(w)
		// A stopped container stays in its lane, without an address.
		ep, on := onNet(c, front)
		return c.State == model.StateExited && on && ep.IPv4 == "", why
	})
	step("restart", func() {
		timeout := 5
		must(env.Client.ContainerRestart(ctx, id, container.StopOptions{Timeout: &timeout}))
	}, func(w *watcher) (bool, string) {
		c, why := node(w)
		ep, _ := onNet(c, front)
		return c.State == model.StateRunning && ep.IPv4 != "", why
	})
	step("kill", func() { must(env.Client.ContainerKill(ctx, id, "KILL")) }, func(w *watcher) (bool, string) {
		c, why := node(w)
		return c.State == model.StateExited && c.ExitCode == 137, why
	})
	step("remove", func() { must(env.Client.ContainerRemove(ctx, id, container.RemoveOptions{})) }, func(w *watcher) (bool, string) {
		_, ok := w.topo.Containers[id]
		return !ok, "still in the model"
	})
	var extraID string
	step("network create", func() {
		extraID = env.CreateNetwork(t, "extra", nil)
	}, func(w *watcher) (bool, string) {
		n, ok := w.topo.Networks[extraID]
		return ok && n.Name == env.Name("extra") && len(n.Subnets) > 0 && n.Labels[dockertest.LabelKey] == env.Prefix,
			fmt.Sprintf("network %+v", n)
	})
	step("network remove", func() { must(env.Client.NetworkRemove(ctx, extraID)) }, func(w *watcher) (bool, string) {
		_, ok := w.topo.Networks[extraID]
		return !ok, "still in the model"
	})

	for _, tm := range timings {
		t.Logf("%-28s call→model %6.1f ms   call returned→model %6.1f ms", tm.step,
			float64(tm.fromCall.Microseconds())/1000, float64(tm.fromReturn.Microseconds())/1000)
	}
	t.Logf("engine event → model (this test's events): %s", summarize(w.latencies()))

	// The event log has a readable line for each of them.
	w.mu.Lock()
	defer w.mu.Unlock()
	var lines []string
	for _, ev := range w.eventsAfter(1) {
		if ev.ActorID == id || ev.Attributes["container"] == id {
			lines = append(lines, ev.Describe(w.topo))
		}
	}
	log := strings.Join(lines, "\n")
	for _, want := range []string{"create " + name, "start ", "connect ", " → " + back, "disconnect ", "pause ", "unpause ", "rename ", "die ", "(exit 137)", "destroy "} {
		if !strings.Contains(log, want) {
			t.Errorf("event log lacks %q:\n%s", want, log)
		}
	}
}

// Containers already on the engine when Watch starts are in its snapshot,
// and events about objects that are not the test's never disturb them.
func TestWatchSnapshotThenEvents(t *testing.T) {
	t.Parallel()
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	front := env.Name("front")
	env.CreateNetwork(t, "front", nil)
	before := env.Run(t, dockertest.ContainerSpec{Suffix: "before", Image: image, Networks: []string{front}, Start: true})

	w := startWatch(t, connectTest(t, ""), env.Prefix)
	w.waitFor(t, 5*time.Second, "snapshot holding the running container", func(w *watcher) (bool, string) {
		c, ok := w.topo.Containers[before]
		return w.snapshots == 1 && ok && c.State == model.StateRunning, "not yet"
	})
	after := env.Run(t, dockertest.ContainerSpec{Suffix: "after", Image: image, Networks: []string{front}, Start: true})
	w.waitFor(t, settle, "event for a container started after the snapshot", func(w *watcher) (bool, string) {
		c, ok := w.topo.Containers[after]
		return ok && c.State == model.StateRunning && c.Detailed, "not yet"
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.snapshots != 1 || len(w.lost) != 0 {
		t.Errorf("snapshots %d, lost %d: the stream should not have broken", w.snapshots, len(w.lost))
	}
	if _, ok := w.topo.Containers[before]; !ok {
		t.Errorf("the snapshot's container left the model")
	}
}

// restartableEngine connects to the engine through a proxy the test can cut.
func restartableEngine(t *testing.T) (*docker.Engine, *cutProxy) {
	t.Helper()
	p := newCutProxy(t)
	return connectTest(t, "tcp://"+p.addr), p
}

func TestWatchReconnectsAndResyncsAfterTheStreamBreaks(t *testing.T) {
	t.Parallel()
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	ctx := context.Background()
	front := env.Name("front")
	env.CreateNetwork(t, "front", nil)
	e, proxy := restartableEngine(t)
	w := startWatch(t, e, env.Prefix)

	seen := env.Run(t, dockertest.ContainerSpec{Suffix: "seen", Image: image, Networks: []string{front}, Start: true})
	w.waitFor(t, 5*time.Second, "container running before the break", func(w *watcher) (bool, string) {
		c, ok := w.topo.Containers[seen]
		return ok && c.State == model.StateRunning, "not yet"
	})

	cut := time.Now()
	proxy.cut()
	w.waitFor(t, 2*time.Second, "Lost after the break", func(w *watcher) (bool, string) {
		return len(w.lost) > 0, "no Lost update"
	})
	lostAt := time.Now()
	w.mu.Lock()
	lost := w.lost[0]
	w.mu.Unlock()
	if lost.Lost == nil || lost.Retry.Before(cut) {
		t.Errorf("Lost update = %+v", lost)
	}

	// Changes while the stream is down: the resync shows them, and the
	// event log gets their events through since.
	timeout := 5
	if err := env.Client.ContainerStop(ctx, seen, container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	gap := env.Run(t, dockertest.ContainerSpec{Suffix: "gap", Image: image, Networks: []string{front}})
	proxy.restore(t)
	restored := time.Now()

	w.waitFor(t, 7*time.Second, "resync after the engine is back", func(w *watcher) (bool, string) {
		c, ok := w.topo.Containers[seen]
		_, hasGap := w.topo.Containers[gap]
		return w.snapshots == 2 && ok && c.State == model.StateExited && hasGap,
			fmt.Sprintf("snapshots %d, lost %d", w.snapshots, len(w.lost))
	})
	resynced := time.Now()
	w.waitFor(t, 2*time.Second, "the gap's events replayed", func(w *watcher) (bool, string) {
		var stop, create bool
		for _, ev := range w.eventsAfter(2) {
			stop = stop || (ev.ActorID == seen && ev.BaseAction() == "die")
			create = create || (ev.ActorID == gap && ev.BaseAction() == "create")
		}
		return stop && create, fmt.Sprintf("die of seen %v, create of gap %v", stop, create)
	})
	t.Logf("cut→Lost %v, restore→resync %v, %d Lost updates while down", lostAt.Sub(cut).Round(time.Millisecond),
		resynced.Sub(restored).Round(time.Millisecond), len(w.lost))

	// The stream is live again.
	if err := env.Client.ContainerStart(ctx, gap, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	w.waitFor(t, settle, "a change after the reconnect", func(w *watcher) (bool, string) {
		c := w.topo.Containers[gap]
		return c.State == model.StateRunning, string(c.State)
	})
}

// Regression: Watch resumed with `since` only from the last event it had
// seen, so when the stream broke before any event arrived, the events of
// the gap never reached the event log.
func TestWatchReplaysGapEventsWhenNoEventPrecededTheBreak(t *testing.T) {
	t.Parallel()
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	e, proxy := restartableEngine(t)
	// Only this test's containers reach the stream, so no other event on
	// the shared engine can set the resume point by chance.
	docker.ScopeEvents(e, "label", dockertest.LabelKey+"="+env.Prefix)
	w := startWatch(t, e, env.Prefix)
	w.waitFor(t, 5*time.Second, "first snapshot", func(w *watcher) (bool, string) { return w.snapshots == 1, "no snapshot" })

	proxy.cut()
	w.waitFor(t, 2*time.Second, "Lost after the break", func(w *watcher) (bool, string) { return len(w.lost) > 0, "no Lost" })
	gap := env.Run(t, dockertest.ContainerSpec{Suffix: "gap", Image: image})
	proxy.restore(t)
	w.waitFor(t, 7*time.Second, "the gap's create replayed after the resync", func(w *watcher) (bool, string) {
		for _, ev := range w.eventsAfter(2) {
			if ev.ActorID == gap && ev.BaseAction() == "create" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("snapshots %d, no create event for the gap's container", w.snapshots)
	})
}

// Watch ends, closing its channel, when its context does, even while it
// waits to reconnect.
func TestWatchEndsWithItsContext(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"", "unix:///nonexistent.sock"} {
		t.Run(host, func(t *testing.T) {
			if host == "" {
				dockertest.New(t)
			}
			e := connectTest(t, host)
			ctx, cancel := context.WithCancel(context.Background())
			out := make(chan model.Update)
			go e.Watch(ctx, out)
			u := <-out // a Snapshot, or Lost for the missing engine
			if (host == "") != (u.Snapshot != nil) || (host != "") != (u.Lost != nil) {
				t.Errorf("first update = %+v", u)
			}
			cancel()
			timer := time.NewTimer(testenv.Patience(2 * time.Second))
			defer timer.Stop()
			for {
				select {
				case _, open := <-out:
					if !open {
						return
					}
				case <-timer.C:
					t.Fatal("Watch did not close its channel after cancel")
				}
			}
		})
	}
}

// Regression: an event's read of its container waited for the engine's
// lock on it, so one start (0.3-0.6 s on a small machine) held every later
// event. With every read held until the end of the test, the events of a
// whole start and kill still reach the model: none waits for a read.
func TestWatchDoesNotHoldEventsWhileTheEngineWorksOnAContainer(t *testing.T) {
	t.Parallel()
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	ctx := context.Background()
	front := env.Name("front")
	env.CreateNetwork(t, "front", nil)
	e := connectTest(t, "")
	docker.ScopeEvents(e, "container", env.Prefix)
	release, reads := docker.HoldReads(e)
	defer release()
	w := startWatch(t, e, env.Prefix)
	w.waitFor(t, settle, "first snapshot", func(w *watcher) (bool, string) { return w.snapshots == 1, "no snapshot" })

	id := env.Run(t, dockertest.ContainerSpec{Suffix: "node", Image: image, Networks: []string{front}})
	if err := env.Client.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.ContainerKill(ctx, id, "KILL"); err != nil {
		t.Fatal(err)
	}
	applied := func(typ, action string) bool {
		_, _, ok := w.eventApplied(func(ev model.Event) bool {
			return ev.Type == typ && ev.BaseAction() == action && (ev.ActorID == id || ev.Attributes["container"] == id)
		})
		return ok
	}
	w.waitFor(t, settle, "connect, start and die applied while every read is held", func(w *watcher) (bool, string) {
		var missing []string
		for _, ev := range [][2]string{{model.EventNetwork, "connect"}, {model.EventContainer, "start"}, {model.EventContainer, "die"}} {
			if !applied(ev[0], ev[1]) {
				missing = append(missing, ev[0]+" "+ev[1])
			}
		}
		return len(missing) == 0, "not applied yet: " + strings.Join(missing, ", ")
	})
	// Reads were made, and none was released before this point: the
	// events went without them, which is what the bound is for.
	if reads() == 0 {
		t.Error("no container read was made: the test did not exercise a held read")
	}
	w.mu.Lock()
	state := w.topo.Containers[id].State
	w.mu.Unlock()
	if state != model.StateExited {
		t.Errorf("after the die event without a read the container is %s, want exited (from the event itself)", state)
	}
}

// Regression: with every read of an event's container bounded at 100 ms,
// a loaded engine dropped the state of a network connect made on a running
// container, and no later event carries it: the new lane's address stayed
// empty. Likewise a stopped container, whose disconnects came without
// state, left its lanes.
func TestWatchKeepsAddressesAndLanesOnASlowEngine(t *testing.T) {
	t.Parallel()
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	ctx := context.Background()
	front, back := env.Name("front"), env.Name("back")
	env.CreateNetwork(t, "front", nil)
	env.CreateNetwork(t, "back", nil)
	e := connectTest(t, "")
	docker.SlowReads(e, 150*time.Millisecond)
	// The stream reads one event at a time: slowed down, it must not
	// carry the rest of the shared engine's events too. A container
	// filter by prefix also passes the events of the test's networks,
	// whose names share it.
	docker.ScopeEvents(e, "container", env.Prefix)
	w := startWatch(t, e, env.Prefix)
	w.waitFor(t, 5*time.Second, "first snapshot", func(w *watcher) (bool, string) { return w.snapshots == 1, "no snapshot" })

	id := env.Run(t, dockertest.ContainerSpec{Suffix: "node", Image: image, Networks: []string{front}, Start: true})
	w.waitFor(t, settle, "running", func(w *watcher) (bool, string) {
		c := w.topo.Containers[id]
		return c.State == model.StateRunning, string(c.State)
	})
	if err := env.Client.NetworkConnect(ctx, back, id, nil); err != nil {
		t.Fatal(err)
	}
	w.waitFor(t, settle, "address on the connected network", func(w *watcher) (bool, string) {
		c := w.topo.Containers[id]
		for _, ep := range c.Endpoints {
			if ep.NetworkName == back && ep.IPv4 != "" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("endpoints %v", c.Endpoints)
	})
	waitServing(t, env, id)
	timeout := 5
	if err := env.Client.ContainerStop(ctx, id, container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	// Stopping disconnects the container from its networks, yet it stays
	// configured on them: once the stop's events are all in, it is still
	// in both lanes.
	w.waitFor(t, settle, "stopped, still in both lanes", func(w *watcher) (bool, string) {
		c := w.topo.Containers[id]
		_, _, stopped := w.eventApplied(func(ev model.Event) bool { return ev.ActorID == id && ev.Action == "stop" })
		return stopped && c.State == model.StateExited && len(c.Endpoints) == 2, fmt.Sprintf("stop event in %v, state %s endpoints %v", stopped, c.State, c.Endpoints)
	})
}

// Regression: under load (make test beside its own builds) every read of
// an event's container timed out and the list lagged, so a connect left
// the new lane's address empty for good, no later event carrying it. The
// late read brings it: here it is the only way it can arrive.
func TestWatchReadsAContainerLateWhenItsEventWentWithoutState(t *testing.T) {
	t.Parallel()
	env := dockertest.New(t)
	image := dockertest.TestServerImage(t)
	ctx := context.Background()
	front, back := env.Name("front"), env.Name("back")
	env.CreateNetwork(t, "front", nil)
	env.CreateNetwork(t, "back", nil)
	e := connectTest(t, "")
	docker.SlowReads(e, 150*time.Millisecond) // past the event's bound
	docker.HideListedByID(e)
	docker.ScopeEvents(e, "container", env.Prefix)
	w := startWatch(t, e, env.Prefix)
	w.waitFor(t, settle, "first snapshot", func(w *watcher) (bool, string) { return w.snapshots == 1, "no snapshot" })

	id := env.Run(t, dockertest.ContainerSpec{Suffix: "node", Image: image, Networks: []string{front}, Start: true})
	w.waitFor(t, settle, "running", func(w *watcher) (bool, string) {
		c := w.topo.Containers[id]
		return c.State == model.StateRunning, string(c.State)
	})
	if err := env.Client.NetworkConnect(ctx, back, id, nil); err != nil {
		t.Fatal(err)
	}
	w.waitFor(t, settle, "address on the connected network", func(w *watcher) (bool, string) {
		c := w.topo.Containers[id]
		for _, ep := range c.Endpoints {
			if ep.NetworkName == back && ep.IPv4 != "" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("endpoints %v", c.Endpoints)
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	refreshed := 0
	for _, u := range w.updates {
		if u.Refresh != nil && u.Refresh.ID == id {
			refreshed++
		}
	}
	if refreshed == 0 {
		t.Error("the address arrived without a late read: the test did not exercise it")
	}
}
