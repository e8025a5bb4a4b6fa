package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestSummariseCountsAndShowsWhatMatters(t *testing.T) {
	stream := strings.Join([]string{
		`{"Action":"run","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:9: boom\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestB"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:3: needs tmux\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestC"}`,
		`{"Action":"output","Package":"p","Output":"FAIL\tp\t0.1s\n"}`,
		`{"Action":"fail","Package":"p"}`,
		`# q`,
		`{"Action":"build-fail","ImportPath":"q"}`,
		`{"Action":"output","Package":"r","Test":"TestHung","Output":"    r_test.go:1: waiting\n"}`,
	}, "\n")
	var out bytes.Buffer
	c := summarise(strings.NewReader(stream), &out)
	if c.passed != 1 || c.failed != 2 || c.skipped != 1 {
		t.Errorf("counts %d passed %d failed %d skipped, want 1, 2 (TestB and the hung TestHung), 1", c.passed, c.failed, c.skipped)
	}
	for _, want := range []string{"boom", "needs tmux", "FAIL\tp", "# q", "waiting"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "=== RUN   TestA") {
		t.Errorf("a passing test's output was copied:\n%s", out.String())
	}
	if len(c.brokenPackages) != 1 || c.brokenPackages[0] != "q" {
		t.Errorf("broken packages %v, want [q]", c.brokenPackages)
	}
}
