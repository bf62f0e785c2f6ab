##@ Pipeline

# GitHub Actions (.github/workflows) call only Makefile targets; these are the ones that
# exist for the pipeline itself: workflow lint and tests, the image scan, tflint, the
# plan summary and the runner preparation.

WORKFLOW_FILES = $(sort $(wildcard $(CURDIR)/.github/workflows/*.yml $(CURDIR)/.github/workflows/*.yaml))

TRIVY ?= trivy
# Fail on HIGH/CRITICAL vulnerabilities that have a fixed version available.
SCAN_SEVERITY ?= HIGH,CRITICAL
SCAN_IMAGE ?= $(or $(IMAGE),hello-cluster):$(or $(TAG),dev)

TFLINT ?= tflint
TFLINT_CONFIG ?= $(CURDIR)/.github/tflint.hcl

# The saved plan `make tf_plan` writes, rendered by tf_plan_summary.
TF_PLAN_FILE ?= $(CURDIR)/tf/tfplan
# The S3 state backend on a CI runner (ci-backend-config writes TF_BACKEND_CONFIG from these).
TF_STATE_BUCKET ?=
TF_STATE_KEY ?= hello-cluster/terraform.tfstate
TF_STATE_REGION ?= $(AWS_REGION)
CI_BACKEND_FILE = $(or $(TF_BACKEND_CONFIG),$(CURDIR)/build/ci-backend.hcl)
# Where the offline Terraform provider mirror lives (the tests' CLI config points here).
TF_PLUGIN_MIRROR ?= /opt/tf-plugins
# Python packages the Terraform and deploy tests use; a hosted runner lacks them.
CI_PIP_PACKAGES ?= moto[server]==5.2.1 boto3 PyYAML jsonschema requests

APT_PACKAGES += yamllint shellcheck
LINT_TARGETS += lint-workflows
TEST_TARGETS += test-workflows

.PHONY: lint-workflows
lint-workflows: ## actionlint and shellcheck on the workflows, yamllint on every YAML file
	@command -v yamllint >/dev/null 2>&1 || { echo "lint-workflows: yamllint not found: install the Debian package yamllint (make deps)" >&2; exit 1; }
	@test -n "$(WORKFLOW_FILES)" || { echo "lint-workflows: no workflow under .github/workflows" >&2; exit 1; }
	@$(CURDIR)/tests/workflows/actionlint.sh $(WORKFLOW_FILES)
	@python3 $(CURDIR)/tests/workflows/check_workflows.py shellcheck $(WORKFLOW_FILES)
	@cd $(CURDIR) && yamllint -c .yamllint.yaml . && echo "yamllint: ok"

.PHONY: test-workflows
test-workflows: ## Workflow tests: SHA pins, run steps call real targets, globs, policy; broken fixtures rejected
	@$(CURDIR)/tests/workflows/run.sh

.PHONY: scan
scan: ## trivy scan of the built image: fixable HIGH/CRITICAL vulnerabilities or leaked secrets fail
	@command -v $(TRIVY) >/dev/null 2>&1 || { echo "scan: $(TRIVY) not found: install trivy (https://trivy.dev; CI installs it with aquasecurity/setup-trivy)" >&2; exit 1; }
	@docker image inspect $(SCAN_IMAGE) >/dev/null 2>&1 || { echo "scan: image $(SCAN_IMAGE) not found: build it with make image" >&2; exit 1; }
	$(TRIVY) image --scanners vuln,secret --ignore-unfixed --severity $(SCAN_SEVERITY) --exit-code 1 --no-progress $(SCAN_IMAGE)

.PHONY: tflint
tflint: ## TFLint with the AWS ruleset on tf/ and its modules (.github/tflint.hcl; --init needs network)
	@command -v $(TFLINT) >/dev/null 2>&1 || { echo "tflint: $(TFLINT) not found: install TFLint (https://github.com/terraform-linters/tflint; CI uses setup-tflint)" >&2; exit 1; }
	$(TFLINT) --init --config=$(TFLINT_CONFIG)
	$(TFLINT) --config=$(TFLINT_CONFIG) --chdir=$(CURDIR)/tf --recursive --format=compact

.PHONY: tf_plan_summary
tf_plan_summary: ## make tf_plan, then the plan as Markdown in the GitHub job summary (stdout elsewhere)
	@$(MAKE) --no-print-directory tf_plan
	@$(CURDIR)/.github/scripts/tf-plan-summary.sh $(TF_PLAN_FILE) $(CURDIR)/tf

.PHONY: ci-backend-config
ci-backend-config: ## Write the S3 backend settings for tf_init (TF_BACKEND_CONFIG) from TF_STATE_BUCKET/KEY/REGION
	@test -n "$(TF_STATE_BUCKET)" || { echo "ci-backend-config: TF_STATE_BUCKET is empty: set it (CI: the repository variable TF_STATE_BUCKET)" >&2; exit 1; }
	@test -n "$(TF_STATE_REGION)" || { echo "ci-backend-config: TF_STATE_REGION (or AWS_REGION) is empty" >&2; exit 1; }
	@mkdir -p $(dir $(CI_BACKEND_FILE))
	@printf '%s\n' 'bucket       = "$(TF_STATE_BUCKET)"' 'key          = "$(TF_STATE_KEY)"' \
	  'region       = "$(TF_STATE_REGION)"' 'encrypt      = true' 'use_lockfile = true' >$(CI_BACKEND_FILE)
	@echo "ci-backend-config: wrote $(CI_BACKEND_FILE) (s3://$(TF_STATE_BUCKET)/$(TF_STATE_KEY))"

.PHONY: tf-mirror
# `providers mirror` reads the provider requirements of every module, so on a fresh checkout
# the modules must be installed first or it stops with "Module not installed" (exit 1);
# `terraform get` installs the (local) modules and downloads no provider. "The terraform
# providers mirror command downloads the providers required for the current configuration"
# (https://developer.hashicorp.com/terraform/cli/commands/providers/mirror) from their origin
# registry, whatever the CLI configuration's provider_installation says.
tf-mirror: ## Fill the Terraform provider mirror (TF_PLUGIN_MIRROR, /opt/tf-plugins) from the registry (CI; needs network)
	@command -v terraform >/dev/null 2>&1 || { echo "tf-mirror: terraform not found: install Terraform (CI uses setup-terraform)" >&2; exit 1; }
	@mkdir -p $(TF_PLUGIN_MIRROR) 2>/dev/null && test -w $(TF_PLUGIN_MIRROR) \
	  || sudo install -d -o "$$(id -u)" -g "$$(id -g)" $(TF_PLUGIN_MIRROR)
	terraform -chdir=$(CURDIR)/tf get -no-color >/dev/null
	terraform -chdir=$(CURDIR)/tf providers mirror -platform=linux_amd64 $(TF_PLUGIN_MIRROR)

.PHONY: ci-tools
ci-tools: tf-mirror ## On a hosted CI runner: the provider mirror and the Python test packages (needs network)
	python3 -m pip install --user --break-system-packages --quiet $(CI_PIP_PACKAGES)
	@bin="$$(python3 -m site --user-base)/bin"; \
	  if [ -n "$${GITHUB_PATH:-}" ]; then echo "$$bin" >>"$$GITHUB_PATH"; echo "ci-tools: $$bin added to PATH for the next steps"; \
	  else case ":$$PATH:" in *":$$bin:"*) ;; *) echo "ci-tools: add $$bin to PATH (moto_server lives there)";; esac; fi
