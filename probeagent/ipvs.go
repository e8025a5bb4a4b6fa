package probeagent

import (
	"fmt"
	"io"
	"os"

	"github.com/vishvananda/netlink"
)

// IPVSCommand is the hidden subcommand that tells whether the kernel it
// runs on has IPVS, which Swarm's service virtual IPs and its ingress
// routing mesh need. Run in a container on a node's host network, it
// answers for that node.
const IPVSCommand = "ipvs-check"

// Exit statuses of IPVSMain.
const (
	IPVSAvailable = 0
	IPVSMissing   = 3
)

// IPVSMain looks IPVS up and prints what it found. Looking the generic
// netlink family up, rather than only reading /proc/net/ip_vs, lets the
// kernel load the module on demand, as dockerd's own use would.
func IPVSMain(stdout io.Writer) int {
	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		fmt.Fprintln(stdout, "IPVS present (/proc/net/ip_vs)")
		return IPVSAvailable
	}
	if _, err := netlink.GenlFamilyGet("IPVS"); err != nil {
		fmt.Fprintf(stdout, "no IPVS in this kernel (netlink family IPVS: %v)\n", err)
		return IPVSMissing
	}
	fmt.Fprintln(stdout, "IPVS present (netlink family IPVS)")
	return IPVSAvailable
}
