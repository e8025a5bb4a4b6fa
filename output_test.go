package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"unicode"

	"topo/model"
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
