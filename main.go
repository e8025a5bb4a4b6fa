// Command topo shows the live topology of a Docker application in the
// terminal (networks as lanes, containers as nodes, the service registry
// beside them) and drives the reference demo on stage. Every key has a
// plain command too, for scripts, tests and rehearsal: they live in cli/.
package main

import (
	"os"

	"github.com/topo-dev/topo/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { os.Exit(cli.Main(version)) }
