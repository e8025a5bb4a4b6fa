package tunnelagent

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAgentRelaysBothWays(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// An echo that upper-cases, answering once the input ended: the
		// agent must pass the end of input on.
		b, _ := io.ReadAll(c)
		c.Write(bytes.ToUpper(b))
	}()
	var out, errOut bytes.Buffer
	code := Main([]string{ln.Addr().String()}, strings.NewReader("hello"), &out, &errOut)
	if code != 0 || out.String() != string(Ready)+"HELLO" {
		t.Errorf("Main = %d, out %q, stderr %q; want 0 and %q", code, out.String(), errOut.String(), string(Ready)+"HELLO")
	}
}

func TestAgentSaysWhyItCannotConnect(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	var out, errOut bytes.Buffer
	code := Main([]string{addr}, strings.NewReader(""), &out, &errOut)
	if code != 1 || out.Len() != 0 || !strings.Contains(errOut.String(), "connect to "+addr) {
		t.Errorf("Main = %d, out %q, stderr %q; want 1, nothing on stdout, the reason on stderr", code, out.String(), errOut.String())
	}
	if line, _ := bufio.NewReader(&errOut).ReadString('\n'); !strings.Contains(line, "refused") {
		t.Errorf("stderr %q does not say the connection was refused", line)
	}
}

func TestAgentRefusesBadArguments(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main(nil, strings.NewReader(""), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "usage") {
		t.Errorf("Main() = %d, stderr %q; want 2 with the usage", code, errOut.String())
	}
}

func TestIdleEndsWhenNoOtherProcessRan(t *testing.T) {
	dir := t.TempDir()
	// Only this process: nothing else runs, so idle ends after its limit.
	if err := os.Mkdir(filepath.Join(dir, strconv.Itoa(os.Getpid())), 0o755); err != nil {
		t.Fatal(err)
	}
	if code := idle(dir, time.Millisecond, time.Millisecond); code != 0 {
		t.Errorf("idle = %d, want 0", code)
	}
}

func TestIdleSeesAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{strconv.Itoa(os.Getpid()), "self", "1"} {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if !othersRunning(dir) {
		t.Error("othersRunning = false with process 1 listed")
	}
	if err := os.Remove(filepath.Join(dir, "1")); err != nil {
		t.Fatal(err)
	}
	if othersRunning(dir) {
		t.Error("othersRunning = true with only this process and self listed")
	}
}
