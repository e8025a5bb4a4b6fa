// Package traffic is the demo's load generator: it sends searches through
// the load balancer at a steady rate and summarises, over a sliding
// window, how many requests each app instance served per second, the
// error rate and the latency percentiles, so that an audience sees load
// spread to a new instance and fail over after a kill.
package traffic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Defaults of Config.
const (
	DefaultRate     = 20.0
	DefaultWindow   = 3 * time.Second
	DefaultInterval = 500 * time.Millisecond
	DefaultTimeout  = 2 * time.Second
	// MaxRate keeps a typo from turning the demo into a load test of the
	// presenter's laptop.
	MaxRate = 1000.0
)

// Config says where and how hard to send traffic.
type Config struct {
	// URL is the load balancer's base address, http://127.0.0.1:8080.
	URL string
	// Rate is requests per second; DefaultRate when zero.
	Rate float64
	// Window is how far back a snapshot looks; DefaultWindow when zero.
	Window time.Duration
	// Interval is how often a snapshot is made; DefaultInterval when zero.
	Interval time.Duration
	// Timeout bounds one request; DefaultTimeout when zero.
	Timeout time.Duration
	// MaxInFlight bounds the requests awaiting an answer, so that a stuck
	// load balancer costs a bounded number of goroutines and sockets;
	// ticks that find it full are counted as Skipped. Twice the rate, at
	// least 4, when zero.
	MaxInFlight int
	// Queries are searched in turn; a built-in list when empty.
	Queries []string
	// Client sends the requests; a client with keep-alive when nil.
	Client *http.Client
}

var defaultQueries = []string{"consul", "docker", "go", "kubernetes", "nginx", "mongo", "observability", "rust", "linux", "security"}

// CheckRate refuses a rate of requests per second traffic cannot send
// (zero means the default).
func CheckRate(rate float64) error {
	if rate < 0 || rate > MaxRate {
		return fmt.Errorf("rate %g requests/s is out of range: use more than 0 and at most %g", rate, MaxRate)
	}
	return nil
}

func (c Config) withDefaults() (Config, error) {
	if c.URL == "" {
		return c, errors.New("no load balancer URL: give one such as http://127.0.0.1:8080")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("load balancer URL %q is not an http:// address such as http://127.0.0.1:8080", c.URL)
	}
	c.URL = strings.TrimRight(c.URL, "/")
	if c.Rate == 0 {
		c.Rate = DefaultRate
	}
	if err := CheckRate(c.Rate); err != nil {
		return c, err
	}
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = max(4, int(2*c.Rate))
	}
	if len(c.Queries) == 0 {
		c.Queries = defaultQueries
	}
	if c.Client == nil {
		// One connection per request in flight, kept alive, so the
		// generator does not churn ephemeral ports at 20 req/s.
		c.Client = &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: c.MaxInFlight, MaxConnsPerHost: c.MaxInFlight, IdleConnTimeout: 30 * time.Second,
		}}
	}
	return c, nil
}

// Result is one request's outcome.
type Result struct {
	At      time.Time
	Latency time.Duration
	// Instance is the app instance that answered (X-Served-By), empty when
	// none did (a 502 from the load balancer, a refused connection).
	Instance string
	Status   int
	Err      error
}

// OK says whether the request succeeded.
func (r Result) OK() bool { return r.Err == nil && r.Status > 0 && r.Status < 400 }

// InstanceRate is one instance's share of the window.
type InstanceRate struct {
	Name      string
	Requests  int
	PerSecond float64
}

// Snapshot summarises the window that ended at At.
type Snapshot struct {
	At     time.Time
	Window time.Duration
	// Rate is the configured rate, PerSecond what was sent in the window.
	Rate      float64
	PerSecond float64
	// Offered is what the generator tried to send per second in the
	// window (sent plus Skipped ticks), Served the 2xx answers per second
	// and Failed the rest: side by side, served ≈ min(offered, capacity).
	Offered, Served, Failed float64
	Requests                int
	Errors                  int
	// ErrorRate is Errors/Requests, 0 with no requests.
	ErrorRate float64
	// Instances are sorted by name; an instance that stopped answering
	// drops out once the window has passed it.
	Instances     []InstanceRate
	P50, P95, Max time.Duration
	// Totals since the start.
	TotalRequests, TotalErrors, Skipped int64
	// LastError is the latest failure's text and LastErrorAt its time,
	// zero when none happened yet.
	LastError   string
	LastErrorAt time.Time
}

// Run sends traffic until ctx ends, delivering a snapshot every interval
// on out (a slow reader gets the newest one: stale snapshots are dropped,
// never queued). It closes out and returns once every request it started
// has finished. It returns an error only for an invalid cfg.
func Run(ctx context.Context, cfg Config, out chan<- Snapshot) error {
	defer close(out)
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	results := make(chan Result, cfg.MaxInFlight)
	agg := newAggregator(cfg)
	var wg sync.WaitGroup
	sem := make(chan struct{}, cfg.MaxInFlight)

	send := time.NewTicker(time.Duration(float64(time.Second) / cfg.Rate))
	defer send.Stop()
	report := time.NewTicker(cfg.Interval)
	defer report.Stop()
	// The newest snapshot waits in pending until the reader takes it; a
	// newer one replaces it, so a slow reader never blocks the generator
	// nor reads stale numbers. outc is nil while nothing is pending.
	var pending Snapshot
	var outc chan<- Snapshot
	i := 0
	for {
		select {
		case <-ctx.Done():
			// No request starts after this point, so Wait cannot race an
			// Add; the requests in flight end with ctx.
			go func() {
				wg.Wait()
				close(results)
			}()
			for r := range results {
				agg.add(r)
			}
			return nil
		case r := <-results:
			agg.add(r)
		case now := <-report.C:
			pending, outc = agg.snapshot(now), out
		case outc <- pending:
			outc = nil
		case <-send.C:
			select {
			case sem <- struct{}{}:
			default:
				agg.skip(time.Now())
				continue
			}
			q := cfg.Queries[i%len(cfg.Queries)]
			i++
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				r := do(ctx, cfg, q)
				if ctx.Err() != nil && r.Err != nil {
					return // cancelled by the caller, not a failure to report
				}
				results <- r
			}()
		}
	}
}

func do(ctx context.Context, cfg Config, q string) Result {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	start := time.Now()
	r := Result{At: start}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.URL+"/search?q="+url.QueryEscape(q), nil)
	if err != nil {
		r.Err = err
		return r
	}
	resp, err := cfg.Client.Do(req)
	if err != nil {
		r.Err, r.Latency = err, time.Since(start)
		return r
	}
	// Reading the body to its end lets the connection be reused.
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	r.Latency = time.Since(start)
	r.Status, r.Instance, r.Err = resp.StatusCode, resp.Header.Get("X-Served-By"), err
	return r
}

// aggregator keeps the window's results; only Run's goroutine touches it.
type aggregator struct {
	cfg     Config
	started time.Time
	window  []Result
	// skips are the times of ticks skipped for a full in-flight bound,
	// kept for the window's offered rate.
	skips   []time.Time
	total   int64
	errors  int64
	skipped int64
	lastErr string
	lastAt  time.Time
}

func newAggregator(cfg Config) *aggregator { return &aggregator{cfg: cfg, started: time.Now()} }

func (a *aggregator) add(r Result) {
	a.window = append(a.window, r)
	a.total++
	if !r.OK() {
		a.errors++
		a.lastAt = r.At.Add(r.Latency)
		switch {
		case r.Err != nil:
			a.lastErr = r.Err.Error()
		default:
			a.lastErr = fmt.Sprintf("%d %s", r.Status, http.StatusText(r.Status))
		}
	}
}

func (a *aggregator) skip(at time.Time) {
	a.skipped++
	a.skips = append(a.skips, at)
}

func (a *aggregator) snapshot(now time.Time) Snapshot {
	cut := now.Add(-a.cfg.Window)
	keep := a.window[:0]
	for _, r := range a.window {
		if !r.At.Before(cut) {
			keep = append(keep, r)
		}
	}
	a.window = keep
	skips := a.skips[:0]
	for _, at := range a.skips {
		if !at.Before(cut) {
			skips = append(skips, at)
		}
	}
	a.skips = skips
	// Early on the window is only as long as the generator has run, so
	// rates do not start low and climb for no reason.
	span := min(a.cfg.Window, now.Sub(a.started))
	if span <= 0 {
		span = a.cfg.Interval
	}
	s := Snapshot{
		At: now, Window: a.cfg.Window, Rate: a.cfg.Rate, Requests: len(keep),
		TotalRequests: a.total, TotalErrors: a.errors, Skipped: a.skipped,
		LastError: a.lastErr, LastErrorAt: a.lastAt,
	}
	per := map[string]int{}
	lat := make([]time.Duration, 0, len(keep))
	served := 0
	for _, r := range keep {
		if r.Err == nil && r.Status >= 200 && r.Status < 300 {
			served++
		}
		if !r.OK() {
			s.Errors++
		} else {
			lat = append(lat, r.Latency)
		}
		if r.Instance != "" {
			per[r.Instance]++
		}
	}
	secs := span.Seconds()
	s.PerSecond = float64(len(keep)) / secs
	s.Offered = float64(len(keep)+len(skips)) / secs
	s.Failed = float64(s.Errors) / secs
	s.Served = float64(served) / secs
	if len(keep) > 0 {
		s.ErrorRate = float64(s.Errors) / float64(len(keep))
	}
	for name, n := range per {
		s.Instances = append(s.Instances, InstanceRate{Name: name, Requests: n, PerSecond: float64(n) / secs})
	}
	sort.Slice(s.Instances, func(i, j int) bool { return s.Instances[i].Name < s.Instances[j].Name })
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		s.P50, s.P95, s.Max = percentile(lat, 0.50), percentile(lat, 0.95), lat[len(lat)-1]
	}
	return s
}

// percentile uses the nearest-rank method on sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	idx := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(idx, 0), len(sorted)-1)]
}

// Summary is a one-line account of a snapshot, for a terminal.
func (s Snapshot) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %5.1f req/s  offered %.1f served %.1f", s.At.Format("15:04:05"), s.PerSecond, s.Offered, s.Served)
	for _, in := range s.Instances {
		fmt.Fprintf(&b, "  %s %.1f", in.Name, in.PerSecond)
	}
	fmt.Fprintf(&b, "  errors %.1f%%  p50 %s  p95 %s", 100*s.ErrorRate, ms(s.P50), ms(s.P95))
	if s.Errors > 0 && s.LastError != "" {
		fmt.Fprintf(&b, "  last error: %s", s.LastError)
	}
	return b.String()
}

func ms(d time.Duration) string {
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}
