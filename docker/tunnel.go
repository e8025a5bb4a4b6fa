package docker

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/tunnelagent"
)

// tunnelAPI lists the client calls a tunnel makes.
type tunnelAPI interface {
	ContainerCreate(ctx context.Context, config *container.Config, hostConfig *container.HostConfig, networkingConfig *network.NetworkingConfig, platform *ocispec.Platform, containerName string) (container.CreateResponse, error)
	ContainerStart(ctx context.Context, containerID string, options container.StartOptions) error
	ContainerRemove(ctx context.Context, containerID string, options container.RemoveOptions) error
	ContainerExecCreate(ctx context.Context, containerID string, options container.ExecOptions) (container.ExecCreateResponse, error)
	ContainerExecAttach(ctx context.Context, execID string, config container.ExecAttachOptions) (types.HijackedResponse, error)
}

var _ tunnelAPI = (*client.Client)(nil)

// LabelTunnelTarget names, on a tunnel container, the container whose
// network namespace it joined.
const LabelTunnelTarget = "topo.tunnel.target"

// Tunnel reaches TCP ports inside containers through the engine's API
// alone, for addresses the machine topo runs on cannot dial: Consul on a
// swarm overlay, which the demo no longer publishes (a published dev agent
// with no ACL let anyone on the manager's network register a fake app).
//
// For each target container it keeps one small container of topo's own
// image in the target's network namespace, idling; each connection is a
// `docker exec` of `topo tunnel-agent 127.0.0.1:PORT` there, its standard
// input and output the two directions of the connection. Nothing is
// published and no address needs a route: whoever can use the engine's API
// (already root-equivalent) can use the tunnel, nobody else.
type Tunnel struct {
	api    tunnelAPI
	cli    *client.Client
	binary string
	labels map[string]string

	mu     sync.Mutex
	image  string
	relays map[string]string // target container ID -> tunnel container ID
}

// NewTunnel returns a Tunnel on the engine of cli. binary is topo's static
// Linux binary (`--self-binary`; empty: the running executable); labels
// are added to every tunnel container.
func NewTunnel(cli *client.Client, binary string, labels map[string]string) *Tunnel {
	return &Tunnel{api: cli, cli: cli, binary: binary, labels: labels, relays: map[string]string{}}
}

// Dial connects to port on the loopback of the container targetID's
// network namespace. The connection is ready to use when Dial returns; a
// port that refuses is Dial's error, with the agent's reason.
func (t *Tunnel) Dial(ctx context.Context, targetID string, port int) (net.Conn, error) {
	relay, err := t.relay(ctx, targetID)
	if err != nil {
		return nil, err
	}
	conn, err := t.exec(ctx, relay, port)
	if err != nil && (client.IsErrNotFound(err) || strings.Contains(err.Error(), "is not running")) {
		// The tunnel container went with its target (restarted, or
		// removed by someone): make a new one, once.
		t.forget(targetID)
		if relay, err = t.relay(ctx, targetID); err != nil {
			return nil, err
		}
		conn, err = t.exec(ctx, relay, port)
	}
	return conn, err
}

// Close removes every tunnel container this Tunnel made.
func (t *Tunnel) Close() error {
	t.mu.Lock()
	relays := t.relays
	t.relays = map[string]string{}
	t.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
	defer cancel()
	var errs []error
	for _, id := range relays {
		if err := t.api.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}); err != nil && !client.IsErrNotFound(err) {
			errs = append(errs, fmt.Errorf("remove tunnel container %s: %w", probeShortID(id), err))
		}
	}
	return errors.Join(errs...)
}

func (t *Tunnel) forget(targetID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.relays, targetID)
}

// relay returns the tunnel container in targetID's namespace, starting
// one when there is none yet.
func (t *Tunnel) relay(ctx context.Context, targetID string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.relays[targetID]; ok {
		return id, nil
	}
	if t.image == "" {
		image, err := SelfImage(ctx, t.cli, t.binary)
		if err != nil {
			return "", fmt.Errorf("build the tunnel image from topo's own binary: %w", err)
		}
		t.image = image
	}
	labels := map[string]string{model.LabelProbe: "1", LabelTunnelTarget: targetID}
	for k, v := range t.labels {
		labels[k] = v
	}
	// Each connection is a process of topo's Go binary (a few threads
	// each, GOMAXPROCS=1 keeps them few): a registry watch holds one per
	// service. 16 processes failed to start a second connection's threads
	// ("failed to create new OS thread"); these bound a runaway, not use.
	pids := int64(1024)
	config := &container.Config{Image: t.image, Cmd: tunnelagent.IdleArgs(), Labels: labels, Env: []string{"GOMAXPROCS=1"}}
	host := &container.HostConfig{
		// Only the target's namespace: the agent dials its loopback.
		NetworkMode: container.NetworkMode("container:" + targetID),
		// Gone by itself when its idle process ends (tunnelagent's
		// IdleLimit without a connection), should topo be killed
		// before Close.
		AutoRemove: true,
		// Connecting out needs no capability at all; nothing may be
		// gained by exec'd processes; nothing is written.
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{"no-new-privileges"},
		ReadonlyRootfs: true,
		Resources:      container.Resources{Memory: 512 << 20, PidsLimit: &pids},
	}
	name := "topo-tunnel-" + probeShortID(targetID) + "-" + probeSuffix()
	created, err := t.api.ContainerCreate(ctx, config, host, nil, nil, name)
	if err != nil {
		return "", fmt.Errorf("create the tunnel container: %w", err)
	}
	if err := t.api.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		rmCtx, cancel := context.WithTimeout(context.Background(), removeTimeout)
		defer cancel()
		_ = t.api.ContainerRemove(rmCtx, created.ID, container.RemoveOptions{Force: true})
		if strings.Contains(err.Error(), "non running container") || strings.Contains(err.Error(), "is not running") {
			return "", fmt.Errorf("%w: the tunnel cannot join it", model.ErrNotRunning)
		}
		return "", fmt.Errorf("start the tunnel container: %w", err)
	}
	t.relays[targetID] = created.ID
	return created.ID, nil
}

// exec runs the agent for one connection and waits for its first byte.
func (t *Tunnel) exec(ctx context.Context, relay string, port int) (net.Conn, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	created, err := t.api.ContainerExecCreate(ctx, relay, container.ExecOptions{
		Cmd: tunnelagent.DialArgs(addr), AttachStdin: true, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return nil, fmt.Errorf("tunnel to %s: %w", addr, err)
	}
	hijacked, err := t.api.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return nil, fmt.Errorf("tunnel to %s: %w", addr, err)
	}
	c := &execConn{hijacked: hijacked}
	// The first byte says the agent is connected; its absence (the
	// stream ends) comes with its reason on stderr.
	if deadline, ok := ctx.Deadline(); ok {
		_ = hijacked.Conn.SetReadDeadline(deadline)
	}
	first := make([]byte, 1)
	_, err = io.ReadFull(c, first)
	_ = hijacked.Conn.SetReadDeadline(time.Time{})
	if err != nil || first[0] != tunnelagent.Ready {
		c.Close()
		if why := strings.TrimSpace(c.stderr.String()); why != "" {
			return nil, fmt.Errorf("tunnel to %s: %s", addr, why)
		}
		if err == nil {
			err = fmt.Errorf("unexpected first byte %q: is --self-binary a topo of this version?", first[0])
		}
		return nil, fmt.Errorf("tunnel to %s: %w", addr, err)
	}
	return c, nil
}

// execConn is a net.Conn over an exec's attached streams: writes go to
// its standard input as they are; reads take its standard output out of
// the engine's multiplexed stream (an 8-byte header per frame: stream,
// three zero bytes, big-endian length), keeping standard error aside.
type execConn struct {
	hijacked types.HijackedResponse
	left     int // bytes of the current stdout frame not read yet
	stderr   bytes.Buffer
}

func (c *execConn) Read(p []byte) (int, error) {
	for c.left == 0 {
		var header [8]byte
		if _, err := io.ReadFull(c.hijacked.Reader, header[:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF
			}
			return 0, err
		}
		size := int(binary.BigEndian.Uint32(header[4:]))
		if header[0] != 1 {
			// stderr (2) or stdin's echo (0, never sent here): keep a
			// little for an error message, drop the rest.
			if _, err := io.CopyN(&limitedBuffer{&c.stderr, 4096}, c.hijacked.Reader, int64(size)); err != nil {
				return 0, err
			}
			continue
		}
		c.left = size
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.hijacked.Reader.Read(p)
	c.left -= n
	return n, err
}

func (c *execConn) Write(p []byte) (int, error) { return c.hijacked.Conn.Write(p) }

// Close ends the exec: its input closes, the agent closes the connection
// inside, and the engine ends the stream.
func (c *execConn) Close() error {
	c.hijacked.Close()
	return nil
}

func (c *execConn) LocalAddr() net.Addr                { return c.hijacked.Conn.LocalAddr() }
func (c *execConn) RemoteAddr() net.Addr               { return c.hijacked.Conn.RemoteAddr() }
func (c *execConn) SetDeadline(t time.Time) error      { return c.hijacked.Conn.SetDeadline(t) }
func (c *execConn) SetReadDeadline(t time.Time) error  { return c.hijacked.Conn.SetReadDeadline(t) }
func (c *execConn) SetWriteDeadline(t time.Time) error { return c.hijacked.Conn.SetWriteDeadline(t) }

// limitedBuffer keeps at most max bytes and discards the rest silently.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
