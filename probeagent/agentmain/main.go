// Command agentmain is the probe agent alone, answering the same command
// lines as `topo probe-agent` and `topo ipvs-check`. Tests of the Docker
// probe build it into the self image instead of the whole of topo, so they
// do not depend on how main.go wires its subcommands.
package main

import (
	"fmt"
	"os"

	"topo/probeagent"
)

func main() {
	switch {
	case len(os.Args) == 2 && os.Args[1] == probeagent.IPVSCommand:
		os.Exit(probeagent.IPVSMain(os.Stdout))
	case len(os.Args) >= 2 && os.Args[1] == probeagent.Command:
		os.Exit(probeagent.Main(os.Args[2:], os.Stdout, os.Stderr))
	}
	fmt.Fprintf(os.Stderr, "usage: %s %s [--timeout D] HOST:PORT... | %s\n", os.Args[0], probeagent.Command, probeagent.IPVSCommand)
	os.Exit(2)
}
