package swarmtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/topo-dev/topo/internal/testenv"
)

// SSHClient makes a key pair for a test that reaches a node over ssh; dir
// holds the private key (id_ed25519), pub is the public one, for StartSSH.
func SSHClient(t testing.TB) (dir string, pub []byte) {
	t.Helper()
	for _, tool := range []string{"ssh", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, "%s is needed to reach an engine over ssh: apt-get install -y openssh-client", tool)
		}
	}
	dir = t.TempDir()
	key := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "topo-test", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return dir, pub
}

// TrustSSH puts an `ssh` first on PATH (for this test and the processes it
// starts) that uses only the test's config: the key in dir, a known_hosts
// (dir/known_hosts) holding knownHost, and strict host key checking. ssh
// reads ~/.ssh from the password database, not from HOME, so a wrapper is
// the way to keep the user's own out.
func TrustSSH(t testing.TB, dir, knownHost string) {
	t.Helper()
	realSSH, err := exec.LookPath("ssh")
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config")
	conf := fmt.Sprintf("Host *\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n  LogLevel ERROR\n",
		filepath.Join(dir, "id_ed25519"), filepath.Join(dir, "known_hosts"))
	if err := os.WriteFile(config, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(knownHost+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o700); err != nil {
		t.Fatal(err)
	}
	wrapper := fmt.Sprintf("#!/bin/sh\nexec %s -F %s \"$@\"\n", realSSH, config)
	if err := os.WriteFile(filepath.Join(bin, "ssh"), []byte(wrapper), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", dir)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}
