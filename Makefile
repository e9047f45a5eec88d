# elt: every target builds with the duckdb_arrow tag, which turns on the DuckDB
# driver's Arrow interface (batches enter DuckDB as Arrow, not row by row).
GO       ?= go
TAGS     := duckdb_arrow
GOFLAGS  += -tags=$(TAGS)
export GOFLAGS
export CGO_ENABLED := 1

BENCH_RECORDS ?= 1000000

.PHONY: all build test demo bench vet fmt clean

all: build

build:
	$(GO) build -o bin/elt ./cmd/elt

# The one test command: what CI runs and the README gives.
test:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

# Sync the built-in demo API into ./demo.duckdb and show what landed.
demo: build
	./bin/elt demo

# Sync BENCH_RECORDS generated records from a local API into DuckDB through the CLI,
# measure rows/s and peak RSS, and compare with DuckDB's own read_json on the same
# records. Then the micro-benchmarks of the hot paths.
bench: build
	$(GO) run ./cmd/eltbench -elt bin/elt -records $(BENCH_RECORDS)
	$(GO) test -run '^$$' -bench . -benchmem ./extract ./normalize ./demoapi

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin .bench demo.duckdb demo.duckdb.wal
