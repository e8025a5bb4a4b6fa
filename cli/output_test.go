package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/topo-dev/topo/model"
)

// TestSnapshotJSONKeepsRawValuesAndActsOnNoTerminal: `topo snapshot --json`
// of a container whose labels hold escape sequences and a bidi override
// prints no control or bidi character, and decodes back to the raw values.
func TestSnapshotJSONKeepsRawValuesAndActsOnNoTerminal(t *testing.T) {
	topo := model.NewTopology()
	topo.Networks["n1"] = model.Network{ID: "n1", Name: "edge", Driver: "bridge"}
	raw := "web\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\a\r\b\x7f\u009b\u202egnp.exe"
	topo.Containers["c1"] = model.Container{ID: "c1", Name: "evil", State: model.StateRunning,
		Labels:    map[string]string{model.LabelComposeService: raw, "note\u2066": raw},
		Endpoints: map[string]model.Endpoint{"n1": {NetworkID: "n1", NetworkName: "edge", IPv4: "172.20.0.2"}}}
	export := topo.Export()

	var out bytes.Buffer
	if err := writeJSON(&out, export); err != nil {
		t.Fatal(err)
	}
	for i, r := range out.String() {
		if r == '\x1b' || r == '\a' || r == '\r' || r == '\b' || r == 0x7f || (r >= 0x80 && r <= 0x9f) || unicode.Is(unicode.Cf, r) {
			t.Errorf("the JSON holds %U at byte %d", r, i)
		}
	}
	var back model.Export
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatalf("the JSON does not decode: %v\n%s", err, out.String())
	}
	if len(back.Containers) != 1 || back.Containers[0].Service != raw {
		t.Errorf("the service label did not come back raw: %+v", back.Containers)
	}
	if !reflect.DeepEqual(back, export) {
		t.Errorf("the JSON does not read back as the raw values:\n got %#v\nwant %#v", back, export)
	}
}

// TestProbeTableShowsHostileNamesInert: `topo probe`'s table names
// containers; a name with escape sequences prints as visible escapes,
// while --json keeps it raw.
func TestProbeTableShowsHostileNamesInert(t *testing.T) {
	rep := probeReportFixture()
	rep.Lines[2].Target.Name = "cache\x1b]0;pwned\x07.1"
	rep.Lines[2].Why = "no answer \u202e" + "\x1b[2J"
	var out bytes.Buffer
	var mismatch *ProbeMismatchError
	if err := writeProbeReport(&out, rep, false); !errors.As(err, &mismatch) {
		t.Fatalf("writeProbeReport: %v", err)
	}
	if strings.ContainsAny(out.String(), "\x1b\x07\u202e") {
		t.Errorf("the table holds raw control or bidi characters:\n%q", out.String())
	}
	for _, want := range []string{`cache\x1b]0;pwned\a.1`, `no answer \u202e\x1b[2J`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table does not show %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	_ = writeProbeReport(&out, rep, true)
	var back struct {
		Lines []struct {
			Target struct{ Name string }
		}
	}
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || back.Lines[2].Target.Name != rep.Lines[2].Target.Name {
		t.Errorf("--json does not keep the raw name: %v %+v", err, back)
	}
}
