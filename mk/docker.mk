##@ Container

# The image: nginx + the responder, FROM scratch (docker/Dockerfile).
IMAGE ?= hello-cluster
# Tag and build arguments are computed once per make run (simple `:=`), so a commit
# landing while the image builds cannot make the tests look for another tag.
# The same version and commit end up in the OCI labels and in /metrics build info.
ifeq ($(origin TAG),undefined)
TAG := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo dev)
endif
ifeq ($(origin IMAGE_COMMIT),undefined)
IMAGE_COMMIT := $(or $(COMMIT),$(shell git rev-parse HEAD 2>/dev/null),unknown)
endif
ifeq ($(origin IMAGE_VERSION),undefined)
IMAGE_VERSION := $(or $(VERSION),$(shell git describe --tags --always --dirty 2>/dev/null),dev)
endif
ifeq ($(origin IMAGE_CREATED),undefined)
IMAGE_CREATED := $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
endif
# The repository URL for org.opencontainers.image.source (a local path is not one).
IMAGE_SOURCE ?= $(or $(filter https://% http://% git@% ssh://%,$(shell git config --get remote.origin.url 2>/dev/null)),unknown)
BUILD_BASE ?= debian:bookworm-slim
PLATFORMS ?= linux/amd64,linux/arm64
DOCKERFILE := $(CURDIR)/docker/Dockerfile
DOCKER_BUILD_ARGS = --build-arg BUILD_BASE=$(BUILD_BASE) \
  --build-arg VERSION=$(IMAGE_VERSION) --build-arg COMMIT=$(IMAGE_COMMIT) \
  --build-arg CREATED=$(IMAGE_CREATED) --build-arg SOURCE=$(IMAGE_SOURCE)
# `docker compose` (v2 plugin) when present, Debian's docker-compose 1.29 otherwise.
COMPOSE ?= $(shell if docker compose version >/dev/null 2>&1; then echo 'docker compose'; \
  elif command -v docker-compose >/dev/null 2>&1; then echo docker-compose; else echo docker-compose-missing; fi)

APT_PACKAGES += docker.io docker-compose debootstrap
TEST_TARGETS += test-container
BENCH_TARGETS += bench-container
LINT_TARGETS += lint-docker

# Fails with a message naming docker when the CLI is missing or no engine answers.
define require_docker
	@command -v docker >/dev/null 2>&1 || { echo "docker not found: install the Debian package docker.io (make deps)" >&2; exit 1; }
	@timeout 15 docker info >/dev/null 2>&1 || { echo "no Docker engine answers (docker info failed): start one with docker/engine.sh start" >&2; exit 1; }
endef

.PHONY: engine-start
engine-start: ## Start dockerd in the background unless an engine already answers
	@$(CURDIR)/docker/engine.sh start

.PHONY: engine-stop
engine-stop: ## Stop the dockerd that engine-start started (never a foreign one)
	@$(CURDIR)/docker/engine.sh stop

.PHONY: base-image
base-image: ## Make the build base (debian:bookworm-slim) available: docker pull, else debootstrap + docker import
	$(require_docker)
	@BASE_IMAGE=$(BUILD_BASE) $(CURDIR)/docker/bootstrap-base.sh

.PHONY: image
image: base-image ## Build the image hello-cluster:<commit> and :dev from docker/Dockerfile
	@mkdir -p $(CURDIR)/build
	@echo "building $(IMAGE):$(TAG) (version $(IMAGE_VERSION), commit $(IMAGE_COMMIT))"
	@docker build -f $(DOCKERFILE) $(DOCKER_BUILD_ARGS) -t $(IMAGE):$(TAG) -t $(IMAGE):dev $(CURDIR) \
	  >$(CURDIR)/build/docker-build.log 2>&1 || { tail -n 40 $(CURDIR)/build/docker-build.log >&2; \
	  echo "docker build failed; full log: build/docker-build.log" >&2; exit 1; }
	@docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' $(IMAGE):$(TAG)
	@docker buildx version >/dev/null 2>&1 || printf '%s\n' "note: docker buildx is absent: single-arch \
	($$(docker version -f '{{.Server.Arch}}' 2>/dev/null || echo unknown)) build by the legacy builder; \
	make image-multiarch builds linux/amd64,linux/arm64 where buildx exists"

.PHONY: image-multiarch
image-multiarch: base-image ## Build for linux/amd64,linux/arm64 with buildx (says so and skips when buildx is absent)
	@if docker buildx version >/dev/null 2>&1; then \
	  echo "docker buildx build --platform $(PLATFORMS)"; \
	  docker buildx build --platform $(PLATFORMS) -f $(DOCKERFILE) $(DOCKER_BUILD_ARGS) \
	    -t $(IMAGE):$(TAG) $(CURDIR); \
	else \
	  echo "image-multiarch: docker buildx is absent here, so no $(PLATFORMS) build; the image stays single-arch ($$(docker version -f '{{.Server.Arch}}' 2>/dev/null || echo unknown)). Install buildx (docker-buildx-plugin) to build both."; \
	fi

.PHONY: compose-up
compose-up: image ## Run the stack with compose on http://127.0.0.1:8080 (HELLO_HTTP_PORT overrides)
	IMAGE=$(IMAGE) TAG=dev $(COMPOSE) -f $(CURDIR)/compose.yaml up

.PHONY: compose-down
compose-down: ## Stop and remove what compose-up started
	$(COMPOSE) -f $(CURDIR)/compose.yaml down --remove-orphans

.PHONY: test-container
test-container: image ## Prove the image: contract suite, size, no shell, hardening, stop under load, compose, health
	@IMAGE_REF=$(IMAGE):$(TAG) IMAGE_COMMIT=$(IMAGE_COMMIT) IMAGE_VERSION=$(IMAGE_VERSION) COMPOSE="$(COMPOSE)" \
	  $(CURDIR)/tests/container/run.sh

.PHONY: bench-container
bench-container: image ## Print image size vs the 10 MB target and the cold start (docker run -> first 200)
	@IMAGE_REF=$(IMAGE):$(TAG) BUILD_BASE=$(BUILD_BASE) $(CURDIR)/tests/container/bench.sh

.PHONY: lint-docker
lint-docker: ## Check the Dockerfile rules (offline hadolint subset), compose.yaml and the container scripts
	@$(CURDIR)/docker/lint-dockerfile.py $(DOCKERFILE)
	@command -v shellcheck >/dev/null 2>&1 || { echo "shellcheck not found: install the Debian package shellcheck" >&2; exit 1; }
	@shellcheck $(CURDIR)/docker/*.sh $(CURDIR)/tests/container/*.sh
	@echo "shellcheck: docker/*.sh tests/container/*.sh clean"
	@if command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1; then \
	  $(COMPOSE) -f $(CURDIR)/compose.yaml config -q && echo "compose.yaml: valid ($(COMPOSE) config)"; \
	else echo "docker-compose not found: install the Debian package docker-compose" >&2; exit 1; fi

.PHONY: image-clean
image-clean: ## Remove hello-cluster image tags other than the current commit's and :dev (each build adds ~10 MB)
	$(require_docker)
	@docker image ls --format '{{.Repository}}:{{.Tag}}' $(IMAGE) | grep -vxF -e '$(IMAGE):$(TAG)' -e '$(IMAGE):dev' \
	  | xargs -r docker rmi >/dev/null; docker image ls $(IMAGE)
