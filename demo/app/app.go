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
	// ShutdownTimeout bounds how long in-flight requests may take to finish
	// after the context is cancelled; 10 s when zero.
	ShutdownTimeout time.Duration

	// wrap, when set by a test, wraps the app's handler, so that a test can
	// hold a request in flight across a shutdown.
	wrap func(http.Handler) http.Handler
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

	s := &server{cfg: cfg, log: log, store: st, started: time.Now()}
	s.setNotReady("connecting to the database")

	bg, stopBackground := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopBackground()
	wg.Go(func() { s.prepareDatabase(bg) })

	handler := s.routes()
	if cfg.wrap != nil {
		handler = cfg.wrap(handler)
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "instance", cfg.Instance, "database", cfg.Database)

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
	cfg     Config
	log     *slog.Logger
	store   *store
	started time.Time
	// notReady is the reason the database cannot be used yet, or nil once
	// it is connected and seeded.
	notReady atomic.Pointer[string]
	// seeded counts the talks this instance inserted; instances seeding
	// together split the catalogue between them.
	seeded atomic.Int64
}

func (s *server) setNotReady(reason string) { s.notReady.Store(&reason) }

func (s *server) unavailable() (string, bool) {
	if r := s.notReady.Load(); r != nil {
		return *r, true
	}
	return "", false
}

// prepareDatabase retries until the database answers and the catalogue is
// seeded, doubling its wait up to a few seconds so that a database started
// late is picked up quickly without the app hammering a missing host.
func (s *server) prepareDatabase(ctx context.Context) {
	const maxWait = 3 * time.Second
	wait := 100 * time.Millisecond
	lastErr := ""
	for {
		err := s.tryPrepare(ctx)
		if err == nil {
			s.notReady.Store(nil)
			s.log.Info("database ready", "instance", s.cfg.Instance, "seeded", s.seeded.Load())
			return
		}
		if ctx.Err() != nil {
			return
		}
		s.setNotReady(err.Error())
		// Log a changed reason only, not every attempt of an outage.
		if err.Error() != lastErr {
			s.log.Warn("database not ready, retrying", "err", err)
			lastErr = err.Error()
		}
		select {
		case <-ctx.Done():
			return
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
	return err
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleIndex)
	mux.HandleFunc("GET /health", s.handleHealth)
	mux.HandleFunc("GET /search", s.handleSearch)
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
		"service":   "topo demo catalogue",
		"database":  s.cfg.Database,
		"status":    status,
		"started":   s.started.UTC().Format(time.RFC3339),
		"seeded":    s.seeded.Load(),
		"endpoints": []string{"/search?q=", "/health"},
	})
}

func (s *server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if reason, ok := s.unavailable(); ok {
		s.writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "reason": reason})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.ping(ctx); err != nil {
		s.writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "reason": err.Error()})
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
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
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	count, results, err := s.store.search(ctx, q, limit)
	if err != nil {
		s.writeJSON(w, http.StatusServiceUnavailable, map[string]any{"query": q, "error": err.Error()})
		return
	}
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
