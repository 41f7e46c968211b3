# certgate developer entry points. `make test` runs scripts/test, which is what CI runs (.ci/run):
# it installs the test tools, then lints, runs the unit tests with the race
# detector and the integration tests against the built binary.

GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

# staticcheck is installed by scripts/install-test-deps with `go install`.
GOBIN := $(or $(shell $(GO) env GOBIN),$(shell $(GO) env GOPATH)/bin)
export PATH := $(GOBIN):$(PATH)

.PHONY: test deps lint unit integration build bench run

# test is scripts/test, the README's test command and what .ci/run runs.
test:
	scripts/test

deps:
	scripts/install-test-deps

lint:
	@unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then echo "gofmt -l: not formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./integration/...
	staticcheck ./...
	staticcheck -tags integration ./integration/...

unit:
	$(GO) test -race -count=1 ./...

integration:
	$(GO) test -count=1 -tags integration -timeout 15m ./integration/...

build:
	$(GO) build -ldflags "$(LDFLAGS)" ./cmd/certgate

bench:
	$(GO) test -run XXX -bench . ./...

run:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/certgate serve
