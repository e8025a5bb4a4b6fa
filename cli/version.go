package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// versionLine says which topo this is: the version it was built as (set
// with -ldflags "-X main.version=...", else the module version `go
// install` records), the commit and whether the tree had uncommitted
// changes, and the Go version, all from the binary's own build information.
func versionLine(version string) string {
	v, commit, modified, goVersion := version, "", false, runtime.Version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	switch {
	case commit == "":
		// Built without version control information (-buildvcs=false, or
		// from a tree that is no git checkout).
		commit = "unknown commit"
	case modified:
		commit = "commit " + commit + " with uncommitted changes"
	default:
		commit = "commit " + commit
	}
	return fmt.Sprintf("%s (%s, %s %s/%s)", v, commit, goVersion, runtime.GOOS, runtime.GOARCH)
}
