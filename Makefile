# hello-cluster: a C FastCGI responder behind nginx, one small image, EKS and ECS Fargate.
# `make help` lists the targets. Area-specific targets live in mk/*.mk.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

# Debian and npm packages the tests need; mk/*.mk files add their own.
APT_PACKAGES := build-essential pkg-config libfcgi-dev check nginx wrk valgrind \
                shellcheck shfmt flake8 yamllint python3 curl cppcheck
NPM_PACKAGES :=
# Test and benchmark targets that `make test` / `make bench` run, in order; mk/*.mk files append.
TEST_TARGETS := lint test-unit test-integration test-fault test-sanitize test-valgrind
BENCH_TARGETS := bench-stack
# Static checks that `make lint` runs; mk/*.mk files append.
LINT_TARGETS := lint-c lint-shell lint-python

comma := ,

# $(call require_tool,TOOL,HINT): a shell command that stops the recipe with
# "<target>: TOOL not found: HINT" unless TOOL is on PATH. HINT says what to install; write
# $(comma) for a comma in it. A recipe line starts with @$(call require_tool,...).
require_tool = command -v $(1) >/dev/null 2>&1 || { echo "$@: $(1) not found: $(2)" >&2; exit 1; }

include $(sort $(wildcard mk/*.mk))

##@ Use

# `make help` lists the targets of every file under its `##@ Section` (the file's header,
# or the one above the target); test*, fuzz, lint* and bench* targets go to Test, Lint and
# Bench. Sections print in HELP_SECTIONS order, any other after them.
HELP_SECTIONS := Use|Deploy to AWS|Test|Lint|Bench|Image|CI

.PHONY: help
help: ## Show this help
	@awk -v order='$(HELP_SECTIONS)' 'BEGIN { FS = ":.*##"; n = split(order, names, "|") } \
	  FNR == 1 { section = "Use" } \
	  /^##@/ { section = substr($$0, 5); next } \
	  /^[a-zA-Z0-9_.-]+:.*?##/ { s = section; \
	    if ($$1 ~ /^(test|fuzz)([-_]|$$)/) s = "Test"; else if ($$1 ~ /^lint([-_]|$$)/) s = "Lint"; \
	    else if ($$1 ~ /^bench([-_]|$$)/) s = "Bench"; \
	    if (!(s in lines)) { known = 0; for (i = 1; i <= n; i++) if (names[i] == s) known = 1; \
	      if (!known) names[++n] = s } \
	    lines[s] = lines[s] sprintf("  \033[36m%-24s\033[0m %s\n", $$1, $$2) } \
	  END { printf "Usage: make \033[36m<target>\033[0m\n"; \
	    printf "tf_init, tf_plan, tf_deploy, deploy and deploy_all keep the original project'"'"'s names,\n"; \
	    printf "which its users know; every other target is named with hyphens.\n"; \
	    for (i = 1; i <= n; i++) if (names[i] in lines) printf "\n\033[1m%s\033[0m\n%s", names[i], lines[names[i]] }' \
	  $(MAKEFILE_LIST)

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
lint-shell: ## shellcheck every shell script, and shfmt -d: layout from .editorconfig (shfmt -w fixes it)
	@$(call require_tool,shellcheck,install the Debian package shellcheck (make deps))
	@$(call require_tool,shfmt,install the Debian package shfmt (make deps))
	@files=$$(git ls-files --cached --others --exclude-standard '*.sh' .ci/run); \
	  shellcheck $$files && shfmt -d $$files && echo "lint-shell: $$(echo $$files | wc -w) scripts clean"

.PHONY: lint-python
lint-python: ## flake8 every Python file (settings in .flake8)
	@$(call require_tool,flake8,install the Debian package flake8 (make deps))
	@files=$$(git ls-files --cached --others --exclude-standard '*.py'); \
	  flake8 $$files && echo "lint-python: $$(echo $$files | wc -w) files clean"

.PHONY: bench
bench: ## Run the benchmarks and print numbers and ratios (not a test)
	@for t in $(BENCH_TARGETS); do $(MAKE) --no-print-directory $$t; done
