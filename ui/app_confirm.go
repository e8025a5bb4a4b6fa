package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/topo-dev/topo/model"
)

// The modes that take the keys before any screen: a y/n or a choice
// asked of the presenter, and the filter being typed.

// confirm asks y/n before a container action on the selection.
func (m *Model) confirm(action model.Action) tea.Cmd {
	c, ok := m.selected()
	if !ok {
		return nil
	}
	verb := strings.ToUpper(string(action[:1])) + string(action[1:])
	id, name := c.ID, c.DisplayName()
	m.ask(fmt.Sprintf("%s %s (%s)?", verb, name, c.ShortID()), func() tea.Cmd {
		return m.startAction(action, id, name)
	})
	return nil
}

// startAction runs a container action, showing progress until it ends.
func (m *Model) startAction(action model.Action, id, name string) tea.Cmd {
	if m.cfg.Engine == nil {
		return nil
	}
	m.busy[id] = action
	m.updateKeys()
	return tea.Batch(runAction(m.cfg.Engine, action, id, name), m.spinner.Tick)
}

// ask puts a y/n question in the footer; y runs run.
func (m *Model) ask(prompt string, run func() tea.Cmd) {
	m.pending = pendingAction{prompt: prompt, run: run}
	m.mode = modeConfirm
	m.updateKeys()
}

// choose puts a question with several answers in the footer; the key of
// one runs it, esc cancels.
func (m *Model) choose(prompt string, choices ...pendingChoice) {
	m.pending = pendingAction{prompt: prompt, choices: choices}
	m.mode = modeConfirm
	m.updateKeys()
}

func (m *Model) handleConfirmKey(msg tea.KeyMsg) tea.Cmd {
	if len(m.pending.choices) > 0 {
		for _, c := range m.pending.choices {
			if msg.String() == c.key {
				m.mode = modeNormal
				m.setFlash("", false)
				m.updateKeys()
				return c.run()
			}
		}
		if msg.String() == "esc" || msg.String() == "ctrl+c" {
			m.mode = modeNormal
			m.setFlash("cancelled: nothing was done", false)
			m.updateKeys()
		}
		return nil
	}
	switch {
	case key.Matches(msg, m.keys.Confirm):
		p := m.pending
		m.mode = modeNormal
		m.setFlash("", false)
		m.updateKeys()
		return p.run()
	case key.Matches(msg, m.keys.Deny), msg.String() == "ctrl+c":
		m.mode = modeNormal
		m.setFlash("cancelled: nothing was done", false)
		m.updateKeys()
	}
	return nil
}

func (m *Model) handleFilterKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.String() {
	case "enter":
		m.mode = modeNormal
		m.filter.Blur()
		m.updateKeys()
		return nil
	case "esc", "ctrl+c":
		m.mode = modeNormal
		m.filter.Blur()
		m.filter.SetValue("")
		m.setFilter("")
		return m.selectionChanged()
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(msg)
	m.setFilter(m.filter.Value())
	return tea.Batch(cmd, m.selectionChanged())
}
