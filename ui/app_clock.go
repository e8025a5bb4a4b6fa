package ui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// The clock: what counts with time on screen ("last event 12s ago", a
// container's uptime, a registry failing for 3s, the footer's message) is
// drawn again when its text changes, and topo sleeps until the next such
// change. Under a minute that is every second; beyond, every minute
// (humanStep), so an idle topo wakes once a minute, not once a second.

// TickMsg refreshes the times on screen; the clock's own ticks are
// clockMsg, but a TickMsg does the same (tests send one to move the clock).
type TickMsg time.Time

// clockMsg is the clock's tick.
type clockMsg struct{}

// clockIdle is the wait when nothing on screen counts with the clock.
const clockIdle = time.Hour

// screenClock is one timer, re-armed in place, and the channel its ticks
// reach the program through: one command waits on it at a time (Init's,
// then the one each tick returns), so re-arming never starts a second
// chain of ticks, and a test that never runs Init never waits on it.
type screenClock struct {
	timer *time.Timer
	ticks chan tea.Msg
	due   time.Time // when the timer fires; zero before it is armed
}

func newScreenClock() screenClock { return screenClock{ticks: make(chan tea.Msg, 1)} }

// waitForClock waits for the clock's next tick.
func (m *Model) waitForClock() tea.Cmd {
	ticks := m.clock.ticks
	return func() tea.Msg { return <-ticks }
}

// armClock sets the timer to the next change on screen.
func (m *Model) armClock() {
	wait := m.clockNext()
	m.clock.due = m.wall().Add(wait)
	if m.clock.timer != nil {
		m.clock.timer.Reset(wait)
		return
	}
	ticks := m.clock.ticks
	m.clock.timer = time.AfterFunc(wait, func() {
		select {
		case ticks <- clockMsg{}:
		default: // one is waiting already
		}
	})
}

// rearmClock arms the timer sooner when a message has put on screen a
// time that changes before it fires (an event's "just now").
func (m *Model) rearmClock() {
	if !m.clock.due.IsZero() && !m.wall().Add(m.clockNext()).Before(m.clock.due) {
		return
	}
	m.armClock()
}

// clockNext says how long until something on screen that counts with the
// clock shows another value.
func (m *Model) clockNext() time.Duration {
	next := clockIdle
	soon := func(d time.Duration) { next = min(next, d) }
	now := m.cfg.Now()
	switch {
	case m.closed:
	case m.stale != nil:
		soon(time.Second) // "retry in 3s"
	case m.synced:
		soon(humanStep(now.Sub(m.lastEvent)))
	}
	if m.replay != nil || m.demo.Active() {
		// Their own ticks drive them; a second is what the clock
		// always gave them.
		soon(time.Second)
	}
	if m.flash.text != "" {
		soon(max(flashFor-m.wall().Sub(m.flash.at), 0) + time.Millisecond)
	}
	for _, name := range m.registry.Names() {
		r, ok := m.registry.Registry(name)
		if !ok || r.Error == "" {
			continue
		}
		soon(humanStep(r.ErrorAge(now)))
		if !r.FetchedAt.IsZero() {
			soon(humanStep(r.Age(now)))
		}
	}
	if d, ok := m.details.NextChange(now); ok && m.detailsVisible() {
		soon(d)
	}
	return next
}

// clockTick draws again what changed with the clock, and arms the timer
// for the next change.
func (m *Model) clockTick() {
	if m.flash.text != "" && m.wall().Sub(m.flash.at) > flashFor {
		m.flash = flash{}
		m.bodyDirty = true
	}
	for _, name := range m.registry.Names() {
		if r, ok := m.registry.Registry(name); ok && r.Error != "" {
			// "failing for 11s" counts with the clock.
			m.bodyDirty = true
		}
	}
	if m.detailsVisible() && m.details.Tick() {
		// "running for 5m" counts with the clock.
		m.bodyDirty = true
	}
	if shown := m.demoPanelShown(); shown != m.demoShown {
		// A finished demo operation's panel just gave way.
		m.resize()
		m.bodyDirty = true
	}
	m.armClock()
}
