package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/client"
)

// ImageAPI lists the client calls of the image helpers below.
type ImageAPI interface {
	Info(ctx context.Context) (system.Info, error)
	ImageInspect(ctx context.Context, ref string, opts ...client.ImageInspectOption) (image.InspectResponse, error)
	ImageBuild(ctx context.Context, buildContext io.Reader, options build.ImageBuildOptions) (build.ImageBuildResponse, error)
}

var _ ImageAPI = (*client.Client)(nil)

// ImageExists reports whether the engine has an image by that reference.
func ImageExists(ctx context.Context, cli ImageAPI, ref string) (bool, error) {
	_, err := cli.ImageInspect(ctx, ref)
	if err == nil {
		return true, nil
	}
	if client.IsErrNotFound(err) {
		return false, nil
	}
	return false, err
}

// BuildScratchImage builds a FROM scratch image holding files (made
// executable) plus extra Dockerfile lines, with the classic builder (this
// engine has no BuildKit) and no pull, unless tag already exists. Tags are
// expected to name a hash of the inputs, so an existing tag is current.
func BuildScratchImage(ctx context.Context, cli ImageAPI, tag string, files map[string][]byte, dockerfileTail string, labels map[string]string) error {
	if ok, err := ImageExists(ctx, cli, tag); err != nil {
		return fmt.Errorf("look for image %s: %w", tag, err)
	} else if ok {
		return nil
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var dockerfile strings.Builder
	dockerfile.WriteString("FROM scratch\n")
	for _, name := range names {
		fmt.Fprintf(&dockerfile, "COPY %s /%s\n", name, name)
	}
	dockerfile.WriteString(dockerfileTail + "\n")

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	for _, name := range names {
		if err := add(name, files[name]); err != nil {
			return err
		}
	}
	if err := add("Dockerfile", []byte(dockerfile.String())); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	resp, err := cli.ImageBuild(ctx, &buf, build.ImageBuildOptions{
		Tags: []string{tag}, Remove: true, ForceRemove: true, Version: build.BuilderV1, Labels: labels,
	})
	if err != nil {
		return fmt.Errorf("build image %s: %w", tag, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if ok, _ := ImageExists(ctx, cli, tag); !ok {
		return fmt.Errorf("build image %s failed: %s", tag, lastLines(string(out), 5))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// SelfImageRepo names the images of topo's own binary: the probe, the
// demo's app and registrator all run it, as subcommands.
const SelfImageRepo = "topo-self"

// SelfImage returns a FROM scratch image of topo's own binary (binary, or
// the running executable when empty), building it when missing. It needs a
// static Linux binary for the engine's architecture; otherwise it says how
// to make one.
func SelfImage(ctx context.Context, cli ImageAPI, binary string) (string, error) {
	if binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return "", fmt.Errorf("find topo's own binary: %w", err)
		}
		binary = exe
	}
	info, err := cli.Info(ctx)
	if err != nil {
		return "", fmt.Errorf("read the engine's architecture: %w", err)
	}
	if err := checkStaticLinux(binary, info.Architecture); err != nil {
		return "", err
	}
	data, err := os.ReadFile(binary)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", binary, err)
	}
	sum := sha256.Sum256(data)
	tag := SelfImageRepo + ":" + hex.EncodeToString(sum[:])[:12]
	err = BuildScratchImage(ctx, cli, tag, map[string][]byte{"topo": data},
		"ENTRYPOINT [\"/topo\"]", map[string]string{"topo.self": "1"})
	return tag, err
}

// engineArch maps the engine's `uname -m` style architecture to GOARCH.
func engineArch(arch string) string {
	switch arch {
	case "x86_64", "amd64":
		return "amd64"
	case "aarch64", "arm64":
		return "arm64"
	}
	return arch
}

var errNotStatic = errors.New("not a static Linux binary")

// checkStaticLinux refuses binaries a FROM scratch image cannot run: not
// ELF (macOS, Windows), dynamically linked (built with cgo), or for another
// architecture than the engine's.
func checkStaticLinux(path, arch string) error {
	fix := fmt.Sprintf("build one with `CGO_ENABLED=0 GOOS=linux GOARCH=%s go build -o topo-linux .` and pass --self-binary topo-linux (make build already makes bin/topo static)", engineArch(arch))
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s is %w for the engine (%s): %s", path, errNotStatic, arch, fix)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked, %w: %s", path, errNotStatic, fix)
		}
	}
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[engineArch(arch)]
	if want != 0 && f.Machine != want {
		return fmt.Errorf("%s is built for %s but the engine runs %s: %s", path, f.Machine, arch, fix)
	}
	return nil
}
