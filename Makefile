# Portcullis: run `make help` for the list of targets.
SHELL := /bin/bash
GO ?= go
BIN := bin
PKGS := ./...
# Where install-deps.sh puts the binaries it builds (haproxy 3.0, etcd, kube-apiserver, helm,
# golangci-lint, and for the Gateway API conformance lab kube-controller-manager, kwok and
# echo-basic).
PORTCULLIS_BIN ?= $(CURDIR)/.cache/bin
export PORTCULLIS_BIN
GOLANGCI_LINT := $(PORTCULLIS_BIN)/golangci-lint

# The two HAProxy versions `make test` runs against: the 3.0 LTS that install-deps.sh builds
# (version pinned there) gets every test, because it is the branch the image ships (Dockerfile)
# and the newer of the two, whose reload protocol is the one later versions keep; Debian
# bookworm's 2.6 (on PATH), the oldest version supported, gets the unit and golden tests and
# E2E_SMOKE. Tests pick their haproxy from $PORTCULLIS_HAPROXY.
HAPROXY3_VERSION := $(shell sed -n 's/^HAPROXY3_VERSION=.*:-\(.*\)}$$/\1/p' e2e/tools/install-deps.sh)
HAPROXY3 := $(PORTCULLIS_BIN)/haproxy-$(HAPROXY3_VERSION)/haproxy
# The e2e smoke set for the second version: routing, endpoint moves and new hosts without a
# reload, reloads under load, haproxy supervision, TLS (with certificates changed at runtime),
# TCP services, TLS passthrough, a refused object, the shutdown sequence.
E2E_SMOKE := ^(TestSmoke|TestRoutesHostsAndPaths|TestEndpointChangesNeedNoReload|TestNewHostOnExistingBackendNeedsNoReload|TestReloadsUnderKeepAliveLoseNothing|TestRestartsKilledHAProxy|TestTLSBySNIWithDefaultAndRedirect|TestTLSSecretRotationNeedsNoReload|TestTCPServices|TestTLSPassthrough|TestIsolationRejectedObjectIsReported|TestShutdownSequence)$$

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[1m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: deps
deps: ## Install haproxy 2.6 (Debian), build haproxy 3.0, etcd, kube-apiserver, kube-controller-manager, kwok, echo-basic, helm and golangci-lint (idempotent, cached in .cache/).
	@bash e2e/tools/install-deps.sh

.PHONY: build
build: ## Build the controller into bin/controller.
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/controller ./cmd/controller

.PHONY: vet
vet: ## Run go vet and check formatting.
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: lint
lint: ## Run golangci-lint (version pinned in install-deps.sh, linters in .golangci.yml) on all code, tests included.
	@bash e2e/tools/install-deps.sh golangci-lint
	$(GOLANGCI_LINT) run $(PKGS)

.PHONY: unit
unit: ## Unit and golden tests (on $PORTCULLIS_HAPROXY, else the haproxy on PATH, for `haproxy -c`).
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /e2e)

.PHONY: e2e
e2e: deps ## End-to-end tests: real kube-apiserver, etcd, controller binary and haproxy ($PORTCULLIS_HAPROXY, else on PATH) in a private network namespace.
	$(GO) test -race -count=1 -timeout 20m ./e2e/...

.PHONY: test
test: deps vet lint ## Everything CI runs: test dependencies, vet, lint; all tests on HAProxy 3.0 (with the Gateway API conformance subset, e2e/conformance), unit, golden and e2e smoke tests on 2.6.
	@test -x "$(HAPROXY3)" || { echo "no haproxy at $(HAPROXY3): run make deps"; exit 1; }
	PORTCULLIS_HAPROXY=$(HAPROXY3) $(GO) test -race -count=1 -timeout 25m ./...
	PORTCULLIS_HAPROXY=$$(command -v haproxy || echo /usr/sbin/haproxy) $(GO) test -race -count=1 $$($(GO) list ./... | grep -v /e2e)
	PORTCULLIS_HAPROXY=$$(command -v haproxy || echo /usr/sbin/haproxy) $(GO) test -race -count=1 -timeout 10m -run '$(E2E_SMOKE)' ./e2e/

# Where `make conformance` writes the suite's report (git-ignored).
CONFORMANCE_REPORT ?= $(CURDIR)/conformance-report.yaml

.PHONY: conformance
conformance: deps ## Gateway API conformance: the whole GATEWAY-HTTP, GATEWAY-GRPC and GATEWAY-TLS profiles with the features the controller claims (pkg/gateway), on HAProxy 3.0 in the local lab (e2e/conformance); writes CONFORMANCE_REPORT.
	@test -x "$(HAPROXY3)" || { echo "no haproxy at $(HAPROXY3): run make deps"; exit 1; }
	PORTCULLIS_HAPROXY=$(HAPROXY3) $(GO) test -count=1 -timeout 90m -v -run '^TestGatewayAPIConformance$$' ./e2e/conformance/ \
		-args -full -report-output=$(CONFORMANCE_REPORT) -version=$$(git describe --tags --always --dirty)

.PHONY: run
run: deps ## Run the controller: against KUBECONFIG if set, else on a local control plane with a demo Ingress.
	$(GO) run ./e2e/cmd/devstack $(ARGS)

.PHONY: bench
bench: deps ## Benchmarks against the real stack, with 1,000 and 5,000 Ingresses and the data plane's own cost (writes bench-results.json, prints a table), then the controller's own cost of an endpoint change.
	$(GO) test -count=1 -run '^$$' -bench '^BenchmarkPortcullis$$' -benchtime 1x -timeout 20m ./e2e/bench/
	$(GO) test -count=1 -run '^$$' -bench EndpointChangeCost -benchmem ./pkg/reconcile

.PHONY: bench-scale
bench-scale: deps ## Only the scale runs of `make bench`, 1,000 and 5,000 Ingresses (writes bench-scale-results.json, prints a table).
	$(GO) test -count=1 -run '^$$' -bench '^BenchmarkScale$$' -benchtime 1x -timeout 45m ./e2e/bench/

.PHONY: docs
docs: ## Regenerate the reference pages: flags.md (and the chart's flag list, and migrating.md's table of haproxytech flags) from the flag set, annotations.md, configmap.md, ingress-nginx.md and haproxytech.md from the registry, helm-values.md from the chart.
	$(GO) test -count=1 -run '^TestFlagsDoc$$' ./cmd/controller -update
	$(GO) test -count=1 -run '^TestDocsCurrent$$' ./pkg/annotations -update
	$(GO) test -count=1 -run '^TestValuesDoc$$' ./deploy/helm -update
