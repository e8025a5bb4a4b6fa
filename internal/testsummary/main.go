// Command testsummary reads `go test -json` on stdin and prints what a
// person needs from a long run: each package's result line, the whole
// output of every failed test, the reason of every skipped one, and last one
// line that counts them ("N passed, N failed, N skipped"). It exits 1 when
// anything failed or a package did not build, and, under CI (CI set), when
// anything was skipped: a test that cannot run there proves nothing.
//
// It exists so that make test can end with a count a newcomer and CI can
// read without scrolling through thousands of lines.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
)

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string
}

type counts struct {
	passed, failed, skipped int
	failedNames             []string
	skippedNames            []string
	brokenPackages          []string
}

func main() {
	c := summarise(os.Stdin, os.Stdout)
	fmt.Fprintf(os.Stdout, "\n%d passed, %d failed, %d skipped\n", c.passed, c.failed, c.skipped)
	code := 0
	if len(c.brokenPackages) > 0 {
		fmt.Fprintf(os.Stdout, "packages that did not build or whose test binary failed outside a test: %s\n", strings.Join(c.brokenPackages, ", "))
		code = 1
	}
	if c.failed > 0 {
		fmt.Fprintf(os.Stdout, "failed: %s\n", strings.Join(c.failedNames, ", "))
		code = 1
	}
	if c.skipped > 0 {
		fmt.Fprintf(os.Stdout, "skipped: %s\n", strings.Join(c.skippedNames, ", "))
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stdout, "under CI nothing may be skipped: install what the skipped tests name (scripts/ensure-engine.sh)")
			code = 1
		}
	}
	os.Exit(code)
}

// summarise copies the lines worth reading to out and counts the results.
// A line that is not JSON (a build error printed by the go command) is
// copied as it is.
func summarise(in io.Reader, out io.Writer) counts {
	s := summary{out: out, buffered: map[string][]string{}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
			fmt.Fprintln(out, string(line))
			continue
		}
		s.take(ev)
	}
	s.unfinished()
	return s.counts
}

// summary is summarise's state: the counts so far, and each test's output
// held until its result says whether it is worth reading.
type summary struct {
	counts
	out      io.Writer
	buffered map[string][]string // package + test -> its output so far
}

func (s *summary) take(ev event) {
	key := ev.Package + " " + ev.Test
	switch ev.Action {
	case "build-output":
		fmt.Fprint(s.out, ev.Output)
	case "build-fail":
		s.brokenPackages = append(s.brokenPackages, ev.ImportPath)
	case "output":
		s.output(key, ev)
	case "pass":
		if ev.Test != "" {
			s.passed++
		}
		delete(s.buffered, key)
	case "skip":
		if ev.Test == "" {
			delete(s.buffered, key)
			return
		}
		s.skipped++
		s.skippedNames = append(s.skippedNames, ev.Test)
		for _, l := range s.buffered[key] {
			if !strings.HasPrefix(strings.TrimSpace(l), "=== ") {
				fmt.Fprint(s.out, l)
			}
		}
		delete(s.buffered, key)
	case "fail":
		s.fail(key, ev)
	}
}

func (s *summary) output(key string, ev event) {
	if ev.Test != "" {
		s.buffered[key] = append(s.buffered[key], ev.Output)
		return
	}
	// The package's own lines: keep its result, drop the framing that
	// -json adds.
	if o := strings.TrimSpace(ev.Output); strings.HasPrefix(o, "ok ") || strings.HasPrefix(o, "FAIL") || strings.HasPrefix(o, "panic:") || strings.HasPrefix(o, "---") {
		fmt.Fprint(s.out, ev.Output)
	} else if o != "PASS" && o != "" && !strings.HasPrefix(o, "=== ") {
		s.buffered[key] = append(s.buffered[key], ev.Output)
	}
}

func (s *summary) fail(key string, ev event) {
	if ev.Test == "" {
		// A package that failed outside any test (a panic in init, a
		// timeout): its lines are the only clue.
		if len(s.buffered[key]) > 0 {
			s.brokenPackages = append(s.brokenPackages, ev.Package)
		}
	} else {
		s.failed++
		s.failedNames = append(s.failedNames, ev.Test)
	}
	for _, l := range s.buffered[key] {
		fmt.Fprint(s.out, l)
	}
	delete(s.buffered, key)
}

// unfinished counts the tests still running when the stream ended (the
// binary was killed) as failed: their output is all there is.
func (s *summary) unfinished() {
	left := slices.Sorted(maps.Keys(s.buffered))
	for _, k := range left {
		if strings.HasSuffix(k, " ") {
			continue
		}
		s.failed++
		s.failedNames = append(s.failedNames, strings.TrimSpace(k)+" (no result)")
		for _, l := range s.buffered[k] {
			fmt.Fprint(s.out, l)
		}
	}
}
