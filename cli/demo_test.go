package cli

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseScale(t *testing.T) {
	for _, tc := range []struct {
		arg     string
		service string
		n       int
		err     string
	}{
		{"app=4", "app", 4, ""},
		{" app = 0", "app", 0, ""},
		{"app=-1", "app", -1, ""}, // range is the deployer's to judge
		{"app", "", 0, "is not SERVICE=N"},
		{"=3", "", 0, "is not SERVICE=N"},
		{"app=four", "", 0, "not a whole number"},
	} {
		service, n, err := parseScale(tc.arg)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseScale(%q) = %v, want an error saying %q", tc.arg, err, tc.err)
			}
			continue
		}
		if err != nil || service != tc.service || n != tc.n {
			t.Errorf("parseScale(%q) = %q, %d, %v", tc.arg, service, n, err)
		}
	}
}

// runDemo runs `topo demo ARGS` in-process against an engine address that
// cannot answer, so a test sees which errors come before any contact.
func runDemo(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newDemoCmd(&globalOptions{host: "unix:///nonexistent/docker.sock"})
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

// TestDemoScaleRefusesBadInputBeforeContact: a wrong scale request is
// answered at once, without an engine.
func TestDemoScaleRefusesBadInputBeforeContact(t *testing.T) {
	for _, tc := range []struct{ arg, want string }{
		{"web=2", `unknown service "web"`},
		{"mongo=2", "only app scales"},
		{"app=-1", "cannot scale app to -1"},
		{"app=51", "more than this demo allows"},
		{"app", "is not SERVICE=N"},
	} {
		_, err := runDemo(t, "scale", tc.arg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("demo scale %s = %v, want an error saying %q", tc.arg, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "Docker engine") {
			t.Errorf("demo scale %s contacted the engine before checking its input: %v", tc.arg, err)
		}
	}
}

func TestDemoFlagsAreChecked(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"status", "--project", "Bad Name"}, "project name"},
		{[]string{"status", "--lb-bind", "localhost"}, "not an IP address"},
		{[]string{"traffic", "--rate", "-3", "--duration", "1s"}, "out of range"},
	} {
		_, err := runDemo(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("demo %v = %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
}

// TestDemoCommandTree: every command of the issue is there, and the app
// (which the images run) is hidden from a presenter's help.
func TestDemoCommandTree(t *testing.T) {
	cmd := newDemoCmd(&globalOptions{})
	names := map[string]bool{}
	for _, c := range cmd.Commands() {
		names[c.Name()] = c.Hidden
	}
	for _, want := range []string{"up", "down", "scale", "status", "images", "compose", "traffic"} {
		if hidden, ok := names[want]; !ok || hidden {
			t.Errorf("topo demo %s is missing or hidden", want)
		}
	}
	for _, want := range []string{"app", "healthcheck"} {
		if hidden, ok := names[want]; !ok || !hidden {
			t.Errorf("topo demo %s is missing or not hidden", want)
		}
	}
	for _, f := range []string{"project", "lb-port", "lb-bind", "self-binary", "image-consul", "image-mongo", "image-nginx"} {
		if cmd.PersistentFlags().Lookup(f) == nil {
			t.Errorf("flag --%s is missing", f)
		}
	}
}

func TestDemoHealthcheck(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ok.Close()
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"status":"unavailable","reason":"connecting to the database"}`, http.StatusServiceUnavailable)
	}))
	defer sick.Close()
	if _, err := runDemo(t, "healthcheck", ok.URL); err != nil {
		t.Errorf("healthy: %v", err)
	}
	if _, err := runDemo(t, "healthcheck", sick.URL); err == nil || !strings.Contains(err.Error(), "connecting to the database") {
		t.Errorf("unhealthy: %v, want the reason in the error (Docker keeps it in the health log)", err)
	}
}

func TestDemoSettingsFromEnvironment(t *testing.T) {
	env := map[string]string{
		"TOPO_DEMO_PROJECT": "rehearsal", "TOPO_DEMO_LB_PORT": "18080", "TOPO_DEMO_LB_BIND": "0.0.0.0",
		"TOPO_DEMO_IMAGE_NGINX": "local/nginx:1",
	}
	f := demoFlagsFromEnv(func(k string) string { return env[k] })
	if err := f.check(); err != nil {
		t.Fatal(err)
	}
	o := f.options()
	if o.Project != "rehearsal" || o.LBPort != 18080 || o.LBBind != "0.0.0.0" || o.Images.Nginx != "local/nginx:1" || o.Images.Mongo != "mongo:7.0" {
		t.Errorf("options from the environment: %+v", o)
	}
	env["TOPO_DEMO_LB_PORT"] = "eighty"
	if err := demoFlagsFromEnv(func(k string) string { return env[k] }).check(); err == nil || !strings.Contains(err.Error(), "TOPO_DEMO_LB_PORT") {
		t.Errorf("a bad port in the environment: %v, want an error naming the variable", err)
	}
}

// TOPO_DEMO_REGISTRIES is what makes D deploy the second registry.
func TestDemoRegistriesFromEnvironment(t *testing.T) {
	for v, want := range map[string]int{"": 0, "1": 1, "2": 2} {
		f := demoFlagsFromEnv(func(k string) string { return map[string]string{"TOPO_DEMO_REGISTRIES": v}[k] })
		if err := f.check(); err != nil || f.registries != want {
			t.Errorf("TOPO_DEMO_REGISTRIES=%q: %d, %v; want %d", v, f.registries, err, want)
		}
	}
	for _, v := range []string{"3", "two"} {
		f := demoFlagsFromEnv(func(k string) string { return map[string]string{"TOPO_DEMO_REGISTRIES": v}[k] })
		if err := f.check(); err == nil || !strings.Contains(err.Error(), "TOPO_DEMO_REGISTRIES") {
			t.Errorf("TOPO_DEMO_REGISTRIES=%q: %v, want an error naming the variable", v, err)
		}
	}
}
