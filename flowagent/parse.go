package flowagent

import (
	"bufio"
	"bytes"
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

// tcpCounters returns ActiveOpens, PassiveOpens, CurrEstab and
// EstabResets from the text of /proc/<pid>/net/snmp, without allocating:
// it is read for every namespace whose packets moved, every second.
func tcpCounters(data []byte) (c [4]uint64, ok bool) {
	var names, values []byte
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if !bytes.HasPrefix(line, []byte("Tcp:")) {
			continue
		}
		if names == nil {
			names = line
		} else {
			values = line
			break
		}
	}
	if values == nil {
		return c, false
	}
	found := 0
	for {
		var name, value []byte
		name, names = nextField(names)
		value, values = nextField(values)
		if name == nil || value == nil {
			break
		}
		i := -1
		switch string(name) { // no allocation: the compiler compares in place
		case "ActiveOpens":
			i = 0
		case "PassiveOpens":
			i = 1
		case "CurrEstab":
			i = 2
		case "EstabResets":
			i = 3
		}
		if i < 0 {
			continue
		}
		var v uint64
		for _, b := range value {
			if b < '0' || b > '9' {
				return c, false
			}
			v = v*10 + uint64(b-'0')
		}
		c[i] = v
		found++
	}
	return c, found == 4
}

// nextField splits the first space-separated field off s.
func nextField(s []byte) (field, rest []byte) {
	s = bytes.TrimLeft(s, " ")
	if len(s) == 0 {
		return nil, nil
	}
	if i := bytes.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i:]
	}
	return s, nil
}
