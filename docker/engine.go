// Package docker is topo's adapter to the Docker engine: it resolves which
// engine to talk to, reads the topology, follows the event stream (with
// reconnect and resync) and runs container actions. It turns SDK types into
// model types at the boundary and never hands SDK structs upward.
package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

	"github.com/topo-dev/topo/model"
)

// engineAPI lists exactly the client methods topo calls, so tests and
// readers see the whole surface at a glance.
type engineAPI interface {
	Ping(ctx context.Context) (types.Ping, error)
	ServerVersion(ctx context.Context) (types.Version, error)
	Info(ctx context.Context) (system.Info, error)
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
	ContainerInspect(ctx context.Context, containerID string) (container.InspectResponse, error)
	ContainerLogs(ctx context.Context, containerID string, options container.LogsOptions) (io.ReadCloser, error)
	ContainerKill(ctx context.Context, containerID, signal string) error
	ContainerStop(ctx context.Context, containerID string, options container.StopOptions) error
	ContainerStart(ctx context.Context, containerID string, options container.StartOptions) error
	ContainerRestart(ctx context.Context, containerID string, options container.StopOptions) error
	NetworkList(ctx context.Context, options network.ListOptions) ([]network.Summary, error)
	NetworkInspect(ctx context.Context, networkID string, options network.InspectOptions) (network.Inspect, error)
	Events(ctx context.Context, options events.ListOptions) (<-chan events.Message, <-chan error)
	VolumeList(ctx context.Context, options volume.ListOptions) (volume.ListResponse, error)
	VolumeInspect(ctx context.Context, volumeID string) (volume.Volume, error)
	DiskUsage(ctx context.Context, options types.DiskUsageOptions) (types.DiskUsage, error)
	DaemonHost() string
	Close() error
}

var _ engineAPI = (*client.Client)(nil)

// Engine is a connection to one Docker engine.
type Engine struct {
	api engineAPI
	// Host is the address topo dialled, and Source says where it came
	// from (--host, DOCKER_HOST, a docker context, the default).
	Host   string
	Source string
	// sdk is the client api wraps, for the adapters of this package
	// (prober, swarm) that need calls beyond engineAPI. It is never
	// handed upward: cli builds the one client (NewClient) and gives it
	// to the adapters outside this package itself.
	sdk *client.Client
	// tls names the certificate files in use, so a failed handshake can
	// say which one to look at.
	tls *TLSFiles
	// netIDs maps network names to IDs, for engines that key endpoints
	// by name (Podman, see podman.go).
	netIDs networkIDs
}

// Info describes the engine for the status bar.
type Info struct {
	Host       string `json:"host"`
	Source     string `json:"source"`
	Version    string `json:"version"`
	APIVersion string `json:"api_version"`
	OS         string `json:"os"`
	Name       string `json:"name"`
	// SwarmState is the engine's swarm membership (inactive, active...),
	// and SwarmManager whether it can answer cluster calls.
	SwarmState   string `json:"swarm_state,omitempty"`
	SwarmManager bool   `json:"swarm_manager,omitempty"`
}

// Connect builds a client for the engine named by host (the --host flag),
// else DOCKER_HOST, else the current docker context, else the default
// socket. It does not dial: Ping does, so the caller decides how long to
// wait and how to report failure.
func Connect(host string) (*Engine, error) {
	cli, target, err := NewClient(host)
	if err != nil {
		return nil, err
	}
	return NewEngine(cli, target), nil
}

// NewClient builds the SDK client for the engine named by host, resolved
// as Connect does, and says where the address came from. It does not dial.
// It is for the wiring in cli, which hands the one client to the adapters
// that speak the API themselves (the demo's deployer, tunnels, flows).
func NewClient(host string) (*client.Client, Target, error) {
	target, err := ResolveHost(host)
	if err != nil {
		return nil, target, err
	}
	opts, err := clientOpts(target)
	if err != nil {
		return nil, target, err
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, target, fmt.Errorf("engine %s (%s): %w", target.Host, target.Source, err)
	}
	return cli, target, nil
}

// NewEngine wraps a client made by NewClient for target. Closing the
// engine closes the client.
func NewEngine(cli *client.Client, target Target) *Engine {
	// An ssh client's DaemonHost is the helper's placeholder: show the
	// address the user gave.
	addr := cli.DaemonHost()
	if strings.HasPrefix(target.Host, "ssh://") {
		addr = target.Host
	}
	return &Engine{api: cli, sdk: cli, Host: addr, Source: target.Source, tls: target.TLS}
}

// Close releases the client's connections.
func (e *Engine) Close() error { return e.api.Close() }

// Reach checks that the engine answers, with one round trip that costs
// the engine nothing: the live view takes over the terminal on it and
// asks for the rest (Ping) beside the first frame. Its errors are
// Ping's.
func (e *Engine) Reach(ctx context.Context) error {
	if _, err := e.api.Ping(ctx); err != nil {
		return e.explain(err)
	}
	return nil
}

// Ping checks that the engine answers and describes it. Its errors are
// written for a person: what failed, why, and what to do.
func (e *Engine) Ping(ctx context.Context) (Info, error) {
	info := Info{Host: e.Host, Source: e.Source}
	// Version and info go out together (the client negotiates the API
	// version once, with a ping, before the first of them): the first
	// frame waits on this.
	type sysInfo struct {
		sys system.Info
		err error
	}
	sysC := make(chan sysInfo, 1)
	go func() {
		sys, err := e.api.Info(ctx)
		sysC <- sysInfo{sys, err}
	}()
	v, err := e.api.ServerVersion(ctx)
	if err != nil {
		return info, e.explain(err)
	}
	info.Version, info.APIVersion, info.OS = v.Version, v.APIVersion, v.Os
	if isPodman(v) {
		info.Version = "Podman " + v.Version
	}
	if r := <-sysC; r.err == nil {
		info.Name = r.sys.Name
		info.SwarmState = string(r.sys.Swarm.LocalNodeState)
		info.SwarmManager = r.sys.Swarm.ControlAvailable
	}
	return info, nil
}

// explain turns a dial failure into a one-line error that names the address
// tried and what to do about it.
func (e *Engine) explain(err error) error {
	msg := err.Error()
	if e.tls != nil {
		if tlsErr, ok := e.tls.explainTLS(e.Host, e.Source, err); ok {
			return tlsErr
		}
	}
	switch {
	case strings.HasPrefix(e.Host, "ssh://") && !errors.Is(err, context.Canceled):
		// The helper's error carries ssh's own stderr: the reason.
		why := firstLine(msg)
		if _, stderr, ok := strings.Cut(msg, "stderr="); ok && strings.TrimSpace(stderr) != "" {
			why = "ssh said: " + strings.TrimRight(firstLine(stderr), ".\r ")
		}
		return fmt.Errorf("cannot reach the Docker engine at %s (%s) over ssh: %s; check that `ssh %s docker version` works", e.Host, e.Source, why, strings.TrimPrefix(e.Host, "ssh://"))
	case strings.Contains(msg, "permission denied"):
		return fmt.Errorf("cannot talk to the Docker engine at %s (%s): permission denied on the socket: add your user to the docker group (sudo usermod -aG docker $USER, then log in again) or run topo with sudo", e.Host, e.Source)
	case client.IsErrConnectionFailed(err) || strings.Contains(msg, "no such file") || strings.Contains(msg, "connection refused") || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("cannot reach the Docker engine at %s (%s): is Docker running? Start it (sudo systemctl start docker, or Docker Desktop), or point topo at another engine with --host or DOCKER_HOST", e.Host, e.Source)
	}
	return fmt.Errorf("Docker engine at %s (%s): %w", e.Host, e.Source, err)
}

// Sync reads the whole topology: every network and every container. The
// list calls carry what the lanes need, so a first frame costs two requests;
// Details fills in the rest of one container on demand.
func (e *Engine) Sync(ctx context.Context) (model.Topology, error) {
	topo := model.NewTopology()
	// The lists go out together: the first frame waits on the slowest.
	var (
		nets    []network.Summary
		netsErr error
		vols    map[string]model.Volume
		volsErr error
		done    = make(chan struct{}, 2)
	)
	go func() {
		defer func() { done <- struct{}{} }()
		nets, netsErr = e.api.NetworkList(ctx, network.ListOptions{})
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		vols, volsErr = e.volumes(ctx)
	}()
	list, err := e.api.ContainerList(ctx, container.ListOptions{All: true})
	<-done
	<-done
	if netsErr != nil {
		return topo, e.explain(netsErr)
	}
	// Volumes are not worth the lanes: an engine behind a socket proxy
	// that allows containers and networks but refuses volumes still
	// draws, with the reason kept for the storage view.
	if volsErr != nil {
		topo.VolumesError = fmt.Sprintf("volumes not read: %v", e.explainIfDown(volsErr))
	} else {
		topo.Volumes = vols
	}
	if err != nil {
		return topo, e.explain(err)
	}
	e.netIDs.learn(nets)
	for _, n := range nets {
		topo.Networks[n.ID] = fromNetwork(n)
	}
	for _, c := range list {
		mc := fromSummary(c)
		e.keyByNetworkID(ctx, &mc)
		topo.Containers[c.ID] = mc
	}
	return topo, nil
}

// Details inspects one container, for the details pane.
func (e *Engine) Details(ctx context.Context, id string) (model.Container, error) {
	c, err := e.api.ContainerInspect(ctx, id)
	if err != nil {
		return model.Container{}, e.actionError(err, id, "inspect")
	}
	return fromInspect(c), nil
}

// stopTimeout bounds stop and restart, so that a container ignoring SIGTERM
// is killed after a short wait instead of holding the action for 10 s.
const stopTimeout = 5

// Do runs an action on a container.
func (e *Engine) Do(ctx context.Context, action model.Action, id string) error {
	timeout := stopTimeout
	var err error
	switch action {
	case model.ActionKill:
		err = e.api.ContainerKill(ctx, id, "KILL")
	case model.ActionStop:
		err = e.api.ContainerStop(ctx, id, container.StopOptions{Timeout: &timeout})
	case model.ActionStart:
		err = e.api.ContainerStart(ctx, id, container.StartOptions{})
	case model.ActionRestart:
		err = e.api.ContainerRestart(ctx, id, container.StopOptions{Timeout: &timeout})
	default:
		return fmt.Errorf("unknown action %q", action)
	}
	if err != nil {
		return e.actionError(err, id, string(action))
	}
	return nil
}

// actionError says plainly when the container vanished under the action,
// which on a live stage is the common case rather than a bug.
func (e *Engine) actionError(err error, id, action string) error {
	short := id
	if len(short) > 12 {
		short = short[:12]
	}
	if client.IsErrNotFound(err) {
		return fmt.Errorf("%s %s: the container no longer exists (removed meanwhile)", action, short)
	}
	if strings.Contains(err.Error(), "is not running") {
		return fmt.Errorf("%s %s: the container is not running", action, short)
	}
	return fmt.Errorf("%s %s: %w", action, short, e.explainIfDown(err))
}

func (e *Engine) explainIfDown(err error) error {
	if client.IsErrConnectionFailed(err) {
		return e.explain(err)
	}
	return err
}

// isStreamEnd reports whether an event stream error means the connection
// ended (engine restarted) rather than a bad request.
func isStreamEnd(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || client.IsErrConnectionFailed(err) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "EOF")
}
