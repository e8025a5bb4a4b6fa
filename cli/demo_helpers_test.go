package cli

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/topo-dev/topo/demo/deploy"
	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/testenv"
)

// requireDemoImages fails (under CI) or skips a test that deploys the demo
// when the test images are not named in the environment.
func requireDemoImages(t *testing.T) {
	t.Helper()
	for _, k := range []string{deploy.EnvImageConsul, deploy.EnvImageMongo, deploy.EnvImageNginx} {
		if os.Getenv(k) == "" {
			testenv.Missing(t, "%s is not set: run `eval \"$(scripts/test-images.sh)\"` first (make test does)", k)
		}
	}
}

// demoProject is the demo project an end-to-end test drives through
// topo's keys: named after the test's prefix, its load balancer on a free
// port, and torn down (volumes too) when the test ends.
func demoProject(t *testing.T) (env *dockertest.Env, d *deploy.Deployer, port int) {
	t.Helper()
	env = dockertest.New(t)
	port = freeTCPPort(t)
	d, err := deploy.New(env.Client, deploy.Options{Project: env.Prefix, LBPort: port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := d.Down(ctx, true, nil); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return env, d, port
}
