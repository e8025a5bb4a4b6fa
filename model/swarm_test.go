package model

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

var swarmT0 = time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)

// clusterFixture is three nodes (a leading manager, two workers), an
// overlay "front", the ingress network, a replicated "web" and a global
// "agent". Tests change it with the helpers below.
type clusterFixture struct{ c Cluster }

func newClusterFixture() *clusterFixture {
	f := &clusterFixture{c: Cluster{ID: "cluster1", LocalNodeID: "n-mgr"}}
	f.c.Nodes = []Node{
		{ID: "n-w2", Hostname: "worker-2", Role: RoleWorker, Availability: AvailabilityActive, State: NodeReady},
		{ID: "n-mgr", Hostname: "manager-1", Role: RoleManager, Leader: true, Availability: AvailabilityActive, State: NodeReady},
		{ID: "n-w1", Hostname: "worker-1", Role: RoleWorker, Availability: AvailabilityActive, State: NodeReady},
	}
	f.c.Networks = []OverlayNetwork{
		{Network: Network{ID: "net-ingress", Name: "ingress", Driver: "overlay", Scope: "swarm"}, Ingress: true},
		{Network: Network{ID: "net-front", Name: "front", Driver: "overlay", Scope: "swarm"}, Attachable: true},
	}
	f.c.Services = []SwarmService{
		{ID: "s-web", Name: "web", Mode: ModeReplicated, Replicas: 3, EndpointMode: EndpointDNSRR},
		{ID: "s-agent", Name: "agent", Mode: ModeGlobal},
	}
	return f
}

var taskSeq int

// task adds a task; mods change it.
func (f *clusterFixture) task(service string, slot int, node string, desired, state TaskState, mods ...func(*Task)) *clusterFixture {
	taskSeq++
	t := Task{ID: fmt.Sprintf("t%03d-%s", taskSeq, service), ServiceID: "s-" + service, Slot: slot, NodeID: node,
		DesiredState: desired, State: state, Created: swarmT0.Add(time.Duration(taskSeq) * time.Second),
		Since:    swarmT0.Add(time.Duration(taskSeq) * time.Second),
		Networks: []TaskNetwork{{NetworkID: "net-front", Name: "front", Addresses: []string{fmt.Sprintf("10.0.1.%d/24", taskSeq)}}}}
	for _, m := range mods {
		m(&t)
	}
	f.c.Tasks = append(f.c.Tasks, t)
	return f
}

func (f *clusterFixture) node(id string, mod func(*Node)) *clusterFixture {
	for i := range f.c.Nodes {
		if f.c.Nodes[i].ID == id {
			mod(&f.c.Nodes[i])
		}
	}
	return f
}

// steady is web with 3 running replicas, one per node, and agent on each
// node.
func steady() *clusterFixture {
	f := newClusterFixture()
	f.task("web", 1, "n-mgr", TaskRunning, TaskRunning).
		task("web", 2, "n-w1", TaskRunning, TaskRunning).
		task("web", 3, "n-w2", TaskRunning, TaskRunning)
	for _, n := range []string{"n-mgr", "n-w1", "n-w2"} {
		f.task("agent", 0, n, TaskRunning, TaskRunning)
	}
	return f
}

func TestReplicas(t *testing.T) {
	tests := []struct {
		name             string
		f                *clusterFixture
		service          string
		running, desired int
	}{
		{"steady replicated", steady(), "s-web", 3, 3},
		{"steady global counts nodes running it", steady(), "s-agent", 3, 3},
		{"history does not count", steady().task("web", 1, "n-w1", TaskShutdown, TaskFailed), "s-web", 3, 3},
		{"starting is not running", newClusterFixture().task("web", 1, "n-w1", TaskRunning, TaskStarting), "s-web", 0, 3},
		{"a down node's frozen task is not running", steady().node("n-w2", func(n *Node) { n.State = NodeDown }), "s-web", 2, 3},
		{"a down node drops out of a global service's desired", steady().node("n-w2", func(n *Node) { n.State = NodeDown }), "s-agent", 2, 2},
		{"a leaving task is not counted", steady().task("web", 4, "n-w1", TaskShutdown, TaskRunning), "s-web", 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			running, desired := tt.f.c.Replicas(tt.service)
			if running != tt.running || desired != tt.desired {
				t.Errorf("Replicas = %d/%d, want %d/%d", running, desired, tt.running, tt.desired)
			}
		})
	}
}

func TestServiceConverging(t *testing.T) {
	down := func(n *Node) { n.State = NodeDown }
	tests := []struct {
		name string
		f    *clusterFixture
		want bool
	}{
		{"steady", steady(), false},
		{"scaled up: new tasks pending", steady().task("web", 4, "", TaskRunning, TaskPending), true},
		{"scaled up: not yet any task", func() *clusterFixture { f := steady(); f.c.Services[0].Replicas = 5; return f }(), true},
		{"scaled down: a task stopping", func() *clusterFixture {
			f := steady()
			f.c.Services[0].Replicas = 2
			f.c.Tasks[2].DesiredState = TaskShutdown
			return f
		}(), true},
		{"scaled down: done", func() *clusterFixture {
			f := steady()
			f.c.Services[0].Replicas = 2
			f.c.Tasks[2].DesiredState, f.c.Tasks[2].State = TaskShutdown, TaskShutdown
			return f
		}(), false},
		{"rolling update in progress", func() *clusterFixture { f := steady(); f.c.Services[0].UpdateState = UpdateUpdating; return f }(), true},
		{"paused update waits for a person", func() *clusterFixture { f := steady(); f.c.Services[0].UpdateState = UpdatePaused; return f }(), false},
		{"node just went down: its task still counted desired", steady().node("n-w2", down), true},
		{"node down, task rescheduled elsewhere: settled despite the frozen task", func() *clusterFixture {
			f := steady().node("n-w2", down)
			f.c.Tasks[2].DesiredState = TaskShutdown // still "running": the node cannot say otherwise
			f.task("web", 3, "n-w1", TaskRunning, TaskRunning)
			return f
		}(), false},
		{"a failed task replaced and starting", steady().task("web", 2, "n-w1", TaskShutdown, TaskFailed).task("web", 2, "n-w1", TaskRunning, TaskPreparing), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.c.ServiceConverging("s-web"); got != tt.want {
				t.Errorf("ServiceConverging(web) = %v, want %v", got, tt.want)
			}
			if got := tt.f.c.Converging(); got != tt.want {
				t.Errorf("Converging() = %v, want %v", got, tt.want)
			}
		})
	}
	if (Cluster{}).ServiceConverging("nope") {
		t.Error("an unknown service converges")
	}
}

func TestGlobalServiceDrainedNodeConverges(t *testing.T) {
	f := steady().node("n-w1", func(n *Node) { n.Availability = AvailabilityDrain })
	for i := range f.c.Tasks {
		if f.c.Tasks[i].NodeID == "n-w1" {
			f.c.Tasks[i].DesiredState = TaskShutdown
		}
	}
	if !f.c.ServiceConverging("s-agent") {
		t.Error("global task leaving a drained node: not converging")
	}
	for i := range f.c.Tasks {
		if f.c.Tasks[i].NodeID == "n-w1" {
			f.c.Tasks[i].State = TaskShutdown
		}
	}
	if f.c.ServiceConverging("s-agent") {
		t.Error("global service settled after the drain: still converging")
	}
	if r, d := f.c.Replicas("s-agent"); r != 2 || d != 2 {
		t.Errorf("global after drain = %d/%d, want 2/2", r, d)
	}
}

func TestJobNotConvergingWhenComplete(t *testing.T) {
	f := newClusterFixture()
	f.c.Services = append(f.c.Services, SwarmService{ID: "s-job", Name: "job", Mode: ModeReplicatedJob})
	f.task("job", 1, "n-w1", TaskComplete, TaskComplete)
	if f.c.ServiceConverging("s-job") {
		t.Error("completed job converging")
	}
	f.task("job", 2, "n-w1", TaskComplete, TaskRunning)
	if f.c.ServiceConverging("s-job") {
		t.Error("a running job task is not leaving; the job converges only while tasks start")
	}
	if f.c.Tasks[len(f.c.Tasks)-1].Leaving() {
		t.Error("a running job task counted as leaving")
	}
}

func taskIDs(ts []Task) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func TestVisibleTasks(t *testing.T) {
	f := newClusterFixture()
	f.task("web", 1, "n-w1", TaskShutdown, TaskShutdown) // history: hidden
	f.task("web", 1, "n-w1", TaskRunning, TaskRunning)
	f.task("web", 2, "n-w2", TaskShutdown, TaskRunning) // leaving: shown
	f.task("web", 2, "n-mgr", TaskRunning, TaskStarting)
	f.task("web", 3, "n-w1", TaskShutdown, TaskRejected, func(t *Task) { t.Err = "no such image" })
	f.task("web", 3, "n-w1", TaskShutdown, TaskRejected, func(t *Task) { t.Err = "no such image (latest)" })
	f.task("web", 3, "", TaskRunning, TaskPending)
	f.task("web", 1, "n-w2", TaskShutdown, TaskFailed, func(t *Task) { t.Err = "old failure" }) // slot 1 runs: hidden
	got := f.c.VisibleTasks()
	var desc []string
	for _, t := range got {
		desc = append(desc, fmt.Sprintf("%s %d %s/%s %s", t.NodeID, t.Slot, t.DesiredState, t.State, t.Err))
	}
	want := []string{
		"n-w1 1 running/running ",
		"n-mgr 2 running/starting ",
		"n-w2 2 shutdown/running ",
		" 3 running/pending ",
		"n-w1 3 shutdown/rejected no such image (latest)",
	}
	if !reflect.DeepEqual(desc, want) {
		t.Errorf("VisibleTasks =\n%s\nwant\n%s", strings.Join(desc, "\n"), strings.Join(want, "\n"))
	}
}

func TestLanes(t *testing.T) {
	f := steady()
	// A host-networked task on no overlay, an unassigned pending task,
	// and a task on front and back.
	f.c.Networks = append(f.c.Networks, OverlayNetwork{Network: Network{ID: "net-back", Name: "back", Driver: "overlay", Scope: "swarm"}})
	f.task("web", 4, "", TaskRunning, TaskPending)
	f.c.Services = append(f.c.Services, SwarmService{ID: "s-lb", Name: "lb", Mode: ModeReplicated, Replicas: 1})
	f.task("lb", 1, "n-w1", TaskRunning, TaskRunning, func(t *Task) { t.Networks = nil })
	f.c.Tasks[0].Networks = append(f.c.Tasks[0].Networks, TaskNetwork{NetworkID: "net-back", Name: "back", Addresses: []string{"10.0.2.9/24"}})

	lanes := f.c.Lanes()
	var got []string
	for _, l := range lanes {
		var groups []string
		for _, g := range l.Groups {
			var names []string
			for _, t := range g.Tasks {
				names = append(names, f.c.TaskName(t))
			}
			groups = append(groups, g.NodeID+"["+strings.Join(names, ",")+"]")
		}
		got = append(got, fmt.Sprintf("%s: %s (%d)", l.Network.Name, strings.Join(groups, " "), l.Count()))
	}
	want := []string{
		"back: n-mgr[web.1] n-w1[] n-w2[] [] (1)",
		"front: n-mgr[agent,web.1] n-w1[agent,web.2] n-w2[agent,web.3] [web.4] (7)",
		"ingress: n-mgr[] n-w1[] n-w2[] [] (0)",
		"no overlay network: n-mgr[] n-w1[lb.1] n-w2[] [] (1)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Lanes =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if lanes[3].Network.ID != NoOverlay {
		t.Errorf("last lane ID = %q, want NoOverlay", lanes[3].Network.ID)
	}
	if !f.c.Unassigned() {
		t.Error("Unassigned() = false with a pending task on no node")
	}
	if n := len(f.c.TasksOn("n-w1")); n != 3 {
		t.Errorf("TasksOn(worker-1) = %d tasks, want 3 (agent, web.2, lb.1)", n)
	}
}

func TestOrderedNodes(t *testing.T) {
	f := newClusterFixture()
	f.c.Nodes = append(f.c.Nodes, Node{ID: "n-m2", Hostname: "a-manager", Role: RoleManager})
	var got []string
	for _, n := range f.c.OrderedNodes() {
		got = append(got, n.Hostname)
	}
	if want := []string{"manager-1", "a-manager", "worker-1", "worker-2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("OrderedNodes = %v, want %v (leader, managers, workers)", got, want)
	}
}

func TestNamesAndLookups(t *testing.T) {
	f := steady()
	f.c.Services = append(f.c.Services, SwarmService{ID: "s-demoapp0123", Name: "demo_app", Labels: map[string]string{LabelStackNamespace: "demo"}})
	if s, ok := f.c.FindService("app"); !ok || s.ID != "s-demoapp0123" {
		t.Errorf("FindService(app) without the stack prefix = %v %v", s.ID, ok)
	}
	if s, ok := f.c.FindService("demo_app"); !ok || s.DisplayName() != "app" || s.Stack() != "demo" {
		t.Errorf("FindService(demo_app) = %+v %v", s, ok)
	}
	if _, ok := f.c.FindService("s-"); ok {
		t.Error("a 2-character prefix matched")
	}
	if n, ok := f.c.FindNode("worker-1"); !ok || n.ID != "n-w1" {
		t.Errorf("FindNode(worker-1) = %v %v", n.ID, ok)
	}
	if _, ok := f.c.FindNode("n-w"); ok {
		t.Error("an ambiguous prefix matched")
	}
	if got := f.c.TaskName(f.c.Tasks[1]); got != "web.2" {
		t.Errorf("TaskName(replicated) = %q", got)
	}
	if got := f.c.TaskName(f.c.Tasks[4]); got != "agent" {
		t.Errorf("TaskName(global) = %q", got)
	}
	if ip := f.c.Tasks[0].Networks[0].IP(); !strings.HasPrefix(ip, "10.0.1.") || strings.Contains(ip, "/") {
		t.Errorf("IP() = %q, want the address without its prefix length", ip)
	}
	ports := []struct {
		p    PublishedPort
		want string
	}{
		{PublishedPort{Target: 80, Published: 8080, Protocol: "tcp", Mode: "ingress"}, "*:8080->80/tcp"},
		{PublishedPort{Target: 80, Published: 8080, Protocol: "tcp", Mode: "host"}, "*:8080->80/tcp (host)"},
		{PublishedPort{Target: 53, Protocol: "udp", Mode: "ingress"}, "53/udp"},
	}
	for _, tt := range ports {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestSwarmEventDescribe(t *testing.T) {
	tests := []struct {
		ev   SwarmEvent
		want string
	}{
		{SwarmEvent{Type: "node", Action: "update", ActorID: "n1", Attributes: map[string]string{"name": "worker-2", "state.new": "down", "state.old": "ready"}}, "node worker-2 down"},
		{SwarmEvent{Type: "node", Action: "update", Attributes: map[string]string{"name": "worker-1", "availability.new": "drain"}}, "node worker-1 availability drain"},
		{SwarmEvent{Type: "service", Action: "update", Attributes: map[string]string{"name": "web", "replicas.old": "6", "replicas.new": "3"}}, "service web scaled 6→3"},
		{SwarmEvent{Type: "service", Action: "update", Attributes: map[string]string{"name": "web", "updatestate.new": "updating"}}, "service web update updating"},
		{SwarmEvent{Type: "secret", Action: "create", ActorID: "0123456789abcdef"}, "secret create 0123456789ab"},
	}
	for _, tt := range tests {
		if got := tt.ev.Describe(); got != tt.want {
			t.Errorf("Describe(%+v) = %q, want %q", tt.ev, got, tt.want)
		}
	}
}

func TestClusterExport(t *testing.T) {
	f := steady().task("web", 2, "n-w2", TaskShutdown, TaskFailed, func(t *Task) { t.Err = "boom" })
	f.c.Services[0].Replicas = 4
	out := f.c.Export()
	if len(out.Tasks) != len(f.c.Tasks) {
		t.Errorf("export has %d tasks, want all %d (history included)", len(out.Tasks), len(f.c.Tasks))
	}
	if out.Services[0].Name != "agent" || out.Services[1].Name != "web" {
		t.Errorf("services not sorted by name: %s, %s", out.Services[0].Name, out.Services[1].Name)
	}
	if web := out.Services[1]; web.Running != 3 || web.Desired != 4 || !web.Converging {
		t.Errorf("web export = %d/%d converging %v, want 3/4 converging", web.Running, web.Desired, web.Converging)
	}
	if out.Nodes[0].Hostname != "manager-1" {
		t.Errorf("first node %q, want the leader", out.Nodes[0].Hostname)
	}
	data, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"hostname":"worker-1"`, `"service":"web"`, `"name":"web.2"`, `"error":"boom"`, `"node":"worker-2"`, `"desired":4`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("JSON lacks %s:\n%s", want, data)
		}
	}
	empty, _ := json.Marshal(Cluster{}.Export())
	if !strings.Contains(string(empty), `"nodes":[]`) || !strings.Contains(string(empty), `"tasks":[]`) {
		t.Errorf("an empty cluster exports nulls, not empty lists: %s", empty)
	}
}

func TestTaskStates(t *testing.T) {
	for _, s := range []TaskState{TaskNew, TaskPending, TaskAssigned, TaskPreparing, TaskStarting, TaskRunning} {
		if s.Terminal() {
			t.Errorf("%s is terminal", s)
		}
	}
	for _, s := range []TaskState{TaskComplete, TaskShutdown, TaskFailed, TaskRejected, TaskOrphaned, TaskRemove} {
		if !s.Terminal() {
			t.Errorf("%s is not terminal", s)
		}
	}
	if TaskState("unheard-of").Terminal() {
		t.Error("an unknown state is terminal: a task in it would be hidden")
	}
}

// Instances the registrator of another node registered are linked to
// that node's task, by container ID or by overlay address, not called
// stale; a task that stopped there, or an address no task holds, still is.
func TestLinkElsewhereTasksOfOtherNodes(t *testing.T) {
	f := steady()
	f.task("web", 4, "n-w1", TaskRunning, TaskFailed, func(tk *Task) { tk.ContainerID = "deadbeef0000dead" })
	for i := range f.c.Tasks {
		if f.c.Tasks[i].Slot == 2 && f.c.Tasks[i].ServiceID == "s-web" {
			f.c.Tasks[i].ContainerID = "feedface0000feed"
		}
	}
	var w2IP string
	for _, tk := range f.c.Tasks {
		if tk.Slot == 3 && tk.ServiceID == "s-web" {
			w2IP = tk.Networks[0].IP()
		}
	}
	e := f.c.Elsewhere()
	topo := NewTopology()
	topo.Networks["net-front"] = Network{ID: "net-front", Name: "front", Subnets: []string{"10.0.1.0/24"}}
	r := Registry{Services: []Service{{Name: "web", Instances: []Instance{
		{ID: "by-meta", Service: "web", Node: "n", Meta: map[string]string{MetaContainerID: "feedface0000"}},
		{ID: "by-address", Service: "web", Node: "n", Address: w2IP, Port: 8080},
		{ID: "failed", Service: "web", Node: "n", Meta: map[string]string{MetaContainerID: "deadbeef0000dead"}},
		{ID: "nobody", Service: "web", Node: "n", Address: "10.0.1.250", Port: 8080},
	}}}}
	l := r.LinkElsewhere(topo, e)
	for key, want := range map[string]struct {
		elsewhere string
		stale     bool
	}{
		"n/by-meta":    {"web.2 on worker-1", false},
		"n/by-address": {"web.3 on worker-2", false},
		"n/failed":     {"", true},
		"n/nobody":     {"", true},
	} {
		got := l.Instances[key]
		if got.Elsewhere != want.elsewhere || got.Stale != want.stale {
			t.Errorf("%s: elsewhere %q stale %v (%s), want %q stale %v", key, got.Elsewhere, got.Stale, got.Why, want.elsewhere, want.stale)
		}
	}
	if len(r.Link(topo).Stale) != 4 {
		t.Errorf("without the cluster every one of them is stale: %+v", r.Link(topo).Stale)
	}
}
