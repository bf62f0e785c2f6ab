#!/usr/bin/env bash
# Tests of the pipeline definitions (make test-workflows), offline.
#
# The real workflows must pass every check; then each deliberately broken fixture in
# fixtures/ must be rejected, for the reason it was broken, which proves the checks can fail.
# Ends with "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail

# The whole run is one function, read in full before it starts: editing this file while it
# runs cannot change what the running copy does.
main() {

  ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  readonly ROOT
  readonly HERE="$ROOT/tests/workflows"
  readonly FIXTURES="$HERE/fixtures"
  readonly CHECK="$HERE/check_workflows.py"
  readonly ACTIONLINT="$HERE/actionlint.sh"

  TMP="$(mktemp -d)"
  readonly TMP
  trap 'rm -rf "$TMP"' EXIT

  # pass, fail, check_quiet NAME COMMAND... (must succeed), expect_failure NAME TEXT COMMAND...
  # (must fail saying TEXT, the reason), summary; a failure shows the command's last lines.
  # shellcheck source=tests/lib/checks.sh
  . "$ROOT/tests/lib/checks.sh"
  CHECK_TAIL=25

  check_workflows() { python3 "$CHECK" --root "$ROOT" "$@"; }

  shopt -s nullglob
  WORKFLOWS=("$ROOT"/.github/workflows/*.yml "$ROOT"/.github/workflows/*.yaml)
  shopt -u nullglob

  echo "== the real workflows"
  check_quiet "ci.yml and deploy.yml exist" test -f "$ROOT/.github/workflows/ci.yml" -a -f "$ROOT/.github/workflows/deploy.yml"
  check_quiet "every action is pinned by a commit SHA with a version comment" check_workflows pins "${WORKFLOWS[@]}"
  check_quiet "every run step calls a Makefile target or a repository script" check_workflows runs "${WORKFLOWS[@]}"
  check_quiet "every path filter matches a file" check_workflows globs "${WORKFLOWS[@]}"
  check_quiet "permissions, timeouts, concurrency; no expressions in scripts" check_workflows policy "${WORKFLOWS[@]}"
  check_quiet "shellcheck is clean on every run block" check_workflows shellcheck "${WORKFLOWS[@]}"
  check_quiet "actionlint is clean on every workflow" "$ACTIONLINT" "${WORKFLOWS[@]}"
  check_quiet "dependabot covers actions, docker, terraform, npm in real directories" check_workflows dependabot "$ROOT/.github/dependabot.yml"
  check_quiet "yamllint accepts the workflows (the \`on:\` key included)" yamllint -c "$ROOT/.yamllint.yaml" "$ROOT/.github"

  check_quiet "ci.yml and deploy.yml keep the pipeline's promises (contract)" check_workflows contract "${WORKFLOWS[@]}"
  check_quiet "deploy.yml: own TF_VAR_github_* settings, skips without variables, sessions outlast jobs" \
    check_workflows pipeline "${WORKFLOWS[@]}"

  pins_documented() {
    local sha missing=0
    while read -r sha; do
      grep -q "$sha" "$HERE/README.md" || {
        echo "pinned SHA $sha is not in tests/workflows/README.md"
        missing=1
      }
    done < <(grep -hoE 'uses: *[^ ]+@[0-9a-f]{40}' "${WORKFLOWS[@]}" | grep -oE '[0-9a-f]{40}$' | sort -u)
    return "$missing"
  }
  check_quiet "every pinned SHA is in the verification table (README.md)" pins_documented

  tools_documented() {
    local tool version
    for tool in TFLINT TRIVY; do
      version="$(sed -n "s/^  ${tool}_VERSION: *//p" "$ROOT/.github/workflows/ci.yml")"
      [[ -n "$version" ]] || {
        echo "ci.yml sets no ${tool}_VERSION"
        return 1
      }
      grep -qE "^\| [^|]*\(\`${tool}_VERSION\`[^|]*\| ${version} \|" "$HERE/README.md" ||
        {
          echo "${tool}_VERSION ${version} has no row in the tools table of README.md (a release checked to exist)"
          return 1
        }
    done
  }
  check_quiet "the TFLint and trivy versions ci.yml installs are in the verified tools table" tools_documented

  registered() {
    local db
    db="$(make --no-print-directory -pq -C "$ROOT" 2>/dev/null || true)"
    grep -qE '^LINT_TARGETS :?= .*\blint-workflows\b' <<<"$db" || {
      echo "lint-workflows not in LINT_TARGETS"
      return 1
    }
    grep -qE '^TEST_TARGETS :?= .*\btest-workflows\b' <<<"$db" || {
      echo "test-workflows not in TEST_TARGETS"
      return 1
    }
  }
  check_quiet "lint-workflows and test-workflows are registered with make lint / make test" registered

  echo "== broken fixtures are rejected"
  expect_failure "an action on a movable tag" "actions/checkout@v5 is not pinned by a 40-character commit SHA" \
    check_workflows pins "$FIXTURES/unpinned-action.yml"
  expect_failure "a SHA without a version comment" "has no '# version' comment" \
    check_workflows pins "$FIXTURES/missing-version-comment.yml"
  expect_failure "an unknown make target" "make target 'no-such-target-anywhere' is not defined" \
    check_workflows runs "$FIXTURES/unknown-target.yml"
  expect_failure "a script that does not exist" "script scripts/no-such-script.sh does not exist" \
    check_workflows runs "$FIXTURES/logic-in-yaml.yml"
  expect_failure "a command that is not a make target" "\`docker build -t hello .\` is neither a make target" \
    check_workflows runs "$FIXTURES/logic-in-yaml.yml"
  expect_failure "a path filter that matches nothing" "'terraform/**/*.tf' matches no file" \
    check_workflows globs "$FIXTURES/wrong-glob.yml"
  expect_failure "a workflow path that matches nothing is not passed silently" "no such workflow file" \
    "$ACTIONLINT" "$ROOT/.github/workflow/*.yml"
  expect_failure "no top-level permissions" "no top-level \`permissions:\`" check_workflows policy "$FIXTURES/policy.yml"
  expect_failure "a job without timeout-minutes" "has no \`timeout-minutes\`" check_workflows policy "$FIXTURES/policy.yml"
  expect_failure "a job without concurrency" "has no concurrency group" check_workflows policy "$FIXTURES/policy.yml"
  expect_failure "an expression inside a run script" "\`\${{ }}\` inside a run script" check_workflows policy "$FIXTURES/policy.yml"
  expect_failure "shellcheck findings in a run block" "SC2086" check_workflows shellcheck "$FIXTURES/shellcheck.yml"
  expect_failure "actionlint errors" "no_such_property" "$ACTIONLINT" "$FIXTURES/actionlint.yml"
  expect_failure "dependabot: a directory that does not exist" "directory '/no-such-directory' does not exist" \
    check_workflows dependabot "$FIXTURES/dependabot.yml"
  expect_failure "dependabot: a directory without the ecosystem's manifest" "holds no terraform manifest" \
    check_workflows dependabot "$FIXTURES/dependabot.yml"
  expect_failure "dependabot: a missing ecosystem" "no update entry for npm" \
    check_workflows dependabot "$FIXTURES/dependabot.yml"

  # Copies of the real workflows with one promise broken each.
  mkdir -p "$TMP/wf"
  sed -e 's/cancel-in-progress: false/cancel-in-progress: true/' -e '/^    environment: production$/d' \
    "$ROOT/.github/workflows/deploy.yml" >"$TMP/wf/deploy.yml"
  sed -e 's/run: make scan$/run: make lint/' "$ROOT/.github/workflows/ci.yml" >"$TMP/wf/ci.yml"
  expect_failure "a deploy outside the production environment" "is not in the protected \`production\` environment" \
    check_workflows contract "$TMP/wf/ci.yml" "$TMP/wf/deploy.yml"
  expect_failure "deploys that may cancel each other" "cancel-in-progress: false}" \
    check_workflows contract "$TMP/wf/ci.yml" "$TMP/wf/deploy.yml"
  expect_failure "an image job without the trivy scan" "no step runs \`make scan\`" \
    check_workflows contract "$TMP/wf/ci.yml" "$TMP/wf/deploy.yml"

  # mutate NAME SED-SCRIPT: a copy of the real workflows with deploy.yml changed by SED-SCRIPT.
  mutate() {
    mkdir -p "$TMP/$1"
    cp "$ROOT/.github/workflows/ci.yml" "$TMP/$1/ci.yml"
    sed -e "$2" "$ROOT/.github/workflows/deploy.yml" >"$TMP/$1/deploy.yml"
    if cmp -s "$ROOT/.github/workflows/deploy.yml" "$TMP/$1/deploy.yml"; then
      fail "mutation $1 applies to deploy.yml (it changed nothing)"
    fi
  }
  mutated() {
    local name="$1"
    shift
    check_workflows "$@" "$TMP/$name/ci.yml" "$TMP/$name/deploy.yml"
  }

  mutate no-oidc-vars '/^  TF_VAR_github_oidc_enabled: "true"$/d'
  expect_failure "a plan without TF_VAR_github_oidc_enabled (it would destroy the pipeline's role)" \
    "runs Terraform without TF_VAR_github_oidc_enabled=true" mutated no-oidc-vars pipeline
  mutate other-environment 's/^  TF_VAR_github_environment: production$/  TF_VAR_github_environment: staging/'
  expect_failure "a plan naming another environment than the deploy job's" \
    "runs Terraform without TF_VAR_github_environment=production" mutated other-environment pipeline
  mutate ungated-deploy "s/ *&& needs.settings.outputs.deploy == 'true'//"
  expect_failure "a deploy that runs without the repository variables" \
    "job deploy: is not skipped when the repository variables are absent" mutated ungated-deploy pipeline
  mutate bypassed-plan "s/&& needs.settings.outputs.plan == 'true'/|| needs.settings.outputs.plan == 'true'/"
  expect_failure "a plan whose condition can bypass the settings with ||" \
    "can bypass the settings check" mutated bypassed-plan pipeline
  mutate long-deploy 's/^    timeout-minutes: 110$/    timeout-minutes: 130/'
  expect_failure "a deploy job that outlives its two-hour role session" \
    "timeout-minutes 130 does not stay below the 7200 s role session" mutated long-deploy pipeline
  mutate greedy-session 's/role-duration-seconds: 7200/role-duration-seconds: 9000/'
  expect_failure "a session longer than the deploy role allows" \
    "asks for a 9000 s session; the role allows 7200 s" mutated greedy-session pipeline
  mutate replan 's/run: make ci-backend-config ci-apply$/run: make ci-backend-config deploy_all/'
  expect_failure "a deploy that plans anew instead of applying the approved plan" \
    "does not apply the saved plan with \`make ci-apply\`" mutated replan contract
  mutate any-artifact 's/artifact-ids: .*/name: tfplan/'
  expect_failure "a deploy that downloads a plan by name rather than the plan job's artifact" \
    "does not download the plan job's artifact by its id" mutated any-artifact contract
  mutate unhashed 's/PLAN_SHA256: .*/PLAN_SHA256: ""/'
  expect_failure "an apply that does not check the plan's sha256" \
    "\`make ci-apply\` does not get PLAN_SHA256 from the plan job" mutated unhashed contract
  mutate no-provenance 's/provenance: mode=max/provenance: false/'
  expect_failure "a pushed image without provenance" "no max-mode provenance" mutated no-provenance contract
  # shellcheck disable=SC2016 # a workflow expression, not a shell one
  mutate rebuilt 's/IMAGE_DIGEST: \${{ steps.build.outputs.digest }}/IMAGE_DIGEST: ""/'
  expect_failure "a deploy that does not deploy the built digest" \
    "does not deploy the built digest" mutated rebuilt contract

  # The settings script: a fork or fresh copy (no variables) skips with notices, exit 0.
  settings() {
    env -i PATH="$PATH" GITHUB_OUTPUT="$TMP/settings.out" "$@" "$ROOT/.github/scripts/deploy-settings.sh" >"$TMP/settings.log"
  }
  settings_none() {
    : >"$TMP/settings.out"
    settings || return 1
    cat "$TMP/settings.log" "$TMP/settings.out"
    grep -qx 'plan=false' "$TMP/settings.out" && grep -qx 'deploy=false' "$TMP/settings.out" &&
      grep -q '^::notice title=Deploy to production skipped::repository variable(s) AWS_REGION AWS_PLAN_ROLE_ARN AWS_DEPLOY_ROLE_ARN TF_STATE_BUCKET not set' "$TMP/settings.log"
  }
  check_quiet "settings: without repository variables both AWS jobs are skipped with a notice, exit 0" settings_none
  settings_plan_only() {
    : >"$TMP/settings.out"
    settings AWS_REGION=eu-west-1 AWS_PLAN_ROLE_ARN=arn:aws:iam::1:role/p TF_STATE_BUCKET=b || return 1
    cat "$TMP/settings.log" "$TMP/settings.out"
    grep -qx 'plan=true' "$TMP/settings.out" && grep -qx 'deploy=false' "$TMP/settings.out" &&
      grep -q 'repository variable(s) AWS_DEPLOY_ROLE_ARN not set' "$TMP/settings.log"
  }
  check_quiet "settings: plan variables alone allow the plan and skip the deploy, naming what is missing" settings_plan_only
  settings_all() {
    : >"$TMP/settings.out"
    settings AWS_REGION=eu-west-1 AWS_PLAN_ROLE_ARN=p AWS_DEPLOY_ROLE_ARN=d TF_STATE_BUCKET=b || return 1
    cat "$TMP/settings.log" "$TMP/settings.out"
    grep -qx 'plan=true' "$TMP/settings.out" && grep -qx 'deploy=true' "$TMP/settings.out" && ! grep -q '::notice' "$TMP/settings.log"
  }
  check_quiet "settings: every variable set allows both jobs without a notice" settings_all
  expect_failure "settings: an argument is refused" "usage: deploy-settings.sh" \
    "$ROOT/.github/scripts/deploy-settings.sh" extra

  printf 'on: push\non: pull_request\nkey: value   \n' >"$TMP/broken.yaml"
  expect_failure "yamllint rejects duplicate keys and trailing spaces" "duplication of key" \
    yamllint -c "$ROOT/.yamllint.yaml" "$TMP/broken.yaml"

  echo "== pipeline targets"
  expect_failure "make scan names trivy when it is absent" "trivy-not-installed-here not found: install trivy" \
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
  check_quiet "the plan summary carries the Plan: line and the full plan" summary_ok
  expect_failure "the plan summary fails clearly without a plan" "run make tf_plan first" \
    env TERRAFORM="$TMP/bin/terraform" "$ROOT/.github/scripts/tf-plan-summary.sh" "$TMP/tf/no-such-plan"

  # ci-apply refuses anything but the approved plan, before it touches Terraform or AWS.
  printf 'approved plan\n' >"$TMP/tf/approved.tfplan"
  approved_sha="$(sha256sum "$TMP/tf/approved.tfplan" | cut -d' ' -f1)"
  ci_apply() { make --no-print-directory -C "$ROOT" ci-apply TF_PLAN_FILE="$TMP/tf/approved.tfplan" "$@"; }
  expect_failure "ci-apply refuses a plan whose sha256 is not the approved one" "not the approved $(printf '0%.0s' {1..64})" \
    ci_apply PLAN_SHA256="$(printf '0%.0s' {1..64})"
  expect_failure "ci-apply refuses to run without the approved sha256" "PLAN_SHA256 is empty" ci_apply PLAN_SHA256=
  expect_failure "ci-apply refuses a missing plan file (it would plan anew)" "download the plan artifact first" \
    make --no-print-directory -C "$ROOT" ci-apply TF_PLAN_FILE="$TMP/tf/absent.tfplan" PLAN_SHA256="$approved_sha"

  # A stand-in trivy: records its arguments; the JSON report (--format json) is $TMP/report.json.
  cat >"$TMP/bin/trivy" <<EOF
#!/usr/bin/env bash
printf '%s\n' "\$*" >>"$TMP/trivy.args"
if [[ "\$*" == *"--format json"* ]]; then cat "$TMP/report.json"; fi
EOF
  chmod +x "$TMP/bin/trivy"
  printf '%s\n' '{"Metadata": {"OS": {"Family": "debian", "Name": "12.12"}}, "Results": [{"Class": "os-pkgs",' \
    '"Packages": [{"Name": "libc6", "Version": "2.36-9+deb12u14"}, {"Name": "nginx", "Version": "1.22.1-9"}]}]}' \
    >"$TMP/report.json"
  scan_remote() {
    : >"$TMP/trivy.args"
    local ref
    ref="123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello-cluster@sha256:$(printf 'a%.0s' {1..64})"
    make --no-print-directory -C "$ROOT" scan TRIVY="$TMP/bin/trivy" SCAN_IMAGE="$ref" || return 1
    grep -qF -- "--exit-code 1" "$TMP/trivy.args" && grep -qF -- "$ref" "$TMP/trivy.args"
  }
  check_quiet "make scan SCAN_IMAGE=repo@sha256:... scans the registry image (no local image needed)" scan_remote
  scan_counts() {
    make --no-print-directory -C "$ROOT" scan TRIVY="$TMP/bin/trivy" SCAN_IMAGE="example@sha256:$(printf 'b%.0s' {1..64})"
  }
  check_quiet "make scan reports how many OS packages it scanned" scan_counts
  printf '%s\n' '{"Metadata": {"OS": null}, "Results": [{"Class": "secret"}]}' >"$TMP/report.json"
  expect_failure "make scan fails when the scanner detects no OS package (it checked nothing)" \
    "trivy detected no OS packages" scan_counts
  printf '%s\n' '{"Results": [{"Class": "os-pkgs", "Packages": [{"Name": "libc6", "Version": "2.36-9"}]}]}' >"$TMP/report.json"

  # make test starts a Docker engine for the suites that need one, and stops only what it started.
  cat >"$TMP/bin/engine.sh" <<EOF
#!/usr/bin/env bash
echo "\$1" >>"$TMP/engine.calls"
case "\$1" in
  status) [[ -f "$TMP/engine.up" ]] ;;
  start) touch "$TMP/engine.up" ;;
  stop) rm -f "$TMP/engine.up" ;;
esac
EOF
  chmod +x "$TMP/bin/engine.sh"
  suites() { ENGINE_SCRIPT="$TMP/bin/engine.sh" "$ROOT/scripts/run-suites.sh" "$@"; }
  engine_calls() { tr '\n' ' ' <"$TMP/engine.calls" 2>/dev/null | sed 's/ $//'; }
  suites_start_stop() {
    rm -f "$TMP/engine.up" "$TMP/engine.calls"
    ENGINE_TARGETS="lint-shell help" suites help || return 1
    echo "engine calls: $(engine_calls)"
    [[ "$(engine_calls)" == "status start stop" && ! -e "$TMP/engine.up" ]]
  }
  check_quiet "run-suites: no engine answers -> starts one for the suite that needs it, stops it after" suites_start_stop
  suites_fail_still_stop() {
    rm -f "$TMP/engine.up" "$TMP/engine.calls"
    if ENGINE_TARGETS=help suites help no-such-suite-target; then
      echo "a failing suite passed"
      return 1
    fi
    echo "engine calls: $(engine_calls)"
    [[ "$(engine_calls)" == "status start stop" && ! -e "$TMP/engine.up" ]]
  }
  check_quiet "run-suites: a failing suite still stops the engine it started" suites_fail_still_stop
  suites_leave_foreign() {
    rm -f "$TMP/engine.calls"
    touch "$TMP/engine.up"
    ENGINE_TARGETS=help suites help || return 1
    echo "engine calls: $(engine_calls)"
    [[ "$(engine_calls)" == "status" && -e "$TMP/engine.up" ]]
  }
  check_quiet "run-suites: an engine that already answers is used and left running" suites_leave_foreign
  suites_no_need() {
    rm -f "$TMP/engine.up" "$TMP/engine.calls"
    ENGINE_TARGETS=test-container suites help || return 1
    [[ -z "$(engine_calls)" ]]
  }
  check_quiet "run-suites: no engine is started when no suite needs one" suites_no_need
  make_test_passes_engine_targets() {
    make --no-print-directory -n -C "$ROOT" test 2>/dev/null | grep -E 'ENGINE_TARGETS="[^"]*\btest-container\b[^"]*" scripts/run-suites.sh'
  }
  check_quiet "make test names the engine suites (test-container) to run-suites" make_test_passes_engine_targets

  # The weekly scan finds the newest tagged image in ECR (moto_server stands in for ECR).
  moto_pid=""
  moto_port=""
  stop_moto() { if [[ -n "$moto_pid" ]]; then
    kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
    moto_pid=""
  fi; }
  trap 'stop_moto; rm -rf "$TMP"' EXIT
  ecr() {
    env AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
      AWS_DEFAULT_REGION=eu-west-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null "$@"
  }
  start_moto() {
    local waited=0
    command -v moto_server >/dev/null 2>&1 || {
      echo "moto_server not found: make ci-tools (moto[server])"
      return 1
    }
    moto_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    moto_server -H 127.0.0.1 -p "$moto_port" >"$TMP/moto.log" 2>&1 &
    moto_pid=$!
    until ecr aws ecr describe-repositories >/dev/null 2>&1; do
      ((waited++ < 50)) || {
        cat "$TMP/moto.log"
        return 1
      }
      sleep 0.2
    done
    ecr aws ecr create-repository --repository-name hello-cluster >/dev/null
  }
  check_quiet "moto_server answers as ECR on 127.0.0.1" start_moto
  expect_failure "scan-released: an empty repository is an error, not a pass" "holds no tagged image" \
    ecr make --no-print-directory -C "$ROOT" scan-released TRIVY="$TMP/bin/trivy"
  scan_released() {
    local digest
    digest="$(ecr aws ecr put-image --repository-name hello-cluster --image-tag "$(printf 'd%.0s' {1..40})" \
      --image-manifest "file://$ROOT/tests/lib/minimal-image-manifest.json" \
      --query image.imageId.imageDigest --output text)" || return 1
    : >"$TMP/trivy.args"
    ecr make --no-print-directory -C "$ROOT" scan-released TRIVY="$TMP/bin/trivy" || return 1
    cat "$TMP/trivy.args"
    [[ "$(grep -c -- "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello-cluster@$digest" "$TMP/trivy.args")" == 2 ]]
  }
  check_quiet "scan-released scans the newest tagged image of the ECR repository by digest, and counts its OS packages" scan_released
  stop_moto

  # The build base: pinned by digest where it is fetched from a registry, the same tag offline.
  base_pinned() {
    local ref tag
    ref="$(make --no-print-directory -C "$ROOT" base-image-ref | sed -n 's/^ref=//p')"
    echo "base: $ref"
    [[ "$ref" =~ ^debian:bookworm-slim@sha256:[0-9a-f]{64}$ ]] || return 1
    tag="$(sed -n 's/^ARG BUILD_BASE=//p' "$ROOT/docker/Dockerfile")"
    echo "docker/Dockerfile BUILD_BASE default (offline bootstrap tag): $tag"
    [[ "$tag" == "${ref%@*}" ]] || {
      echo "the offline tag is not the pinned image's tag"
      return 1
    }
    ! grep -qiE '^FROM[[:space:]]+[a-z0-9./-]+:[^$[:space:]]+([[:space:]]|$)' "$ROOT/docker/Dockerfile" ||
      {
        echo "docker/Dockerfile names a registry image in FROM: the legacy builder pulls it even offline"
        return 1
      }
  }
  check_quiet "the build base is pinned by digest (docker/base.Dockerfile) and the offline tag matches it" base_pinned
  printf 'FROM debian:bookworm-slim\n' >"$TMP/base.Dockerfile"
  expect_failure "base-image-ref refuses a base without a digest" "must hold exactly one FROM image@sha256" \
    make --no-print-directory -C "$ROOT" base-image-ref BASE_DOCKERFILE="$TMP/base.Dockerfile"

  pip_pinned() {
    local loose
    loose="$(grep -vE '^[[:space:]]*(#|$)' "$ROOT/.github/requirements-ci.txt" | grep -vE '^[A-Za-z0-9_.-]+(\[[a-z,]+\])?==[0-9][0-9A-Za-z.]*$' || true)"
    [[ -z "$loose" ]] || {
      echo "not pinned exactly: $loose"
      return 1
    }
    grep -q 'requirements-ci.txt' "$ROOT/mk/ci.mk"
  }
  check_quiet "CI's pip packages are pinned exactly and make ci-tools installs that file" pip_pinned

  echo "== runner rehearsal: ci.yml's run steps as an unprivileged runner user (rehearsal.sh)"
  if "$HERE/rehearsal.sh"; then
    pass "runner rehearsal: every run step of ci.yml passes as the runner would run it"
  else
    fail "runner rehearsal: a run step of ci.yml fails as the runner would run it (above)"
  fi

  summary
}

main "$@"
