package ui

import (
	"testing"
	"time"

	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/model"
)

// The clock sleeps until a time on screen changes: humanStep must never
// let a text go stale, and beyond a minute the texts change once a minute.
func TestHumanStepIsTheWaitForTheNextText(t *testing.T) {
	for d := time.Duration(0); d < 50*time.Hour; d += 977 * time.Millisecond {
		if d > 3*time.Hour && d < 47*time.Hour {
			d += 13 * time.Minute // the middle holds nothing new
		}
		step := humanStep(d)
		if step <= 0 {
			t.Fatalf("humanStep(%v) = %v: the clock would spin", d, step)
		}
		if got, want := humanDuration(d+step-time.Nanosecond), humanDuration(d); got != want {
			t.Fatalf("humanDuration went from %q to %q at %v, before humanStep(%v) = %v", want, got, d+step-time.Nanosecond, d, step)
		}
		if d < 48*time.Hour && humanDuration(d+step) == humanDuration(d) {
			t.Fatalf("humanStep(%v) = %v, but the text %q is the same then: a wasted wake-up", d, step, humanDuration(d))
		}
	}
}

// Idle for over a minute with the details of a long-running container
// open, topo sleeps until the next minute, and a tick that changes no text
// leaves the screen below the status bar as drawn.
func TestIdleClockWaitsForTheNextMinute(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 200, 50, &topo)
	hs.press("right", "enter")
	if !hs.m.detailsVisible() {
		t.Fatalf("the details are not shown:\n%s", hs.view())
	}
	hs.now = hs.now.Add(2*time.Minute + 300*time.Millisecond)
	hs.sendOnly(TickMsg(hs.now))
	hs.view()
	if next := hs.m.clockNext(); next <= time.Second || next > time.Minute {
		t.Errorf("two minutes after the last event, the clock waits %v: want the next minute", next)
	}
	hs.now = hs.now.Add(20 * time.Second)
	hs.sendOnly(TickMsg(hs.now))
	if hs.m.bodyDirty {
		t.Errorf("a tick that changed no text on screen marked the body to be drawn again")
	}
	hs.now = hs.now.Add(40 * time.Second)
	hs.sendOnly(TickMsg(hs.now))
	if !hs.m.bodyDirty {
		t.Errorf("the uptime's minute turned, but the body was not drawn again")
	}
}

// An event puts "just now" on screen: the clock, asleep until the next
// minute, is armed again for the next second, and its tick arrives.
func TestAnEventArmsTheClockSooner(t *testing.T) {
	topo := basicTopo()
	hs := newHarness(t, 120, 40, &topo)
	hs.now = hs.now.Add(5 * time.Minute)
	hs.m.armClock()
	if wait := hs.m.clock.due.Sub(hs.m.wall()); wait <= 5*time.Second {
		t.Fatalf("five minutes after the last event the clock is armed for %v from now", wait)
	}
	hs.event(model.Event{Type: "container", Action: "pause", ActorID: ctrID("web")})
	if wait := hs.m.clock.due.Sub(hs.m.wall()); wait > time.Second {
		t.Fatalf("after an event the clock waits %v: \"just now\" would stay", wait)
	}
	select {
	case msg := <-hs.m.clock.ticks:
		if _, ok := msg.(clockMsg); !ok {
			t.Fatalf("the clock sent %T", msg)
		}
	case <-time.After(testenv.Patience(10 * time.Second)):
		t.Fatalf("no tick came after the event re-armed the clock")
	}
}
