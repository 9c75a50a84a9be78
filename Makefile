# Onramp. The two commands of a fresh machine:
#   make dev    builds what is missing, starts everything with embedded defaults, prints the URLs
#   make test   installs missing test tools (apt), builds what is missing, runs every test
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

KRATOS_VERSION := v1.3.1
WORKFLOWCHECK  := go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0
ARGS ?=

# go build -v prints one line per compiled package: show a running count instead of silence,
# and pass every other line (compiler errors) through.
PROGRESS := awk '/^[^ :]+$$/ { n++; if (n % 40 == 0) { printf "    … %d packages compiled\n", n; fflush() } next } { print; fflush() }'

.PHONY: help dev dev-fresh build build-deps test test-deps vet workflowcheck bench compose-config clean

help:
	@echo "make dev         run Onramp with embedded defaults (ARGS='--fresh' to start from nothing)"
	@echo "make dev-fresh   same, after deleting .onramp/"
	@echo "make test        run every test (installs chromium and docker-compose when missing)"
	@echo "make build-deps  build bin/kratos and bin/devstack only"
	@echo "make bench       run the benchmarks"

dev: build build-deps
	@./bin/onramp dev $(ARGS)

dev-fresh:
	@$(MAKE) --no-print-directory dev ARGS="--fresh $(ARGS)"

build:
	@go build -o bin/onramp ./cmd/onramp

build-deps: bin/kratos.$(KRATOS_VERSION) bin/devstack

# Kratos's go.mod has replace directives, so `go install` refuses it; build inside the module cache.
bin/kratos.$(KRATOS_VERSION):
	@mkdir -p bin
	@if [ -x bin/kratos ] && bin/kratos version 2>/dev/null | grep -q '$(KRATOS_VERSION)'; then \
		echo "==> bin/kratos is already $(KRATOS_VERSION)"; \
	else \
		echo "==> Building Ory Kratos $(KRATOS_VERSION) from its Go module — first time only, 4–10 minutes on 2 cores"; \
		dir=$$(mktemp -d); (cd $$dir && go mod download github.com/ory/kratos@$(KRATOS_VERSION)); rmdir $$dir; \
		cd "$$(go env GOMODCACHE)/github.com/ory/kratos@$(KRATOS_VERSION)" && \
		CGO_ENABLED=1 go build -v -tags sqlite \
			-ldflags "-s -w -X github.com/ory/kratos/driver/config.Version=$(KRATOS_VERSION)" \
			-o "$(CURDIR)/bin/kratos" . 2>&1 | $(PROGRESS); \
		echo "==> bin/kratos built"; \
	fi
	@touch $@

# The dev infrastructure is a nested module: go.temporal.io/server cannot share a go.mod with the SDK.
bin/devstack: devstack/go.mod devstack/go.sum $(wildcard devstack/*.go)
	@mkdir -p bin
	@echo "==> Building the dev infrastructure (Temporal server + Web UI + FerretDB) — first time ≈10 minutes on 2 cores"
	@cd devstack && go build -v -ldflags "-s -w" -o ../bin/devstack . 2>&1 | $(PROGRESS)
	@echo "==> bin/devstack built"

test-deps:
	@missing=(); \
	command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing+=(chromium); \
	command -v docker-compose >/dev/null || missing+=(docker-compose); \
	if [ $${#missing[@]} -gt 0 ]; then \
		echo "==> Installing $${missing[*]} (Debian packages, for the browser and compose tests)"; \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq "$${missing[@]}" >/dev/null; \
	fi

vet:
	go vet ./...
	cd devstack && go vet ./...

workflowcheck:
	go run $(WORKFLOWCHECK) ./workflows/...

test: test-deps build-deps vet workflowcheck
	go test -count=1 ./...

bench:
	go test -run '^$$' -bench . -benchmem ./...

compose-config:
	docker-compose --env-file .env.example config -q

clean:
	rm -rf bin
