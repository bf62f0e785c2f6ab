#!/usr/bin/env bash
# terraform fmt -check and terraform validate for tf/, on a scratch copy so
# the working tree gets no .terraform directory. Providers come from the
# local mirror (TF_PLUGIN_MIRROR, default /opt/tf-plugins) when it exists,
# from the registry otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PLUGIN_MIRROR="${TF_PLUGIN_MIRROR:-/opt/tf-plugins}"

command -v terraform >/dev/null || {
  echo "lint-tf: terraform not found: install Terraform >= 1.10 (https://developer.hashicorp.com/terraform/install)" >&2
  exit 1
}

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

cp -r "$ROOT/tf" "$ROOT/ecs-taskdef" "$ROOT/k8s" "$scratch/"
# The tracked lock file stays: init checks the provider against its hashes.
rm -rf "$scratch/tf/.terraform"
if [[ -d "$PLUGIN_MIRROR/registry.terraform.io" ]]; then
  printf 'provider_installation {\n  filesystem_mirror {\n    path = "%s"\n  }\n}\n' "$PLUGIN_MIRROR" >"$scratch/terraformrc"
  export TF_CLI_CONFIG_FILE="$scratch/terraformrc"
elif [[ -n "${TF_CLI_CONFIG_FILE:-}" && ! -f "$TF_CLI_CONFIG_FILE" ]]; then
  unset TF_CLI_CONFIG_FILE
fi

echo "terraform fmt -check -recursive tf/ tests/tf/unit/"
terraform fmt -check -recursive -diff "$ROOT/tf" "$ROOT/tests/tf/unit"

echo "terraform init -backend=false"
terraform -chdir="$scratch/tf" init -input=false -backend=false -no-color >/dev/null
echo "terraform validate"
terraform -chdir="$scratch/tf" validate -no-color

# Every variable and output of the root module and of each module is named in that module's
# README.md, the table its users read.
echo "README.md of tf/ and of each module names every variable and output"
missing=0
for dir in "$ROOT/tf" "$ROOT"/tf/modules/*; do
  for kind in variable output; do
    while read -r name; do
      if ! grep -qF "\`$name\`" "$dir/README.md"; then
        echo "lint-tf: ${dir#"$ROOT"/}/README.md does not name the $kind \`$name\`" >&2
        missing=1
      fi
    done < <(sed -n "s/^$kind \"\\([^\"]*\\)\".*/\\1/p" "$dir"/*.tf)
  done
done
((missing == 0))
