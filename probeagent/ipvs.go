package probeagent

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/vishvananda/netlink"
)

// IPVSCommand is the hidden subcommand that tells whether the kernel it
// runs on has IPVS, which Swarm's service virtual IPs and its ingress
// routing mesh need. Run in a container on a node, it answers for that
// node's kernel: IPVS is the kernel's, whichever network namespace asks.
const IPVSCommand = "ipvs-check"

// Exit statuses of IPVSMain.
const (
	IPVSAvailable = 0
	// IPVSUnknown: the kernel refused the question (not "no such
	// family"), so the answer says nothing about IPVS.
	IPVSUnknown = 1
	IPVSMissing = 3
)

// IPVSMain looks IPVS up and prints what it found. Looking the generic
// netlink family up, rather than only reading /proc/net/ip_vs, lets the
// kernel load the module on demand, as dockerd's own use would. Neither
// needs a capability: the family lookup is open to every user, and IPVS's
// family answers in any network namespace (dockerd programs it from
// inside the ingress sandbox's).
func IPVSMain(stdout io.Writer) int {
	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		fmt.Fprintln(stdout, "IPVS present (/proc/net/ip_vs)")
		return IPVSAvailable
	}
	if _, err := netlink.GenlFamilyGet("IPVS"); err != nil {
		if !errors.Is(err, syscall.ENOENT) {
			// A refusal (EPERM under a stricter seccomp profile, say)
			// must not pass for an absent IPVS.
			fmt.Fprintf(stdout, "cannot tell whether this kernel has IPVS (netlink family IPVS: %v)\n", err)
			return IPVSUnknown
		}
		fmt.Fprintf(stdout, "no IPVS in this kernel (netlink family IPVS: %v)\n", err)
		return IPVSMissing
	}
	fmt.Fprintln(stdout, "IPVS present (netlink family IPVS)")
	return IPVSAvailable
}
