# setpoint: the one place commands live. `make test` is what CI runs.
GO ?= go
TEST_TIMEOUT ?= 14m

.PHONY: all test vet deps demo demo-multicluster bench scale fmt fuzz generate

all: test

deps:
	bash scripts/install-deps.sh

vet:
	$(GO) vet ./...

# vet, then every test under the race detector with real etcd and containerd;
# then the 500-node simulation, without the race detector (too slow under it;
# its file is built only without -race), at 6 pods per node (3,000 pods, about
# a minute) to keep this target under 20 minutes. Its full size, 500 nodes and
# 15,000 pods (about 4 minutes on 2 cores), is the test's default:
#   go test -run '^TestSimulationConverges$$' ./examples/cluster/clustertest/
test: deps vet
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) -run '^TestSimulationConverges$$' ./examples/cluster/clustertest/ -args -sim-pods-per-node=6

demo: deps
	$(GO) run ./examples/demo

# a parent with the multi-cluster hub and two child clusters in network
# namespaces, reached only through their agents' tunnels (see README,
# "Multi-cluster"); about a minute.
demo-multicluster: deps
	$(GO) run ./examples/demo/multicluster

bench: deps
	cd bench && $(GO) run . $(BENCH_FLAGS)

# the scale report: SCALE_NODES simulated nodes running SCALE_PODS_PER_NODE
# pods each against a control plane in a process of its own; prints the
# figures and writes them with a plot of the control plane's CPU and memory
# to SCALE_REPORT (see README, "Scale").
SCALE_NODES ?= 500
SCALE_PODS_PER_NODE ?= 30
SCALE_REPORT ?= scale-report
SCALE_FLAGS ?=
scale:
	$(GO) build -o bin/setpoint ./examples/cmd/setpoint
	bin/setpoint sim --control-plane process --nodes $(SCALE_NODES) --pods-per-node $(SCALE_PODS_PER_NODE) \
		--namespaces 100 --report $(SCALE_REPORT) --exit $(SCALE_FLAGS)

# regenerate generated code (the API types: examples/internal/apigen; deep
# copies: cmd/deepcopy-gen).
generate:
	$(GO) generate ./...

fmt:
	gofmt -w $$(git ls-files '*.go')
