# inv: build, run, test, benchmark and fuzz.
GO       ?= go
BIN      := bin
PKGS     := ./...
FUZZTIME ?= 30s

.PHONY: all build run test bench fuzz vet clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

# The engine on its embedded default: one node, data in ./inv-data,
# protocol on 127.0.0.1:7420, HTTP (metrics, health) on 127.0.0.1:7421.
run: build
	$(BIN)/invd

vet:
	$(GO) vet $(PKGS)
	$(GO) vet -tags failpoints $(PKGS)

# Everything under the race detector; then the failpoint tests, whose invd
# is built with -tags failpoints (internal/failpoint, docs/adr/0060). The
# engine's randomized model run is in the first step in its short form
# (80,000 commands under the race detector); its long form (over a million)
# is in make test-faults with the other long runs. The commands the
# end-to-end tests start are built once, here, into $(TESTBIN) and
# $(TESTBIN)-failpoints: each package's TestMain takes them from
# INV_TEST_BIN (internal/invdtest) and invtest from INV_INVD, instead of
# each linking its own race-enabled invd.
TESTBIN := $(abspath $(BIN))/race
# GORACE: a race-enabled process sleeps a second before it exits unless
# told otherwise (internal/invdtest/env.go says why that is safe here).
RACEENV := GORACE="$(strip $(GORACE) atexit_sleep_ms=0)"
TESTENV  = $(RACEENV) INV_TEST_BIN=$(TESTBIN) INV_INVD=$(TESTBIN)/invd
test: vet test-bin
	$(TESTENV) $(GO) test -race -count=1 -timeout 15m $(PKGS)
	$(RACEENV) INV_TEST_BIN=$(TESTBIN)-failpoints $(GO) test -race -count=1 -timeout 10m -tags failpoints ./internal/failpoint/
	$(RACEENV) INV_TEST_BIN=$(TESTBIN)-failpoints $(GO) test -race -count=1 -timeout 10m -tags failpoints -run 'TestFailpoint|TestInvdFailpoint' ./internal/clustertest/

.PHONY: test-bin
test-bin:
	$(GO) build -race -o $(TESTBIN)/ ./cmd/invd ./cmd/invctl ./cmd/invbench
	$(GO) build -race -tags failpoints -o $(TESTBIN)-failpoints/ ./cmd/invd

bench:
	$(GO) test -run XXX -bench . -benchmem ./engine/ ./protocol/ ./raftstore/

# Each fuzz target for FUZZTIME (go test -fuzz takes one target at a time).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run XXX -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

clean:
	rm -rf $(BIN)

# The reference workloads against inv (a fresh invd per workload) and against
# the peers (invbench --target, package bench/peers; as root it apt-installs
# Redis, etcd and PostgreSQL where missing and starts each on loopback), one
# after the other on this machine, then the side-by-side table. Env: SCALE
# (10), CONNS (64), INFLIGHT (16), TIMEOUT (60s), PEERS ("redis-always
# postgres"), INV (1), WORKLOADS (all three), OUT (keep results).
.PHONY: bench-peers
bench-peers:
	bash bench/peers.sh

# A 3-node cluster on loopback (scripts/cluster.sh): node 1 on the default
# 127.0.0.1:7420 (HTTP 7421), nodes 2 and 3 on 7422 and 7424; data, logs and
# pids under ./inv-cluster/. make cluster-stop ends it (SIGTERM).
.PHONY: cluster cluster-stop test-faults
cluster: build
	BIN=$(BIN) bash scripts/cluster.sh start

cluster-stop:
	bash scripts/cluster.sh stop

# The long runs, which make test runs in their short forms: the random
# fault run (kills, restarts, partitions of a minority with the hot leader
# on 5 nodes or more, delays and drops on a cluster of FAULT_NODES (3) under
# load for FAULTS (5m), printing every fault and check) with the short
# cluster fault tests beside it; then the engine's randomized model run at
# full length (over a million commands) without the race detector, where it
# runs ten times faster.
FAULTS      ?= 5m
FAULT_NODES ?= 3
test-faults:
	INV_FAULTS=$(FAULTS) INV_FAULT_NODES=$(FAULT_NODES) $(GO) test -count=1 -v -timeout 0 -run 'TestFaultsLong|TestFailover|TestFiveNodes|TestClusterTopology' ./internal/clustertest/
	$(GO) test -count=1 -timeout 20m -run 'TestModel' ./engine/

# One invd at scale (cmd/invscale, docs/BENCHMARKS.md "Scale"): loads
# SCALE_ITEMS items (6,000,000) through pipelined puts, holds a share of
# them, snapshots every shard under load, restarts, and prints one JSON
# line of bytes per item, load rate, snapshot durations and stalls, reserve
# latency during the snapshots and restart-to-ready time. Not part of test.
SCALE_ITEMS ?= 6000000
SCALE_ARGS  ?=
.PHONY: test-scale
test-scale: build
	$(BIN)/invscale --invd $(BIN)/invd --items $(SCALE_ITEMS) $(SCALE_ARGS)
