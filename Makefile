# Onramp. The two commands of a fresh machine:
#   make dev    builds what is missing, starts everything with embedded defaults, prints the URLs
#   make test   installs missing test tools (apt), builds what is missing, runs every test
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

WORKFLOWCHECK  := go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0
SWAGGER_PARSER := 13.1.0
ARGS ?=

.PHONY: help dev dev-fresh build build-deps test test-deps bench-deps vet workflowcheck bench bench-portal compose-config clean

help:
	@echo "make dev         run Onramp with embedded defaults (ARGS='--fresh' to start from nothing)"
	@echo "make dev-fresh   same, after deleting .onramp/"
	@echo "make test        run every test (installs chromium and docker-compose when missing)"
	@echo "make build-deps  build bin/kratos and bin/devstack only"
	@echo "make vet         go vet, and gofmt and goimports on every Go file"
	@echo "make bench       run the benchmarks (installs nginx and wrk when missing)"
	@echo "make bench-portal seed a fresh stack at a provider's size and time its pages (≈30 minutes)"

dev: build
	@./bin/onramp dev $(ARGS)

dev-fresh:
	@$(MAKE) --no-print-directory dev ARGS="--fresh $(ARGS)"

build:
	@echo "==> go build ./cmd/onramp (first time ≈3 minutes, then seconds)"
	@go build -o bin/onramp ./cmd/onramp

# The recipes live in devenv (Go), shared with `onramp dev`: devstack is rebuilt when its sources
# change, Kratos when bin/kratos is missing or not the pinned version.
build-deps: build
	@./bin/onramp build-deps

# The benchmark's peers and load generator, from Debian: nginx (as the upstream and as an API-key
# gateway) and wrk. RUNLEVEL=1 keeps the package from starting a system nginx on port 80.
bench-deps:
	@missing=(); \
	command -v nginx >/dev/null || missing+=(nginx-light); \
	command -v wrk >/dev/null || missing+=(wrk); \
	if [ $${#missing[@]} -gt 0 ]; then \
		echo "==> Installing $${missing[*]} (Debian packages, for the gateway benchmark)"; \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && $$sudo env RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$${missing[@]}" >/dev/null; \
	fi

test-deps: bench-deps
	@missing=(); \
	command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing+=(chromium); \
	command -v docker-compose >/dev/null || missing+=(docker-compose); \
	command -v curl >/dev/null || missing+=(curl); \
	if [ $${#missing[@]} -gt 0 ]; then \
		echo "==> Installing $${missing[*]} (Debian packages, for the browser and compose tests)"; \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq "$${missing[@]}" >/dev/null; \
	fi
	@# The catalog tests check downloaded specs with independent tools: oapi-codegen (pinned by
	@# go.mod's tool directive) and swagger-parser from npm, installed under .cache/.
	@go build -o bin/oapi-codegen github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen
	@if [ ! -d .cache/npm/node_modules/@apidevtools/swagger-parser ]; then \
		echo "==> npm install @apidevtools/swagger-parser@$(SWAGGER_PARSER) (OpenAPI validator for the catalog tests)"; \
		npm install --silent --no-audit --no-fund --prefix .cache/npm @apidevtools/swagger-parser@$(SWAGGER_PARSER) >/dev/null; \
	fi

# Go files the formatting check covers, in the current directory's module: hidden directories
# (.cache, .onramp) and generated files (the standard "Code generated … DO NOT EDIT." line) are left
# out. grep -L exits 1 when no file is generated, which xargs reports as 123.
GO_SOURCES = find . -name '*.go' -not -path '*/.*' $(1) | sed 's|^\./||' | { xargs grep -L '^// Code generated .* DO NOT EDIT\.$$' || [ $$? = 123 ]; }

vet:
	go vet ./...
	cd devstack && go vet ./...
	@# gofmt's layout and goimports's import groups. goimports is pinned by go.mod's tool directive;
	@# it checks devstack's files from inside devstack, so their imports resolve in that module.
	@goimports=$$(go tool -n goimports); \
	bad=$$(files=$$($(call GO_SOURCES,-not -path './devstack/*')); gofmt -l $$files; $$goimports -l $$files; \
		cd devstack && files=$$($(GO_SOURCES)) && { gofmt -l $$files; $$goimports -l $$files; } | sed 's|^|devstack/|'); \
	if [ -n "$$bad" ]; then \
		echo "==> not formatted; run gofmt -w and go tool goimports -w on:"; echo "$$bad" | sort -u; exit 1; \
	fi

workflowcheck:
	go run $(WORKFLOWCHECK) ./workflows/...

test: test-deps build-deps vet workflowcheck
	go test -count=1 ./...

# Go benchmarks (one policy decision, quota over-admission), then the gateway as `onramp dev` runs
# it beside a bare Go proxy and nginx, whose last two lines are the throughput ratios
# (docs/benchmarks.md).
bench: bench-deps build build-deps
	go test -run '^$$' -bench . -benchmem ./policies ./gateway
	go run ./gateway/bench

# The portal at a provider's size (issue 17): a fresh data directory with the embedded stack, the
# dataset of `onramp seed`, then p50/p95/p99 of the partner's and the provider's pages
# (docs/benchmarks.md). ARGS passes flags on, e.g. ARGS='--orgs 1000 --calls 100000'.
BENCH_PORTAL_SIZE := --products 500 --versions 5 --operations 50 --orgs 10000 --keys-per-org 10 --calls 1000000
bench-portal: build-deps
	go run ./api/bench $(BENCH_PORTAL_SIZE) --out bench-portal.md $(ARGS)

compose-config:
	docker-compose --env-file .env.example config -q

clean:
	rm -rf bin
