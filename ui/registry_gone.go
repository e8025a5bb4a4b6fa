package ui

import (
	"context"
	"maps"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/topo-dev/topo/model"
)

// dropGoneRegistry gives up a registry found on the engine once its
// container is removed (T tears the demo's Consul down): the panel then
// says it is gone and topo looks for another, instead of counting the
// failures of an address nothing answers any more.
func (m *Model) dropGoneRegistry(u model.Update) tea.Cmd {
	ev := u.Event
	if !m.regConn.Auto || m.regConn.Updates == nil || ev == nil || ev.Type != model.EventContainer || ev.BaseAction() != "destroy" {
		return nil
	}
	name := registryContainer(m.regConn.Source)
	if name == "" || strings.TrimPrefix(ev.Attributes["name"], "/") != name {
		return nil
	}
	if m.regConn.Stop != nil {
		m.regConn.Stop()
	}
	m.regConn, m.regGone = RegistryConn{}, name
	m.log.Add(m.cfg.Now(), "registry gone: container "+name+" was removed", true)
	m.registry.SetAbsent(m.goneNote() + "looking for another…")
	m.resize()
	if m.cfg.Registry == nil || m.regSearching {
		return nil
	}
	m.regSearching = true
	return m.findRegistry()
}

// goneNote starts the panel's text while the last registry is gone.
func (m *Model) goneNote() string {
	if m.regGone == "" {
		return ""
	}
	return "registry gone: its container " + m.regGone + " was removed · "
}

// registryContainer is the container an auto-found registry's source
// names ("auto: container NAME (…)"), "" for a registry named by address.
func registryContainer(source string) string {
	rest, ok := strings.CutPrefix(source, "auto: container ")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, " ")
	return name
}

// findRegistry looks for the registry, in the focused project first: on a
// laptop where other work runs its own Consul, the demo's panel and badges
// must come from the demo's Consul, not from whichever sorts first.
func (m *Model) findRegistry() tea.Cmd {
	f := m.lanes.Focus()
	if f == "" {
		return connectRegistry(m.cfg.Registry, m.topo)
	}
	all := model.Topology{Networks: maps.Clone(m.topo.Networks), Containers: maps.Clone(m.topo.Containers)}
	mine := model.Topology{Networks: all.Networks, Containers: map[string]model.Container{}}
	for id, c := range all.Containers {
		if model.ProjectOf(c) == f {
			mine.Containers[id] = c
		}
	}
	c := m.cfg.Registry
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), registryFindTimeout)
		defer cancel()
		conn, err := c.Connect(ctx, mine)
		if err != nil {
			ctx, cancel := context.WithTimeout(context.Background(), registryFindTimeout)
			defer cancel()
			conn, err = c.Connect(ctx, all)
		}
		return RegistryConnectedMsg{Conn: conn, Err: err}
	}
}

// preferFocusedRegistry looks again for a registry when the lanes focus on
// a project (the demo, by itself after D) while the registry found on the
// engine belongs to other work: once per focus, and again when one of the
// project's containers starts (its Consul may answer by then).
func (m *Model) preferFocusedRegistry(us []model.Update) tea.Cmd {
	f := m.lanes.Focus()
	if f == "" || m.cfg.Registry == nil || (m.regConn.Updates != nil && !m.regConn.Auto) {
		return nil
	}
	for _, u := range us {
		if isStart(u.Event) && model.ProjectOf(m.topo.Containers[u.Event.ActorID]) == f {
			m.regTried = ""
		}
	}
	if m.regTried == f || m.regSearching || m.regConn.Updates == nil {
		return nil
	}
	name := registryContainer(m.regConn.Source)
	for _, c := range m.topo.Containers {
		if (c.Name == name || c.DisplayName() == name) && model.ProjectOf(c) == f {
			return nil
		}
	}
	m.regTried, m.regSearching = f, true
	return m.findRegistry()
}
