package record

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/topo-dev/topo/model"
)

// Writer appends lines to a recording. Each line goes out in one Write
// call, so a recorder killed at any moment leaves every line before the
// one it was writing complete: a reader stops at the torn one. It does not
// fsync: a recording survives the process, not the machine, which is what
// a rehearsal needs at no cost per event.
//
// A Writer is safe for concurrent use: the engine, registry, swarm and demo
// feeds each call it from their own goroutine.
type Writer struct {
	mu    sync.Mutex
	w     io.Writer
	err   error
	lines int
	bytes int64
}

// NewWriter writes the header and returns a Writer for the rest. engine is
// what to say about the engine (any JSON value; nil for nothing).
func NewWriter(w io.Writer, writer, version string, start time.Time, engine any) (*Writer, error) {
	h := &Header{Format: FormatVersion, Writer: writer, Version: version, Start: start}
	if engine != nil {
		b, err := json.Marshal(engine)
		if err != nil {
			return nil, fmt.Errorf("encode the engine's description: %w", err)
		}
		h.Engine = b
	}
	rw := &Writer{w: w}
	if err := rw.write(line{Kind: KindHeader, At: start, Header: h}); err != nil {
		return nil, err
	}
	return rw, nil
}

// Update records one update of the engine watch.
func (w *Writer) Update(at time.Time, u model.Update) error {
	switch {
	case u.Snapshot != nil:
		l := line{Kind: KindSnapshot, At: at, Networks: []model.Network{}, Containers: []Container{}, VolumesError: u.Snapshot.VolumesError}
		for _, n := range u.Snapshot.Networks {
			l.Networks = append(l.Networks, n)
		}
		for _, v := range u.Snapshot.Volumes {
			l.Volumes = append(l.Volumes, v)
		}
		sort.Slice(l.Volumes, func(i, j int) bool { return l.Volumes[i].Name < l.Volumes[j].Name })
		for _, c := range u.Snapshot.Containers {
			l.Containers = append(l.Containers, wrapContainer(c))
		}
		// Sorted, so that one state always makes the same bytes.
		sort.Slice(l.Networks, func(i, j int) bool { return l.Networks[i].ID < l.Networks[j].ID })
		sort.Slice(l.Containers, func(i, j int) bool { return l.Containers[i].ID < l.Containers[j].ID })
		return w.write(l)
	case u.Event != nil:
		return w.write(line{Kind: KindEvent, At: at, Event: wrapEvent(*u.Event)})
	case u.Refresh != nil:
		c := wrapContainer(*u.Refresh)
		return w.write(line{Kind: KindRefresh, At: at, Refresh: &c})
	case u.Lost != nil:
		return w.write(line{Kind: KindLost, At: at, Lost: u.Lost.Error(), Retry: u.Retry})
	}
	return nil
}

// Registry records one registry snapshot.
func (w *Writer) Registry(at time.Time, r model.Registry) error {
	return w.write(line{Kind: KindRegistry, At: at, Registry: &r})
}

// Cluster records one swarm update.
func (w *Writer) Cluster(at time.Time, c model.Cluster) error {
	return w.write(line{Kind: KindCluster, At: at, Cluster: wrapCluster(c)})
}

// Demo records one progress report of the demo's deployer, in the form
// the caller gives it.
func (w *Writer) Demo(at time.Time, v any) error { return w.opaque(KindDemo, at, v) }

// Traffic records one statistics snapshot of the traffic generator.
func (w *Writer) Traffic(at time.Time, v any) error { return w.opaque(KindTraffic, at, v) }

func (w *Writer) opaque(kind string, at time.Time, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode a %s line: %w", kind, err)
	}
	l := line{Kind: kind, At: at}
	if kind == KindDemo {
		l.Demo = b
	} else {
		l.Traffic = b
	}
	return w.write(l)
}

// Stats says how many lines and bytes were written, header included.
func (w *Writer) Stats() (lines int, bytes int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lines, w.bytes
}

// Err is the first write error; after one, the Writer writes nothing more
// (a gap in the middle would replay as a wrong state, a cut end does not).
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *Writer) write(l line) error {
	b, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("encode a %s line: %w", l.Kind, err)
	}
	b = append(b, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	n, err := w.w.Write(b)
	w.bytes += int64(n)
	if err != nil {
		w.err = fmt.Errorf("write the recording: %w", err)
		return w.err
	}
	w.lines++
	return nil
}
