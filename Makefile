# topo's entry points. `make run` and `make test` do all set-up themselves,
# on a fresh machine too (see README.md).

GO ?= go
BIN := bin/topo
# Static, so the same binary can run inside FROM scratch images (probe,
# demo app, registrator).
export CGO_ENABLED := 0

.PHONY: run build test test-go check bench bench-1000 bench-swarm consul test-images clean

run: build
	./$(BIN)

build:
	$(GO) build -trimpath -o $(BIN) .

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

# The same at 1,000 containers (BENCHMARKS-1000.md; minutes to set up).
bench-1000: build
	./scripts/ensure-engine.sh
	./scripts/bench.sh --containers 1000

# The swarm targets against a real 3-node swarm with 100 tasks (about 2
# minutes, plus the node image's first build).
bench-swarm:
	./scripts/ensure-engine.sh
	./scripts/bench-swarm.sh

consul:
	./scripts/consul.sh

test-images:
	@./scripts/test-images.sh

clean:
	rm -rf bin
