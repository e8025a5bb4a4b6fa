package swarmtest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/topo-dev/topo/docker"
	"github.com/topo-dev/topo/internal/testenv"
)

// The node image: Debian's own docker.io in a minimal Debian root
// filesystem, so that it builds offline from the configured Debian mirror
// and needs no registry. Everything that decides its content is below and
// goes into its tag, so an existing tag is current and a change rebuilds.
const (
	nodeImageRepo = "topo-swarmnode"
	debianSuite   = "bookworm"
	nodePackages  = "docker.io,iptables,iproute2,ca-certificates,procps,openssh-server"
	nodePath      = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	entrypoint    = "/usr/local/bin/swarm-node"
)

// entrypointScript starts the inner engine in a container that is not
// --privileged (the outer engine cannot grant every capability): /sys and
// the cgroup v1 hierarchies come read-only, and the inner runc must create
// cgroups, so they are remounted read-write (a bind remount, because a
// plain remount of a cgroup mount point is refused as busy). Stale pid files
// of a restarted node would stop dockerd from starting.
const entrypointScript = `#!/bin/sh
# Entry point of a topo test swarm node (see internal/swarmtest).
set -e
mount -o remount,rw /sys 2>/dev/null || true
mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true
for d in /sys/fs/cgroup/*; do mount -o remount,bind,rw "$d" 2>/dev/null || true; done
rm -f /var/run/docker.pid /run/docker.pid /run/docker/containerd/containerd.pid
exec dockerd "$@"
`

// trimmed are removed from the root filesystem: apt's lists and caches,
// documentation and locales, about 200 MB nobody reads in a test node.
var trimmed = []string{
	"var/lib/apt/lists", "var/cache/apt", "usr/share/doc", "usr/share/man",
	"usr/share/locale", "usr/share/info",
}

func nodeImageTag() string {
	h := sha256.New()
	fmt.Fprintf(h, "debootstrap --variant=minbase --include=%s %s\n", nodePackages, debianSuite)
	fmt.Fprintf(h, "PATH=%s\nENTRYPOINT=%s\n%s\n%s\n", nodePath, entrypoint, entrypointScript, strings.Join(trimmed, ","))
	return nodeImageRepo + ":" + hex.EncodeToString(h.Sum(nil))[:12]
}

// NodeImage returns the tag of the swarm node image, building it when it
// is missing (about 1.5 minutes once per machine). It skips the test when
// the machine cannot build it: debootstrap missing, or not root.
func NodeImage(t testing.TB, cli *client.Client) string {
	t.Helper()
	tag := nodeImageTag()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if ok, err := docker.ImageExists(ctx, cli, tag); err != nil {
		t.Fatalf("look for the swarm node image %s: %v", tag, err)
	} else if ok {
		return tag
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		testenv.Missing(t, "the swarm node image %s is missing and building it needs debootstrap: apt-get install -y debootstrap", tag)
	}
	if os.Geteuid() != 0 {
		testenv.Missing(t, "the swarm node image %s is missing and debootstrap needs root to build it", tag)
	}
	// Test binaries of several packages may start at once; one builds,
	// the others wait for it and find the tag.
	unlock, err := lockFile(filepath.Join(os.TempDir(), "topo-swarmnode.lock"))
	if err != nil {
		t.Fatalf("lock the swarm node image build: %v", err)
	}
	defer unlock()
	if ok, _ := docker.ImageExists(ctx, cli, tag); ok {
		return tag
	}
	start := time.Now()
	if err := buildNodeImage(ctx, cli, tag); err != nil {
		t.Fatalf("build the swarm node image %s: %v", tag, err)
	}
	t.Logf("built the swarm node image %s in %v", tag, time.Since(start).Round(time.Second))
	return tag
}

func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

func buildNodeImage(ctx context.Context, cli *client.Client, tag string) error {
	dir, err := os.MkdirTemp("", "topo-swarmnode-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rootfs := filepath.Join(dir, "rootfs")
	mirror := debianMirror()
	cmd := exec.CommandContext(ctx, "debootstrap", "--variant=minbase", "--include="+nodePackages, debianSuite, rootfs, mirror)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("debootstrap %s from %s: %v\n%s", debianSuite, mirror, err, lastLines(string(out), 15))
	}
	for _, p := range trimmed {
		if err := os.RemoveAll(filepath.Join(rootfs, p)); err != nil {
			return fmt.Errorf("trim %s: %w", p, err)
		}
	}
	if err := os.WriteFile(filepath.Join(rootfs, strings.TrimPrefix(entrypoint, "/")), []byte(entrypointScript), 0o755); err != nil {
		return err
	}
	tarCmd := exec.CommandContext(ctx, "tar", "--numeric-owner", "-C", rootfs, "-c", ".")
	var stderr strings.Builder
	tarCmd.Stderr = &stderr
	stdout, err := tarCmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := tarCmd.Start(); err != nil {
		return fmt.Errorf("tar the root filesystem: %w", err)
	}
	resp, err := cli.ImageImport(ctx, image.ImportSource{Source: stdout, SourceName: "-"}, tag, image.ImportOptions{
		Changes: []string{
			"ENV PATH=" + nodePath, // import sets no PATH at all
			`ENTRYPOINT ["` + entrypoint + `"]`,
			"LABEL topo.test-image=1",
		},
	})
	if err != nil {
		_ = tarCmd.Process.Kill()
		_ = tarCmd.Wait()
		return fmt.Errorf("docker import: %w", err)
	}
	out, _ := io.ReadAll(resp)
	resp.Close()
	if err := tarCmd.Wait(); err != nil {
		return fmt.Errorf("tar the root filesystem: %v: %s", err, stderr.String())
	}
	if ok, _ := docker.ImageExists(ctx, cli, tag); !ok {
		return fmt.Errorf("docker import made no %s: %s", tag, lastLines(string(out), 5))
	}
	return nil
}

// debianMirror is the Debian mirror apt is configured with (the machine
// may have no other way out), else TOPO_DEBIAN_MIRROR, else Debian's CDN.
func debianMirror() string {
	if m := os.Getenv("TOPO_DEBIAN_MIRROR"); m != "" {
		return m
	}
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*")
	files = append([]string{"/etc/apt/sources.list"}, files...)
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			var uri string
			switch {
			case len(fields) >= 2 && fields[0] == "URIs:":
				uri = fields[1]
			case len(fields) >= 3 && fields[0] == "deb":
				uri = fields[1]
				if strings.HasPrefix(uri, "[") { // deb [signed-by=...] URI
					for _, fl := range fields[1:] {
						if strings.Contains(fl, "://") {
							uri = fl
							break
						}
					}
				}
			}
			if strings.Contains(uri, "://") && strings.HasSuffix(strings.TrimSuffix(uri, "/"), "/debian") {
				f.Close()
				return uri
			}
		}
		f.Close()
	}
	return "http://deb.debian.org/debian"
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
