##@ Deploy to AWS

# The app side of the deployment: `make deploy` ships the current commit to whichever of
# EKS / ECS the Terraform stack runs; everything it needs comes from `terraform output`.
# TF_OUTPUTS_JSON=path reads a saved `terraform output -json` instead.
TF_DIR ?= tf
TF_OUTPUTS_JSON ?=
ALLOW_DIRTY ?= 0
ROLLOUT_TIMEOUT ?= 300s
# sha256:<hex> of an image the pipeline built, scanned and pushed: make deploy ships it as is.
IMAGE_DIGEST ?=

DEPLOY_ENV = TF_DIR="$(abspath $(TF_DIR))" TF_OUTPUTS_JSON="$(TF_OUTPUTS_JSON)" IMAGE="$(or $(IMAGE),hello-cluster)" \
  ALLOW_DIRTY="$(ALLOW_DIRTY)" ROLLOUT_TIMEOUT="$(ROLLOUT_TIMEOUT)" IMAGE_DIGEST="$(IMAGE_DIGEST)"

APT_PACKAGES += docker-registry jq
TEST_TARGETS += test-k8s test-deploy
LINT_TARGETS += lint-k8s

.PHONY: deploy
deploy: ## Build, push and roll out this commit to EKS and/or ECS (all settings from terraform output)
	@$(DEPLOY_ENV) $(CURDIR)/scripts/deploy.sh

.PHONY: deploy_all
deploy_all: ## Registry, push, then infrastructure and rollout in the order AWS needs (scripts/deploy-all.sh)
	@$(DEPLOY_ENV) AWS_REGION="$(AWS_REGION)" TF_VARS="$(TF_VARS)" $(CURDIR)/scripts/deploy-all.sh

.PHONY: destroy
destroy: ## Delete Kubernetes objects that own load balancers (EKS), lift the ALB's deletion protection, terraform destroy
	@$(DEPLOY_ENV) $(CURDIR)/scripts/destroy.sh
	@# ELB refuses to delete a load balancer with deletion protection on (ELB.6, on by default):
	@# turn it off first, on the load balancer alone.
	@test -d $(TF_ROOT)/.terraform || $(MAKE) --no-print-directory tf_init
	$(TF_AWS_ENV) $(TF) apply -input=false -auto-approve -target=module.edge $(TF_REGION_ARG) $(TF_VARS) \
	  -var alb_deletion_protection=false
	$(MAKE) --no-print-directory tf-destroy TF_VARS='$(TF_VARS) -var alb_deletion_protection=false'

.PHONY: k8s-manifests
k8s-manifests: ## Print the manifests of k8s/overlays/eks (kubectl kustomize; deploy sets image and NodePort)
	@KUBECONFIG=/dev/null kubectl kustomize $(CURDIR)/k8s/overlays/eks

.PHONY: test-k8s
test-k8s: ## Build every kustomization; strict offline schema validation; restricted-profile and policy checks
	@$(CURDIR)/tests/k8s/run.sh

.PHONY: test-deploy
test-deploy: ## make deploy end to end against docker-registry and moto_server on 127.0.0.1
	@$(CURDIR)/tests/deploy/run.sh

.PHONY: lint-k8s
lint-k8s: ## yamllint k8s/, kubectl kustomize every kustomization, shellcheck the deploy scripts
	@$(call require_tool,yamllint,install the Debian package yamllint (make deps))
	@$(call require_tool,shellcheck,install the Debian package shellcheck (make deps))
	@yamllint -s -d '{extends: default, rules: {line-length: {max: 120}, document-start: disable}}' $(CURDIR)/k8s
	@for k in $$(find $(CURDIR)/k8s -name kustomization.yaml); do \
	  KUBECONFIG=/dev/null kubectl kustomize "$$(dirname "$$k")" >/dev/null || exit 1; done
	@shellcheck -x $(CURDIR)/scripts/deploy*.sh $(CURDIR)/scripts/destroy.sh $(CURDIR)/scripts/install-lb-controller.sh \
	  $(CURDIR)/tests/k8s/*.sh \
	  $$(ls $(CURDIR)/tests/deploy/*.sh 2>/dev/null)
	@echo "lint-k8s: k8s/ YAML, kustomize builds and deploy scripts clean"
