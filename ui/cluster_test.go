package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/topo-dev/topo/model"
)

// clusterBuilder builds a swarm in code: nodes, overlays, services and
// tasks with stable IDs and addresses.
type clusterBuilder struct {
	c     model.Cluster
	hosts map[string]int
	seq   int
}

func newCluster() *clusterBuilder {
	b := &clusterBuilder{hosts: map[string]int{}}
	b.c.ID = "k3xq0cluster0000000000000"
	return b
}

func (b *clusterBuilder) node(host string, role model.NodeRole, mods ...func(*model.Node)) *clusterBuilder {
	n := model.Node{ID: "node-" + host, Hostname: host, Role: role, Availability: model.AvailabilityActive,
		State: model.NodeReady, EngineVersion: "20.10.24+dfsg1", Addr: fmt.Sprintf("172.28.0.%d", 2+len(b.c.Nodes))}
	if role == model.RoleManager {
		n.Reachability = "reachable"
	}
	for _, m := range mods {
		m(&n)
	}
	if n.Leader {
		b.c.LocalNodeID = n.ID
	}
	b.c.Nodes = append(b.c.Nodes, n)
	return b
}

func (b *clusterBuilder) overlay(name string, ingress bool) *clusterBuilder {
	i := len(b.c.Networks)
	b.c.Networks = append(b.c.Networks, model.OverlayNetwork{Network: model.Network{
		ID: "net-" + name, Name: name, Driver: "overlay", Scope: "swarm", Subnets: []string{fmt.Sprintf("10.0.%d.0/24", i)},
	}, Ingress: ingress, Attachable: !ingress})
	return b
}

func (b *clusterBuilder) service(name string, mode model.ServiceMode, replicas uint64, mods ...func(*model.SwarmService)) *clusterBuilder {
	s := model.SwarmService{ID: "svc-" + name, Name: "demo_" + name, Mode: mode, Replicas: replicas,
		Image: "topo-self:4f1c2a9b7d3e", EndpointMode: model.EndpointDNSRR, UpdateState: model.UpdateCompleted,
		Labels: map[string]string{model.LabelStackNamespace: "demo"}}
	for _, m := range mods {
		m(&s)
	}
	b.c.Services = append(b.c.Services, s)
	return b
}

// task adds a task of service on host (empty: not placed yet) attached to
// nets, running unless mods say otherwise.
func (b *clusterBuilder) task(service string, slot int, host string, nets []string, mods ...func(*model.Task)) *clusterBuilder {
	b.seq++
	t := model.Task{ID: fmt.Sprintf("task%02d%s", b.seq, strings.Repeat("x", 19)), ServiceID: "svc-" + service, Slot: slot,
		DesiredState: model.TaskRunning, State: model.TaskRunning,
		Since: testNow.Add(-time.Duration(100-b.seq) * time.Minute), Created: testNow.Add(-time.Duration(100-b.seq) * time.Minute)}
	if host != "" {
		t.NodeID = "node-" + host
		t.ContainerID = fmt.Sprintf("c%02d%s", b.seq, strings.Repeat("f", 61))
	}
	for _, n := range nets {
		i := -1
		for j, on := range b.c.Networks {
			if on.Name == n {
				i = j
			}
		}
		b.hosts[n]++
		t.Networks = append(t.Networks, model.TaskNetwork{NetworkID: "net-" + n, Name: n, Addresses: []string{fmt.Sprintf("10.0.%d.%d/24", i, 2+b.hosts[n])}})
	}
	for _, m := range mods {
		m(&t)
	}
	b.c.Tasks = append(b.c.Tasks, t)
	return b
}

func leader(n *model.Node) { n.Leader = true }

// spreadCluster is the demo on three nodes: six app replicas, a global
// agent on both overlays, a load balancer published through the ingress.
func spreadCluster() model.Cluster {
	b := newCluster().
		node("manager-1", model.RoleManager, leader).node("worker-1", model.RoleWorker).node("worker-2", model.RoleWorker).
		overlay("ingress", true).overlay("front", false).overlay("back", false).
		service("app", model.ModeReplicated, 6).
		service("agent", model.ModeGlobal, 0).
		service("lb", model.ModeReplicated, 1, func(s *model.SwarmService) {
			s.EndpointMode = model.EndpointVIP
			s.Ports = []model.PublishedPort{{Target: 80, Published: 8080, Protocol: "tcp", Mode: "ingress"}}
			s.VirtualIPs = []model.VirtualIP{{NetworkID: "net-ingress", Addr: "10.0.0.2/24"}, {NetworkID: "net-front", Addr: "10.0.1.2/24"}}
		})
	hosts := []string{"manager-1", "worker-1", "worker-2"}
	for i := 1; i <= 6; i++ {
		b.task("app", i, hosts[(i-1)%3], []string{"front", "back"})
	}
	for _, h := range hosts {
		b.task("agent", 0, h, []string{"back"})
	}
	b.task("lb", 1, "worker-1", []string{"ingress", "front"})
	return b.c
}

// troubleCluster: worker-2 lost (its tasks frozen, replacements starting),
// worker-1 drained (its tasks leaving), a service whose image is missing.
func troubleCluster() model.Cluster {
	b := newCluster().
		node("manager-1", model.RoleManager, leader).
		node("worker-1", model.RoleWorker, func(n *model.Node) { n.Availability = model.AvailabilityDrain }).
		node("worker-2", model.RoleWorker, func(n *model.Node) { n.State = model.NodeDown; n.Message = "heartbeat failure" }).
		overlay("front", false).
		service("app", model.ModeReplicated, 4).
		service("broken", model.ModeReplicated, 1, func(s *model.SwarmService) { s.UpdateState = "" })
	shutdown := func(t *model.Task) { t.DesiredState = model.TaskShutdown }
	starting := func(t *model.Task) { t.State = model.TaskStarting; t.ContainerID = "" }
	b.task("app", 1, "manager-1", []string{"front"}).
		task("app", 2, "worker-1", []string{"front"}, shutdown).
		task("app", 2, "manager-1", []string{"front"}, starting).
		task("app", 3, "worker-2", []string{"front"}).
		task("app", 4, "worker-2", []string{"front"}, shutdown).
		task("app", 4, "manager-1", []string{"front"}, starting).
		task("broken", 1, "manager-1", []string{"front"}, func(t *model.Task) {
			t.DesiredState, t.State = model.TaskShutdown, model.TaskRejected
			t.Err = "No such image: topo-missing:1"
			t.ContainerID = ""
		}).
		task("broken", 1, "", []string{"front"}, func(t *model.Task) {
			t.State = model.TaskPending
			t.Message = "no suitable node (1 node not available for new tasks; 1 node down)"
		})
	return b.c
}

// wideCluster has more nodes than fit 80 columns.
func wideCluster() model.Cluster {
	b := newCluster().node("manager-1", model.RoleManager, leader).node("manager-2", model.RoleManager).
		overlay("front", false).service("app", model.ModeReplicated, 7)
	for i := 1; i <= 5; i++ {
		b.node(fmt.Sprintf("worker-%d", i), model.RoleWorker)
	}
	hosts := []string{"manager-1", "manager-2", "worker-1", "worker-2", "worker-3", "worker-4", "worker-5"}
	for i, h := range hosts {
		b.task("app", i+1, h, []string{"front"})
	}
	return b.c
}

func emptyCluster() model.Cluster {
	return newCluster().node("manager-1", model.RoleManager, leader).overlay("ingress", true).c
}

// selectTask puts the selection on a task in a lane.
func selectTask(t *testing.T, v *ClusterView, taskID, lane string) {
	t.Helper()
	for _, it := range v.items {
		if it.kind == SelectTask && it.id == taskID && it.lane == lane {
			v.sel = it
			v.cache = ""
			v.scrollToSelection()
			return
		}
	}
	t.Fatalf("no task %s in lane %s", taskID, lane)
}

func selectKind(t *testing.T, v *ClusterView, kind ClusterSelectionKind, id string) {
	t.Helper()
	for _, it := range v.items {
		if it.kind == kind && it.id == id {
			v.sel = it
			v.cache = ""
			v.scrollToSelection()
			return
		}
	}
	t.Fatalf("no item %v %s", kind, id)
}

// taskOf finds a task by service and slot, on host when given ("-": on no
// node yet).
func taskOf(c model.Cluster, service string, slot int, host string) string {
	for _, t := range c.Tasks {
		if t.ServiceID != "svc-"+service || t.Slot != slot {
			continue
		}
		if host == "" || (host == "-" && t.NodeID == "") || t.NodeID == "node-"+host {
			return t.ID
		}
	}
	return ""
}

var clusterScreens = []struct {
	name    string
	cluster func() model.Cluster
	setup   func(t *testing.T, v *ClusterView)
}{
	{name: "spread", cluster: spreadCluster},
	{name: "service_selected", cluster: spreadCluster, setup: func(t *testing.T, v *ClusterView) {
		selectKind(t, v, SelectService, "svc-lb")
	}},
	{name: "down_node_selected", cluster: troubleCluster, setup: func(t *testing.T, v *ClusterView) {
		selectKind(t, v, SelectNode, "node-worker-2")
	}},
	{name: "failed_task_selected", cluster: troubleCluster, setup: func(t *testing.T, v *ClusterView) {
		c := v.Cluster()
		selectTask(t, v, taskOf(c, "broken", 1, "manager-1"), "net-front")
	}},
	{name: "pending_task_selected", cluster: troubleCluster, setup: func(t *testing.T, v *ClusterView) {
		selectTask(t, v, taskOf(v.Cluster(), "broken", 1, "-"), "net-front")
	}},
	{name: "many_nodes_scrolled", cluster: wideCluster, setup: func(t *testing.T, v *ClusterView) {
		selectTask(t, v, taskOf(v.Cluster(), "app", 7, ""), "net-front")
	}},
	{name: "no_services", cluster: emptyCluster},
}

// TestClusterGolden pins the cluster view at the two sizes the talk uses.
// Regenerate with `go test ./ui -run TestClusterGolden -update`.
func TestClusterGolden(t *testing.T) {
	lipgloss.SetColorProfile(termenv.Ascii)
	for _, sc := range clusterScreens {
		for _, size := range goldenSizes {
			t.Run(fmt.Sprintf("cluster_%s_%dx%d", sc.name, size.w, size.h), func(t *testing.T) {
				v := NewClusterView(NewStyles(DefaultTheme()))
				v.SetSize(size.w, size.h)
				v.SetCluster(sc.cluster())
				if sc.setup != nil {
					sc.setup(t, v)
				}
				view := v.Title() + "\n" + v.View()
				lines := strings.Split(v.View(), "\n")
				if len(lines) != size.h {
					t.Errorf("view is %d lines, want %d", len(lines), size.h)
				}
				for i, line := range lines {
					if w := ansi.StringWidth(line); w > size.w {
						t.Errorf("line %d is %d cells wide at width %d: %q", i+1, w, size.w, line)
					}
				}
				golden.RequireEqual(t, []byte(view))
			})
		}
	}
}

// TestClusterMonochrome: Down and Drain must read without colour.
func TestClusterMonochrome(t *testing.T) {
	lipgloss.SetColorProfile(termenv.Ascii)
	v := NewClusterView(NewStyles(DefaultTheme()))
	v.SetSize(200, 50)
	v.SetCluster(troubleCluster())
	out := v.View()
	for _, want := range []string{"✖ DOWN", "⏏ DRAIN", "? app.3", "↓ app.2", "leaving", "node down", "(no node yet)", "✖ broken.1", "rejected"} {
		if !strings.Contains(out, want) {
			t.Errorf("the view lacks %q:\n%s", want, out)
		}
	}
}

func TestClusterMove(t *testing.T) {
	v := NewClusterView(NewStyles(DefaultTheme()))
	v.SetSize(200, 50)
	c := spreadCluster()
	v.SetCluster(c)
	sel := func() string {
		s := v.Selected()
		switch s.Kind {
		case SelectService:
			return "service " + s.Service.DisplayName()
		case SelectNode:
			return "node " + s.Node.Hostname
		case SelectTask:
			return "task " + v.Cluster().TaskName(s.Task) + "@" + s.Node.Hostname + " in " + v.sel.lane
		}
		return "nothing"
	}
	steps := []struct {
		key  string
		want string
	}{
		{"", "task agent@manager-1 in net-back"},     // the first task on screen
		{"left", "task agent@manager-1 in net-back"}, // the first column
		{"right", "task agent@worker-1 in net-back"},
		{"down", "task app.2@worker-1 in net-back"},
		{"right", "task app.3@worker-2 in net-back"},
		{"right", "task app.3@worker-2 in net-back"}, // the last column
		{"down", "task app.6@worker-2 in net-back"},
		{"down", "task app.3@worker-2 in net-front"}, // the next lane, same column
		{"down", "task app.6@worker-2 in net-front"},
		{"down", "task lb.1@worker-1 in net-front"}, // no task below in this column: the nearest
		{"down", "task lb.1@worker-1 in net-ingress"},
		{"down", "task lb.1@worker-1 in net-ingress"}, // the bottom
		{"up", "task lb.1@worker-1 in net-front"},
		{"left", "task app.4@manager-1 in net-front"}, // the nearest row of the column to the left
		{"up", "task app.1@manager-1 in net-front"},
		{"up", "task app.4@manager-1 in net-back"},
		{"up", "task app.1@manager-1 in net-back"},
		{"up", "task agent@manager-1 in net-back"},
		{"up", "node manager-1"},
		{"right", "node worker-1"},
		{"up", "service lb"},
		{"up", "service app"},
		{"up", "service agent"},
		{"up", "service agent"}, // the top
		{"down", "service app"},
		{"down", "service lb"},
		{"down", "node worker-1"}, // back to the column it was in
		{"down", "task agent@worker-1 in net-back"},
	}
	for i, st := range steps {
		if st.key != "" {
			v.Update(tea.KeyMsg(map[string]tea.Key{
				"up": {Type: tea.KeyUp}, "down": {Type: tea.KeyDown}, "left": {Type: tea.KeyLeft}, "right": {Type: tea.KeyRight},
			}[st.key]))
		}
		if got := sel(); got != st.want {
			t.Fatalf("step %d (%s): selection %q, want %q", i, st.key, got, st.want)
		}
	}
}

// TestClusterSelectionFollowsRescheduledTask: when the selected task is
// replaced on another node, the selection follows its successor.
func TestClusterSelectionFollowsRescheduledTask(t *testing.T) {
	v := NewClusterView(NewStyles(DefaultTheme()))
	v.SetSize(200, 50)
	c := spreadCluster()
	v.SetCluster(c)
	old := taskOf(c, "app", 3, "worker-2")
	selectTask(t, v, old, "net-front")

	next := spreadCluster()
	for i, tk := range next.Tasks {
		if tk.ID == old {
			next.Tasks[i].ID = "replacement-of-app3xxxxxxxx"
			next.Tasks[i].NodeID = "node-manager-1"
		}
	}
	v.Update(ClusterUpdateMsg{Cluster: next})
	s := v.Selected()
	if s.Kind != SelectTask || s.Task.ID != "replacement-of-app3xxxxxxxx" || v.sel.lane != "net-front" {
		t.Errorf("selection is %+v in %s, want the replacement of app.3 in front", s.Task, v.sel.lane)
	}
}

func TestClusterScaleCountsPendingPresses(t *testing.T) {
	v := NewClusterView(NewStyles(DefaultTheme()))
	v.SetSize(80, 24)
	c := spreadCluster()
	v.SetCluster(c)
	selectTask(t, v, taskOf(c, "app", 2, ""), "net-front")
	a, ok := v.ScaleBy(1)
	if !ok || a.Kind != ClusterScale || a.ID != "svc-app" || a.Replicas != 7 || a.Confirm() {
		t.Fatalf("ScaleBy(+1) = %+v %v, want app to 7 without confirmation", a, ok)
	}
	v.Pending(a)
	if !strings.Contains(v.View(), "6/6→7") {
		t.Errorf("the pending scale is not shown:\n%s", v.View())
	}
	if a, _ := v.ScaleBy(1); a.Replicas != 8 {
		t.Errorf("second + before the snapshot: %d, want 8", a.Replicas)
	}
	c.Services[0].Replicas = 7
	v.SetCluster(c)
	if _, pending := v.pending["svc-app"]; pending {
		t.Error("the pending scale outlived the snapshot that carried it")
	}
	if a, _ := v.ScaleBy(-1); a.Replicas != 6 || a.Done() != "scaled app to 6" {
		t.Errorf("ScaleBy(-1) = %+v", a)
	}

	selectKind(t, v, SelectService, "svc-agent")
	if _, ok := v.ScaleBy(1); ok {
		t.Error("a global service can be scaled")
	}
	selectKind(t, v, SelectNode, "node-worker-1")
	if _, ok := v.ScaleBy(1); ok {
		t.Error("a node can be scaled")
	}
	zero := spreadCluster()
	zero.Services[0].Replicas = 0
	v.SetCluster(zero)
	selectKind(t, v, SelectService, "svc-app")
	if _, ok := v.ScaleBy(-1); ok {
		t.Error("scaled below zero")
	}
}

func TestClusterRestartAndAvailabilityActions(t *testing.T) {
	v := NewClusterView(NewStyles(DefaultTheme()))
	v.SetSize(80, 24)
	v.SetCluster(spreadCluster())
	selectKind(t, v, SelectService, "svc-app")
	a, ok := v.RestartAction()
	if !ok || !a.Confirm() || a.Prompt() != "Restart app: replace its 6 tasks, rolling?" {
		t.Errorf("RestartAction = %+v %v (%q)", a, ok, a.Prompt())
	}
	if _, ok := v.AvailabilityAction(); ok {
		t.Error("a service can be drained")
	}
	selectKind(t, v, SelectNode, "node-worker-1")
	a, ok = v.AvailabilityAction()
	if !ok || a.Kind != ClusterDrain || !a.Confirm() || a.Prompt() != "Drain worker-1: move its 4 tasks to other nodes?" {
		t.Errorf("AvailabilityAction on an active node = %+v (%q)", a, a.Prompt())
	}
	v.SetCluster(troubleCluster())
	selectKind(t, v, SelectNode, "node-worker-1")
	if a, ok := v.AvailabilityAction(); !ok || a.Kind != ClusterActivate || a.Done() != "activated worker-1" {
		t.Errorf("AvailabilityAction on a drained node = %+v", a)
	}
}

func TestClusterKillTarget(t *testing.T) {
	v := NewClusterView(NewStyles(DefaultTheme()))
	v.SetSize(80, 24)
	c := troubleCluster()
	v.SetCluster(c)
	selectTask(t, v, taskOf(c, "app", 1, ""), "net-front")
	if id, name, ok, _ := v.KillTarget(); !ok || name != "app.1" || !strings.HasPrefix(id, "c") {
		t.Errorf("KillTarget on a local running task = %q %q %v", id, name, ok)
	}
	selectTask(t, v, taskOf(c, "app", 3, ""), "net-front")
	if _, _, ok, why := v.KillTarget(); ok || why != "app.3 runs on worker-2: topo talks to manager-1's engine and can kill only its containers" {
		t.Errorf("KillTarget on another node's task = %v, %q", ok, why)
	}
	selectTask(t, v, taskOf(c, "app", 2, "manager-1"), "net-front")
	if _, _, ok, why := v.KillTarget(); ok || !strings.Contains(why, "no running container (starting)") {
		t.Errorf("KillTarget on a starting task = %v, %q", ok, why)
	}
	selectKind(t, v, SelectNode, "node-manager-1")
	if _, _, ok, _ := v.KillTarget(); ok {
		t.Error("a node has a container to kill")
	}
}

type fakeSwarm struct{ calls []string }

func (f *fakeSwarm) Scale(_ context.Context, s string, n uint64) error {
	f.calls = append(f.calls, fmt.Sprintf("scale %s %d", s, n))
	return nil
}

func (f *fakeSwarm) Restart(_ context.Context, s string) error {
	f.calls = append(f.calls, "restart "+s)
	return errors.New("restart web: update out of sequence")
}

func (f *fakeSwarm) SetAvailability(_ context.Context, n string, a model.NodeAvailability) error {
	f.calls = append(f.calls, "node "+n+" "+string(a))
	return nil
}

func TestRunClusterAction(t *testing.T) {
	f := &fakeSwarm{}
	for _, a := range []ClusterAction{
		{Kind: ClusterScale, ID: "svc-app", Replicas: 3},
		{Kind: ClusterRestart, ID: "svc-app"},
		{Kind: ClusterDrain, ID: "node-w1"},
		{Kind: ClusterActivate, ID: "node-w1"},
	} {
		msg := RunClusterAction(f, a)()
		done, ok := msg.(ClusterActionDoneMsg)
		if !ok || done.Action != a {
			t.Fatalf("RunClusterAction(%+v) = %#v", a, msg)
		}
		if (done.Err != nil) != (a.Kind == ClusterRestart) {
			t.Errorf("%+v: error %v", a, done.Err)
		}
	}
	want := []string{"scale svc-app 3", "restart svc-app", "node node-w1 drain", "node node-w1 active"}
	if strings.Join(f.calls, "|") != strings.Join(want, "|") {
		t.Errorf("calls %v, want %v", f.calls, want)
	}
}

func TestWaitForCluster(t *testing.T) {
	if WaitForCluster(nil) != nil {
		t.Error("WaitForCluster(nil) should be nil: no swarm, no watch")
	}
	ch := make(chan model.Cluster, 1)
	ch <- model.Cluster{ID: "x"}
	if msg, ok := WaitForCluster(ch)().(ClusterUpdateMsg); !ok || msg.Cluster.ID != "x" {
		t.Errorf("got %#v", msg)
	}
	close(ch)
	if _, ok := WaitForCluster(ch)().(ClusterClosedMsg); !ok {
		t.Error("a closed channel does not give ClusterClosedMsg")
	}
}

func TestClusterTitle(t *testing.T) {
	v := NewClusterView(NewStyles(DefaultTheme()))
	v.SetSize(80, 24)
	c := wideCluster()
	c.Stale = errors.New("lost")
	v.SetCluster(c)
	want := "cluster k3xq0cluster · 7 nodes · 1 service · stack demo · nodes 1–3 of 7 ←/→ · STALE"
	if got := v.Title(); got != want {
		t.Errorf("Title = %q, want %q", got, want)
	}
}

// hundredTasks is the benchmark's cluster: 3 nodes, 100 tasks of 4
// services over 2 overlays.
func hundredTasks() model.Cluster {
	b := newCluster().
		node("manager-1", model.RoleManager, leader).node("worker-1", model.RoleWorker).node("worker-2", model.RoleWorker).
		overlay("ingress", true).overlay("front", false).overlay("back", false).
		service("app", model.ModeReplicated, 70).service("api", model.ModeReplicated, 20).
		service("cache", model.ModeReplicated, 7).service("agent", model.ModeGlobal, 0)
	hosts := []string{"manager-1", "worker-1", "worker-2"}
	for i := 1; i <= 70; i++ {
		b.task("app", i, hosts[i%3], []string{"front"})
	}
	for i := 1; i <= 20; i++ {
		b.task("api", i, hosts[i%3], []string{"front", "back"})
	}
	for i := 1; i <= 7; i++ {
		b.task("cache", i, hosts[i%3], []string{"back"})
	}
	for _, h := range hosts {
		b.task("agent", 0, h, []string{"back"})
	}
	return b.c
}

// BenchmarkClusterViewFirstFrame is the cost of a snapshot reaching the
// screen: SetCluster (lanes, items) and View, at 200×50.
func BenchmarkClusterViewFirstFrame(b *testing.B) {
	c := hundredTasks()
	v := NewClusterView(NewStyles(DefaultTheme()))
	v.SetSize(200, 50)
	b.ReportAllocs()
	for b.Loop() {
		v.SetCluster(c)
		_ = v.View()
	}
}
