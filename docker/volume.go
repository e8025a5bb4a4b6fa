package docker

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/volume"

	"github.com/topo-dev/topo/model"
)

func fromVolume(v volume.Volume) model.Volume {
	out := model.Volume{Name: v.Name, Driver: v.Driver, Scope: v.Scope, Mountpoint: v.Mountpoint, Labels: v.Labels,
		Anonymous: model.IsAnonymousVolume(v.Name, v.Labels)}
	if created, err := time.Parse(time.RFC3339Nano, v.CreatedAt); err == nil {
		out.Created = created
	}
	if v.UsageData != nil {
		out.Usage = &model.VolumeUsage{Size: v.UsageData.Size, RefCount: v.UsageData.RefCount}
	}
	return out
}

// volumes reads every volume for a sync. The list carries no sizes (the
// engine would have to walk every volume's files): VolumeUsage reads them
// when a person asks.
func (e *Engine) volumes(ctx context.Context) (map[string]model.Volume, error) {
	list, err := e.api.VolumeList(ctx, volume.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := make(map[string]model.Volume, len(list.Volumes))
	for _, v := range list.Volumes {
		if v != nil {
			out[v.Name] = fromVolume(*v)
		}
	}
	return out, nil
}

// VolumeUsage reads the size and reference count of every volume, as
// `docker system df -v` does: on request only, since the engine walks
// every volume's files to answer (seconds on a large host). The result is
// keyed by volume name; model.Topology.WithVolumeUsage sets it on the volumes.
func (e *Engine) VolumeUsage(ctx context.Context) (map[string]model.VolumeUsage, error) {
	du, err := e.api.DiskUsage(ctx, types.DiskUsageOptions{Types: []types.DiskUsageObject{types.VolumeObject}})
	if err != nil {
		return nil, fmt.Errorf("read volume sizes (docker system df): %w", e.explainIfDown(err))
	}
	out := make(map[string]model.VolumeUsage, len(du.Volumes))
	for _, v := range du.Volumes {
		if v == nil {
			continue
		}
		u := model.VolumeUsage{Size: -1, RefCount: -1}
		if v.UsageData != nil {
			u = model.VolumeUsage{Size: v.UsageData.Size, RefCount: v.UsageData.RefCount}
		}
		out[v.Name] = u
	}
	return out, nil
}

// inspectVolume reads a volume named by a create event; nil when it
// vanished since.
func (e *Engine) inspectVolume(ctx context.Context, name string) *model.Volume {
	ctx, cancel := context.WithTimeout(ctx, enrichTimeout)
	defer cancel()
	v, err := e.api.VolumeInspect(ctx, name)
	if err != nil {
		return nil
	}
	mv := fromVolume(v)
	return &mv
}
