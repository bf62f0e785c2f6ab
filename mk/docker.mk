##@ Image

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
# The platforms a release holds (scripts/build-multiarch.sh), and those `make test` proves.
PLATFORMS ?= linux/amd64,linux/arm64
# PLATFORM=linux/arm64 builds and tests that platform (through user-mode emulation when it is
# not this machine's) with BuildKit, tagged <TAG>-<arch> on a base tagged <BUILD_BASE>-<arch>
# (docker/bootstrap-base.sh), so nothing of the host's own build is overwritten. Unset: the
# host's build, <TAG> on <BUILD_BASE>, as before.
PLATFORM ?=
PLATFORM_ARCH = $(lastword $(subst /, ,$(PLATFORM:/v8=)))
IMAGE_TAG = $(TAG)$(if $(PLATFORM),-$(PLATFORM_ARCH))
# The host as a Docker platform (x86_64 -> linux/amd64, aarch64 -> linux/arm64).
HOST_ARCH := $(patsubst x86_64,amd64,$(patsubst aarch64,arm64,$(shell uname -m)))
HOST_PLATFORM := linux/$(HOST_ARCH)
# The kernel's and qemu's name for PLATFORM's machine (binfmt_misc entry qemu-<name>).
QEMU_ARCH = $(if $(filter arm64,$(PLATFORM_ARCH)),aarch64,x86_64)
EMULATED_PLATFORMS := $(filter-out $(HOST_PLATFORM),$(subst $(comma), ,$(PLATFORMS)))
DOCKERFILE := $(CURDIR)/docker/Dockerfile
# What a recursive make must not compute again (a commit may land in between).
PINNED_VARS = TAG=$(TAG) IMAGE_COMMIT=$(IMAGE_COMMIT) IMAGE_VERSION=$(IMAGE_VERSION) IMAGE_CREATED=$(IMAGE_CREATED)
DOCKER_BUILD_ARGS = --build-arg BUILD_BASE=$(BUILD_BASE)$(if $(PLATFORM),-$(PLATFORM_ARCH)) \
  --build-arg VERSION=$(IMAGE_VERSION) --build-arg COMMIT=$(IMAGE_COMMIT) \
  --build-arg CREATED=$(IMAGE_CREATED) --build-arg SOURCE=$(IMAGE_SOURCE)
# `docker compose` (v2 plugin) when present, Debian's docker-compose 1.29 otherwise.
COMPOSE ?= $(shell if docker compose version >/dev/null 2>&1; then echo 'docker compose'; \
  elif command -v docker-compose >/dev/null 2>&1; then echo docker-compose; else echo docker-compose-missing; fi)

# qemu-user-static: scripts/deps.sh also registers it with binfmt_misc for EMULATED_PLATFORMS.
# sudo, passwd: test-container-user runs the suite as an unprivileged user with sudo.
APT_PACKAGES += docker.io docker-compose debootstrap qemu-user-static sudo passwd
TEST_TARGETS += test-bootstrap-base test-container test-container-user test-container-emulated test-multiarch
BENCH_TARGETS += bench-container
LINT_TARGETS += lint-docker

# Fails with a message naming docker when the CLI is missing or no engine answers.
define require_docker
	@$(call require_tool,docker,install the Debian package docker.io (make deps))
	@timeout 15 docker info >/dev/null 2>&1 || { echo "no Docker engine answers (docker info failed): start one with docker/engine.sh start" >&2; exit 1; }
endef

.PHONY: engine-start
engine-start: ## Start dockerd in the background unless an engine already answers
	@$(CURDIR)/docker/engine.sh start

.PHONY: engine-stop
engine-stop: ## Stop the dockerd that engine-start started (never a foreign one)
	@$(CURDIR)/docker/engine.sh stop

.PHONY: base-image
base-image: ## Make the build base for PLATFORM (default: the host's) available: docker pull, else debootstrap
	$(require_docker)
	@PLATFORM=$(PLATFORM) BASE_IMAGE=$(BUILD_BASE) $(CURDIR)/docker/bootstrap-base.sh >/dev/null

.PHONY: image
image: base-image ## Build hello-cluster:<commit>, :<commit>-<host arch>, :dev; PLATFORM=linux/arm64: <commit>-arm64 (emulated)
ifneq ($(PLATFORM),)
	@$(MAKE) --no-print-directory image-platform $(PINNED_VARS)
else
	@mkdir -p $(CURDIR)/build
	@echo "building $(IMAGE):$(TAG) (version $(IMAGE_VERSION), commit $(IMAGE_COMMIT))"
	@docker build -f $(DOCKERFILE) $(DOCKER_BUILD_ARGS) -t $(IMAGE):$(TAG) -t $(IMAGE):dev \
	  -t $(IMAGE):$(TAG)-$(HOST_ARCH) $(CURDIR) \
	  >$(CURDIR)/build/docker-build.log 2>&1 || { tail -n 40 $(CURDIR)/build/docker-build.log >&2; \
	  echo "docker build failed; full log: build/docker-build.log" >&2; exit 1; }
	@docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' $(IMAGE):$(TAG)
	@docker buildx version >/dev/null 2>&1 || printf '%s\n' "note: docker buildx is absent: single-arch \
	($$(docker version -f '{{.Server.Arch}}' 2>/dev/null || echo unknown)) build by the legacy builder; \
	make image PLATFORM=linux/arm64 builds another platform with BuildKit"
endif

# One platform with BuildKit (`--platform`; the build stage runs under emulation when the
# platform is foreign), timed, checked to be of that architecture. Called by `image`.
.PHONY: image-platform
image-platform:
	@[[ "$(PLATFORM_ARCH)" =~ ^(amd64|arm64)$$ ]] || { echo "PLATFORM=$(PLATFORM): expected linux/amd64 or linux/arm64" >&2; exit 2; }
	@[[ "$(PLATFORM)" == "$(HOST_PLATFORM)" ]] || [[ "$$(head -n 1 /proc/sys/fs/binfmt_misc/qemu-$(QEMU_ARCH) 2>/dev/null)" == enabled ]] || \
	  { echo "$(PLATFORM) binaries cannot run here (no enabled binfmt_misc entry qemu-$(QEMU_ARCH)): make deps registers qemu-user-static" >&2; exit 1; }
	@mkdir -p $(CURDIR)/build
	@cli="$$($(CURDIR)/docker/buildkit-cli.sh)"; started=$$(date +%s); \
	  log=$(CURDIR)/build/docker-build-$(PLATFORM_ARCH).log; \
	  echo "building $(IMAGE):$(IMAGE_TAG) for $(PLATFORM)$(if $(filter $(PLATFORM),$(HOST_PLATFORM)),, under emulation) (BuildKit, $$cli; log: build/docker-build-$(PLATFORM_ARCH).log)"; \
	  DOCKER_BUILDKIT=1 "$$cli" build --platform $(PLATFORM) -f $(DOCKERFILE) $(DOCKER_BUILD_ARGS) \
	    -t $(IMAGE):$(IMAGE_TAG) $(CURDIR) >"$$log" 2>&1 || { tail -n 40 "$$log" >&2; \
	    echo "docker build --platform $(PLATFORM) failed; full log: build/docker-build-$(PLATFORM_ARCH).log" >&2; exit 1; }; \
	  got="$$(docker image inspect -f '{{.Os}}/{{.Architecture}}' $(IMAGE):$(IMAGE_TAG))"; \
	  [[ "$$got" == "$(PLATFORM)" ]] || { echo "$(IMAGE):$(IMAGE_TAG) records $$got, not $(PLATFORM)" >&2; exit 1; }; \
	  echo "built $(IMAGE):$(IMAGE_TAG) ($$got, $$(docker image ls --format '{{.Size}}' $(IMAGE):$(IMAGE_TAG))) in $$(( $$(date +%s) - started )) s"

.PHONY: image-multiarch
image-multiarch: ## Build every platform in PLATFORMS locally, one after another (<commit>-<arch> tags)
	@for p in $(subst $(comma), ,$(PLATFORMS)); do $(MAKE) --no-print-directory image PLATFORM=$$p $(PINNED_VARS) || exit 1; done

.PHONY: push-multiarch
push-multiarch: ## Push PLATFORMS as one manifest list to REF=<registry>/<repo>:<tag> (scripts/build-multiarch.sh)
	@[[ -n "$(REF)" ]] || { echo "push-multiarch: set REF=<registry>/<repository>:<tag>" >&2; exit 2; }
	@IMAGE=$(IMAGE) TAG=$(TAG) $(CURDIR)/scripts/build-multiarch.sh "$(REF)" "$(PLATFORMS)"

.PHONY: compose-up
compose-up: image ## Run the stack with compose on http://127.0.0.1:8080 (HELLO_HTTP_PORT overrides)
	IMAGE=$(IMAGE) TAG=dev $(COMPOSE) -f $(CURDIR)/compose.yaml up

.PHONY: compose-down
compose-down: ## Stop and remove what compose-up started
	$(COMPOSE) -f $(CURDIR)/compose.yaml down --remove-orphans

.PHONY: test-container
test-container: image ## Prove the image (PLATFORM= for another, emulated): contract, size, no shell, hardening, stop, compose, health
	@IMAGE_REF=$(IMAGE):$(IMAGE_TAG) IMAGE_COMMIT=$(IMAGE_COMMIT) IMAGE_VERSION=$(IMAGE_VERSION) COMPOSE="$(COMPOSE)" \
	  EXPECT_PLATFORM=$(or $(PLATFORM),$(HOST_PLATFORM)) $(CURDIR)/tests/container/run.sh

.PHONY: test-container-user
test-container-user: image ## The container suite's root-needing parts as an unprivileged user with passwordless sudo (a runner)
	@IMAGE_REF=$(IMAGE):$(IMAGE_TAG) IMAGE_COMMIT=$(IMAGE_COMMIT) IMAGE_VERSION=$(IMAGE_VERSION) COMPOSE="$(COMPOSE)" \
	  EXPECT_PLATFORM=$(or $(PLATFORM),$(HOST_PLATFORM)) $(CURDIR)/tests/container/as-user.sh

.PHONY: test-container-emulated
test-container-emulated: ## test-container for each platform in PLATFORMS that is not the host's (emulated)
	@[[ -n "$(EMULATED_PLATFORMS)" ]] || { echo "test-container-emulated: PLATFORMS=$(PLATFORMS) holds no platform but the host's" >&2; exit 1; }
	@for p in $(EMULATED_PLATFORMS); do $(MAKE) --no-print-directory test-container PLATFORM=$$p $(PINNED_VARS) || exit 1; done

.PHONY: test-bootstrap-base
test-bootstrap-base: ## docker/bootstrap-base.sh: one base tag per platform, the host's plain tag never taken by another
	$(require_docker)
	@$(CURDIR)/tests/container/bootstrap-base.sh

.PHONY: test-multiarch
test-multiarch: ## scripts/build-multiarch.sh against a local registry: one tag, every platform of PLATFORMS, the tested images
	@IMAGE=$(IMAGE) TAG=$(TAG) PLATFORMS=$(PLATFORMS) $(CURDIR)/tests/container/multiarch.sh

.PHONY: bench-container
bench-container: image ## Print image size vs the 10 MB target and the cold start (docker run -> first 200); PLATFORM= too
	@IMAGE_REF=$(IMAGE):$(IMAGE_TAG) BUILD_BASE=$(BUILD_BASE)$(if $(PLATFORM),-$(PLATFORM_ARCH)) \
	  $(if $(PLATFORM),COMPARE_NGINX_IMAGE=$${COMPARE_NGINX_IMAGE:-0}) $(CURDIR)/tests/container/bench.sh

.PHONY: lint-docker
lint-docker: ## Check the Dockerfile rules (offline hadolint subset), compose.yaml and the container scripts
	@$(CURDIR)/docker/lint-dockerfile.py $(DOCKERFILE)
	@$(call require_tool,shellcheck,install the Debian package shellcheck (make deps))
	@shellcheck $(CURDIR)/docker/*.sh $(CURDIR)/tests/container/*.sh $(CURDIR)/scripts/build-multiarch.sh $(CURDIR)/scripts/deps.sh
	@python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' $(CURDIR)/scripts/image-platforms.py
	@echo "shellcheck: docker/*.sh tests/container/*.sh scripts/build-multiarch.sh scripts/deps.sh clean"
	@if command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1; then \
	  $(COMPOSE) -f $(CURDIR)/compose.yaml config -q && echo "compose.yaml: valid ($(COMPOSE) config)"; \
	else echo "docker-compose not found: install the Debian package docker-compose" >&2; exit 1; fi

.PHONY: image-clean
image-clean: ## Remove hello-cluster image tags other than the current commit's (any platform) and :dev (~10 MB each)
	$(require_docker)
	@docker image ls --format '{{.Repository}}:{{.Tag}}' $(IMAGE) | grep -vxF -e '$(IMAGE):$(TAG)' -e '$(IMAGE):dev' \
	  -e '$(IMAGE):$(TAG)-amd64' -e '$(IMAGE):$(TAG)-arm64' \
	  | xargs -r docker rmi >/dev/null; docker image ls $(IMAGE)
