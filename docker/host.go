package docker

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Target is the engine address topo will dial and where it came from.
type Target struct {
	// Host is empty for the client's default (the local socket).
	Host   string
	Source string
}

// ResolveHost applies the documented order: --host, DOCKER_HOST, the
// current docker context (DOCKER_CONTEXT or the CLI config's
// currentContext), the default socket. It reads the context store directly
// because the docker CLI module that knows it would pull in half the CLI.
func ResolveHost(flagHost string) (Target, error) {
	if flagHost != "" {
		return Target{Host: flagHost, Source: "--host"}, nil
	}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return Target{Host: h, Source: "DOCKER_HOST"}, nil
	}
	configDir := os.Getenv("DOCKER_CONFIG")
	if configDir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return Target{Source: "default socket"}, nil
		}
		configDir = filepath.Join(home, ".docker")
	}
	name := os.Getenv("DOCKER_CONTEXT")
	source := "DOCKER_CONTEXT"
	if name == "" {
		var cfg struct {
			CurrentContext string `json:"currentContext"`
		}
		if data, err := os.ReadFile(filepath.Join(configDir, "config.json")); err == nil {
			_ = json.Unmarshal(data, &cfg)
		}
		name, source = cfg.CurrentContext, "docker context"
	}
	if name == "" || name == "default" {
		return Target{Source: "default socket"}, nil
	}
	// The store keys each context's metadata by the SHA-256 of its name.
	sum := sha256.Sum256([]byte(name))
	metaPath := filepath.Join(configDir, "contexts", "meta", hex.EncodeToString(sum[:]), "meta.json")
	data, err := os.ReadFile(metaPath)
	if err != nil {
		return Target{}, fmt.Errorf("docker context %q (from %s) not found in %s: run `docker context ls`, or name the engine with --host", name, source, filepath.Dir(metaPath))
	}
	var meta struct {
		Endpoints map[string]struct {
			Host string `json:"Host"`
		} `json:"Endpoints"`
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		return Target{}, fmt.Errorf("docker context %q: unreadable metadata %s: %w", name, metaPath, err)
	}
	host := meta.Endpoints["docker"].Host
	if host == "" {
		return Target{Source: "default socket"}, nil
	}
	return Target{Host: host, Source: fmt.Sprintf("docker context %q", name)}, nil
}
