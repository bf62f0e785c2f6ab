#!/usr/bin/env bash
# Prints the digest-pinned build base that docker/base.Dockerfile (or FILE) names, e.g.
# debian:bookworm-slim@sha256:<64 hex>. Fails, naming the file, unless it holds exactly one
# `FROM image@sha256:<64 hex>` line. Read by `make base-image-ref` (the deploy job's build) and
# docker/bootstrap-base.sh (what a registry pull asks for).
#
# Usage: docker/base-pin.sh [FILE]
set -euo pipefail

file="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/base.Dockerfile}"
ref="$(sed -n 's/^FROM[[:space:]]\{1,\}\([^[:space:]]*@sha256:[0-9a-f]\{64\}\)[[:space:]]*$/\1/p' "$file" 2>/dev/null || true)"
if [[ "$(printf '%s\n' "$ref" | grep -c .)" != 1 ]]; then
  echo "base-pin: $file must hold exactly one FROM image@sha256:<64 hex>" >&2
  exit 1
fi
printf '%s\n' "$ref"
