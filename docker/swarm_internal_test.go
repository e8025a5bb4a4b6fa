package docker

import (
	"testing"

	"github.com/docker/docker/api/types/events"
)

// TestClassifySwarmEvent: which lists each event makes stale. Tasks have
// no events, so node and service events and the manager's own task
// containers re-list them; local networks and plain containers cost
// nothing.
func TestClassifySwarmEvent(t *testing.T) {
	task := map[string]string{labelTaskID: "t1", "name": "web.1.t1"}
	tests := []struct {
		name   string
		m      events.Message
		want   parts
		logged bool
	}{
		{"node update", events.Message{Type: events.NodeEventType, Action: "update", Scope: "swarm"}, partNodes | partTasks, true},
		{"service update", events.Message{Type: events.ServiceEventType, Action: "update", Scope: "swarm"}, partServices | partTasks, true},
		{"overlay created", events.Message{Type: events.NetworkEventType, Action: "create", Scope: "swarm"}, partNetworks, true},
		{"local network connect", events.Message{Type: events.NetworkEventType, Action: "connect", Scope: "local"}, 0, false},
		{"secret", events.Message{Type: events.SecretEventType, Action: "create", Scope: "swarm"}, partSecrets, true},
		{"config", events.Message{Type: events.ConfigEventType, Action: "remove", Scope: "swarm"}, partConfigs, true},
		{"task container starts", events.Message{Type: events.ContainerEventType, Action: events.ActionStart, Actor: events.Actor{Attributes: task}}, partTasks, false},
		{"task container dies", events.Message{Type: events.ContainerEventType, Action: events.ActionDie, Actor: events.Actor{Attributes: task}}, partTasks, false},
		{"task container exec", events.Message{Type: events.ContainerEventType, Action: "exec_start: sh", Actor: events.Actor{Attributes: task}}, 0, false},
		{"plain container starts", events.Message{Type: events.ContainerEventType, Action: events.ActionStart, Actor: events.Actor{Attributes: map[string]string{"name": "x"}}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ev := classifySwarmEvent(tt.m)
			if got != tt.want {
				t.Errorf("parts = %b, want %b", got, tt.want)
			}
			if (ev != nil) != tt.logged {
				t.Errorf("logged = %v, want %v", ev != nil, tt.logged)
			}
		})
	}
}
