# topo's entry points. `make run` and `make test` do all set-up themselves,
# on a fresh machine too (see README.md).

GO ?= go
BIN := bin/topo
# Static, so the same binary can run inside FROM scratch images (probe,
# demo app, registrator).
export CGO_ENABLED := 0

.PHONY: run build dist test test-go check bench bench-1000 bench-capacity bench-swarm faults consul test-images clean

# The version `topo --version` prints; the commit and Go version come from
# the binary's build information. -buildvcs=auto stamps the commit even
# where GOFLAGS turns it off (inside a git worktree Go finds no repository
# and stamps none).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
DIST_TARGETS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64

run: build
	./$(BIN)

build:
	$(GO) build -buildvcs=auto -trimpath -o $(BIN) .

# Static binaries for every platform a presenter may carry, with checksums
# (verify with: cd dist && sha256sum -c SHA256SUMS).
dist:
	rm -rf dist && mkdir -p dist
	set -e; for t in $(DIST_TARGETS); do \
		os=$${t%/*}; arch=$${t#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "dist/topo-$$os-$$arch$$ext"; \
		GOOS=$$os GOARCH=$$arch $(GO) build -buildvcs=auto -trimpath -ldflags='$(LDFLAGS)' -o dist/topo-$$os-$$arch$$ext .; \
	done
	cd dist && sha256sum topo-* > SHA256SUMS

# Everything the tests need is built or started here, then the whole suite
# runs against the real engine, a real Consul agent and local images, with a
# bystander project it must leave untouched (scripts/run-tests.sh); the run
# ends with a line counting passed, failed and skipped tests.
test: check
	./scripts/ensure-engine.sh
	./scripts/consul.sh >/dev/null
	./scripts/ferretdb.sh >/dev/null
	./scripts/run-tests.sh

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: the files above need formatting"; exit 1; }
	$(GO) vet ./...

bench: build
	./scripts/ensure-engine.sh
	./scripts/bench.sh

# The demo's served rate against offered load at 1, 2 and 4 app instances
# (a few minutes); writes its section of BENCHMARKS.md.
bench-capacity:
	./scripts/ensure-engine.sh
	./scripts/bench-capacity.sh

# The same at 1,000 containers (BENCHMARKS-1000.md; minutes to set up).
bench-1000: build
	./scripts/ensure-engine.sh
	./scripts/bench.sh --containers 1000

# The swarm targets against a real 3-node swarm with 100 tasks (about 2
# minutes, plus the node image's first build).
bench-swarm:
	./scripts/ensure-engine.sh
	./scripts/bench-swarm.sh

# Fault figures (RELIABILITY.md): topo against a Docker-in-Docker engine
# the script owns, restarted, flooded with events, its registry killed.
faults: build
	./scripts/ensure-engine.sh
	./scripts/consul.sh >/dev/null
	./scripts/faults.sh

consul:
	./scripts/consul.sh

test-images:
	@./scripts/test-images.sh

clean:
	rm -rf bin dist
