# setpoint: the one place commands live. `make test` is what CI runs.
GO ?= go
TEST_TIMEOUT ?= 14m

.PHONY: all test vet deps demo bench fmt fuzz generate

all: test

deps:
	bash scripts/install-deps.sh

vet:
	$(GO) vet ./...

# vet, then every test under the race detector with real etcd and containerd.
test: deps vet
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

demo: deps
	$(GO) run ./examples/demo

bench: deps
	cd bench && $(GO) run . $(BENCH_FLAGS)

# regenerate generated code (the API types: examples/internal/apigen; deep
# copies: cmd/deepcopy-gen).
generate:
	$(GO) generate ./...

fmt:
	gofmt -w $$(git ls-files '*.go')
