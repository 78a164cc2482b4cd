# setpoint: the one place commands live. `make test` is what CI runs.
GO ?= go
TEST_TIMEOUT ?= 14m

.PHONY: all test vet deps demo bench fmt fuzz

all: test

deps:
	bash scripts/install-deps.sh

vet:
	$(GO) vet ./...

# vet, then every test under the race detector with real etcd and containerd.
test: deps vet
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

demo:
	$(GO) run ./examples/demo

bench: deps
	cd bench && $(GO) run . $(BENCH_FLAGS)

fmt:
	gofmt -w $$(git ls-files '*.go')
