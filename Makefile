# The front door: make demo, make test, make bench, make lint.
GO      ?= go
BIN     := bin
DEMO    := .demo
BENCH   := .bench

export CGO_ENABLED := 1

.PHONY: all build demo test bench bench-tools lint clean

all: build

build:
	$(GO) build -o $(BIN)/maildiag ./cmd/maildiag
	$(GO) build -o $(BIN)/mgsim ./cmd/mgsim

# A generated realistic account, imported and examined. No key, no network.
demo: build
	./scripts/demo.sh $(BIN) $(DEMO)

test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

# jq and the sqlite3 shell are the baselines the benchmarks compare against.
bench-tools:
	@command -v jq >/dev/null && command -v sqlite3 >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq jq sqlite3 >/dev/null)

bench: build bench-tools
	$(GO) run ./bench -bin $(BIN) -dir $(BENCH)

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
		if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@if command -v staticcheck >/dev/null; then staticcheck ./...; else echo "staticcheck not installed: skipped"; fi

clean:
	rm -rf $(BIN) $(DEMO)
