package ui

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/topo-dev/topo/model"
)

// registrySection is one registry of the panel: its latest snapshot, and
// whether it is gone.
type registrySection struct {
	reg model.Registry
	// gone says why the registry is gone (the container it was found in
	// stopped or left); empty while it is not. Its last data is kept and
	// shown with its age, as for a failing one.
	gone string
}

// summaryLines is the fixed header above the sections when there are
// several: the state of each, and the mismatches across them.
const summaryLines = 2

// multi says the panel follows more than one registry: each is then a
// section with a title, and the badges name the registry.
func (p *RegistryPanel) multi() bool { return len(p.sections) > 1 }

// single is the one registry of a panel that follows one (the zero value
// before the first).
func (p *RegistryPanel) single() model.Registry {
	if len(p.sections) == 0 {
		return model.Registry{}
	}
	return p.sections[0].reg
}

// Names are the registries' names, in the panel's order.
func (p *RegistryPanel) Names() []string {
	out := make([]string, len(p.sections))
	for i, sec := range p.sections {
		out[i] = sec.reg.Name
	}
	return out
}

// SetGone marks the registry of that name as gone, and why; an empty
// reason says it is back. It reports whether the mark changed.
func (p *RegistryPanel) SetGone(name, why string) bool {
	for i := range p.sections {
		if p.sections[i].reg.Name == name && p.sections[i].gone != why {
			p.sections[i].gone = why
			p.refresh()
			return true
		}
	}
	return false
}

// Gone says why the registry of that name is gone; empty when it is not.
func (p *RegistryPanel) Gone(name string) string {
	for _, sec := range p.sections {
		if sec.reg.Name == name {
			return sec.gone
		}
	}
	return ""
}

// Misplaced are the containers registered in another registry than the
// one they name, sorted by container ID.
func (p *RegistryPanel) Misplaced() []model.Misplaced { return p.links.Misplaced }

// tag is the registry's mark on the badges and its section title: the
// first letter of its name, upper-case, when no other registry's name
// starts with the same; else its place in the panel (1 to 9, then #).
func (p *RegistryPanel) tag(name string) string {
	first := func(n string) rune {
		r, _ := utf8.DecodeRuneInString(n)
		return unicode.ToUpper(r)
	}
	mine, place, clash := first(name), 0, false
	for i, sec := range p.sections {
		if sec.reg.Name == name {
			place = i + 1
			continue
		}
		if first(sec.reg.Name) == mine {
			clash = true
		}
	}
	switch {
	case !clash && unicode.IsLetter(mine):
		return string(mine)
	case place >= 1 && place <= 9:
		return strconv.Itoa(place)
	}
	return "#"
}

// multiBadge is the badge with several registries: for each registry the
// container is concerned by, its letter and state (A✓ registered and
// passing, B⚠ stale, C? unregistered), then ≠ when the container is
// registered in another registry than the one it names.
func (p *RegistryPanel) multiBadge(c model.Container) string {
	var b strings.Builder
	for _, sec := range p.sections {
		b.WriteString(p.badgeIn(p.links.ByRegistry[sec.reg.Name], p.tag(sec.reg.Name), c))
	}
	if _, ok := p.links.MisplacedIn(c.ID); ok {
		b.WriteString(p.styles.Error.Render("≠"))
	}
	return b.String()
}

// misplacedHere says whether the container behind an instance of this
// registry belongs in another one.
func (p *RegistryPanel) misplacedHere(registry, containerID string) (model.Misplaced, bool) {
	if containerID == "" {
		return model.Misplaced{}, false
	}
	m, ok := p.links.MisplacedIn(containerID)
	if !ok {
		return m, false
	}
	for _, r := range m.RegisteredIn {
		if r == registry {
			return m, true
		}
	}
	return m, false
}

// misplacedWhy says, for a person, what is wrong with a misplaced
// container's registration in registry: short, as the panel is narrow.
func misplacedWhy(m model.Misplaced, registry string) string {
	switch {
	case !m.Known:
		return "belongs in " + m.Expected + " (a registry not followed)"
	case m.Missing:
		return "belongs in " + m.Expected + ", not " + registry
	}
	return "belongs in " + m.Expected + " only, not also " + registry
}

// registryState is a registry's state as a symbol and a word, for the
// summary and the section's state line.
func (p *RegistryPanel) registryState(sec registrySection) (symbol, word string) {
	switch r := sec.reg; {
	case sec.gone != "":
		return "○", "gone"
	case r.Error != "":
		return "✗", "failing"
	case r.FetchedAt.IsZero():
		return "◌", "connecting"
	}
	return "●", "live"
}

func (p *RegistryPanel) stateText(sec registrySection, text string) string {
	s := p.styles
	switch sym, _ := p.registryState(sec); sym {
	case "●":
		return s.Healthy.Render(text)
	case "◌":
		return s.Warning.Render(text)
	case "○":
		return s.Muted.Render(text)
	}
	return s.Error.Render(text)
}

// summary is the fixed header when there are several registries: each
// one's state and letter, then the mismatches across them all.
func (p *RegistryPanel) summary() string {
	s := p.styles
	title := s.Bold.Render(fmt.Sprintf("%d registries", len(p.sections)))
	parts, compact := []string{title}, []string{title}
	for _, sec := range p.sections {
		sym, _ := p.registryState(sec)
		mark := p.stateText(sec, sym) + " " + s.Key.Render(p.tag(sec.reg.Name))
		parts = append(parts, mark+" "+sec.reg.Name)
		compact = append(compact, mark)
	}
	if ansi.StringWidth(strings.Join(parts, "  ")) > p.width {
		// Every registry's state rather than the first names: the
		// sections below give the names.
		parts = compact
	}
	var issues []string
	if n := len(p.links.Misplaced); n > 0 {
		issues = append(issues, s.Error.Render(fmt.Sprintf("≠ %d misplaced", n)))
	}
	stale, unregistered := 0, 0
	for _, l := range p.links.ByRegistry {
		stale += len(l.Stale)
		unregistered += len(l.Unregistered)
	}
	if stale > 0 {
		issues = append(issues, s.Error.Render(fmt.Sprintf("⚠ %d stale", stale)))
	}
	if unregistered > 0 {
		issues = append(issues, s.Warning.Render(fmt.Sprintf("? %d unregistered", unregistered)))
	}
	second := s.Muted.Render("no misplaced container")
	if len(issues) > 0 {
		second = strings.Join(issues, s.Muted.Render(" · "))
	}
	return clip(strings.Join(parts, "  "), p.width) + "\n" + clip(second, p.width)
}

// sectionHead is a registry's title and its three header lines, as the
// panel of a single registry shows them above its list, or the gone
// state in place of the state line.
func (p *RegistryPanel) sectionHead(sec registrySection) []string {
	s := p.styles
	title := s.Key.Render(p.tag(sec.reg.Name)) + " " + s.Bold.Render(sec.reg.Name) + " "
	rule := max(0, p.width-ansi.StringWidth(title))
	lines := []string{title + s.Muted.Render(strings.Repeat("─", rule))}
	return append(lines, strings.Split(p.sectionHeader(sec), "\n")...)
}

// sectionHeader is header with the gone state in place of the state line.
func (p *RegistryPanel) sectionHeader(sec registrySection) string {
	head := strings.Split(p.header(sec.reg), "\n")
	if sec.gone != "" {
		head[1] = clip(p.styles.Muted.Render("○ gone · "+sec.gone+dataAge(sec.reg, p.now())), p.width)
	}
	return strings.Join(head, "\n")
}
