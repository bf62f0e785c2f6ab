# hello-cluster: a C FastCGI responder behind nginx, one small image, EKS and ECS Fargate.
# `make help` lists the targets. Area-specific targets live in mk/*.mk.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

# Debian and npm packages the tests need; mk/*.mk files add their own.
APT_PACKAGES := build-essential pkg-config libfcgi-dev check nginx wrk valgrind \
                shellcheck yamllint python3 curl cppcheck
NPM_PACKAGES :=
# Test and benchmark targets that `make test` / `make bench` run, in order; mk/*.mk files append.
TEST_TARGETS := lint test-unit test-integration test-fault test-sanitize test-valgrind
BENCH_TARGETS := bench-stack
# Static checks that `make lint` runs; mk/*.mk files append.
LINT_TARGETS := lint-c lint-shell

include $(sort $(wildcard mk/*.mk))

##@ General

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} \
	  /^[a-zA-Z0-9_.-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } \
	  /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: deps
deps: ## Install the Debian and npm packages the tests need (root on Debian; otherwise names what is missing)
	@scripts/deps.sh "$(APT_PACKAGES)"

# Suites that use a Docker engine: `make test` starts one for them when none answers (and
# stops it afterwards), as .ci/run did; see scripts/run-suites.sh.
ENGINE_TEST_TARGETS += test-container test-deploy

.PHONY: test
test: deps ## Run every test suite (what CI runs); starts a Docker engine for the suites that need one
	@ENGINE_TARGETS="$(ENGINE_TEST_TARGETS)" scripts/run-suites.sh $(TEST_TARGETS)

.PHONY: lint
lint: $(LINT_TARGETS) ## Run every static check

.PHONY: lint-shell
lint-shell: ## shellcheck every shell script in the repository
	@command -v shellcheck >/dev/null || { echo "lint-shell: shellcheck is missing (apt-get install shellcheck)" >&2; exit 1; }
	@files=$$(git ls-files '*.sh' .ci/run); shellcheck $$files && echo "lint-shell: $$(echo $$files | wc -w) scripts clean"

.PHONY: bench
bench: ## Run the benchmarks and print numbers and ratios (not a test)
	@for t in $(BENCH_TARGETS); do $(MAKE) --no-print-directory $$t; done
