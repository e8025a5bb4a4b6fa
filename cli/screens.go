package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/topo-dev/topo/internal/ansisvg"
)

// svgScreens writes the screens e saves as SVG pictures, named
// topo-<time>.svg, in dir (the current directory when empty).
type svgScreens struct{ dir string }

func (s svgScreens) SaveScreen(screen string, width int) (string, error) {
	b := ansisvg.Convert(screen, ansisvg.Options{Columns: width})
	base := filepath.Join(s.dir, "topo-"+time.Now().Format("20060102-150405"))
	// Two saves in one second get two files: O_EXCL never overwrites.
	for n := 1; n < 100; n++ {
		path := base + ".svg"
		if n > 1 {
			path = fmt.Sprintf("%s-%d.svg", base, n)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("create the picture (--svg-dir names where): %w", err)
		}
		if _, err := f.Write(b); err != nil {
			f.Close()
			return "", fmt.Errorf("write the picture: %w", err)
		}
		return path, f.Close()
	}
	return "", fmt.Errorf("%s.svg and 98 more exist: save again in a second", base)
}
