##@ Deploy to AWS

# The Terraform root configuration (tf/README.md lists its variables and outputs).
TF_DIR ?= tf
# Region to deploy into; empty uses AWS_REGION / the AWS profile's region.
AWS_REGION ?=
# Extra arguments for plan/destroy, e.g. TF_VARS='-var deploy_eks=false -var ecs_traffic_percent=100'.
TF_VARS ?=
# A -backend-config file selecting the S3 state backend (see tf/backend.hcl.example); empty keeps local state.
TF_BACKEND_CONFIG ?=
# The saved plan tf_plan writes and tf_deploy applies.
TF_PLAN_FILE ?= $(abspath $(TF_DIR))/tfplan

TEST_TARGETS += test-tf
LINT_TARGETS += lint-tf
APT_PACKAGES += jq curl

TF_ROOT = $(abspath $(TF_DIR))
TF = terraform -chdir=$(TF_ROOT)
TF_REGION_ARG = $(if $(AWS_REGION),-var aws_region=$(AWS_REGION))
TF_AWS_ENV = $(if $(AWS_REGION),AWS_REGION=$(AWS_REGION) AWS_DEFAULT_REGION=$(AWS_REGION))

# Fails with one line naming what is missing (tool, region, credentials) before
# anything is changed.
define tf_preflight
	@$(call require_tool,terraform,install Terraform >= 1.10 (https://developer.hashicorp.com/terraform/install))
	@$(call require_tool,aws,install the AWS CLI (https://aws.amazon.com/cli/$(comma) or apt-get install awscli))
	@test -n "$(AWS_REGION)$${AWS_REGION:-}$${AWS_DEFAULT_REGION:-}$$(aws configure get region 2>/dev/null)" || { echo "no AWS region: set AWS_REGION=<region> (make knob or environment) or configure a profile region" >&2; exit 1; }
	@$(TF_AWS_ENV) aws sts get-caller-identity >/dev/null 2>&1 || { echo "no usable AWS credentials (aws sts get-caller-identity failed): configure a profile, SSO session or OIDC role first" >&2; exit 1; }
endef

.PHONY: tf_init
tf_init: ## terraform init in tf/ (S3 state when TF_BACKEND_CONFIG=file is set, local state otherwise)
	$(tf_preflight)
	@if [ -n "$(TF_BACKEND_CONFIG)" ]; then \
	  test -f "$(TF_BACKEND_CONFIG)" || { echo "TF_BACKEND_CONFIG=$(TF_BACKEND_CONFIG) does not exist (copy tf/backend.hcl.example)" >&2; exit 1; }; \
	  printf '%s\n' '# Written by make tf_init because TF_BACKEND_CONFIG is set; settings come from that file.' \
	    'terraform {' '  backend "s3" {}' '}' >$(TF_ROOT)/backend_s3.tf; \
	  $(TF_AWS_ENV) $(TF) init -input=false -backend-config=$(abspath $(TF_BACKEND_CONFIG)); \
	else \
	  if [ -f $(TF_ROOT)/backend_s3.tf ]; then echo "tf_init: $(TF_DIR)/backend_s3.tf selects the S3 backend; delete it (and migrate the state) to go back to local state" >&2; fi; \
	  $(TF_AWS_ENV) $(TF) init -input=false; \
	fi

.PHONY: tf_plan
tf_plan: ## Write a saved plan (tf/tfplan) for tf_deploy; AWS_REGION=... and TF_VARS='-var k=v' are passed on
	$(tf_preflight)
	@test -d $(TF_ROOT)/.terraform || $(MAKE) --no-print-directory tf_init
	$(TF_AWS_ENV) $(TF) plan -input=false -out=$(TF_PLAN_FILE) $(TF_REGION_ARG) $(TF_VARS)

.PHONY: tf_deploy
tf_deploy: ## Apply the saved plan without prompting (plans first if there is none); the plan is removed once applied
	$(tf_preflight)
	@test -f $(TF_PLAN_FILE) || $(MAKE) --no-print-directory tf_plan
	$(TF_AWS_ENV) $(TF) apply -input=false $(TF_PLAN_FILE)
	@rm -f $(TF_PLAN_FILE)

.PHONY: tf-destroy
tf-destroy: ## Destroy everything in the Terraform state without prompting (make destroy removes Kubernetes load balancers first)
	$(tf_preflight)
	@test -d $(TF_ROOT)/.terraform || $(MAKE) --no-print-directory tf_init
	$(TF_AWS_ENV) $(TF) destroy -input=false -auto-approve $(TF_REGION_ARG) $(TF_VARS)
	@rm -f $(TF_PLAN_FILE)

.PHONY: test-tf
test-tf: ## Terraform: fmt, offline init, validate, mocked terraform test, apply/plan/toggle/destroy against a local AWS emulator
	@$(CURDIR)/tests/tf/run-tests.sh

.PHONY: lint-tf
lint-tf: ## terraform fmt -check and validate (init from the offline provider mirror when there is one)
	@$(CURDIR)/tests/tf/lint.sh
