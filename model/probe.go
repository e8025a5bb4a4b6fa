package model

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Probing: a probe runs inside the subject's network namespace and opens a
// TCP connection to each address of every other container.

// PortSource says where a probed port came from.
type PortSource string

// The port sources.
const (
	PortExposed PortSource = "exposed"
	PortGiven   PortSource = "given"
	// PortFallback is tried on a container that exposes no TCP port: a
	// refusal still proves the network path, since the packet got there.
	PortFallback PortSource = "fallback"
)

// FallbackPort is probed on containers that expose no TCP port.
const FallbackPort = 80

// ProbeTarget is one address to try and what the topology expects of it.
type ProbeTarget struct {
	ContainerID string     `json:"container_id"`
	Name        string     `json:"name"`
	Network     string     `json:"network"`
	Address     string     `json:"address"`
	Port        int        `json:"port"`
	PortSource  PortSource `json:"port_source"`
	Expect      Reach      `json:"expect"`
	// Via names what carries the expected path: the shared network, or
	// "host".
	Via []string `json:"via,omitempty"`
}

// ExpectText is the expectation as a person reads it.
func (t ProbeTarget) ExpectText() string {
	if t.Expect == Reachable && len(t.Via) > 0 {
		return "reachable via " + strings.Join(t.Via, ", ")
	}
	if t.Expect == Isolated && t.Network != "" {
		return "isolated (" + t.Network + " not shared)"
	}
	return string(t.Expect)
}

// ProbeOutcome is what one TCP connection attempt did.
type ProbeOutcome string

// The outcomes.
const (
	// OutcomeConnected: the handshake completed.
	OutcomeConnected ProbeOutcome = "connected"
	// OutcomeRefused: the target (or a REJECT rule) answered with a reset
	// or an ICMP port-unreachable: the packet crossed the network.
	OutcomeRefused ProbeOutcome = "refused"
	// OutcomeTimeout: no answer at all: dropped on the way, which is how
	// Docker's isolation and a disabled inter-container communication look.
	OutcomeTimeout ProbeOutcome = "timeout"
	// OutcomeUnreachable: the kernel had no route (network none, an
	// IPv6 address from an IPv4-only namespace).
	OutcomeUnreachable ProbeOutcome = "unreachable"
	// OutcomeError: anything else; Error says what.
	OutcomeError ProbeOutcome = "error"
)

// PathOpen reports whether packets crossed the network.
func (o ProbeOutcome) PathOpen() bool { return o == OutcomeConnected || o == OutcomeRefused }

// ProbeResult is what the probe agent reports for one address; it is also
// the agent's JSON wire format.
type ProbeResult struct {
	Address string       `json:"address"`
	Outcome ProbeOutcome `json:"outcome"`
	Error   string       `json:"error,omitempty"`
	Millis  float64      `json:"ms"`
}

// Verdict compares a result with its expectation.
type Verdict string

// The verdicts; Mismatch says which ones contradict the topology.
const (
	VerdictReachable Verdict = "reachable as expected"
	VerdictIsolated  Verdict = "isolated as expected"
	// VerdictBlocked: expected reachable, nothing came back.
	VerdictBlocked Verdict = "MISMATCH: blocked"
	// VerdictNotListening: expected reachable, the network carried the
	// packet, but nothing listens on the port.
	VerdictNotListening Verdict = "MISMATCH: not listening"
	// VerdictLeak: expected isolated, yet the packet got through.
	VerdictLeak Verdict = "MISMATCH: reachable"
	// VerdictFailed: the attempt failed in a way that proves nothing.
	VerdictFailed Verdict = "MISMATCH: probe failed"
	// VerdictGone: the target stopped during the probe.
	VerdictGone Verdict = "target stopped"
	// VerdictSkipped: nothing to try (no address, or the same namespace).
	VerdictSkipped Verdict = "not probed"
	// VerdictObserved: no expectation to compare with.
	VerdictObserved Verdict = "observed"
)

// Mismatch reports whether the verdict contradicts the expectation.
func (v Verdict) Mismatch() bool { return strings.HasPrefix(string(v), "MISMATCH") }

// ProbeLine is one row of a probe report.
type ProbeLine struct {
	Target ProbeTarget `json:"target"`
	// Result is empty for a skipped target.
	Result  ProbeResult `json:"result"`
	Verdict Verdict     `json:"verdict"`
	Why     string      `json:"why,omitempty"`
}

// ResultText is the result as a person reads it: the outcome and how long
// it took, or "" for a target that was not probed.
func (l ProbeLine) ResultText() string {
	if l.Result.Outcome == "" {
		return ""
	}
	switch ms := l.Result.Millis; {
	case ms <= 0:
		return string(l.Result.Outcome)
	case ms < 10:
		return fmt.Sprintf("%s %.1f ms", l.Result.Outcome, ms)
	default:
		return fmt.Sprintf("%s %.0f ms", l.Result.Outcome, ms)
	}
}

// Judge compares one result with its target's expectation and says why in
// words a person acts on.
func Judge(t ProbeTarget, r ProbeResult) (Verdict, string) {
	port := strconv.Itoa(t.Port)
	switch {
	case r.Outcome == OutcomeError:
		return VerdictFailed, "the probe could not try: " + r.Error
	case t.Expect == ReachUnknown:
		return VerdictObserved, ""
	case t.Expect == Isolated && r.Outcome == OutcomeConnected:
		return VerdictLeak, "connected although no network is shared: a route or firewall rule bypasses Docker's isolation"
	case t.Expect == Isolated && r.Outcome == OutcomeRefused:
		return VerdictLeak, "the target answered (refused) although no network is shared: packets cross the isolation"
	case t.Expect == Isolated:
		return VerdictIsolated, ""
	case r.Outcome == OutcomeConnected:
		return VerdictReachable, ""
	case r.Outcome == OutcomeRefused && t.PortSource == PortFallback:
		return VerdictReachable, "port " + port + " refused, which proves the path: the container exposes no TCP port"
	case r.Outcome == OutcomeRefused:
		return VerdictNotListening, "the network carries the packet but nothing listens on " + port + " (or a firewall rejects it)"
	}
	why := "no answer: inter-container communication disabled on " + strings.Join(t.Via, ", ") +
		", a firewall dropping it, or the target is not up"
	if r.Outcome == OutcomeUnreachable {
		why = "no route to " + t.Address + ": " + r.Error
	}
	return VerdictBlocked, why
}

// ProbePlan is what a probe will try from one container.
type ProbePlan struct {
	Subject Container
	Mode    NetMode
	Targets []ProbeTarget
	// Skipped are the peers with nothing to try, as report lines.
	Skipped []ProbeLine
}

// ProbeReport is a probe's outcome: every target with its result and
// verdict, then the peers that were skipped.
type ProbeReport struct {
	SubjectID string        `json:"subject_id"`
	Subject   string        `json:"subject"`
	Mode      NetMode       `json:"mode"`
	Lines     []ProbeLine   `json:"lines"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	// Note is a sentence about the whole probe (the subject stopped
	// meanwhile), or "".
	Note string `json:"note,omitempty"`
}

// Report judges the agent's results against the plan. stillRunning, when
// not nil, says whether a target still runs after the probe: a target that
// stopped meanwhile explains its own silence instead of counting as a
// mismatch.
func (p ProbePlan) Report(results []ProbeResult, stillRunning func(id string) bool) ProbeReport {
	byAddr := make(map[string]ProbeResult, len(results))
	for _, r := range results {
		byAddr[r.Address] = r
	}
	rep := ProbeReport{SubjectID: p.Subject.ID, Subject: p.Subject.DisplayName(), Mode: p.Mode}
	for _, t := range p.Targets {
		r, ok := byAddr[t.Address]
		if !ok {
			r = ProbeResult{Address: t.Address, Outcome: OutcomeError, Error: "the agent did not report this address"}
		}
		v, why := Judge(t, r)
		if (v.Mismatch() || v == VerdictObserved) && !r.Outcome.PathOpen() && stillRunning != nil && !stillRunning(t.ContainerID) {
			v, why = VerdictGone, "stopped or removed during the probe"
		}
		rep.Lines = append(rep.Lines, ProbeLine{Target: t, Result: r, Verdict: v, Why: why})
	}
	rep.Lines = append(rep.Lines, p.Skipped...)
	return rep
}

// Mismatches counts the lines that contradict the topology.
func (r ProbeReport) Mismatches() int {
	n := 0
	for _, l := range r.Lines {
		if l.Verdict.Mismatch() {
			n++
		}
	}
	return n
}

// Probed counts the lines that were tried.
func (r ProbeReport) Probed() int {
	n := 0
	for _, l := range r.Lines {
		if l.Verdict != VerdictSkipped {
			n++
		}
	}
	return n
}

// Summary is the report in one line.
func (r ProbeReport) Summary() string {
	count := map[Verdict]int{}
	for _, l := range r.Lines {
		count[l.Verdict]++
	}
	probed, bad := r.Probed(), r.Mismatches()
	s := fmt.Sprintf("%d addresses probed from %s: %d as expected", probed, r.Subject,
		count[VerdictReachable]+count[VerdictIsolated])
	if bad == 1 {
		s += ", 1 MISMATCH"
	} else if bad > 1 {
		s += fmt.Sprintf(", %d MISMATCHES", bad)
	}
	if n := count[VerdictGone]; n > 0 {
		s += fmt.Sprintf(", %d stopped meanwhile", n)
	}
	if n := count[VerdictObserved]; n > 0 {
		s += fmt.Sprintf(", %d without expectation", n)
	}
	if n := count[VerdictSkipped]; n > 0 {
		s += fmt.Sprintf(", %d not probed", n)
	}
	if r.Elapsed > 0 {
		s += fmt.Sprintf(" (%.1f s)", r.Elapsed.Seconds())
	}
	return s
}
