package ui

import (
	"context"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/topo-dev/topo/model"
)

// The cluster view's actions (scale, restart, drain, activate), the
// messages of the swarm watch, and the commands that produce them.

// ClusterActionKind is what a cluster action does.
type ClusterActionKind int

// The cluster actions.
const (
	ClusterScale ClusterActionKind = iota
	ClusterRestart
	ClusterDrain
	ClusterActivate
)

// ClusterAction is a request of the cluster view to the swarm: the root
// confirms it when Confirm says so, then runs it with RunClusterAction.
type ClusterAction struct {
	Kind ClusterActionKind
	// ID is the service's or node's ID; Name is what a person calls it.
	ID, Name string
	Replicas uint64
	// Tasks is how many tasks the action moves, for the prompt.
	Tasks int
}

// Confirm says whether the action needs a yes first: restart and drain
// move every task; a scale step is small and undone by the other key.
func (a ClusterAction) Confirm() bool { return a.Kind != ClusterScale }

// Prompt is the confirmation question.
func (a ClusterAction) Prompt() string {
	switch a.Kind {
	case ClusterRestart:
		return fmt.Sprintf("Restart %s: replace its %d tasks, rolling?", a.Name, a.Tasks)
	case ClusterDrain:
		return fmt.Sprintf("Drain %s: move its %d tasks to other nodes?", a.Name, a.Tasks)
	case ClusterActivate:
		return fmt.Sprintf("Activate %s: let tasks be placed on it again?", a.Name)
	}
	return fmt.Sprintf("Scale %s to %d?", a.Name, a.Replicas)
}

// Done is the result line once the swarm accepted the action.
func (a ClusterAction) Done() string {
	switch a.Kind {
	case ClusterRestart:
		return "restarting " + a.Name + ": tasks are being replaced"
	case ClusterDrain:
		return "draining " + a.Name
	case ClusterActivate:
		return "activated " + a.Name
	}
	return fmt.Sprintf("scaled %s to %d", a.Name, a.Replicas)
}

// ScaleBy is the scale action for + (delta 1) or - (delta -1) on the
// selected service or the selected task's service. It is not ok for a
// global service or below zero. The count starts from any scale still on
// its way, so repeated presses add up.
func (v *ClusterView) ScaleBy(delta int) (ClusterAction, bool) {
	s, ok := v.selectedService()
	if !ok || s.Mode != model.ModeReplicated {
		return ClusterAction{}, false
	}
	cur := s.Replicas
	if p, ok := v.pending[s.ID]; ok {
		cur = p
	}
	if delta < 0 && cur < uint64(-delta) {
		return ClusterAction{}, false
	}
	n := uint64(int64(cur) + int64(delta))
	return ClusterAction{Kind: ClusterScale, ID: s.ID, Name: s.DisplayName(), Replicas: n}, true
}

// RestartAction is the rolling restart of the selected service (or the
// selected task's).
func (v *ClusterView) RestartAction() (ClusterAction, bool) {
	s, ok := v.selectedService()
	if !ok || s.Job() {
		return ClusterAction{}, false
	}
	_, desired := v.cluster.Replicas(s.ID)
	return ClusterAction{Kind: ClusterRestart, ID: s.ID, Name: s.DisplayName(), Tasks: desired}, true
}

// AvailabilityAction drains the selected node when it is active, else
// activates it.
func (v *ClusterView) AvailabilityAction() (ClusterAction, bool) {
	sel := v.Selected()
	if sel.Kind != SelectNode {
		return ClusterAction{}, false
	}
	n := sel.Node
	if n.Availability != model.AvailabilityActive {
		return ClusterAction{Kind: ClusterActivate, ID: n.ID, Name: n.Hostname}, true
	}
	return ClusterAction{Kind: ClusterDrain, ID: n.ID, Name: n.Hostname, Tasks: len(v.cluster.TasksOn(n.ID))}, true
}

// KillTarget is the container x would kill: only a task on the node of
// the engine topo talks to has a container topo can reach. Otherwise why
// says so, for the help and the footer.
func (v *ClusterView) KillTarget() (containerID, name string, ok bool, why string) {
	sel := v.Selected()
	if sel.Kind != SelectTask {
		return "", "", false, "select a task to kill its container"
	}
	t := sel.Task
	name = v.cluster.TaskName(t)
	switch {
	case t.NodeID != v.cluster.LocalNodeID:
		local, _ := v.cluster.Node(v.cluster.LocalNodeID)
		return "", name, false, fmt.Sprintf("%s runs on %s: topo talks to %s's engine and can kill only its containers", name, sel.Node.Hostname, local.Hostname)
	case t.ContainerID == "" || t.State != model.TaskRunning:
		return "", name, false, fmt.Sprintf("%s has no running container (%s)", name, t.State)
	}
	return t.ContainerID, name, true, ""
}

// Pending records a scale the root sent, so the view shows it and the next
// press counts from it.
func (v *ClusterView) Pending(a ClusterAction) {
	if a.Kind == ClusterScale {
		v.pending[a.ID] = a.Replicas
		v.cache = ""
	}
}

// Forget drops a pending scale that failed.
func (v *ClusterView) Forget(a ClusterAction) {
	if a.Kind == ClusterScale {
		delete(v.pending, a.ID)
		v.cache = ""
	}
}

// SwarmEngine is what the cluster view asks of the swarm adapter; cli
// passes *docker.Swarm and tests a fake.
type SwarmEngine interface {
	Scale(ctx context.Context, service string, replicas uint64) error
	Restart(ctx context.Context, service string) error
	SetAvailability(ctx context.Context, node string, a model.NodeAvailability) error
}

// ClusterUpdateMsg carries one snapshot of the swarm watch.
type ClusterUpdateMsg struct{ Cluster model.Cluster }

// ClusterClosedMsg says the swarm watch ended.
type ClusterClosedMsg struct{}

// WaitForCluster waits for the next snapshot of the swarm watch; re-arm it
// after every ClusterUpdateMsg so snapshots arrive one at a time, in order.
func WaitForCluster(ch <-chan model.Cluster) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		c, ok := <-ch
		if !ok {
			return ClusterClosedMsg{}
		}
		return ClusterUpdateMsg{Cluster: c}
	}
}

// ClusterActionDoneMsg carries the result of a cluster action.
type ClusterActionDoneMsg struct {
	Action ClusterAction
	Err    error
}

// RunClusterAction runs an action against the swarm.
func RunClusterAction(e SwarmEngine, a ClusterAction) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
		defer cancel()
		var err error
		switch a.Kind {
		case ClusterScale:
			err = e.Scale(ctx, a.ID, a.Replicas)
		case ClusterRestart:
			err = e.Restart(ctx, a.ID)
		case ClusterDrain:
			err = e.SetAvailability(ctx, a.ID, model.AvailabilityDrain)
		case ClusterActivate:
			err = e.SetAvailability(ctx, a.ID, model.AvailabilityActive)
		}
		return ClusterActionDoneMsg{Action: a, Err: err}
	}
}
