// Command agentmain is the in-container agents alone, answering the same
// command lines as `topo probe-agent`, `topo ipvs-check`, `topo
// tunnel-agent` and `topo flow-agent`. Tests of the Docker
// probe build it into the self image instead of the whole of topo, so they
// do not depend on how cli wires its subcommands.
package main

import (
	"fmt"
	"os"

	"github.com/topo-dev/topo/flowagent"
	"github.com/topo-dev/topo/probeagent"
	"github.com/topo-dev/topo/tunnelagent"
)

func main() {
	switch {
	case len(os.Args) == 2 && os.Args[1] == probeagent.IPVSCommand:
		os.Exit(probeagent.IPVSMain(os.Stdout))
	case len(os.Args) >= 2 && os.Args[1] == probeagent.Command:
		os.Exit(probeagent.Main(os.Args[2:], os.Stdout, os.Stderr))
	case len(os.Args) >= 2 && os.Args[1] == tunnelagent.Command:
		os.Exit(tunnelagent.Main(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	case len(os.Args) >= 2 && os.Args[1] == flowagent.Command:
		os.Exit(flowagent.Main(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	fmt.Fprintf(os.Stderr, "usage: %s %s [--timeout D] HOST:PORT... | %s\n", os.Args[0], probeagent.Command, probeagent.IPVSCommand)
	os.Exit(2)
}
