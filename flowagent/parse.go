package flowagent

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// The socket states of /proc/net/tcp (include/net/tcp_states.h).
const (
	stateEstablished = 0x01
	stateTimeWait    = 0x06
	stateListen      = 0x0A
)

// socket is one line of /proc/<pid>/net/tcp or tcp6.
type socket struct {
	local, remote string
	state         int
	inode         uint64
}

// parseTable reads a /proc/net/tcp or tcp6 table: a header line, then per
// socket "sl local_address rem_address st tx:rx tr:when retrnsmt uid
// timeout inode ...".
func parseTable(r io.Reader) ([]socket, error) {
	var out []socket
	scanner := bufio.NewScanner(r)
	first := true
	for scanner.Scan() {
		if first {
			first = false
			continue
		}
		f := strings.Fields(scanner.Text())
		if len(f) < 10 {
			continue
		}
		local, err := parseAddr(f[1])
		if err != nil {
			return out, err
		}
		remote, err := parseAddr(f[2])
		if err != nil {
			return out, err
		}
		state, err := strconv.ParseUint(f[3], 16, 8)
		if err != nil {
			return out, fmt.Errorf("socket state %q: %w", f[3], err)
		}
		inode, _ := strconv.ParseUint(f[9], 10, 64)
		out = append(out, socket{local: local, remote: remote, state: int(state), inode: inode})
	}
	return out, scanner.Err()
}

// parseAddr turns "0100007F:1F90" into "127.0.0.1:8080". The address is
// the kernel's in-memory bytes printed as 32-bit words in host byte order
// (little-endian on x86 and arm64, which is all topo's static builds run
// on); the port is plain hex. An IPv4-mapped IPv6 address of a tcp6
// socket (a dual-stack listener's connection) comes out as IPv4, so one
// peer has one spelling.
func parseAddr(s string) (string, error) {
	host, port, ok := strings.Cut(s, ":")
	if !ok {
		return "", fmt.Errorf("socket address %q: no port", s)
	}
	raw, err := hex.DecodeString(host)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return "", fmt.Errorf("socket address %q: bad host", s)
	}
	p, err := strconv.ParseUint(port, 16, 16)
	if err != nil {
		return "", fmt.Errorf("socket address %q: bad port", s)
	}
	var b [16]byte
	for i := 0; i < len(raw); i += 4 {
		binary.BigEndian.PutUint32(b[i:], binary.LittleEndian.Uint32(raw[i:]))
	}
	var addr netip.Addr
	if len(raw) == 4 {
		addr = netip.AddrFrom4([4]byte(b[:4]))
	} else {
		addr = netip.AddrFrom16(b).Unmap()
	}
	return netip.AddrPortFrom(addr, uint16(p)).String(), nil
}
