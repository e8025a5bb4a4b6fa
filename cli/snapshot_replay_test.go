package cli

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/topo-dev/topo/internal/testenv"
	"github.com/topo-dev/topo/model"
	"github.com/topo-dev/topo/record"
)

var recStart = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// demoNames are the containers of demoRecording; the last one's name
// needs XML escaping.
var demoNames = []string{"demo-lb-1", "demo-app-1", "demo-app-2", "demo-consul-1", "demo-mongo-1", `odd<&"name>`}

// demoRecording writes a recording of the demo's shape: a snapshot at 0
// with all but demo-app-2, which starts at 2 s.
func demoRecording(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "demo.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := record.NewWriter(f, "topo", "test", recStart, map[string]string{"host": "unix:///recorded.sock"})
	if err != nil {
		t.Fatal(err)
	}
	topo := model.NewTopology()
	for _, n := range []string{"front", "back"} {
		topo.Networks[n] = model.Network{ID: n, Name: "demo_" + n, Driver: "bridge", Scope: "local"}
	}
	on := func(nets ...string) map[string]model.Endpoint {
		eps := map[string]model.Endpoint{}
		for i, n := range nets {
			eps[n] = model.Endpoint{NetworkID: n, NetworkName: "demo_" + n, IPv4: "10.0.0." + string(rune('2'+i))}
		}
		return eps
	}
	var app2 model.Container
	for i, name := range demoNames {
		c := model.Container{ID: "c" + string(rune('a'+i)), Name: name, Image: "img", State: model.StateRunning,
			Endpoints: on("front")}
		if i > 0 {
			c.Endpoints = on("front", "back")
		}
		if name == "demo-app-2" {
			app2 = c
			continue
		}
		topo.Containers[c.ID] = c
	}
	if err := w.Update(recStart.Add(100*time.Millisecond), model.Update{Snapshot: &topo}); err != nil {
		t.Fatal(err)
	}
	at := recStart.Add(2 * time.Second)
	if err := w.Update(at, model.Update{Event: &model.Event{Time: at, Type: "container", Action: "start", ActorID: app2.ID, Container: &app2}}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSnapshotFromAt(t *testing.T) {
	path := demoRecording(t)
	for _, tc := range []struct {
		args    []string
		has     bool
		warning string
	}{
		{[]string{"--at", "1s"}, false, ""},
		{[]string{"--at", "2s"}, true, ""},
		{nil, true, ""},
		{[]string{"--at", "1h"}, true, "past the recording's end"},
	} {
		out, err := runTopo(t, append([]string{"snapshot", "--width", "100", "--from", path}, tc.args...)...)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if strings.Contains(out, "demo-app-2") != tc.has || !strings.Contains(out, "demo-app-1") {
			t.Errorf("%v: demo-app-2 drawn = %v, want %v:\n%s", tc.args, !tc.has, tc.has, out)
		}
		if tc.warning != "" && !strings.Contains(out, tc.warning) {
			t.Errorf("%v: no %q in:\n%s", tc.args, tc.warning, out)
		}
	}
	if _, err := runTopo(t, "snapshot", "--from", path, "--at", "-3s"); err == nil || !strings.Contains(err.Error(), "--at -3s") {
		t.Errorf("a negative --at: err = %v", err)
	}
	if _, err := runTopo(t, noEngine, "snapshot", "--at", "3s"); err == nil || !strings.Contains(err.Error(), "--from FILE") {
		t.Errorf("--at without --from: err = %v", err)
	}
}

// TestSnapshotFromJSONHasTheEngineShape: --json from a recording prints
// the document `topo snapshot --json` prints, the engine as recorded.
func TestSnapshotFromJSONHasTheEngineShape(t *testing.T) {
	cmd := newRootCmd("dev")
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs([]string{"snapshot", "--json", "--from", demoRecording(t), "--at", "1s"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Engine     map[string]any    `json:"engine"`
		Networks   []json.RawMessage `json:"networks"`
		Containers []struct {
			Name string `json:"name"`
		} `json:"containers"`
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(out.Bytes(), &keys); err != nil {
		t.Fatalf("decode: %v", err)
	}
	// What the engine's snapshot prints with no registry and no swarm.
	if len(keys) != 4 || keys["engine"] == nil || keys["networks"] == nil || keys["containers"] == nil || keys["volumes"] == nil {
		t.Fatalf("top-level keys are not engine, networks, containers, volumes: %s", out.String())
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if doc.Engine["host"] != "unix:///recorded.sock" || len(doc.Networks) != 2 || len(doc.Containers) != len(demoNames)-1 {
		t.Fatalf("doc = %+v", doc)
	}
}

func TestSnapshotFromBadInput(t *testing.T) {
	path := demoRecording(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	offset := len(lines[0]) + len(lines[1])

	torn := filepath.Join(t.TempDir(), "torn.jsonl")
	if err := os.WriteFile(torn, data[:offset+20], 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runTopo(t, "snapshot", "--width", "100", "--from", torn)
	if err != nil {
		t.Fatalf("a torn recording is played up to its last good line, not refused: %v", err)
	}
	want := "stops at line 3 (byte offset " + itoa(offset) + ")"
	if !strings.Contains(out, want) || !strings.Contains(out, "demo-app-1") || strings.Contains(out, "demo-app-2") {
		t.Fatalf("want %q and the state before line 3:\n%s", want, out)
	}

	newer := filepath.Join(t.TempDir(), "newer.jsonl")
	header := `{"kind":"header","at":"2030-01-01T00:00:00Z","header":{"format":99,"writer":"topo","version":"v7.0.0","start":"2030-01-01T00:00:00Z"}}` + "\n"
	if err := os.WriteFile(newer, []byte(header), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runTopo(t, "snapshot", "--from", newer); err == nil || !strings.Contains(err.Error(), "topo v7.0.0") {
		t.Fatalf("newer format: err = %v", err)
	}

	missing := filepath.Join(t.TempDir(), "missing.jsonl")
	_, err = runTopo(t, "snapshot", "--from", missing)
	if err == nil || strings.Count(err.Error(), "\n") > 0 || !strings.Contains(err.Error(), "no recording at "+missing) {
		t.Fatalf("missing file: err = %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestSnapshotSVGRendersWithEveryName renders the picture of a recorded
// demo with rsvg-convert (Debian's librsvg2-bin) and checks it is a
// well-formed document whose text holds every container's name.
func TestSnapshotSVGRendersWithEveryName(t *testing.T) {
	rsvg, err := exec.LookPath("rsvg-convert")
	if err != nil {
		testenv.Missing(t, "rsvg-convert is not installed: apt-get install librsvg2-bin (scripts/ensure-engine.sh does)")
	}
	dir := t.TempDir()
	svg := filepath.Join(dir, "demo.svg")
	if _, err := runTopo(t, "snapshot", "--width", "100", "--from", demoRecording(t), "--svg", svg); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	text := svgText(t, data)
	for _, name := range demoNames {
		if !strings.Contains(text, name) {
			t.Errorf("the picture's text lacks %q:\n%s", name, text)
		}
	}
	if !strings.Contains(string(data), `fill="#`) || !strings.Contains(string(data), "monospace") {
		t.Errorf("the picture has no colours or no monospace font")
	}
	png := filepath.Join(dir, "demo.png")
	if out, err := exec.Command(rsvg, "-o", png, svg).CombinedOutput(); err != nil {
		t.Fatalf("rsvg-convert: %v: %s", err, out)
	}
	head, err := os.ReadFile(png)
	if err != nil || !bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")) || len(head) < 1000 {
		t.Fatalf("rsvg-convert made no picture (%d bytes, %v)", len(head), err)
	}
}

// svgText is the character data of a document, which fails to parse if
// anything was left unescaped.
func svgText(t *testing.T, data []byte) string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var b strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return b.String()
		}
		if err != nil {
			t.Fatalf("the picture is not well-formed XML: %v", err)
		}
		if cd, ok := tok.(xml.CharData); ok {
			b.Write(cd)
		}
	}
}
