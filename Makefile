# Descent — the two commands of the README, plus the tools around them.
#   make run     install what is missing, build release, serve on :8080 (make run ARGS="--port 9000")
#   make test    every test: the Swift suite (unit + integration) under ASan and TSan, fuzzers, a short load
#                run, end-to-end (real binary + curl, schemathesis), lint, container build-and-run check
# Other targets: build, bench (HTTP/1.1 vs nginx), bench-counts (allocations, system calls and context
# switches per HTTP/1.1 request, against nginx), bench-http2 (h2c vs nginx), bench-math (gradient kernel
# and SGD vs numpy/sklearn), bench-service (dataset ingest vs Python/memcpy, tiny-job round trip), lint,
# docker-check, clean.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# Use the machine's toolchain in /opt/swift when swift is not already on PATH.
export PATH := $(if $(wildcard /opt/swift/usr/bin/swift),/opt/swift/usr/bin:,)$(PATH)

# `make run` serves on PORT (default 8080, via DESCENT_PORT); ARGS go to the binary unchanged and win
# over the environment (e.g. ARGS="--port 9000 --log-level debug").
PORT ?= 8080
ARGS ?=

.PHONY: run build deps test lint docker-check bench bench-counts bench-http2 bench-math bench-service bench-load fuzz sanitize clean

deps:
	scripts/install-deps.sh

build: deps
	swift build -c release --product descent

run: build
	DESCENT_PORT=$(PORT) exec .build/release/descent $(ARGS)

# Every test, in order; the first failure stops it. (scripts/sanitize.sh sets SWIFT_BACKTRACE=enable=no:
# a crash under test must not start swift-backtrace, which can hang until the time limit, TESTING.md.)
# The suite runs under the sanitizers only: each run is the whole suite, so a plain `swift test` (the quick
# loop while developing) would repeat it, and CI's 30 minutes do not hold three builds of it.
test: deps
	swift build --product descent
	scripts/sanitize.sh all
	FUZZ_SECONDS=30 scripts/fuzz.sh all
	LOAD_SECONDS=15 LOAD_ROWS=5000 LOAD_CONNECTIONS=64 LOAD_SSE_CLIENTS=50 DESCENT_BINARY=.build/debug/descent bench/load.sh
	scripts/e2e-test.sh
	scripts/lint.sh
	scripts/container-test.sh

lint:
	scripts/lint.sh

docker-check:
	scripts/container-test.sh

bench: build
	bench/http1.sh

bench-counts: build
	bench/http1_counts.sh

bench-http2: build
	bench/http2.sh

bench-math: deps
	bench/math.sh

bench-service: deps
	bench/service.sh

# libFuzzer over every parser for FUZZ_SECONDS each (default 60); `make test` runs 30 s each.
fuzz:
	scripts/fuzz.sh all

# The whole suite under AddressSanitizer and ThreadSanitizer (~13 min cold on 2 cores; part of `make test`).
sanitize:
	scripts/sanitize.sh all

# The full load and slow-loris run on the release build; `make test` runs a 15 s form on the debug build.
bench-load: build
	DESCENT_BINARY=.build/release/descent bench/load.sh

clean:
	rm -rf .build
