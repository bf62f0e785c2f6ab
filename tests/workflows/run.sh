#!/usr/bin/env bash
# Tests of the pipeline definitions (make test-workflows), offline.
#
# The real workflows must pass every check; then each deliberately broken fixture in
# fixtures/ must be rejected, for the reason it was broken, which proves the checks can fail.
# Ends with "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly ROOT
readonly HERE="$ROOT/tests/workflows"
readonly FIXTURES="$HERE/fixtures"
readonly CHECK="$HERE/check_workflows.py"
readonly ACTIONLINT="$HERE/actionlint.sh"

passed=0
failed=0
TMP="$(mktemp -d)"
readonly TMP
trap 'rm -rf "$TMP"' EXIT

pass() {
  passed=$((passed + 1))
  printf 'ok   - %s\n' "$1"
}

fail() {
  failed=$((failed + 1))
  printf 'FAIL - %s\n' "$1"
  tail -n 25 "$TMP/out" | sed 's/^/       | /'
}

# expect_ok NAME COMMAND...: the command must succeed.
expect_ok() {
  local name="$1"
  shift
  if "$@" >"$TMP/out" 2>&1; then pass "$name"; else fail "$name"; fi
}

# expect_fail NAME TEXT COMMAND...: the command must fail and say TEXT (the reason).
expect_fail() {
  local name="$1" text="$2" rc=0
  shift 2
  "$@" >"$TMP/out" 2>&1 || rc=$?
  if (( rc != 0 )) && grep -qF -- "$text" "$TMP/out"; then
    pass "$name"
  else
    fail "$name (exit $rc; expected a failure saying: $text)"
  fi
}

check() { python3 "$CHECK" --root "$ROOT" "$@"; }

shopt -s nullglob
WORKFLOWS=("$ROOT"/.github/workflows/*.yml "$ROOT"/.github/workflows/*.yaml)
shopt -u nullglob

echo "== the real workflows"
expect_ok "ci.yml and deploy.yml exist" test -f "$ROOT/.github/workflows/ci.yml" -a -f "$ROOT/.github/workflows/deploy.yml"
expect_ok "every action is pinned by a commit SHA with a version comment" check pins "${WORKFLOWS[@]}"
expect_ok "every run step calls a Makefile target or a repository script" check runs "${WORKFLOWS[@]}"
expect_ok "every path filter matches a file" check globs "${WORKFLOWS[@]}"
expect_ok "permissions, timeouts, concurrency; no expressions in scripts" check policy "${WORKFLOWS[@]}"
expect_ok "shellcheck is clean on every run block" check shellcheck "${WORKFLOWS[@]}"
expect_ok "actionlint is clean on every workflow" "$ACTIONLINT" "${WORKFLOWS[@]}"
expect_ok "dependabot covers actions, docker, terraform, npm in real directories" check dependabot "$ROOT/.github/dependabot.yml"
expect_ok "yamllint accepts the workflows (the \`on:\` key included)" yamllint -c "$ROOT/.yamllint.yaml" "$ROOT/.github"

expect_ok "ci.yml and deploy.yml keep the pipeline's promises (contract)" check contract "${WORKFLOWS[@]}"

pins_documented() {
  local sha missing=0
  while read -r sha; do
    grep -q "$sha" "$HERE/README.md" || { echo "pinned SHA $sha is not in tests/workflows/README.md"; missing=1; }
  done < <(grep -hoE 'uses: *[^ ]+@[0-9a-f]{40}' "${WORKFLOWS[@]}" | grep -oE '[0-9a-f]{40}$' | sort -u)
  return "$missing"
}
expect_ok "every pinned SHA is in the verification table (README.md)" pins_documented

registered() {
  local db
  db="$(make --no-print-directory -pq -C "$ROOT" 2>/dev/null || true)"
  grep -qE '^LINT_TARGETS :?= .*\blint-workflows\b' <<<"$db" || { echo "lint-workflows not in LINT_TARGETS"; return 1; }
  grep -qE '^TEST_TARGETS :?= .*\btest-workflows\b' <<<"$db" || { echo "test-workflows not in TEST_TARGETS"; return 1; }
}
expect_ok "lint-workflows and test-workflows are registered with make lint / make test" registered

echo "== broken fixtures are rejected"
expect_fail "an action on a movable tag" "actions/checkout@v5 is not pinned by a 40-character commit SHA" \
  check pins "$FIXTURES/unpinned-action.yml"
expect_fail "a SHA without a version comment" "has no '# version' comment" \
  check pins "$FIXTURES/missing-version-comment.yml"
expect_fail "an unknown make target" "make target 'no-such-target-anywhere' is not defined" \
  check runs "$FIXTURES/unknown-target.yml"
expect_fail "a script that does not exist" "script scripts/no-such-script.sh does not exist" \
  check runs "$FIXTURES/logic-in-yaml.yml"
expect_fail "a command that is not a make target" "\`docker build -t hello .\` is neither a make target" \
  check runs "$FIXTURES/logic-in-yaml.yml"
expect_fail "a path filter that matches nothing" "'terraform/**/*.tf' matches no file" \
  check globs "$FIXTURES/wrong-glob.yml"
expect_fail "a workflow path that matches nothing is not passed silently" "no such workflow file" \
  "$ACTIONLINT" "$ROOT/.github/workflow/*.yml"
expect_fail "no top-level permissions" "no top-level \`permissions:\`" check policy "$FIXTURES/policy.yml"
expect_fail "a job without timeout-minutes" "has no \`timeout-minutes\`" check policy "$FIXTURES/policy.yml"
expect_fail "a job without concurrency" "has no concurrency group" check policy "$FIXTURES/policy.yml"
expect_fail "an expression inside a run script" "\`\${{ }}\` inside a run script" check policy "$FIXTURES/policy.yml"
expect_fail "shellcheck findings in a run block" "SC2086" check shellcheck "$FIXTURES/shellcheck.yml"
expect_fail "actionlint errors" "no_such_property" "$ACTIONLINT" "$FIXTURES/actionlint.yml"
expect_fail "dependabot: a directory that does not exist" "directory '/no-such-directory' does not exist" \
  check dependabot "$FIXTURES/dependabot.yml"
expect_fail "dependabot: a directory without the ecosystem's manifest" "holds no terraform manifest" \
  check dependabot "$FIXTURES/dependabot.yml"
expect_fail "dependabot: a missing ecosystem" "no update entry for npm" \
  check dependabot "$FIXTURES/dependabot.yml"

# Copies of the real workflows with one promise broken each.
mkdir -p "$TMP/wf"
sed -e 's/cancel-in-progress: false/cancel-in-progress: true/' -e '/^    environment: production$/d' \
  "$ROOT/.github/workflows/deploy.yml" >"$TMP/wf/deploy.yml"
sed -e 's/run: make scan$/run: make lint/' "$ROOT/.github/workflows/ci.yml" >"$TMP/wf/ci.yml"
expect_fail "a deploy outside the production environment" "is not in the protected \`production\` environment" \
  check contract "$TMP/wf/ci.yml" "$TMP/wf/deploy.yml"
expect_fail "deploys that may cancel each other" "cancel-in-progress: false}" \
  check contract "$TMP/wf/ci.yml" "$TMP/wf/deploy.yml"
expect_fail "an image job without the trivy scan" "no step runs \`make scan\`" \
  check contract "$TMP/wf/ci.yml" "$TMP/wf/deploy.yml"

printf 'on: push\non: pull_request\nkey: value   \n' >"$TMP/broken.yaml"
expect_fail "yamllint rejects duplicate keys and trailing spaces" "duplication of key" \
  yamllint -c "$ROOT/.yamllint.yaml" "$TMP/broken.yaml"

echo "== pipeline targets"
expect_fail "make scan names trivy when it is absent" "trivy-not-installed-here not found: install trivy" \
  make --no-print-directory -C "$ROOT" scan TRIVY=trivy-not-installed-here

# A stand-in terraform: `show` prints a plan, so the summary renderer is tested offline.
mkdir -p "$TMP/bin" "$TMP/tf"
cat >"$TMP/bin/terraform" <<'EOF'
#!/usr/bin/env bash
[[ "$*" == *" show -no-color "* ]] || { echo "unexpected: terraform $*" >&2; exit 2; }
printf '%s\n' '  # aws_ecr_repository.this will be created' '  + resource "aws_ecr_repository" "this" {' '    }' \
  '' 'Plan: 2 to add, 0 to change, 0 to destroy.'
EOF
chmod +x "$TMP/bin/terraform"
: >"$TMP/tf/tfplan"
summary_ok() {
  GITHUB_STEP_SUMMARY="$TMP/summary.md" TERRAFORM="$TMP/bin/terraform" \
    "$ROOT/.github/scripts/tf-plan-summary.sh" "$TMP/tf/tfplan" "$TMP/tf" || return 1
  cat "$TMP/summary.md"
  grep -q '^\*\*Plan: 2 to add, 0 to change, 0 to destroy.\*\*$' "$TMP/summary.md" &&
    grep -q 'aws_ecr_repository.this will be created' "$TMP/summary.md" &&
    grep -q '^<details><summary>Full plan</summary>' "$TMP/summary.md"
}
expect_ok "the plan summary carries the Plan: line and the full plan" summary_ok
expect_fail "the plan summary fails clearly without a plan" "run make tf_plan first" \
  env TERRAFORM="$TMP/bin/terraform" "$ROOT/.github/scripts/tf-plan-summary.sh" "$TMP/tf/no-such-plan"

echo "$passed passed, $failed failed"
(( failed == 0 ))
