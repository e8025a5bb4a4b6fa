package ui

import (
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
	return connectRegistry(m.cfg.Registry, m.topo)
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
