package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Drawing the demo panel: the operation's steps as they go, then its
// outcome, until the presenter or the clock sends it away.

// View draws exactly height lines of at most width cells: a header, the
// latest steps that fit, and the outcome.
func (p *DemoPanel) View() string {
	if p.width <= 0 || p.height <= 0 {
		return ""
	}
	s := p.styles
	var head, tail []string
	switch {
	case p.running:
		elapsed := p.now().Sub(p.started).Seconds()
		head = []string{s.Accent.Render(spinnerFrames[p.frame%len(spinnerFrames)]) + " " +
			s.Bold.Render(p.title) + s.Muted.Render(fmt.Sprintf(" · %.1f s", elapsed))}
	case p.done != nil:
		took := s.Muted.Render(fmt.Sprintf(" · %.1f s", p.ended.Sub(p.started).Seconds()))
		head = []string{s.PaneTitle.Render("demo "+string(p.done.Op)) + took}
		tail = p.outcome()
	default:
		return padLines([]string{
			s.PaneTitle.Render("demo"),
			s.Muted.Render("D deploys the demo: nginx, the app ×2, mongo, consul and the registrator"),
		}, p.height)
	}
	for i := range head {
		head[i] = clip(head[i], p.width)
	}
	var tailLines []string
	for _, t := range tail {
		tailLines = append(tailLines, wordWrap(t, p.width)...)
	}
	for i := range tailLines {
		tailLines[i] = clip(tailLines[i], p.width)
	}
	room := max(0, p.height-len(head)-len(tailLines))
	body := p.stepLines()
	if len(body) > room {
		// The latest steps matter most; say how many scrolled away.
		if room > 0 {
			hidden := len(body) - room + 1
			body = append([]string{s.Muted.Render(fmt.Sprintf("  … %d earlier steps", hidden))}, body[hidden:]...)
		} else {
			body = nil
		}
	}
	lines := append(head, body...)
	lines = append(lines, tailLines...)
	if len(lines) > p.height {
		// Too small for the outcome too: keep the head and the start of
		// the outcome, where an error says what failed; … marks the cut.
		lines = append(head[:min(len(head), p.height)], tailLines...)
		if len(lines) > p.height {
			lines = lines[:p.height]
			last := len(lines) - 1
			lines[last] = clip(lines[last], max(p.width-1, 0)) + "…"
		}
	}
	return padLines(lines, p.height)
}

func (p *DemoPanel) stepLines() []string {
	s := p.styles
	out := make([]string, 0, len(p.keys))
	for _, k := range p.keys {
		st := p.steps[k]
		var mark string
		detail := st.Detail
		switch st.State {
		case DemoStepDone:
			mark = s.Healthy.Render("✓")
		case DemoStepFailed:
			mark = s.Error.Render("✗")
			if st.Err != nil {
				detail = firstLine(st.Err.Error())
			}
		default:
			mark = s.Accent.Render("…")
			if st.Fraction >= 0 {
				detail = ProgressBar(st.Fraction, 12) + " " + detail
			}
		}
		line := mark + " " + st.Title
		if detail != "" {
			style := s.Muted
			if st.State == DemoStepFailed {
				style = s.Failing
			}
			line += "  " + style.Render(detail)
		}
		out = append(out, clip(line, p.width))
	}
	return out
}

// outcome is the panel's last word: the ready URL, the scale's new count,
// or the error in full (it says what to do).
func (p *DemoPanel) outcome() []string {
	s := p.styles
	d := p.done
	if errors.Is(d.Err, context.Canceled) {
		// What was done stays done: the same key finishes the job.
		again := map[DemoOp]string{DemoDeploy: ": D finishes it", DemoSwarm: ": D finishes it", DemoTeardown: ": T finishes it"}[d.Op]
		return []string{s.Warning.Render("✗ " + string(d.Op) + " cancelled" + again)}
	}
	if d.Err != nil {
		return []string{s.Error.Render("✗ " + string(d.Op) + " failed: " + d.Err.Error())}
	}
	switch d.Op {
	case DemoDeploy, DemoSwarm:
		return []string{s.Healthy.Bold(true).Render("ready: " + d.URL)}
	case DemoScale:
		return []string{s.Healthy.Render(fmt.Sprintf("%s: %d instances", d.Service, d.Count))}
	case DemoTeardown:
		return []string{s.Healthy.Render("the demo is gone (its data volume is kept)")}
	}
	return nil
}

// ProgressBar draws a fraction done as [###.....] in width cells: plain
// ASCII, so that the demo panel and `topo demo up` on a pipe show the same.
func ProgressBar(f float64, width int) string {
	n := min(max(int(f*float64(width)+0.5), 0), width)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}
