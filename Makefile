# The front door: make demo, make test, make bench, make lint.
GO      ?= go
BIN     := bin
DEMO    := .demo
BENCH   := .bench

export CGO_ENABLED := 1

.PHONY: all build assets chromium demo test bench bench-tools lint clean

all: build

# ECharts for the HTML report: pinned, verified, from the npm registry.
assets:
	./scripts/fetch-echarts.sh

# Debian's chromium for the report's browser test.
chromium:
	./scripts/install-chromium.sh

# Without the symbol table and DWARF, a command starts 2-3 ms sooner (about
# 100 fewer page faults); stack traces and profiles keep their names.
LDFLAGS := -s -w

# The binary embeds ECharts at compile time.
build: assets
	$(GO) build -ldflags='$(LDFLAGS)' -o $(BIN)/maildiag ./cmd/maildiag
	$(GO) build -ldflags='$(LDFLAGS)' -o $(BIN)/mgsim ./cmd/mgsim

# A generated realistic account served by the local Mailgun-compatible
# server, synced, analysed and reported. No key, no network.
demo: build
	./scripts/demo.sh $(BIN) $(DEMO)

test: assets chromium
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

# jq and the sqlite3 shell are the baselines the benchmarks compare against.
bench-tools:
	@command -v jq >/dev/null && command -v sqlite3 >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq jq sqlite3 >/dev/null)

# make bench BASE=<git ref> also builds that ref and times it beside this
# build, alternating, and prints every figure of both (A/B).
BASE ?=

bench: build bench-tools
	@if [ -n "$(BASE)" ]; then ./scripts/build-base.sh "$(BASE)" $(BENCH)/base; fi
	$(GO) run ./bench -bin $(BIN) -dir $(BENCH) $(if $(BASE),-base $(BENCH)/base)

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
		if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@if command -v staticcheck >/dev/null; then staticcheck ./...; else echo "staticcheck not installed: skipped"; fi

clean:
	rm -rf $(BIN) $(DEMO)
