package record_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/record"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// sample is a small session: a snapshot, a start with its state, a late
// refresh, a registry snapshot, a loss and a resync.
func sample(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := record.NewWriter(&buf, "topo", "v9.9.9", t0, map[string]string{"host": "unix:///x"})
	if err != nil {
		t.Fatal(err)
	}
	net := model.Network{ID: "n1", Name: "front", Driver: "bridge", Scope: "local"}
	web := model.Container{ID: "c1", Name: "web", Image: "nginx", State: model.StateCreated,
		Labels:    map[string]string{"a": "b"},
		Endpoints: map[string]model.Endpoint{"n1": {NetworkID: "n1", NetworkName: "front", IPv4: "10.0.0.2"}}}
	snap := model.NewTopology()
	snap.Networks["n1"] = net
	snap.Containers["c1"] = web
	started := web
	started.State, started.StartedAt, started.Detailed = model.StateRunning, t0.Add(time.Second), true
	healthy := started
	healthy.Health = model.Health("healthy")
	db := model.Container{ID: "c2", Name: "db", Image: "mongo", State: model.StateRunning,
		Endpoints: map[string]model.Endpoint{"n1": {NetworkID: "n1", NetworkName: "front", IPv4: "10.0.0.3"}}}
	snap2 := model.NewTopology()
	snap2.Networks["n1"] = net
	snap2.Containers["c1"] = healthy
	snap2.Containers["c2"] = db
	steps := []struct {
		at time.Duration
		do func(time.Time) error
	}{
		{0, func(at time.Time) error { return w.Update(at, model.Update{Snapshot: &snap}) }},
		{1 * time.Second, func(at time.Time) error {
			return w.Update(at, model.Update{Event: &model.Event{Time: at, Type: "container", Action: "start", ActorID: "c1", Container: &started}})
		}},
		{2 * time.Second, func(at time.Time) error { return w.Update(at, model.Update{Refresh: &healthy}) }},
		{3 * time.Second, func(at time.Time) error {
			return w.Registry(at, model.Registry{Addr: "127.0.0.1:8500", FetchedAt: at, Services: []model.Service{}})
		}},
		{4 * time.Second, func(at time.Time) error {
			return w.Update(at, model.Update{Lost: errors.New("connection reset"), Retry: at.Add(time.Second)})
		}},
		{5 * time.Second, func(at time.Time) error { return w.Update(at, model.Update{Snapshot: &snap2}) }},
		{6 * time.Second, func(at time.Time) error { return w.Demo(at, map[string]string{"op": "up"}) }},
	}
	for _, s := range steps {
		if err := s.do(t0.Add(s.at)); err != nil {
			t.Fatal(err)
		}
	}
	if lines, n := w.Stats(); lines != len(steps)+1 || n != int64(buf.Len()) {
		t.Fatalf("Stats() = %d lines, %d bytes; wrote %d lines, %d bytes", lines, n, len(steps)+1, buf.Len())
	}
	return buf.Bytes()
}

func TestReadBackEveryKind(t *testing.T) {
	rec, err := record.Read(bytes.NewReader(sample(t)))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Stopped != nil {
		t.Fatalf("a whole recording reports a stop: %v", rec.Stopped)
	}
	if rec.Header.Format != record.FormatVersion || rec.Header.Version != "v9.9.9" || !rec.Header.Start.Equal(t0) {
		t.Fatalf("header = %+v", rec.Header)
	}
	var kinds []string
	for _, e := range rec.Entries {
		kinds = append(kinds, e.Kind)
	}
	want := "snapshot event refresh registry lost snapshot demo"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("kinds = %s, want %s", got, want)
	}
	ev := rec.Entries[1].Update.Event
	if ev.Container == nil || ev.Container.State != model.StateRunning || !ev.Container.Detailed {
		t.Fatalf("the event lost the state read for it: %+v", ev.Container)
	}
	if got := rec.Entries[4].Update.Lost; got == nil || got.Error() != "connection reset" {
		t.Fatalf("lost = %v", got)
	}
	if rec.Duration() != 6*time.Second {
		t.Fatalf("Duration() = %v", rec.Duration())
	}
}

// TestStateAt checks --at: entries at or before the moment count, a moment
// past the end gives the end, and replaying twice gives the same state
// (a snapshot entry is not changed by the events applied after it).
func TestStateAt(t *testing.T) {
	rec, err := record.Read(bytes.NewReader(sample(t)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at        time.Duration
		applied   int
		webState  model.State
		webHealth model.Health
		db        bool
		lost      string
		registry  bool
	}{
		{0, 1, model.StateCreated, "", false, "", false},
		{999 * time.Millisecond, 1, model.StateCreated, "", false, "", false},
		{time.Second, 2, model.StateRunning, "", false, "", false},
		{2 * time.Second, 3, model.StateRunning, "healthy", false, "", false},
		{4 * time.Second, 5, model.StateRunning, "healthy", false, "connection reset", true},
		{5 * time.Second, 6, model.StateRunning, "healthy", true, "", true},
		{time.Hour, 7, model.StateRunning, "healthy", true, "", true},
		{-1, 7, model.StateRunning, "healthy", true, "", true},
	} {
		for range 2 {
			st := rec.StateAt(tc.at)
			web := st.Topology.Containers["c1"]
			_, db := st.Topology.Containers["c2"]
			if st.Applied != tc.applied || web.State != tc.webState || web.Health != tc.webHealth || db != tc.db ||
				st.Lost != tc.lost || (st.Registry != nil) != tc.registry {
				t.Fatalf("StateAt(%v): applied %d, web %s/%s, db %v, lost %q, registry %v; want %+v",
					tc.at, st.Applied, web.State, web.Health, db, st.Lost, st.Registry != nil, tc)
			}
		}
	}
	if st := rec.StateAt(0); st.Topology.Containers["c1"].State != model.StateCreated {
		t.Fatal("replaying changed the recorded snapshot")
	}
}

// TestTornLastLine is a recorder killed mid-write: every complete line is
// played and the stop names the torn line and where it starts.
func TestTornLastLine(t *testing.T) {
	data := sample(t)
	lines := bytes.SplitAfter(data, []byte("\n"))
	offset := len(bytes.Join(lines[:6], nil))
	cut := data[:offset+len(lines[6])/2]
	rec, err := record.Read(bytes.NewReader(cut))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Stopped == nil || rec.Stopped.Line != 7 || rec.Stopped.Offset != int64(offset) {
		t.Fatalf("Stopped = %+v, want line 7 at offset %d", rec.Stopped, offset)
	}
	if len(rec.Entries) != 5 {
		t.Fatalf("played %d entries, want the 5 complete ones", len(rec.Entries))
	}
	if msg := rec.Stopped.Error(); !strings.Contains(msg, "line 7") || !strings.Contains(msg, "incomplete") {
		t.Fatalf("stop message = %q", msg)
	}
	if st := rec.End(); st.Lost != "connection reset" {
		t.Fatalf("end state lost = %q: not the state up to the last good line", st.Lost)
	}
}

func TestCorruptLine(t *testing.T) {
	lines := bytes.SplitAfter(sample(t), []byte("\n"))
	offset := len(bytes.Join(lines[:3], nil))
	lines[3] = []byte("{\"kind\":\"event\",\"at\":garbage}\n")
	rec, err := record.Read(bytes.NewReader(bytes.Join(lines, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Stopped == nil || rec.Stopped.Line != 4 || rec.Stopped.Offset != int64(offset) || len(rec.Entries) != 2 {
		t.Fatalf("Stopped = %+v with %d entries, want line 4 at %d with 2", rec.Stopped, len(rec.Entries), offset)
	}
	if !strings.Contains(rec.Stopped.Error(), "not valid JSON") {
		t.Fatalf("stop message = %q", rec.Stopped.Error())
	}
}

func TestNewerFormatSaysWhoWroteIt(t *testing.T) {
	header := `{"kind":"header","at":"2030-01-01T00:00:00Z","header":{"format":7,"writer":"topo","version":"v3.1.0","start":"2030-01-01T00:00:00Z"}}` + "\n"
	_, err := record.Read(strings.NewReader(header + `{"kind":"hologram"}` + "\n"))
	var newer *record.NewerError
	if !errors.As(err, &newer) || newer.Version != "v3.1.0" || newer.Format != 7 {
		t.Fatalf("err = %v, want a NewerError naming v3.1.0 and format 7", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "topo v3.1.0") || !strings.Contains(msg, "format 7") {
		t.Fatalf("message = %q", msg)
	}
}

func TestNotARecording(t *testing.T) {
	for name, data := range map[string]string{
		"empty":     "",
		"json":      "{\"hello\":1}\n",
		"text":      "hello\n",
		"torn head": `{"kind":"header","at":"2030`,
	} {
		if _, err := record.Read(strings.NewReader(data)); !errors.Is(err, record.ErrNotRecording) {
			t.Errorf("%s: err = %v, want ErrNotRecording", name, err)
		}
	}
}

func TestMissingFileIsOneLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.jsonl")
	_, err := record.ReadFile(path)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "no recording at "+path) {
		t.Fatalf("err = %v", err)
	}
	if err := os.WriteFile(path, sample(t), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := record.ReadFile(path); err != nil {
		t.Fatal(err)
	}
}

// TestWriterStopsAfterAFailedWrite: a gap in the middle would replay as a
// wrong state, so after a failed write nothing more is written.
func TestWriterStopsAfterAFailedWrite(t *testing.T) {
	fw := &failingWriter{failAt: 2}
	w, err := record.NewWriter(fw, "topo", "dev", t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	topo := model.NewTopology()
	_ = w.Update(t0, model.Update{Snapshot: &topo})
	if err := w.Update(t0, model.Update{Snapshot: &topo}); err == nil {
		t.Fatal("the failed write was not reported")
	}
	_ = w.Update(t0, model.Update{Snapshot: &topo})
	if fw.writes != 2 || w.Err() == nil {
		t.Fatalf("writes = %d, Err = %v; want 2 and the error", fw.writes, w.Err())
	}
}

type failingWriter struct{ writes, failAt int }

func (f *failingWriter) Write(p []byte) (int, error) {
	f.writes++
	if f.writes >= f.failAt {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

// TestVolumesRoundTrip: the storage lanes' volumes are recorded with the
// snapshot and with each volume event, and read back into the state.
func TestVolumesRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w, err := record.NewWriter(&buf, "topo", "test", t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	topo := model.NewTopology()
	topo.Volumes["data"] = model.Volume{Name: "data", Driver: "local", Labels: map[string]string{"k": "v"}}
	topo.VolumesError = ""
	if err := w.Update(t0.Add(time.Second), model.Update{Snapshot: &topo}); err != nil {
		t.Fatal(err)
	}
	cache := model.Volume{Name: "cache", Driver: "local", Anonymous: true}
	ev := model.Event{Time: t0.Add(2 * time.Second), Type: model.EventVolume, Action: "create", ActorID: "cache", Volume: &cache}
	if err := w.Update(t0.Add(2*time.Second), model.Update{Event: &ev}); err != nil {
		t.Fatal(err)
	}
	rec, err := record.Read(&buf)
	if err != nil || rec.Stopped != nil {
		t.Fatalf("read: %v %v", err, rec.Stopped)
	}
	at1, end := rec.StateAt(time.Second), rec.End()
	if v, ok := at1.Topology.Volumes["data"]; !ok || v.Labels["k"] != "v" || len(at1.Topology.Volumes) != 1 {
		t.Errorf("volumes at 1s: %+v", at1.Topology.Volumes)
	}
	if v, ok := end.Topology.Volumes["cache"]; !ok || !v.Anonymous || len(end.Topology.Volumes) != 2 {
		t.Errorf("volumes at the end: %+v", end.Topology.Volumes)
	}
	if len(rec.StateAt(time.Second).Topology.Volumes) != 1 {
		t.Error("replaying again saw the later volume: the recorded snapshot was changed")
	}
}
