# The front door: make demo, make test, make bench, make lint.
GO      ?= go
BIN     := bin
DEMO    := .demo
BENCH   := .bench

export CGO_ENABLED := 1

.PHONY: all build assets chromium postgres demo test bench bench-tools lint clean

all: build

# ECharts for the HTML report: pinned, verified, from the npm registry. The
# one download of the build besides Go modules; the report package embeds
# report/assets/fetched-by-make-build/echarts.min.js and does not compile
# without it.
assets:
	./scripts/fetch-echarts.sh

# Debian's chromium for the report's browser test.
chromium:
	./scripts/install-chromium.sh

# Debian's PostgreSQL server and contrib (pg_trgm) for the PostgreSQL
# store's tests, which start a throwaway cluster of their own.
postgres:
	./scripts/install-postgres.sh

# Without the symbol table and DWARF, a command starts 2-3 ms sooner (about
# 100 fewer page faults); stack traces and profiles keep their names.
LDFLAGS := -s -w

build: assets
	$(GO) build -ldflags='$(LDFLAGS)' -o $(BIN)/maildiag ./cmd/maildiag
	$(GO) build -ldflags='$(LDFLAGS)' -o $(BIN)/mgsim ./cmd/mgsim

# A generated realistic account served by the local Mailgun-compatible
# server, synced, analysed and reported. No key; no network beyond `make assets`.
demo: build
	./scripts/demo.sh $(BIN) $(DEMO)

# The packages that start goroutines, in their code or their tests: their
# tests run under the race detector, the others' without it (racepkgs_test.go
# fails when a package with goroutines is missing here).
RACE_PKGS := ./analyze ./analyze/classify ./cmd/maildiag ./cmd/mgsim ./index ./index/pg ./ingest ./internal/inorder ./internal/pgtest ./mgserver ./server ./syncer
MODULE    := github.com/maildiag/maildiag
# Evaluated only when used: go list needs the module.
OTHER_PKGS = $(filter-out $(patsubst .%,$(MODULE)%,$(RACE_PKGS)),$(shell $(GO) list ./...))

# Lint, then every test once, in a fresh TMPDIR that must be empty
# afterwards (scripts/no-leftovers.sh).
test: lint chromium postgres
	./scripts/no-leftovers.sh $(GO) test -count=1 -timeout 15m -race $(RACE_PKGS)
	./scripts/no-leftovers.sh $(GO) test -count=1 -timeout 15m $(OTHER_PKGS)

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

# staticcheck, pinned, installed into the project (.tools, git-ignored) by
# the go command from the Go module proxy.
STATICCHECK_VERSION := v0.8.2
STATICCHECK         := .tools/staticcheck-$(STATICCHECK_VERSION)/staticcheck

$(STATICCHECK):
	GOBIN=$(CURDIR)/$(dir $@) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# vet and staticcheck compile the report package, which embeds ECharts.
lint: assets $(STATICCHECK)
	@unformatted=$$(gofmt -l .); \
		if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

clean:
	rm -rf $(BIN) $(DEMO)
