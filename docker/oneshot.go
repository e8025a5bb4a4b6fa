package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/probeagent"
)

// oneShotStage names the step of a one-shot container that failed, so a
// caller can explain each in its own words.
type oneShotStage string

const (
	stageCreate oneShotStage = "create"
	stageStart  oneShotStage = "start"
	stageWait   oneShotStage = "wait"
	stageLogs   oneShotStage = "logs"
)

// oneShotError is a failure of one stage of runOneShot.
type oneShotError struct {
	Stage oneShotStage
	Err   error
}

func (e *oneShotError) Error() string { return string(e.Stage) + ": " + e.Err.Error() }
func (e *oneShotError) Unwrap() error { return e.Err }

// oneShotResult is how a one-shot container ended.
type oneShotResult struct {
	Status         int64
	Stdout, Stderr bytes.Buffer
}

// runOneShot creates a container, starts it, waits for its end and reads
// its output. The container is removed before it returns, also when ctx
// ends first or a stage fails; a failed removal is joined to the error.
// config and host are the caller's; the log driver is forced to
// json-file, since the output is read back through the logs API, which
// the engine's default driver (syslog, none) may not serve.
func runOneShot(ctx context.Context, api OneShotAPI, config *container.Config, host *container.HostConfig, name string) (res oneShotResult, err error) {
	host.LogConfig = container.LogConfig{Type: "json-file"}
	leastPrivilege(config, host)
	// Create runs on a context that ctx cannot cancel: a create cancelled
	// in flight may still complete on the engine after our removal by
	// name has found nothing, leaving a container behind.
	createCtx, createCancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
	created, err := api.ContainerCreate(createCtx, config, host, nil, nil, name)
	createCancel()
	if err != nil {
		_ = removeOneShot(api, name)
		return res, &oneShotError{stageCreate, err}
	}
	defer func() {
		if rerr := removeOneShot(api, created.ID); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}()
	if err := ctx.Err(); err != nil {
		return res, &oneShotError{stageStart, err}
	}
	if err := api.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return res, &oneShotError{stageStart, err}
	}
	// Not-running, asked after start, returns at once if the container
	// has already exited, so the exit cannot be missed.
	waitC, errC := api.ContainerWait(ctx, created.ID, container.WaitConditionNotRunning)
	select {
	case status := <-waitC:
		res.Status = status.StatusCode
	case err := <-errC:
		return res, &oneShotError{stageWait, err}
	}
	logs, err := api.ContainerLogs(ctx, created.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return res, &oneShotError{stageLogs, err}
	}
	defer logs.Close()
	if _, err := stdcopy.StdCopy(&res.Stdout, &res.Stderr, logs); err != nil {
		return res, &oneShotError{stageLogs, err}
	}
	return res, nil
}

// One-shot containers run topo's own binary for one question (a dial
// from a container's network namespace, a netlink lookup) and need no
// right at all: no capability (dials and the generic netlink family
// lookup are open to every user), no root (nobody's uid and gid, numeric:
// the FROM scratch image has no /etc/passwd), no file to write, no way to
// gain privileges. The limits are about 4× what the agent uses dialling
// 200 addresses at once (16 MiB resident, a handful of threads), so a
// runaway cannot take the engine's host with it.
const (
	oneShotUser      = "65534:65534"
	oneShotMemory    = 64 << 20
	oneShotPidsLimit = 64
)

// leastPrivilege takes every right a one-shot container would otherwise
// get by default.
func leastPrivilege(config *container.Config, host *container.HostConfig) {
	config.User = oneShotUser
	host.CapDrop = []string{"ALL"}
	host.CapAdd = nil
	host.ReadonlyRootfs = true
	host.SecurityOpt = []string{"no-new-privileges"}
	host.Memory = oneShotMemory
	pids := int64(oneShotPidsLimit)
	host.PidsLimit = &pids
}

// removeOneShot force-removes a one-shot container (killing it if it
// still runs) on a fresh context, so that it also happens after the
// caller's context was cancelled.
func removeOneShot(api OneShotAPI, ref string) error {
	ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
	defer cancel()
	err := api.ContainerRemove(ctx, ref, container.RemoveOptions{Force: true})
	if err == nil || client.IsErrNotFound(err) {
		return nil
	}
	return fmt.Errorf("remove container %s: %w: remove it with `docker rm -f %s`", probeShortID(ref), err, ref)
}

// CheckIPVS says whether the engine's host has IPVS, which Swarm's
// service virtual IPs and ingress routing mesh need (without it,
// connections to a VIP or an ingress-published port time out). It runs
// topo's own image to ask the kernel, with no network at all: IPVS is the
// kernel's, and its netlink family answers in any network namespace, so
// the host's network would only add rights. why is its answer in words.
func CheckIPVS(ctx context.Context, cli OneShotAPI, image string, labels map[string]string) (ok bool, why string, err error) {
	// Labelled as a probe: the event log and the lanes leave topo's own
	// short-lived containers out.
	all := map[string]string{model.LabelProbe: "1"}
	for k, v := range labels {
		all[k] = v
	}
	config := &container.Config{Image: image, Cmd: []string{probeagent.IPVSCommand}, Labels: all}
	host := &container.HostConfig{NetworkMode: "none"}
	res, err := runOneShot(ctx, cli, config, host, "topo-ipvs-check-"+probeSuffix())
	if err != nil {
		return false, "", fmt.Errorf("check the engine's kernel for IPVS: %w", err)
	}
	why = strings.TrimSpace(res.Stdout.String())
	switch res.Status {
	case probeagent.IPVSAvailable:
		return true, why, nil
	case probeagent.IPVSMissing:
		return false, why, nil
	}
	return false, "", fmt.Errorf("check the engine's kernel for IPVS: exit status %d: %s", res.Status, strings.TrimSpace(lastLines(res.Stdout.String()+res.Stderr.String(), 3)))
}
