##@ CI

# GitHub Actions (.github/workflows) call only Makefile targets; these are the ones that
# exist for the pipeline itself: workflow lint and tests, the image scan, tflint, the
# plan summary and the runner preparation.

WORKFLOW_FILES = $(sort $(wildcard $(CURDIR)/.github/workflows/*.yml $(CURDIR)/.github/workflows/*.yaml))

TRIVY ?= trivy
# Fail on HIGH/CRITICAL vulnerabilities that have a fixed version available.
SCAN_SEVERITY ?= HIGH,CRITICAL
SCAN_IMAGE ?= $(or $(IMAGE),hello-cluster):$(or $(TAG),dev)

# The scan, and the count of OS packages it saw: a scan that detects no OS package checked
# nothing (trivy says "OS is not detected" and passes), so that fails too.
SCAN_CMD = $(TRIVY) image --scanners vuln,secret --ignore-unfixed --severity $(SCAN_SEVERITY) --exit-code 1 --no-progress
SCAN_COUNT_CMD = $(TRIVY) image --scanners vuln --list-all-pkgs --format json --quiet --no-progress
COUNT_OS_PACKAGES = python3 $(CURDIR)/.github/scripts/count-os-packages.py

TFLINT ?= tflint
TFLINT_CONFIG ?= $(CURDIR)/.github/tflint.hcl

# The saved plan `make tf_plan` writes, rendered by tf-plan-summary.
# TF_PLAN_FILE is defined once, from TF_DIR, in mk/tf.mk (read after this file; the
# recipes below expand it when they run).
# The S3 state backend on a CI runner (ci-backend-config writes TF_BACKEND_CONFIG from these).
TF_STATE_BUCKET ?=
TF_STATE_KEY ?= hello-cluster/terraform.tfstate
TF_STATE_REGION ?= $(AWS_REGION)
CI_BACKEND_FILE = $(or $(TF_BACKEND_CONFIG),$(CURDIR)/build/ci-backend.hcl)
# Where the offline Terraform provider mirror lives (the tests' CLI config points here).
TF_PLUGIN_MIRROR ?= /opt/tf-plugins
# Python packages the Terraform and deploy tests use; a hosted runner lacks them. Pinned
# there so that Dependabot (pip) keeps them current.
CI_PIP_REQUIREMENTS ?= $(CURDIR)/.github/requirements-ci.txt
# Set by deploy.yml from the repository variable of that name: an OIDC provider the bootstrap
# apply did not create. Empty lets tf/ create (keep) its own.
AWS_GITHUB_OIDC_PROVIDER_ARN ?=
# The sha256 of the saved plan the plan job uploaded; ci-apply refuses any other file.
PLAN_SHA256 ?=
CI_TF_VARS = $(TF_VARS) $(if $(AWS_GITHUB_OIDC_PROVIDER_ARN),-var github_existing_provider_arn=$(AWS_GITHUB_OIDC_PROVIDER_ARN))

# sudo, passwd (useradd) and git: the runner rehearsal of test-workflows.
APT_PACKAGES += yamllint shellcheck sudo passwd git
LINT_TARGETS += lint-workflows
TEST_TARGETS += test-workflows test-image-metadata
# test-image-metadata builds the image: make test starts an engine for it (Makefile).
ENGINE_TEST_TARGETS += test-image-metadata

.PHONY: lint-workflows
lint-workflows: ## actionlint and shellcheck on the workflows, yamllint on every YAML file
	@$(call require_tool,yamllint,install the Debian package yamllint (make deps))
	@test -n "$(WORKFLOW_FILES)" || { echo "lint-workflows: no workflow under .github/workflows" >&2; exit 1; }
	@$(CURDIR)/tests/workflows/actionlint.sh $(WORKFLOW_FILES)
	@python3 $(CURDIR)/tests/workflows/check_workflows.py shellcheck $(WORKFLOW_FILES)
	@cd $(CURDIR) && yamllint -c .yamllint.yaml . && echo "yamllint: ok"

.PHONY: test-workflows
test-workflows: ## Workflow tests: SHA pins, run steps call real targets, globs, policy; broken fixtures rejected
	@$(CURDIR)/tests/workflows/run.sh

.PHONY: test-image-metadata
test-image-metadata: image ## The image's dpkg status.d entries list exactly the packages of its files, at the build stage's versions
	@docker build --target build -f $(DOCKERFILE) $(DOCKER_BUILD_ARGS) -t $(IMAGE)-build:$(or $(IMAGE_TAG),$(TAG)) $(CURDIR) \
	  >$(CURDIR)/build/docker-build-stage.log 2>&1 || { tail -n 20 $(CURDIR)/build/docker-build-stage.log >&2; exit 1; }
	@IMAGE_REF=$(IMAGE):$(or $(IMAGE_TAG),$(TAG)) BUILD_REF=$(IMAGE)-build:$(or $(IMAGE_TAG),$(TAG)) $(CURDIR)/tests/image/run.sh

.PHONY: scan
scan: ## trivy scan of the built image (or SCAN_IMAGE=repo@sha256:... in a registry): fixable HIGH/CRITICAL or leaked secrets fail
	@$(call require_tool,$(TRIVY),install trivy (https://trivy.dev; CI installs it with aquasecurity/setup-trivy))
	@case "$(SCAN_IMAGE)" in *@sha256:*) ;; *) docker image inspect $(SCAN_IMAGE) >/dev/null 2>&1 \
	  || { echo "scan: image $(SCAN_IMAGE) not found: build it with make image" >&2; exit 1; };; esac
	$(SCAN_CMD) $(SCAN_IMAGE)
	@$(SCAN_COUNT_CMD) $(SCAN_IMAGE) | $(COUNT_OS_PACKAGES) $(SCAN_IMAGE)

# The ECR repository the deploy job pushes to (tf/ var.name) and its region.
ECR_REPOSITORY ?= hello-cluster

.PHONY: scan-released
scan-released: ## make scan of the newest tagged image in ECR (the weekly scan; needs AWS credentials that read ECR)
	@$(call require_tool,aws,install the AWS CLI)
	@uri="$$(aws ecr describe-repositories --repository-names $(ECR_REPOSITORY) --query 'repositories[0].repositoryUri' --output text)" \
	  && digest="$$(aws ecr describe-images --repository-name $(ECR_REPOSITORY) --filter tagStatus=TAGGED \
	       --query 'sort_by(imageDetails, &imagePushedAt)[-1].imageDigest' --output text)" \
	  || { echo "scan-released: cannot read the ECR repository $(ECR_REPOSITORY)" >&2; exit 1; }; \
	  case "$$digest" in sha256:*) ;; *) echo "scan-released: $(ECR_REPOSITORY) holds no tagged image" >&2; exit 1;; esac; \
	  $(call require_tool,$(TRIVY),install trivy); \
	  echo "scan-released: $$uri@$$digest"; \
	  $(SCAN_CMD) "$$uri@$$digest" && $(SCAN_COUNT_CMD) "$$uri@$$digest" | $(COUNT_OS_PACKAGES) "$$uri@$$digest"

.PHONY: tflint
tflint: ## TFLint with the AWS ruleset on tf/ and its modules (.github/tflint.hcl; --init needs network)
	@$(call require_tool,$(TFLINT),install TFLint (https://github.com/terraform-linters/tflint; CI uses setup-tflint))
	$(TFLINT) --init --config=$(TFLINT_CONFIG)
	$(TFLINT) --config=$(TFLINT_CONFIG) --chdir=$(CURDIR)/tf --recursive --format=compact

.PHONY: tf-plan-summary
tf-plan-summary: ## make tf_plan, then the plan as Markdown in the GitHub job summary (stdout elsewhere)
	@$(MAKE) --no-print-directory tf_plan
	@$(CURDIR)/.github/scripts/tf-plan-summary.sh $(TF_PLAN_FILE) $(CURDIR)/tf

# GitHub job outputs are lines NAME=VALUE in $$GITHUB_OUTPUT; elsewhere they go to stdout.
CI_OUTPUT = $${GITHUB_OUTPUT:-/dev/stdout}

.PHONY: ci-plan
ci-plan: ## tf-plan-summary with the pipeline's settings; the plan's sha256 as the job output plan-sha256
	@$(MAKE) --no-print-directory tf-plan-summary TF_VARS='$(CI_TF_VARS)'
	@echo "plan-sha256=$$(sha256sum $(TF_PLAN_FILE) | cut -d' ' -f1)" >>"$(CI_OUTPUT)"

# terraform apply of a saved plan stops with "Saved plan is stale" when the state moved: a
# plan is stale when the latest state snapshot is not "identical to the one saved in the plan
# file" (HashiCorp, https://discuss.hashicorp.com/t/showing-what-has-changed-on-stale-plan/19728).
# So the approved plan is never applied over a state that changed after the review.
.PHONY: ci-apply
ci-apply: ## Apply exactly the approved saved plan: its sha256 must equal PLAN_SHA256 (from the plan job)
	@test -n "$(PLAN_SHA256)" || { echo "ci-apply: PLAN_SHA256 is empty: pass the plan job's plan-sha256 output" >&2; exit 1; }
	@test -f $(TF_PLAN_FILE) || { echo "ci-apply: $(TF_PLAN_FILE) not found: download the plan artifact first" >&2; exit 1; }
	@actual="$$(sha256sum $(TF_PLAN_FILE) | cut -d' ' -f1)"; test "$$actual" = "$(PLAN_SHA256)" \
	  || { echo "ci-apply: $(TF_PLAN_FILE) has sha256 $$actual, not the approved $(PLAN_SHA256)" >&2; exit 1; }
	@$(MAKE) --no-print-directory tf_init
	@$(MAKE) --no-print-directory tf_deploy

.PHONY: ci-image-repository
ci-image-repository: ## The ECR repository URL (terraform output) as the job output `repository`
	@url="$$(terraform -chdir=$(CURDIR)/$(TF_DIR) output -raw ecr_repository_url)" && test -n "$$url" \
	  || { echo "ci-image-repository: no ecr_repository_url in the Terraform outputs (apply first)" >&2; exit 1; }; \
	  echo "repository=$$url" >>"$(CI_OUTPUT)"

# Where the digest-pinned build base is written (Dependabot updates it).
BASE_DOCKERFILE ?= $(CURDIR)/docker/base.Dockerfile

.PHONY: base-image-ref
base-image-ref: ## The digest-pinned build base of docker/base.Dockerfile, as the job output `ref`
	@ref="$$($(CURDIR)/docker/base-pin.sh $(BASE_DOCKERFILE))"; \
	  echo "ref=$$ref" >>"$(CI_OUTPUT)"

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
	@$(call require_tool,terraform,install Terraform (CI uses setup-terraform))
	@mkdir -p $(TF_PLUGIN_MIRROR) 2>/dev/null && test -w $(TF_PLUGIN_MIRROR) \
	  || sudo install -d -o "$$(id -u)" -g "$$(id -g)" $(TF_PLUGIN_MIRROR)
	terraform -chdir=$(CURDIR)/tf get -no-color >/dev/null
	terraform -chdir=$(CURDIR)/tf providers mirror -platform=linux_amd64 $(TF_PLUGIN_MIRROR)

.PHONY: ci-tools
ci-tools: tf-mirror ## On a hosted CI runner: the provider mirror and the Python test packages (needs network)
	python3 -m pip install --user --break-system-packages --quiet --requirement $(CI_PIP_REQUIREMENTS)
	@bin="$$(python3 -m site --user-base)/bin"; \
	  if [ -n "$${GITHUB_PATH:-}" ]; then echo "$$bin" >>"$$GITHUB_PATH"; echo "ci-tools: $$bin added to PATH for the next steps"; \
	  else case ":$$PATH:" in *":$$bin:"*) ;; *) echo "ci-tools: add $$bin to PATH (moto_server lives there)";; esac; fi
