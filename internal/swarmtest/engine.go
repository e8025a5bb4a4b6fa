package swarmtest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"path"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// tlsPort is where a node serving TLS listens, the port the docker CLI
// expects for TLS.
const tlsPort = 2376

// EngineOptions shape a lone engine node: one Docker-in-Docker engine with
// no swarm, for tests of how topo reaches an engine (TLS, ssh).
type EngineOptions struct {
	// ServerTLS, when set, makes the engine serve its TCP API with TLS
	// on 2376, requiring a client certificate signed by CA (PEM).
	ServerTLS *ServerTLS
	// ClientTLS is how Node.Client dials a TLS engine.
	ClientTLS *tls.Config
	// Images are outer-engine images to load into the node.
	Images []string
}

// ServerTLS is the engine's own TLS material, in PEM.
type ServerTLS struct {
	CA, Cert, Key []byte
}

// Paths of the server's material inside the node.
const (
	tlsDir     = "/etc/docker/tls"
	serverCA   = tlsDir + "/ca.pem"
	serverCert = tlsDir + "/cert.pem"
	serverKey  = tlsDir + "/key.pem"
)

func (o EngineOptions) port() int {
	if o.ServerTLS != nil {
		return tlsPort
	}
	return innerPort
}

// dockerdArgs: the unix socket always (ssh's `docker system dial-stdio`
// and the test's own execs use it), plus TCP on the private bridge, plain
// or with TLS. A plain TCP engine waits 15 s on purpose without --tls=false.
func (o EngineOptions) dockerdArgs() []string {
	args := []string{"-H", "unix:///var/run/docker.sock", "-H", fmt.Sprintf("tcp://0.0.0.0:%d", o.port())}
	if o.ServerTLS != nil {
		args = append(args, "--tlsverify", "--tlscacert", serverCA, "--tlscert", serverCert, "--tlskey", serverKey)
	} else {
		args = append(args, "--tls=false")
	}
	return append(args, "--mtu", bridgeMTU)
}

func (o EngineOptions) clientOpts() []client.Opt {
	if o.ClientTLS == nil {
		return nil
	}
	return []client.Opt{client.WithHTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: o.ClientTLS}})}
}

// copyFiles puts the server's TLS material into the node before its
// engine starts.
func (o EngineOptions) copyFiles(ctx context.Context, cli *client.Client, id string) error {
	if o.ServerTLS == nil {
		return nil
	}
	files := map[string][]byte{serverCA: o.ServerTLS.CA, serverCert: o.ServerTLS.Cert, serverKey: o.ServerTLS.Key}
	return CopyFiles(ctx, cli, id, files)
}

// CopyFiles writes files (absolute path → content) into a container, with
// their directories.
func CopyFiles(ctx context.Context, cli *client.Client, id string, files map[string][]byte) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	names := make([]string, 0, len(files))
	for p := range files {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		rel := strings.TrimPrefix(p, "/")
		for d := path.Dir(rel); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	dirList := make([]string, 0, len(dirs))
	for d := range dirs {
		dirList = append(dirList, d)
	}
	sort.Strings(dirList)
	for _, d := range dirList {
		if err := tw.WriteHeader(&tar.Header{Name: d + "/", Mode: 0o755, Typeflag: tar.TypeDir}); err != nil {
			return err
		}
	}
	for _, p := range names {
		data := files[p]
		if err := tw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(p, "/"), Mode: 0o600, Size: int64(len(data))}); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return cli.CopyToContainer(ctx, id, "/", &buf, container.CopyToContainerOptions{})
}

// StartEngine starts one engine node on a bridge of its own and waits for
// its API; it is removed when the test ends.
func StartEngine(t testing.TB, opts EngineOptions) *Cluster {
	t.Helper()
	c, img := newCluster(t, opts)
	env := c.Env
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	c.Network = env.Name("engine")
	env.CreateNetwork(t, "engine", map[string]string{"com.docker.network.driver.mtu": bridgeMTU})
	c.Nodes = append(c.Nodes, c.startNode(ctx, t, img, env.Name("engine"), true))
	if err := waitForEngine(ctx, c.Nodes[0]); err != nil {
		t.Fatal(err)
	}
	c.Timings["engine up"] = time.Since(start)
	c.loadImages(ctx, t, opts.Images)
	return c
}

// Exec runs a command in the node container and returns its output; it
// fails the test when the command fails.
func (c *Cluster) Exec(t testing.TB, n *Node, cmd ...string) string {
	t.Helper()
	out, err := c.TryExec(n, cmd...)
	if err != nil {
		t.Fatalf("in node %s, %s: %v\n%s", n.Name, strings.Join(cmd, " "), err, out)
	}
	return out
}

// TryExec runs a command in the node container and returns its output and
// an error when it could not run or exited non-zero.
func (c *Cluster) TryExec(n *Node, cmd ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cli := c.Env.Client
	ex, err := cli.ContainerExecCreate(ctx, n.ContainerID, container.ExecOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return "", err
	}
	att, err := cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		return "", err
	}
	defer att.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, att.Reader); err != nil && err != io.EOF {
		return out.String(), err
	}
	ins, err := cli.ContainerExecInspect(ctx, ex.ID)
	if err != nil {
		return out.String(), err
	}
	if ins.ExitCode != 0 {
		return out.String(), fmt.Errorf("exit status %d", ins.ExitCode)
	}
	return out.String(), nil
}

// StartSSH starts the node's ssh server (Debian's openssh-server, in the
// node image) letting root in with authorizedKey only, and returns the
// server's host key as a known_hosts line for the node's address.
func (c *Cluster) StartSSH(t testing.TB, n *Node, authorizedKey []byte) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := CopyFiles(ctx, c.Env.Client, n.ContainerID, map[string][]byte{"/root/.ssh/authorized_keys": authorizedKey}); err != nil {
		t.Fatalf("copy the authorized key into %s: %v", n.Name, err)
	}
	// sshd refuses to start without its privilege separation directory,
	// which lives on the node's /run tmpfs; it daemonises itself.
	c.Exec(t, n, "sh", "-c", "chmod 700 /root/.ssh && mkdir -p /run/sshd && /usr/sbin/sshd -o PasswordAuthentication=no")
	key := strings.TrimSpace(c.Exec(t, n, "cat", "/etc/ssh/ssh_host_ed25519_key.pub"))
	fields := strings.Fields(key)
	if len(fields) < 2 {
		t.Fatalf("node %s: no ed25519 host key: %q", n.Name, key)
	}
	return n.IP + " " + fields[0] + " " + fields[1]
}
