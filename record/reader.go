package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/topo-dev/topo/model"
)

// Entry is one line of a recording after the header, decoded.
type Entry struct {
	// Line is the 1-based line number and Offset the byte offset of its
	// start, for messages about it.
	Line   int
	Offset int64
	At     time.Time
	Kind   string
	// Update is set for snapshot, event, refresh and lost lines.
	Update   *model.Update
	Registry *model.Registry
	Cluster  *model.Cluster
	// Demo and Traffic are kept as written: their types are the
	// interface's.
	Demo    json.RawMessage
	Traffic json.RawMessage
}

// Recording is a recording read into memory.
type Recording struct {
	Header  Header
	Entries []Entry
	// Stopped is set when the file holds a line that could not be read:
	// the entries are those before it.
	Stopped *StopError
	// Lines and Bytes are what was read, header included.
	Lines int
	Bytes int64
}

// StopError says where reading stopped and why: a torn last line (a
// recorder killed mid-write) or a corrupt one.
type StopError struct {
	Line   int
	Offset int64
	Reason string
}

func (e *StopError) Error() string {
	return fmt.Sprintf("the recording stops at line %d (byte offset %d): %s; played up to line %d", e.Line, e.Offset, e.Reason, e.Line-1)
}

// NewerError says the recording was written in a format this reader does
// not know.
type NewerError struct {
	Format  int
	Writer  string
	Version string
}

func (e *NewerError) Error() string {
	return fmt.Sprintf("the recording was written by %s %s in recording format %d, and this topo reads format %d at most: replay it with %s %s or newer",
		e.Writer, e.Version, e.Format, FormatVersion, e.Writer, e.Version)
}

// ErrNotRecording is returned when the first line is no header.
var ErrNotRecording = errors.New("not a topo recording (its first line is no recording header)")

// ReadFile reads the recording at path. A missing file is one plain error.
func ReadFile(path string) (*Recording, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no recording at %s: the file does not exist", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open the recording: %w", err)
	}
	defer f.Close()
	rec, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rec, nil
}

// Read reads a whole recording. A line that cannot be read ends it: the
// entries before it are returned with Stopped saying where; only a missing
// or unreadable header, or a newer format, is an error.
func Read(r io.Reader) (*Recording, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	rec := &Recording{}
	var offset int64
	for n := 1; ; n++ {
		raw, err := br.ReadBytes('\n')
		if len(raw) == 0 && err == io.EOF {
			if n == 1 {
				return nil, fmt.Errorf("%w: the file is empty", ErrNotRecording)
			}
			return rec, nil
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("read the recording at line %d: %w", n, err)
		}
		stop := func(reason string) *StopError {
			return &StopError{Line: n, Offset: offset, Reason: reason}
		}
		if raw[len(raw)-1] != '\n' {
			// The writer ends every line with its newline in the same
			// write, so a line without one was cut short.
			if n == 1 {
				return nil, fmt.Errorf("%w: %s", ErrNotRecording, stop("the header line is incomplete"))
			}
			rec.Stopped = stop("the line is incomplete (the recorder was stopped while writing it)")
			return rec, nil
		}
		var l line
		if jerr := json.Unmarshal(bytes.TrimSpace(raw), &l); jerr != nil {
			if n == 1 {
				return nil, ErrNotRecording
			}
			rec.Stopped = stop("the line is not valid JSON: " + jerr.Error())
			return rec, nil
		}
		if n == 1 {
			if l.Kind != KindHeader || l.Header == nil {
				return nil, ErrNotRecording
			}
			rec.Header = *l.Header
			if rec.Header.Format > FormatVersion {
				return nil, &NewerError{Format: rec.Header.Format, Writer: rec.Header.Writer, Version: rec.Header.Version}
			}
		} else {
			e, reason := decode(l)
			if reason != "" {
				rec.Stopped = stop(reason)
				return rec, nil
			}
			e.Line, e.Offset = n, offset
			rec.Entries = append(rec.Entries, e)
		}
		offset += int64(len(raw))
		rec.Lines, rec.Bytes = n, offset
	}
}

// decode turns a line into an entry, or says why it cannot.
func decode(l line) (Entry, string) {
	e := Entry{At: l.At, Kind: l.Kind}
	switch l.Kind {
	case KindSnapshot:
		t := model.NewTopology()
		for _, n := range l.Networks {
			t.Networks[n.ID] = n
		}
		for _, c := range l.Containers {
			t.Containers[c.ID] = c.unwrap()
		}
		for _, v := range l.Volumes {
			t.Volumes[v.Name] = v
		}
		t.VolumesError = l.VolumesError
		e.Update = &model.Update{Snapshot: &t}
	case KindEvent:
		if l.Event == nil {
			return e, "an event line without its event"
		}
		ev := l.Event.unwrap()
		e.Update = &model.Update{Event: &ev}
	case KindRefresh:
		if l.Refresh == nil {
			return e, "a refresh line without its container"
		}
		c := l.Refresh.unwrap()
		e.Update = &model.Update{Refresh: &c}
	case KindLost:
		e.Update = &model.Update{Lost: recordedError(l.Lost), Retry: l.Retry}
	case KindRegistry:
		if l.Registry == nil {
			return e, "a registry line without its registry"
		}
		e.Registry = l.Registry
	case KindCluster:
		if l.Cluster == nil {
			return e, "a cluster line without its cluster"
		}
		c := l.Cluster.unwrap()
		e.Cluster = &c
	case KindDemo:
		e.Demo = l.Demo
	case KindTraffic:
		e.Traffic = l.Traffic
	default:
		return e, fmt.Sprintf("an unknown kind of line %q", l.Kind)
	}
	return e, ""
}

// Offset is how far into the recording the entry is.
func (r *Recording) Offset(e Entry) time.Duration { return e.At.Sub(r.Header.Start) }

// Duration is the offset of the last entry.
func (r *Recording) Duration() time.Duration {
	if len(r.Entries) == 0 {
		return 0
	}
	return r.Offset(r.Entries[len(r.Entries)-1])
}
