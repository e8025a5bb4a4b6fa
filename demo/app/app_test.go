package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/topo-dev/topo/internal/dockertest"
	"github.com/topo-dev/topo/internal/testenv"
)

func itoa(n int) string { return strconv.Itoa(n) }

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

type reply struct {
	code   int
	header http.Header
	body   map[string]any
	raw    string
}

func get(t *testing.T, u string) reply {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", u, err)
	}
	r := reply{code: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		t.Fatalf("GET %s: body is not JSON: %v\n%s", u, err, raw)
	}
	return r
}

func waitHealthy(t *testing.T, base string, within time.Duration) {
	t.Helper()
	dockertest.Eventually(t, within, func() (bool, string) {
		r := get(t, base+"/health")
		return r.code == http.StatusOK, fmt.Sprintf("/health answered %d %s", r.code, r.raw)
	})
}

func mongoURI(port int) string { return "mongodb://127.0.0.1:" + itoa(port) + "/" }

func TestCatalogueIsDeterministicAndUnique(t *testing.T) {
	a, b := Catalogue(), Catalogue()
	if len(a) < 200 || len(a) > 1000 {
		t.Fatalf("catalogue has %d talks, want a few hundred", len(a))
	}
	ids, titles := map[string]bool{}, map[string]bool{}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Title != b[i].Title || a[i].Speaker != b[i].Speaker || !slices.Equal(a[i].Tags, b[i].Tags) {
			t.Fatalf("talk %d differs between calls: %+v vs %+v", i, a[i], b[i])
		}
		if ids[a[i].ID] || titles[a[i].Title] {
			t.Fatalf("duplicate id or title: %+v", a[i])
		}
		ids[a[i].ID], titles[a[i].Title] = true, true
	}
}

func TestTwoInstancesStartedTogetherSeedOnce(t *testing.T) {
	port := freePort(t)
	startFerretDB(t, port)
	cfg := Config{MongoURI: mongoURI(port), Database: "seedonce"}
	cfg.Instance = "app-1"
	a := startApp(t, cfg)
	cfg.Instance = "app-2"
	b := startApp(t, cfg)
	waitHealthy(t, a, 20*time.Second)
	waitHealthy(t, b, 20*time.Second)

	want := len(Catalogue())
	seededA, seededB := get(t, a+"/").body["seeded"].(float64), get(t, b+"/").body["seeded"].(float64)
	if int(seededA+seededB) != want {
		t.Errorf("instances inserted %v + %v talks, want %d in total (each talk exactly once)", seededA, seededB, want)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(cfg.MongoURI))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	n, err := client.Database(cfg.Database).Collection(collectionName).CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(want) {
		t.Errorf("collection holds %d talks, want %d", n, want)
	}

	// A third instance started later finds the catalogue complete.
	cfg.Instance = "app-3"
	c := startApp(t, cfg)
	waitHealthy(t, c, 20*time.Second)
	if s := get(t, c+"/").body["seeded"].(float64); s != 0 {
		t.Errorf("late instance inserted %v talks into a full catalogue, want 0", s)
	}
}

// matches is the search's meaning, computed in Go over the catalogue.
func matches(q string) int {
	q = strings.ToLower(q)
	n := 0
	for _, talk := range Catalogue() {
		hit := strings.Contains(strings.ToLower(talk.Title), q) || strings.Contains(strings.ToLower(talk.Speaker), q)
		for _, tag := range talk.Tags {
			hit = hit || strings.Contains(strings.ToLower(tag), q)
		}
		if hit {
			n++
		}
	}
	return n
}

func TestSearch(t *testing.T) {
	port := freePort(t)
	startFerretDB(t, port)
	base := startApp(t, Config{MongoURI: mongoURI(port), Database: "search", Instance: "searcher"})
	waitHealthy(t, base, 20*time.Second)

	speaker := Catalogue()[41].Speaker
	for _, tc := range []struct {
		name, q string
		// check is called on each result.
		check func(r map[string]any) bool
	}{
		{"title word", "consul", func(r map[string]any) bool {
			return strings.Contains(strings.ToLower(r["title"].(string)+fmt.Sprint(r["tags"])), "consul")
		}},
		{"upper case", "CONSUL", nil},
		{"tag only", "service-discovery", nil},
		{"speaker", speaker, func(r map[string]any) bool { return r["speaker"] == speaker }},
		{"everything", "", nil},
		{"nothing", "no such talk anywhere", nil},
		{"regex metacharacters are literal", "3 a.m.", nil},
		{"unbalanced pattern", "c++ (", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, base+"/search?q="+url.QueryEscape(tc.q))
			if r.code != http.StatusOK {
				t.Fatalf("status %d: %s", r.code, r.raw)
			}
			if got := r.header.Get("X-Served-By"); got != "searcher" {
				t.Errorf("X-Served-By = %q, want searcher", got)
			}
			if r.body["instance"] != "searcher" || r.body["query"] != tc.q {
				t.Errorf("instance/query = %v/%v", r.body["instance"], r.body["query"])
			}
			want := matches(tc.q)
			if got := int(r.body["count"].(float64)); got != want {
				t.Errorf("count = %d, want %d", got, want)
			}
			results, ok := r.body["results"].([]any)
			if !ok {
				t.Fatalf("results is %T, want a list (empty, not null, when nothing matches)", r.body["results"])
			}
			if len(results) != min(want, defaultLimit) {
				t.Errorf("%d results, want %d", len(results), min(want, defaultLimit))
			}
			for _, res := range results {
				if tc.check != nil && !tc.check(res.(map[string]any)) {
					t.Errorf("result does not match %q: %v", tc.q, res)
				}
			}
		})
	}
	if r := get(t, base+"/search?q=go&limit=5"); len(r.body["results"].([]any)) != 5 {
		t.Errorf("limit=5 gave %d results", len(r.body["results"].([]any)))
	}
	if r := get(t, base+"/search?limit=0"); r.code != http.StatusBadRequest {
		t.Errorf("limit=0 answered %d, want 400", r.code)
	}
}

func TestHealthTurnsOKWhenTheDatabaseAppearsLater(t *testing.T) {
	ferretDBBinary(t) // skip before starting anything
	port := freePort(t)
	base := startApp(t, Config{MongoURI: mongoURI(port), Database: "late", Instance: "early-bird"})

	for _, path := range []string{"/health", "/search?q=go"} {
		r := get(t, base+path)
		if r.code != http.StatusServiceUnavailable {
			t.Fatalf("%s without a database answered %d, want 503: %s", path, r.code, r.raw)
		}
		if r.body["instance"] != "early-bird" || r.header.Get("X-Served-By") != "early-bird" {
			t.Errorf("%s does not name the instance: %v %v", path, r.body, r.header)
		}
	}
	if r := get(t, base+"/health"); r.body["reason"] == "" || r.body["reason"] == nil {
		t.Errorf("503 without a reason: %s", r.raw)
	}

	started := time.Now()
	startFerretDB(t, port)
	waitHealthy(t, base, 15*time.Second)
	t.Logf("healthy %v after the database started", time.Since(started).Round(time.Millisecond))
	if r := get(t, base+"/search?q=go"); r.code != http.StatusOK {
		t.Errorf("search after recovery answered %d: %s", r.code, r.raw)
	}
}

func TestInstanceNameDefaultsToHostname(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		testenv.Missing(t, "no hostname: %v", err)
	}
	base := startApp(t, Config{MongoURI: mongoURI(freePort(t))})
	r := get(t, base+"/")
	if r.body["instance"] != host || r.header.Get("X-Served-By") != host {
		t.Errorf("instance = %v, X-Served-By = %q, want the hostname %q", r.body["instance"], r.header.Get("X-Served-By"), host)
	}
	if r := get(t, base+"/nowhere"); r.code != http.StatusNotFound || r.body["instance"] != host {
		t.Errorf("unknown path answered %d %s", r.code, r.raw)
	}
}

// An instance being scaled down must finish the request it is serving:
// the load balancer has already sent it.
func TestShutdownFinishesInFlightRequest(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	inHandler, release := make(chan struct{}), make(chan struct{})
	cfg := Config{MongoURI: mongoURI(freePort(t)), Instance: "leaving"}
	cfg.wrap = func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/slow" {
				close(inHandler)
				<-release
				r.URL.Path = "/"
			}
			h.ServeHTTP(w, r)
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, cfg, testLogger(t)) }()

	type result struct {
		r   reply
		err error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		slow <- result{r: reply{code: resp.StatusCode, header: resp.Header, raw: string(raw)}}
	}()
	<-inHandler
	cancel()
	// Shutdown has begun once the listener refuses new connections.
	dockertest.Eventually(t, 5*time.Second, func() (bool, string) {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 200*time.Millisecond)
		if err != nil {
			return true, ""
		}
		c.Close()
		return false, "listener still accepting after cancel"
	})
	select {
	case err := <-done:
		t.Fatalf("Serve returned (%v) while a request was in flight", err)
	default:
	}
	close(release)
	res := <-slow
	if res.err != nil {
		t.Fatalf("in-flight request lost: %v", res.err)
	}
	if res.r.code != http.StatusOK || res.r.header.Get("X-Served-By") != "leaving" {
		t.Errorf("in-flight request answered %d by %q: %s", res.r.code, res.r.header.Get("X-Served-By"), res.r.raw)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(testenv.Patience(5 * time.Second)):
		t.Fatal("Serve did not return after the last request finished")
	}
}

// Instances scaled up together race to seed; the fixed _id values make the
// database keep each talk once, and every racer must count a duplicate as
// success rather than fail and retry forever.
func TestConcurrentSeedInsertsEachTalkOnce(t *testing.T) {
	port := freePort(t)
	startFerretDB(t, port)
	const racers = 4
	stores := make([]*store, racers)
	for i := range stores {
		st, err := openStore(mongoURI(port), "race")
		if err != nil {
			t.Fatal(err)
		}
		defer st.close()
		if err := st.ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		stores[i] = st
	}
	start := make(chan struct{})
	type result struct {
		n   int
		err error
	}
	results := make(chan result, racers)
	for _, st := range stores {
		go func() {
			<-start
			n, err := st.seed(context.Background())
			results <- result{n, err}
		}()
	}
	close(start)
	total := 0
	for range racers {
		r := <-results
		if r.err != nil {
			t.Errorf("seed: %v", r.err)
		}
		t.Logf("a racer inserted %d talks", r.n)
		total += r.n
	}
	if want := len(Catalogue()); total != want {
		t.Errorf("racers inserted %d talks in total, want %d", total, want)
	}
	n, err := stores[0].talks.CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(Catalogue())) {
		t.Errorf("collection holds %d talks, want %d", n, len(Catalogue()))
	}

	// A half-seeded catalogue (an instance killed mid-seed) is completed:
	// the talks present fail as duplicates, the missing ones go in.
	del, err := stores[0].talks.DeleteMany(context.Background(), bson.D{{Key: "year", Value: 2020}})
	if err != nil || del.DeletedCount == 0 {
		t.Fatalf("delete some talks: %v (%+v)", err, del)
	}
	got, err := stores[1].seed(context.Background())
	if err != nil {
		t.Fatalf("seed a half-seeded catalogue: %v", err)
	}
	if got != int(del.DeletedCount) {
		t.Errorf("re-seed inserted %d talks, want the %d missing", got, del.DeletedCount)
	}
}
