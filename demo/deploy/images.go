package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"

	"github.com/topo-dev/topo/docker"
)

// Images are the third-party images of the demo.
type Images struct {
	Consul string
	Mongo  string
	Nginx  string
}

// The official images, pinned. Consul stays at 1.14.11: it is the newest
// release under the MPL, later ones are not open source.
const (
	DefaultImageConsul = "hashicorp/consul:1.14.11"
	DefaultImageMongo  = "mongo:7.0"
	DefaultImageNginx  = "nginx:1.27"
)

// Environment variables that override the default images.
const (
	EnvImageConsul = "TOPO_DEMO_IMAGE_CONSUL"
	EnvImageMongo  = "TOPO_DEMO_IMAGE_MONGO"
	EnvImageNginx  = "TOPO_DEMO_IMAGE_NGINX"
)

// DefaultImages are the pinned official images.
func DefaultImages() Images {
	return Images{Consul: DefaultImageConsul, Mongo: DefaultImageMongo, Nginx: DefaultImageNginx}
}

// ImagesFromEnv is DefaultImages with each image that getenv (os.Getenv)
// names replaced.
func ImagesFromEnv(getenv func(string) string) Images {
	im := DefaultImages()
	for _, o := range []struct {
		env string
		dst *string
	}{{EnvImageConsul, &im.Consul}, {EnvImageMongo, &im.Mongo}, {EnvImageNginx, &im.Nginx}} {
		if v := strings.TrimSpace(getenv(o.env)); v != "" {
			*o.dst = v
		}
	}
	return im
}

func (im Images) withDefaults() Images {
	def := DefaultImages()
	if im.Consul == "" {
		im.Consul = def.Consul
	}
	if im.Mongo == "" {
		im.Mongo = def.Mongo
	}
	if im.Nginx == "" {
		im.Nginx = def.Nginx
	}
	return im
}

// ImageStatus says whether the engine has one image the demo needs.
type ImageStatus struct {
	// Services are the services that run the image.
	Services []string `json:"services"`
	Ref      string   `json:"ref"`
	Present  bool     `json:"present"`
	// Local marks topo's own image: built from the binary, never pulled.
	Local bool `json:"local,omitempty"`
	// Env is the variable (and Flag the flag) that overrides the image.
	Env  string `json:"env,omitempty"`
	Flag string `json:"flag,omitempty"`
}

func (d *Deployer) thirdParty() []ImageStatus {
	im := d.opts.Images
	return []ImageStatus{
		{Services: []string{ServiceConsul}, Ref: im.Consul, Env: EnvImageConsul, Flag: "--image-consul"},
		{Services: []string{ServiceMongo}, Ref: im.Mongo, Env: EnvImageMongo, Flag: "--image-mongo"},
		{Services: []string{ServiceLB}, Ref: im.Nginx, Env: EnvImageNginx, Flag: "--image-nginx"},
	}
}

// Images lists the images the demo needs and whether the engine has them.
// topo's own image is listed as present once built from this binary; it
// is built by Up, never pulled.
func (d *Deployer) Images(ctx context.Context) ([]ImageStatus, error) {
	list := d.thirdParty()
	for i := range list {
		ok, err := docker.ImageExists(ctx, d.api, list[i].Ref)
		if err != nil {
			return nil, fmt.Errorf("look for image %s: %w", list[i].Ref, err)
		}
		list[i].Present = ok
	}
	self := ImageStatus{Services: []string{ServiceEngineProxy, ServiceRegistrator, ServiceApp}, Local: true}
	d.selfMu.Lock()
	self.Ref = d.selfImage
	d.selfMu.Unlock()
	if self.Ref != "" {
		self.Present, _ = docker.ImageExists(ctx, d.api, self.Ref)
	} else {
		self.Ref = docker.SelfImageRepo + ":<built from topo's binary on up>"
	}
	return append(list, self), nil
}

// Pull fetches every third-party image the engine lacks (all of them when
// always is set), reporting each pull's progress.
func (d *Deployer) Pull(ctx context.Context, always bool, progress Progress) error {
	d.op.Lock()
	defer d.op.Unlock()
	return d.ensureImages(ctx, newReporter(progress), always)
}

// ensureImages makes sure every image is on the engine before anything is
// created, so that a missing image with no network fails the deploy
// cleanly instead of halfway.
func (d *Deployer) ensureImages(ctx context.Context, r *reporter, always bool) error {
	var errs []error
	for _, im := range d.thirdParty() {
		key := "image " + im.Services[0]
		title := "image " + im.Ref
		present, err := docker.ImageExists(ctx, d.api, im.Ref)
		if err != nil {
			errs = append(errs, r.fail(key, title, fmt.Errorf("look for image %s: %w", im.Ref, err)))
			continue
		}
		if present && !always {
			r.done(key, title, "present")
			continue
		}
		r.start(key, "pull "+im.Ref)
		if err := d.pull(ctx, im.Ref, func(detail string, f float64) { r.progress(key, "pull "+im.Ref, detail, f) }); err != nil {
			if ctx.Err() != nil {
				return r.fail(key, "pull "+im.Ref, ctx.Err())
			}
			if present {
				// A refresh that failed leaves a usable image: say so and go on.
				r.done(key, title, "present (refresh failed: "+firstLine(err.Error())+")")
				continue
			}
			errs = append(errs, r.fail(key, "pull "+im.Ref, fmt.Errorf(
				"image %s (for %s) is not on the engine and pulling it failed: %w; connect to the internet and run `topo demo images --pull` (before the talk), or point %s / %s at an image the engine has",
				im.Ref, im.Services[0], err, im.Flag, im.Env)))
			continue
		}
		r.done(key, "pull "+im.Ref, "pulled")
	}
	return errors.Join(errs...)
}

// pull runs one pull to its end, turning the engine's per-layer messages
// into one fraction of the bytes to download.
func (d *Deployer) pull(ctx context.Context, ref string, report func(detail string, fraction float64)) error {
	rc, err := d.api.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return explainPull(err)
	}
	defer rc.Close()
	if err := readPull(rc, report); err != nil {
		return err
	}
	if ok, err := docker.ImageExists(ctx, d.api, ref); err != nil || !ok {
		return fmt.Errorf("the engine reported no error, yet has no image %s afterwards", ref)
	}
	return nil
}

// readPull follows a pull's message stream to its end, turning the
// per-layer byte counts into one fraction of the whole download.
func readPull(r io.Reader, report func(detail string, fraction float64)) error {
	type layer struct{ current, total int64 }
	layers := map[string]*layer{}
	var order []string
	dec := json.NewDecoder(r)
	for {
		var m jsonmessage.JSONMessage
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("read the pull's progress: %w", err)
		}
		if m.Error != nil {
			return explainPull(errors.New(m.Error.Message))
		}
		if m.ID == "" || m.Progress == nil {
			continue
		}
		l, ok := layers[m.ID]
		if !ok {
			l = &layer{}
			layers[m.ID] = l
			order = append(order, m.ID)
		}
		switch m.Status {
		case "Downloading":
			l.current, l.total = m.Progress.Current, max(l.total, m.Progress.Total)
		case "Download complete", "Pull complete":
			l.current = l.total
		default:
			// Extracting and the like: the bytes to fetch are what a
			// presenter waits for on a conference network.
			continue
		}
		var cur, tot int64
		for _, id := range order {
			cur += layers[id].current
			tot += layers[id].total
		}
		if tot > 0 {
			report(fmt.Sprintf("%.1f/%.1f MB", float64(cur)/1e6, float64(tot)/1e6), float64(cur)/float64(tot))
		}
	}
}

// explainPull names the usual cause of a failed pull on stage: no network.
func explainPull(err error) error {
	msg := err.Error()
	switch {
	case client.IsErrNotFound(err) || strings.Contains(msg, "not found") || strings.Contains(msg, "does not exist"):
		return fmt.Errorf("the registry has no such image (%s)", firstLine(msg))
	case strings.Contains(msg, "no such host") || strings.Contains(msg, "dial tcp") || strings.Contains(msg, "timeout") ||
		strings.Contains(msg, "connection refused") || strings.Contains(msg, "network is unreachable"):
		return fmt.Errorf("the registry cannot be reached, is there no network? (%s)", firstLine(msg))
	}
	return errors.New(firstLine(msg))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// ensureSelfImage builds (once per binary) the FROM scratch image of topo
// that runs the app and the registrator.
func (d *Deployer) ensureSelfImage(ctx context.Context, r *reporter) (string, error) {
	d.selfMu.Lock()
	defer d.selfMu.Unlock()
	const key = "image self"
	if d.selfImage != "" {
		if ok, err := docker.ImageExists(ctx, d.api, d.selfImage); err == nil && ok {
			r.done(key, "image "+d.selfImage+" (app, registrator)", "present")
			return d.selfImage, nil
		}
	}
	r.start(key, "image of topo's own binary (app, registrator)")
	tag, err := docker.SelfImage(ctx, d.api, d.opts.SelfBinary)
	if err != nil {
		return "", r.fail(key, "image of topo's own binary (app, registrator)", fmt.Errorf("build the image of topo's own binary: %w", err))
	}
	d.selfImage = tag
	r.done(key, "image "+tag+" (app, registrator)", "ready")
	return tag, nil
}
