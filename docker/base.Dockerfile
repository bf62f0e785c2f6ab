# The build base of docker/Dockerfile, pinned by digest: the one line Dependabot (docker
# ecosystem, directory /docker) keeps current. The deploy job's build reads its base from here
# (make base-image-ref -> --build-arg BUILD_BASE), and docker/bootstrap-base.sh pulls it for
# `make image` wherever a registry answers (the CI image job included). Dependabot does not
# follow ARG-based FROM lines (dependabot-core#2057), and docker/Dockerfile must take its base
# as an ARG: the legacy builder pulls every stage's base, even an unused one, which an offline
# host cannot, and there docker/bootstrap-base.sh provides the tag from the Debian mirror.
# Digest: debian:bookworm-slim as resolved by Renovate on 2026-05-11 (bug-ops/zeph#3752,
# 67b30a6) and pinned by many Dockerfiles since; Dependabot proposes newer ones weekly.
FROM debian:bookworm-slim@sha256:67b30a61dc87758f0caf819646104f29ecbda97d920aaf5edc834128ac8493d3
