package app

import "fmt"

// Talk is one entry of the catalogue the app searches: a conference talk.
type Talk struct {
	ID      string   `bson:"_id" json:"id"`
	Title   string   `bson:"title" json:"title"`
	Speaker string   `bson:"speaker" json:"speaker"`
	Track   string   `bson:"track" json:"track"`
	Year    int      `bson:"year" json:"year"`
	Tags    []string `bson:"tags" json:"tags"`
}

// subjects and angles multiply into the catalogue's titles; every pair
// occurs once, so titles are unique without any bookkeeping.
var subjects = []struct {
	name, track string
	tags        []string
}{
	{"Consul", "Service Discovery", []string{"consul", "service-discovery"}},
	{"NGINX", "Networking", []string{"nginx", "load-balancing"}},
	{"MongoDB", "Databases", []string{"mongodb", "nosql"}},
	{"Docker", "Containers", []string{"docker", "containers"}},
	{"Kubernetes", "Containers", []string{"kubernetes", "orchestration"}},
	{"Go", "Languages", []string{"go", "golang"}},
	{"Rust", "Languages", []string{"rust"}},
	{"PostgreSQL", "Databases", []string{"postgresql", "sql"}},
	{"Prometheus", "Observability", []string{"prometheus", "metrics"}},
	{"OpenTelemetry", "Observability", []string{"opentelemetry", "tracing"}},
	{"eBPF", "Networking", []string{"ebpf", "kernel"}},
	{"WebAssembly", "Languages", []string{"wasm", "webassembly"}},
	{"Kafka", "Streaming", []string{"kafka", "events"}},
	{"gRPC", "Networking", []string{"grpc", "rpc"}},
	{"Terraform", "Infrastructure", []string{"terraform", "iac"}},
	{"Linux", "Infrastructure", []string{"linux", "kernel"}},
	{"Redis", "Databases", []string{"redis", "caching"}},
	{"Envoy", "Networking", []string{"envoy", "proxy"}},
	{"Git", "Tooling", []string{"git", "version-control"}},
	{"SQLite", "Databases", []string{"sqlite", "sql"}},
}

var angles = []struct {
	format, tag string
}{
	{"%s in Production: Lessons Learned", "production"},
	{"Zero-Downtime Deploys with %s", "deployment"},
	{"Debugging %s at 3 a.m.", "debugging"},
	{"Scaling %s to a Million Requests", "scaling"},
	{"%s from Scratch", "fundamentals"},
	{"Securing %s", "security"},
	{"Testing %s for Real", "testing"},
	{"The Hidden Costs of %s", "cost"},
	{"%s Internals Explained", "internals"},
	{"Migrating to %s without Tears", "migration"},
	{"%s Anti-Patterns We Shipped", "anti-patterns"},
	{"%s at the Edge", "edge"},
	{"Chaos Engineering for %s", "chaos"},
	{"What's New in %s", "news"},
	{"%s for the Rest of Us", "beginner"},
}

var firstNames = []string{
	"Ada", "Bruno", "Chiara", "Dmitri", "Elif", "Farah", "Gustavo", "Hana",
	"Ingrid", "Jonas", "Kemal", "Leila", "Mateo", "Noor", "Oskar", "Priya",
	"Quentin",
}

var lastNames = []string{
	"Okafor", "Lindqvist", "Moreau", "Tanaka", "Rossi", "Novak", "Haddad",
	"Fischer", "Silva", "Kowalski", "Nakamura", "Brennan", "Varga",
}

// Catalogue returns the demo's talks, the same on every call and in every
// instance: seeding relies on that, because concurrent instances insert the
// same _id values and the database keeps only the first of each.
func Catalogue() []Talk {
	n := len(subjects) * len(angles)
	talks := make([]Talk, 0, n)
	for i := range n {
		// Walking subjects fastest interleaves the tracks, so any page of
		// results mixes topics instead of listing one subject in a row.
		s := subjects[i%len(subjects)]
		a := angles[i/len(subjects)]
		tags := append([]string{}, s.tags...)
		tags = append(tags, a.tag)
		talks = append(talks, Talk{
			ID:      fmt.Sprintf("talk-%03d", i+1),
			Title:   fmt.Sprintf(a.format, s.name),
			Speaker: firstNames[(i*7)%len(firstNames)] + " " + lastNames[(i*5+i/len(firstNames))%len(lastNames)],
			Track:   s.track,
			Year:    2018 + (i*3)%8,
			Tags:    tags,
		})
	}
	return talks
}
