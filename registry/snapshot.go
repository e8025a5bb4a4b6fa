package registry

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/topo-dev/topo/model"
)

// What a watcher hands on: its snapshot of the registry, with an error
// that says what failed and for how long.

// errorText is the one line the panel shows: the catalog's error first (it
// usually explains the others), else the first failing service's.
func (w *watcher) errorText() string {
	var failing []string
	for name, s := range w.services {
		if s.err != nil {
			failing = append(failing, name)
		}
	}
	sort.Strings(failing)
	var err error
	switch {
	case w.catalogErr != nil:
		err = w.catalogErr
	case len(failing) > 0:
		err = w.services[failing[0]].err
		failing = failing[1:]
	default:
		return ""
	}
	text := err.Error()
	if w.tokenWithheld && errors.Is(err, ErrPermissionDenied) {
		text += "; CONSUL_HTTP_TOKEN is set but not sent to a registry topo found by itself: name it with --consul " + w.target.Addr + " to send it"
	}
	if len(failing) > 0 {
		text += fmt.Sprintf(" (and %d more services failing)", len(failing))
	}
	return text
}

func (w *watcher) snapshot() model.Registry {
	reg := model.Registry{
		Name:           w.target.Name,
		Addr:           w.target.Addr,
		ComposeProject: w.target.ComposeProject,
		ComposeService: w.target.ComposeService,
		Source:         w.target.Source,
		Datacenter:     w.info.datacenter,
		Leader:         w.info.leader,
		LastIndex:      w.catalogIndex,
		FetchedAt:      w.lastOK,
		Error:          w.errorText(),
	}
	if reg.Error != "" {
		reg.ErrorSince = w.errSince
	}
	names := slices.Sorted(maps.Keys(w.catalog))
	reg.Services = make([]model.Service, 0, len(names))
	for _, name := range names {
		svc := model.Service{Name: name, Tags: nonEmpty(w.catalog[name])}
		if s, ok := w.services[name]; ok {
			svc.Instances = s.instances
			reg.LastIndex = max(reg.LastIndex, s.index)
		}
		reg.Services = append(reg.Services, svc)
	}
	return reg
}

// publish replaces whatever snapshot is waiting in the channel: the
// aggregator never blocks on a slow reader, and the reader always gets the
// newest state.
func (w *watcher) publish(reg model.Registry) {
	w.published = true
	select {
	case w.out <- reg:
		return
	default:
	}
	select {
	case <-w.out:
	default:
	}
	// Cannot block: this goroutine is the only sender and the buffer is
	// now empty.
	w.out <- reg
}
