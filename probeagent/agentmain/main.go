// Command agentmain is the probe agent alone, answering the same command
// line as `topo probe-agent`. Tests of the Docker probe build it into the
// self image instead of the whole of topo, so they do not depend on how
// main.go wires its subcommands.
package main

import (
	"fmt"
	"os"

	"topo/probeagent"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != probeagent.Command {
		fmt.Fprintf(os.Stderr, "usage: %s %s [--timeout D] HOST:PORT...\n", os.Args[0], probeagent.Command)
		os.Exit(2)
	}
	os.Exit(probeagent.Main(os.Args[2:], os.Stdout, os.Stderr))
}
