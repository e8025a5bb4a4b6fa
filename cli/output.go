package cli

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/topo-dev/topo/internal/inert"
)

// writeJSON prints v as indented JSON for the --json outputs. The values
// stay raw (they are data), but the document is made safe to print to a
// terminal: encoding/json escapes the C0 controls and inert.JSON the DEL,
// C1 and bidi characters it leaves raw, so a hostile label cannot act on
// the terminal of someone reading `topo snapshot --json`, and a decoder
// still reads back the raw value.
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(inert.JSON(buf.Bytes()))
	return err
}
