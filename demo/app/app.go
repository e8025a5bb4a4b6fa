// Package app is the demo's REST service: it searches a catalogue of
// conference talks kept in MongoDB (FerretDB in tests) and names, in every
// response, the instance that served it, so that an audience watching the
// load balancer can see which container answered.
package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for the zero fields of Config.
const (
	DefaultListen   = ":8080"
	DefaultMongoURI = "mongodb://mongo:27017"
	DefaultDatabase = "catalogue"
	// An instance serves DefaultConcurrency requests at once, each taking
	// DefaultServiceTime: 20 requests a second. Three instances (the
	// demo's start) serve 60, three times the traffic generator's default
	// 20, and one instance is overloaded by 30.
	DefaultConcurrency = 2
	DefaultServiceTime = 100 * time.Millisecond
	// DefaultRefresh is how often an instance rereads the catalogue.
	DefaultRefresh = 10 * time.Second
)

// Config says where the app listens and which database it uses.
type Config struct {
	// Listen is the HTTP listen address, DefaultListen when empty.
	Listen string
	// MongoURI names the database server, DefaultMongoURI when empty.
	MongoURI string
	// Database holds the catalogue, DefaultDatabase when empty.
	Database string
	// Instance names this instance in every response; the hostname when
	// empty, which in Docker is the short container ID.
	Instance string
	// Concurrency is how many requests an instance serves at once,
	// DefaultConcurrency when zero.
	Concurrency int
	// Queue is how many more requests may wait for one of those; beyond
	// it a request is refused at once with 503. Concurrency when zero;
	// negative means no queue.
	Queue int
	// ServiceTime is how long each search holds its slot, so that an
	// instance serves Concurrency/ServiceTime requests a second whatever
	// the machine; DefaultServiceTime when zero, none when negative.
	ServiceTime time.Duration
	// Refresh is how often the in-memory catalogue is reread from the
	// database; DefaultRefresh when zero.
	Refresh time.Duration
	// ShutdownTimeout bounds how long in-flight requests may take to finish
	// after the context is cancelled; 10 s when zero.
	ShutdownTimeout time.Duration

	// wrap, when set by a test, wraps the app's handler, so that a test can
	// hold a request in flight across a shutdown.
	wrap func(http.Handler) http.Handler
	// now and sleep are the clock; a test replaces them to hold a request
	// in its slot for as long as it likes.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration)
}

// Capacity is the requests per second one instance serves at most, or 0
// when it has no service time (then the machine sets it).
func (c Config) Capacity() float64 {
	c = c.withDefaults()
	if c.ServiceTime <= 0 {
		return 0
	}
	return float64(c.Concurrency) / c.ServiceTime.Seconds()
}

func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.MongoURI == "" {
		c.MongoURI = DefaultMongoURI
	}
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.Instance == "" {
		if h, err := os.Hostname(); err == nil && h != "" {
			c.Instance = h
		} else {
			c.Instance = "unknown"
		}
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	switch {
	case c.Queue == 0:
		c.Queue = c.Concurrency
	case c.Queue < 0:
		c.Queue = 0
	}
	switch {
	case c.ServiceTime == 0:
		c.ServiceTime = DefaultServiceTime
	case c.ServiceTime < 0:
		c.ServiceTime = 0
	}
	if c.Refresh <= 0 {
		c.Refresh = DefaultRefresh
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	return c
}

// Run listens on cfg.Listen and serves until ctx is cancelled; see Serve.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	cfg = cfg.withDefaults()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	return Serve(ctx, ln, cfg, log)
}

// Serve answers HTTP on ln until ctx is cancelled, then stops accepting,
// lets in-flight requests finish (up to cfg.ShutdownTimeout) and returns
// nil. Meanwhile it connects to the database in the background, retrying
// with a capped backoff, and seeds the catalogue once connected; until then
// /health and /search answer 503 with the reason.
func Serve(ctx context.Context, ln net.Listener, cfg Config, log *slog.Logger) error {
	cfg = cfg.withDefaults()
	st, err := openStore(cfg.MongoURI, cfg.Database)
	if err != nil {
		ln.Close()
		return err
	}
	defer st.close()

	s := newServer(cfg, log, st)
	s.store = st
	s.setNotReady("connecting to the database")

	bg, stopBackground := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopBackground()
	wg.Go(func() {
		if !s.prepareDatabase(bg) {
			return
		}
		refresh := time.NewTicker(cfg.Refresh)
		defer refresh.Stop()
		s.refreshLoop(bg, refresh.C)
	})

	handler := s.routes()
	if cfg.wrap != nil {
		handler = cfg.wrap(handler)
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "instance", cfg.Instance, "database", cfg.Database,
		"concurrency", cfg.Concurrency, "queue", cfg.Queue, "service_time", cfg.ServiceTime, "capacity_per_s", cfg.Capacity())

	select {
	case err := <-served:
		return fmt.Errorf("serve http on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	// Shutdown closes the listener at once, so the load balancer's next
	// attempt goes elsewhere, and waits for requests already being served.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	log.Info("shutting down", "instance", cfg.Instance)
	if err := hs.Shutdown(shutdownCtx); err != nil {
		hs.Close()
		<-served
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	<-served
	return nil
}

// server holds the state shared by the handlers.
type server struct {
	cfg   Config
	log   *slog.Logger
	store *store
	// source is where the catalogue is read from: store, or a fake.
	source  talkSource
	limiter *limiter
	started time.Time
	// notReady is the reason searches cannot be answered yet, or nil once
	// the catalogue was loaded.
	notReady atomic.Pointer[string]
	// seeded counts the talks this instance inserted; instances seeding
	// together split the catalogue between them.
	seeded atomic.Int64
	// catalogue is the copy searches read, nil until first loaded.
	catalogue atomic.Pointer[catalogueCopy]
	// refreshErr is why the last refresh failed, nil when it worked.
	refreshErr atomic.Pointer[string]
	// rejected counts requests turned away at capacity.
	rejected atomic.Int64
}

// newServer holds cfg (with its defaults) and reads the catalogue from src.
func newServer(cfg Config, log *slog.Logger, src talkSource) *server {
	cfg = cfg.withDefaults()
	return &server{cfg: cfg, log: log, source: src, limiter: newLimiter(cfg.Concurrency, cfg.Queue), started: cfg.now()}
}

func (s *server) setNotReady(reason string) { s.notReady.Store(&reason) }

func (s *server) unavailable() (string, bool) {
	if r := s.notReady.Load(); r != nil {
		return *r, true
	}
	return "", false
}

// prepareDatabase retries until the database answers, the catalogue is
// seeded and this instance holds its copy, doubling its wait up to a few seconds so that a database started
// late is picked up quickly without the app hammering a missing host.
func (s *server) prepareDatabase(ctx context.Context) bool {
	const maxWait = 3 * time.Second
	wait := 100 * time.Millisecond
	lastErr := ""
	for {
		err := s.tryPrepare(ctx)
		if err == nil {
			s.notReady.Store(nil)
			s.log.Info("catalogue loaded", "instance", s.cfg.Instance, "seeded", s.seeded.Load())
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		s.setNotReady(err.Error())
		// Log a changed reason only, not every attempt of an outage.
		if err.Error() != lastErr {
			s.log.Warn("database not ready, retrying", "err", err)
			lastErr = err.Error()
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, maxWait)
	}
}

func (s *server) tryPrepare(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.store.ping(ctx); err != nil {
		return err
	}
	s.setNotReady("seeding the catalogue")
	n, err := s.store.seed(ctx)
	s.seeded.Add(int64(n))
	if err != nil {
		return err
	}
	s.setNotReady("loading the catalogue")
	return s.refresh(ctx)
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleIndex)
	mux.HandleFunc("GET /health", s.handleHealth)
	// /health is outside the limiter on purpose: an instance at capacity
	// is busy, not broken, and must stay in the load balancer.
	mux.HandleFunc("GET /search", s.limit(s.handleSearch))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeJSON(w, http.StatusNotFound, map[string]any{"error": "not found: try /search?q=consul"})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Set before any handler runs so that even the mux's own 405
		// replies say who served them.
		w.Header().Set("X-Served-By", s.cfg.Instance)
		mux.ServeHTTP(w, r)
	})
}

func (s *server) handleIndex(w http.ResponseWriter, r *http.Request) {
	status := "ready"
	if reason, ok := s.unavailable(); ok {
		status = reason
	}
	s.writeJSON(w, http.StatusOK, map[string]any{
		"service":  "topo demo catalogue",
		"database": s.cfg.Database,
		"status":   status,
		"started":  s.started.UTC().Format(time.RFC3339),
		"seeded":   s.seeded.Load(),
		"capacity": map[string]any{
			"concurrency": s.cfg.Concurrency, "queue": s.cfg.Queue,
			"service_time": s.cfg.ServiceTime.String(), "per_second": s.cfg.Capacity(),
			"rejected": s.rejected.Load(),
		},
		"endpoints": []string{"/search?q=", "/health"},
	})
}

func (s *server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if reason, ok := s.unavailable(); ok {
		s.writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "reason": reason})
		return
	}
	// Healthy means able to answer searches: the instance holds a copy of
	// the catalogue. A failed refresh is reported but keeps it healthy,
	// since the copy it holds still serves.
	c := s.catalogue.Load()
	if c == nil {
		s.writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "reason": "the catalogue was never loaded"})
		return
	}
	body := map[string]any{"status": "ok", "talks": len(c.talks), "loaded": c.loaded.UTC().Format(time.RFC3339)}
	if e := s.refreshErr.Load(); e != nil {
		body["refresh_error"] = *e
	}
	s.writeJSON(w, http.StatusOK, body)
}

// maxLimit bounds ?limit= so one request cannot ask for the whole catalogue
// and skew a latency graph.
const (
	defaultLimit = 20
	maxLimit     = 100
)

func (s *server) handleSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	limit := defaultLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			s.writeJSON(w, http.StatusBadRequest, map[string]any{"error": fmt.Sprintf("limit must be a number from 1 to %d", maxLimit)})
			return
		}
		limit = n
	}
	if reason, ok := s.unavailable(); ok {
		s.writeJSON(w, http.StatusServiceUnavailable, map[string]any{"query": q, "error": reason})
		return
	}
	c := s.catalogue.Load()
	if c == nil {
		s.writeJSON(w, http.StatusServiceUnavailable, map[string]any{"query": q, "error": "the catalogue was never loaded"})
		return
	}
	count, results := c.search(q, limit)
	s.writeJSON(w, http.StatusOK, map[string]any{"query": q, "count": count, "results": results})
}

// writeJSON adds the instance to every body, so a response read without
// its headers (curl in a loop on stage) still names who served it.
func (s *server) writeJSON(w http.ResponseWriter, code int, body map[string]any) {
	body["instance"] = s.cfg.Instance
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if err := json.NewEncoder(w).Encode(body); err != nil {
		// The client went away; nothing useful is left to do.
		s.log.Debug("write response", "err", err)
	}
}
