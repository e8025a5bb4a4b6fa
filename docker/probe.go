package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/probeagent"
)

// OneShotAPI lists the client calls of a one-shot container (a probe,
// the IPVS check): create, start, wait, read its output, remove.
type OneShotAPI interface {
	ContainerCreate(ctx context.Context, config *container.Config, hostConfig *container.HostConfig, networkingConfig *network.NetworkingConfig, platform *ocispec.Platform, containerName string) (container.CreateResponse, error)
	ContainerStart(ctx context.Context, containerID string, options container.StartOptions) error
	ContainerWait(ctx context.Context, containerID string, condition container.WaitCondition) (<-chan container.WaitResponse, <-chan error)
	ContainerLogs(ctx context.Context, containerID string, options container.LogsOptions) (io.ReadCloser, error)
	ContainerRemove(ctx context.Context, containerID string, options container.RemoveOptions) error
}

var _ OneShotAPI = (*client.Client)(nil)

// LabelProbeSubject names, on a probe container, the container it probes
// from, so a leftover one says where it came from.
const LabelProbeSubject = "topo.probe.subject"

const (
	// probeSlack bounds a probe container's life beyond its dial timeout:
	// create, start and removal take well under a second on a healthy
	// engine, so this only trips on a stuck one.
	probeSlack = 20 * time.Second
	// removeTimeout bounds the removal, which runs on a fresh context so
	// that a cancelled or expired probe still cleans up.
	removeTimeout = 15 * time.Second
)

// ProberOptions configure a Prober.
type ProberOptions struct {
	// Binary is topo's static Linux binary to run as the probe agent
	// (`topo --self-binary`); empty means the running executable.
	Binary string
	// DialTimeout bounds each connection attempt; 0 means
	// probeagent.DefaultTimeout.
	DialTimeout time.Duration
	// Labels are added to every probe container, next to topo.probe=1.
	Labels map[string]string
}

// Prober proves reachability from inside a container: it runs topo's own
// binary as a short-lived container in that container's network namespace
// (`--network container:<id>`), so the probed image needs no tools, and
// removes it afterwards whatever happens.
type Prober struct {
	engine *Engine
	api    OneShotAPI
	cli    *client.Client
	opts   ProberOptions

	mu sync.Mutex
	// image is the self image's tag once built: hashing a 30 MB binary
	// on every probe would cost more than the probe.
	image string
}

// NewProber returns a Prober on the engine.
func NewProber(e *Engine, opts ProberOptions) *Prober {
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = probeagent.DefaultTimeout
	}
	return &Prober{engine: e, api: e.sdk, cli: e.sdk, opts: opts}
}

// Probe tries every other container's exposed TCP ports (or port, when not
// 0) on each of its addresses from inside the container id, and judges each
// result against what the topology expects. It is what the UI calls.
func (p *Prober) Probe(ctx context.Context, id string, port int) (model.ProbeReport, error) {
	return p.ProbeTo(ctx, id, "", port)
}

// ProbeTo is Probe limited to the containers named by to (a container, a
// compose service, or service.N; "" for all).
func (p *Prober) ProbeTo(ctx context.Context, from, to string, port int) (model.ProbeReport, error) {
	start := time.Now()
	// A fresh read, not the UI's copy: the addresses must be the ones the
	// engine holds now, and the expectation must come from the same read.
	topo, err := p.engine.Sync(ctx)
	if err != nil {
		return model.ProbeReport{}, err
	}
	plan, err := topo.PlanProbe(from, to, port)
	if err != nil {
		return model.ProbeReport{}, err
	}
	var results []model.ProbeResult
	if addrs := plan.Addresses(); len(addrs) > 0 {
		results, err = p.RunAgent(ctx, plan.Subject.ID, addrs)
		if err != nil {
			return model.ProbeReport{}, fmt.Errorf("probe from %s: %w", plan.Subject.DisplayName(), err)
		}
	}
	rep := plan.Report(results, nil)
	if rep.Mismatches() > 0 {
		// A target that stopped while the probe ran is silent for that
		// reason, not because of the network: read again and say so.
		if after, err := p.engine.Sync(ctx); err == nil {
			rep = plan.Report(results, func(id string) bool { return after.Containers[id].Running() })
			if !after.Containers[plan.Subject.ID].Running() {
				rep.Note = plan.Subject.DisplayName() + " stopped during the probe: its results are not meaningful"
			}
		}
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// RunAgent runs the probe agent in the network namespace of the container
// subjectID against addrs (host:port) and returns its results, one per
// address. The probe container is removed before it returns, also when ctx
// ends first or anything fails.
func (p *Prober) RunAgent(ctx context.Context, subjectID string, addrs []string) (results []model.ProbeResult, err error) {
	image, err := p.selfImage(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.DialTimeout+probeSlack)
	defer cancel()

	labels := map[string]string{model.LabelProbe: "1", LabelProbeSubject: subjectID}
	for k, v := range p.opts.Labels {
		labels[k] = v
	}
	name := "topo-probe-" + probeShortID(subjectID) + "-" + probeSuffix()
	config := &container.Config{Image: image, Cmd: probeagent.Args(p.opts.DialTimeout, addrs), Labels: labels}
	host := &container.HostConfig{NetworkMode: container.NetworkMode("container:" + subjectID)}
	res, err := runOneShot(ctx, p.api, config, host, name)
	var stageErr *oneShotError
	switch {
	case err == nil:
	case !errors.As(err, &stageErr):
		// The run ended but the probe container could not be removed.
		return nil, err
	case ctx.Err() != nil && stageErr.Stage != stageCreate:
		return nil, p.ended(ctx.Err())
	case stageErr.Stage == stageCreate:
		return nil, fmt.Errorf("create the probe container: %w", p.engine.explainIfDown(stageErr.Err))
	case stageErr.Stage == stageStart:
		return nil, p.startError(ctx, stageErr.Err)
	case stageErr.Stage == stageWait:
		return nil, fmt.Errorf("wait for the probe container: %w", stageErr.Err)
	default:
		return nil, fmt.Errorf("read the probe container's output: %w", stageErr.Err)
	}
	if res.Status != 0 {
		return nil, fmt.Errorf("the probe agent exited with status %d: %s: is --self-binary a topo built from this version?",
			res.Status, strings.TrimSpace(lastLines(res.Stderr.String(), 3)))
	}
	return probeagent.Decode(&res.Stdout)
}

func (p *Prober) selfImage(ctx context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.image != "" {
		return p.image, nil
	}
	image, err := SelfImage(ctx, p.cli, p.opts.Binary)
	if err != nil {
		return "", fmt.Errorf("build the probe image from topo's own binary: %w", err)
	}
	p.image = image
	return image, nil
}

// ended explains a probe cut short by its context.
func (p *Prober) ended(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("the probe did not finish in time (the engine is slow or stuck); its container was removed: %w", err)
	}
	return fmt.Errorf("probe cancelled; its container was removed: %w", err)
}

func (p *Prober) startError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return p.ended(ctx.Err())
	}
	msg := err.Error()
	// The engine refuses to join the namespace of a container that
	// stopped between the topology read and the start.
	if strings.Contains(msg, "non running container") || strings.Contains(msg, "is not running") {
		return fmt.Errorf("%w: it stopped before the probe started; start it and probe again", model.ErrNotRunning)
	}
	return fmt.Errorf("start the probe container: %w", p.engine.explainIfDown(err))
}

func probeShortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func probeSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
