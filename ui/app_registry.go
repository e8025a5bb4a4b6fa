package ui

import (
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/topo-dev/topo/model"
)

// regWatch is one registry watch the model holds.
type regWatch struct {
	RegistryConn
	id int
	// containerName is the name of Container when it was found, for
	// saying which container left.
	containerName string
}

// maybeFindRegistry looks for the registries after the first snapshot,
// and again when a container starts while none was found, while one
// found automatically is failing or gone, or when the container that
// starts looks like a registry itself: a demo deployed from topo brings
// its Consuls, one after the other.
func (m *Model) maybeFindRegistry(u model.Update) tea.Cmd {
	if m.cfg.Registry == nil {
		return nil
	}
	switch {
	case len(m.regWatches) == 0 && (u.Snapshot != nil || isStart(u.Event)):
	case isStart(u.Event) && m.autoRegistry() && (m.registryDown() || m.startedRegistry(u.Event)):
	default:
		return nil
	}
	if isStart(u.Event) {
		m.regRetries = 0
	}
	if m.regSearching {
		// The look under way may have read the topology before this
		// container answered.
		m.regAgain = m.regAgain || isStart(u.Event)
		return nil
	}
	m.regSearching = true
	return connectRegistry(m.cfg.Registry, m.topo)
}

// autoRegistry says the registries are found, not named: with only named
// ones (--consul), a new look finds the same.
func (m *Model) autoRegistry() bool {
	for _, w := range m.regWatches {
		if !w.Auto {
			return false
		}
	}
	return true
}

// registryDown says a registry watched is failing or gone.
func (m *Model) registryDown() bool {
	for _, w := range m.regWatches {
		if r, _ := m.registry.Registry(w.Name); r.Error != "" || m.registry.Gone(w.Name) != "" {
			return true
		}
	}
	return false
}

func (m *Model) startedRegistry(ev *model.Event) bool {
	c, ok := m.topo.Containers[ev.ActorID]
	return ok && model.LooksLikeRegistry(c)
}

// retryRegistry looks for the registry again if none was found meanwhile.
func (m *Model) retryRegistry() tea.Cmd {
	if m.cfg.Registry == nil || m.regSearching || (len(m.regWatches) > 0 && !m.unwatchedRegistry()) {
		return nil
	}
	m.regSearching = true
	return connectRegistry(m.cfg.Registry, m.topo)
}

func isStart(ev *model.Event) bool {
	return ev != nil && ev.Type == model.EventContainer && ev.BaseAction() == "start"
}

// registryRetryMsg asks for another look for the registry.
type registryRetryMsg struct{}

// registryConnected takes the registries a look found: a new name gets a
// section and a watch; a name already watched at the same address keeps
// its watch (the new one is stopped); at another address its watch is
// replaced. A registry the look did not find keeps its watch: a failing
// one is retried, and a gone one says so.
func (m *Model) registryConnected(msg RegistryConnectedMsg) tea.Cmd {
	m.regSearching = false
	again := m.regAgain
	m.regAgain = false
	var cmds []tea.Cmd
	switch {
	case msg.Err != nil && len(m.regWatches) > 0:
		// The registries watched go on; a look that failed changes
		// nothing about them.
		if !again {
			cmds = append(cmds, m.retryUnwatched())
		}
	case msg.Err != nil:
		m.registry.SetAbsent(msg.Err.Error())
		if !again {
			return m.retryLater(msg.Err)
		}
	default:
		names := map[string]bool{}
		for _, w := range m.regWatches {
			names[w.Name] = true
		}
		for _, c := range msg.Conns {
			names[c.Name] = true
		}
		several := len(names) > 1
		for _, c := range msg.Conns {
			cmds = append(cmds, m.watchRegistry(c, several))
		}
		m.markGone()
		m.noteMisplaced()
		if !again {
			cmds = append(cmds, m.retryUnwatched())
		}
	}
	if again {
		m.regSearching = true
		cmds = append(cmds, connectRegistry(m.cfg.Registry, m.topo))
	}
	return tea.Batch(cmds...)
}

// retryUnwatched looks again, on a timer, while a container that looks
// like a registry runs and none of the watches is of it: the demo starts
// its two Consuls at once, and the looks their starts asked for may both
// come before either answers.
func (m *Model) retryUnwatched() tea.Cmd {
	if !m.unwatchedRegistry() {
		return nil
	}
	// As for one that does not answer: its agent may still be starting.
	return m.retryLater(model.ErrRegistryNotAnswering)
}

// unwatchedRegistry says a running container looks like a registry and is
// not watched, while the registries are found rather than named.
func (m *Model) unwatchedRegistry() bool {
	if !m.autoRegistry() {
		return false
	}
	watched := map[string]bool{}
	for _, w := range m.regWatches {
		watched[w.Container] = true
	}
	for id, c := range m.topo.Containers {
		if c.Running() && !watched[id] && model.LooksLikeRegistry(c) {
			return true
		}
	}
	return false
}

// retryLater looks again, on the timer the registry adapter asks for
// (RegistryConnector.LookAgain), for a registry container that did not
// answer yet.
func (m *Model) retryLater(err error) tea.Cmd {
	delay, ok := m.cfg.Registry.LookAgain(m.regRetries, err)
	if !ok {
		return nil
	}
	m.regRetries++
	return tea.Tick(delay, func(time.Time) tea.Msg { return registryRetryMsg{} })
}

// watchRegistry takes one registry found (see registryConnected).
func (m *Model) watchRegistry(c RegistryConn, several bool) tea.Cmd {
	name := m.topo.Containers[c.Container].Name
	for _, w := range m.regWatches {
		if c.Container != "" && w.Container == c.Container && w.Addr == c.Addr {
			// The same agent in the same container, found under another
			// name (a second Consul of the same compose service made
			// names by container): it keeps the name it was shown with.
			c.Stop()
			return nil
		}
	}
	for i := range m.regWatches {
		w := &m.regWatches[i]
		if w.Name != c.Name {
			continue
		}
		if w.Addr == c.Addr {
			// The same agent: its watch goes on, but the container it
			// is in may be a new one of the same name.
			c.Stop()
			w.Container, w.containerName = c.Container, name
			return nil
		}
		w.Stop()
		m.regNextID++
		*w = regWatch{RegistryConn: c, id: m.regNextID, containerName: name}
		return m.startRegistry(*w, several)
	}
	m.regNextID++
	w := regWatch{RegistryConn: c, id: m.regNextID, containerName: name}
	m.regWatches = append(m.regWatches, w)
	return m.startRegistry(w, several)
}

func (m *Model) startRegistry(w regWatch, several bool) tea.Cmd {
	m.registry.SetRegistry(model.Registry{Name: w.Name, Addr: w.Addr, Source: w.Source})
	line := "registry: " + w.Source
	if several {
		line = "registry " + w.Name + ": " + w.Source
	}
	m.log.Add(m.cfg.Now(), line, false)
	return waitForRegistry(w.Updates, w.id)
}

// registrySnapshot shows one snapshot of a watch, and waits for its next.
func (m *Model) registrySnapshot(msg RegistryMsg) tea.Cmd {
	var w *regWatch
	if msg.watch != 0 {
		for i := range m.regWatches {
			if m.regWatches[i].id == msg.watch {
				w = &m.regWatches[i]
			}
		}
		if w == nil {
			// From a watch replaced since: its registry shows the new
			// watch's data.
			return nil
		}
		msg.Registry.Name = w.Name
	}
	m.registry.SetRegistry(msg.Registry)
	m.noteMisplaced()
	m.lanes.Invalidate()
	if w == nil {
		return nil
	}
	return waitForRegistry(w.Updates, w.id)
}

// markGone marks each registry whose container stopped or left as gone,
// and logs when one goes or comes back.
func (m *Model) markGone() {
	for _, w := range m.regWatches {
		if w.Container == "" {
			continue
		}
		why := ""
		switch c, ok := m.topo.Containers[w.Container]; {
		case !ok:
			why = "container " + w.containerName + " removed"
		case !c.Running():
			why = "container " + c.Name + " " + string(c.State)
		}
		was := m.registry.Gone(w.Name)
		if !m.registry.SetGone(w.Name, why) {
			continue
		}
		switch {
		case why != "":
			m.log.Add(m.cfg.Now(), "registry "+w.Name+" gone: "+why, true)
		case was != "":
			m.log.Add(m.cfg.Now(), "registry "+w.Name+" back", false)
		}
		m.lanes.Invalidate()
	}
}

// noteMisplaced logs each container that becomes misplaced (registered in
// another registry than the one it names), and each that stops being.
func (m *Model) noteMisplaced() {
	now := map[string]string{}
	for _, mp := range m.registry.Misplaced() {
		now[mp.ContainerID] = mp.Expected + "|" + strings.Join(mp.RegisteredIn, ",")
		if m.misplaced[mp.ContainerID] == now[mp.ContainerID] {
			continue
		}
		name := m.topo.Containers[mp.ContainerID].DisplayName()
		m.log.Add(m.cfg.Now(), "registry: "+name+" is registered in "+strings.Join(mp.RegisteredIn, ", ")+
			" but "+misplacedExpect(mp), true)
	}
	for id := range m.misplaced {
		if _, still := now[id]; still {
			continue
		}
		if c, ok := m.topo.Containers[id]; ok {
			m.log.Add(m.cfg.Now(), "registry: "+c.DisplayName()+" is no longer misplaced", false)
		}
	}
	m.misplaced = now
}

// misplacedExpect says which registry a misplaced container names.
func misplacedExpect(mp model.Misplaced) string {
	switch {
	case !mp.Known:
		return "names " + mp.Expected + ", which topo does not follow"
	case mp.Missing:
		return "belongs in " + mp.Expected
	}
	return "belongs in " + mp.Expected + " only"
}

// severalRegistriesHelp is the help screen's line on the badges when topo
// follows several registries; empty with one.
func (m *Model) severalRegistriesHelp() string {
	if len(m.registry.Names()) < 2 {
		return ""
	}
	var tags []string
	for _, name := range m.registry.Names() {
		tags = append(tags, m.registry.tag(name)+" "+name)
	}
	return "\n" + m.styles.Muted.Render("Registries: R becomes the registry's letter  ≠ registered where it does not belong") +
		"\n" + m.styles.Muted.Render("  "+strings.Join(tags, "  "))
}
