package ui

// The engine's description (its version and swarm role) comes after the
// first snapshot (Config.Describe); the keys that depend on it wait for it.

import (
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// describeWait bounds how long keys wait for the engine's description: an
// engine that answers its ping but not its info (going down) must not
// hold the keyboard.
const describeWait = time.Second

// describeWaitMsg ends the wait for the description's keys.
type describeWaitMsg struct{}

// waitForDescription bounds how long keys wait for the description.
func (m *Model) waitForDescription() tea.Cmd {
	if !m.describing {
		return nil
	}
	return tea.Tick(describeWait, func(time.Time) tea.Msg { return describeWaitMsg{} })
}

// askDescription asks for the engine's description once, after the first
// snapshot.
func (m *Model) askDescription() tea.Cmd {
	if m.cfg.Describe == nil || m.describeAsked || !m.synced {
		return nil
	}
	m.describeAsked = true
	return describeCmd(m.cfg.Describe)
}

// holdKey keeps a key typed while the description is on its way, for
// takeEarlyKeys. Ctrl+C always quits at once, and q does unless keys
// wait before it (it may be part of what they type).
func (m *Model) holdKey(msg tea.KeyMsg) bool {
	if !m.describing || msg.Type == tea.KeyCtrlC || (len(m.early) == 0 && key.Matches(msg, m.keys.Quit)) {
		return false
	}
	m.early = append(m.early, msg)
	return true
}

// takeEarlyKeys ends the wait for the description and takes the keys
// typed during it, in order.
func (m *Model) takeEarlyKeys() tea.Cmd {
	m.describing = false
	var cmds []tea.Cmd
	for _, k := range m.early {
		cmds = append(cmds, m.handleKey(k))
	}
	m.early = nil
	return tea.Batch(cmds...)
}

// described takes the engine's description that came after the first
// frame: the version in the status bar, and the swarm's keys and watch.
// Its text is inert already: Update makes every message so, once.
func (m *Model) described(msg EngineDescribedMsg) tea.Cmd {
	m.cfg.EngineInfo.Version = msg.Version
	m.cfg.Swarm, m.cfg.Cluster = msg.Swarm, msg.Cluster
	if msg.SwarmNote != "" {
		m.cfg.SwarmNote = msg.SwarmNote
		m.log.Add(m.cfg.Now(), m.cfg.SwarmNote, false)
	}
	m.bodyDirty = true
	m.updateKeys()
	return tea.Batch(WaitForCluster(m.cfg.Cluster), m.takeEarlyKeys())
}
