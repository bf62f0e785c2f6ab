#!/usr/bin/env bash
# Runner rehearsal: run ci.yml's `run:` steps for real, the way a GitHub-hosted runner would.
#
#   tests/workflows/rehearsal.sh            (part of make test-workflows)
#
# A GitHub-hosted runner is not this machine: it is the unprivileged user `runner` with
# passwordless sudo, a fresh checkout, no Terraform CLI configuration (so no provider mirror),
# and each step runs as `bash --noprofile --norc -eo pipefail {0}`. This script builds that
# shape here: as root it creates the user `runner` when there is none (in the docker group,
# with a NOPASSWD sudoers drop-in), clones HEAD into a new scratch directory, and runs every `run:`
# step of every job of ci.yml in order as that user with a runner's environment (CI=true,
# GITHUB_ACTIONS, GITHUB_OUTPUT/ENV/PATH/STEP_SUMMARY files, the workflow's and job's `env:`).
# It removes the user, its home and the sudoers file afterwards, and only what it created.
# Already running as an unprivileged user with passwordless sudo, it runs the steps as itself.
#
# Steps it does not run, each printed with its reason:
#   - `uses:` steps: actions come from GitHub; the tools they install must already be here
#     (terraform and kubectl are; the versions are compared with ci.yml's);
#   - steps that need what only such an action provides (NEEDS_GITHUB below).
# Steps that reach the internet (the Terraform registry, PyPI) run for real; on this offline
# machine they must stop at the network and nowhere else (a "Module not installed" still
# fails), and the rehearsal says so. `make test` runs with TEST_TARGETS narrowed to
# REHEARSAL_TEST_TARGETS (default: test-unit test-container), the container suite to the
# sections that need root (REHEARSAL_CONTAINER_TESTS), to keep the wall time to minutes; the
# output says so. `make tf-mirror` fills a fresh mirror directory (as on a runner, where
# /opt/tf-plugins does not exist yet) rather than this machine's shared /opt/tf-plugins, which
# the later steps read as they would read the mirror tf-mirror filled.
# Knobs: REHEARSAL_USER (runner), REHEARSAL_TEST_TARGETS, REHEARSAL_JOBS (default: every job
# of ci.yml), REHEARSAL_REF (default HEAD: the commit cloned and rehearsed).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly ROOT
# ci.yml of the clone, so the steps are those of the commit rehearsed.
WORKFLOW=""
readonly RUNNER_USER="${REHEARSAL_USER:-runner}"
readonly TEST_TARGETS_NARROW="${REHEARSAL_TEST_TARGETS:-test-unit test-container}"
# Of the container suite, the sections that need the host's root (nsenter, signalling
# container processes): what differs for an unprivileged runner (tests/container/run.sh).
readonly CONTAINER_TESTS_NARROW="${REHEARSAL_CONTAINER_TESTS:-hardened_run_and_contract runtime_dir stop_under_load health}"
readonly SUDOERS_FILE="/etc/sudoers.d/hello-cluster-rehearsal"

# Steps that need something only a GitHub action installs, and why.
declare -A NEEDS_GITHUB=(
  ["make tflint"]="needs the TFLint binary that terraform-linters/setup-tflint downloads, and tflint --init fetches the AWS ruleset from GitHub releases"
  ["make scan"]="needs trivy, which aquasecurity/setup-trivy installs from GitHub, and its vulnerability database from ghcr.io"
  ["make image-multiarch"]="needs the docker-container builder of docker/setup-buildx-action and the QEMU binfmt handlers of docker/setup-qemu-action (both pull images from Docker Hub)"
)
# What each `uses:` step would have provided.
declare -A ACTION_REASON=(
  [actions / checkout]="GitHub checks the commit out; here: git clone of HEAD into a new directory"
  [hashicorp / setup - terraform]="downloads Terraform from releases.hashicorp.com; here: the terraform on PATH"
  [azure / setup - kubectl]="downloads kubectl from dl.k8s.io; here: the kubectl on PATH"
  [terraform - linters / setup - tflint]="downloads TFLint from GitHub releases"
  [aquasecurity / setup - trivy]="downloads trivy from GitHub releases"
  [docker / setup - qemu - action]="registers QEMU binfmt handlers from the tonistiigi/binfmt image (Docker Hub)"
  [docker / setup - buildx - action]="creates a docker-container buildx builder from the moby/buildkit image (Docker Hub)"
)
# Output of a step that stopped only because this machine is offline.
readonly OFFLINE_RE='could not connect to registry\.terraform\.io|lookup registry\.terraform\.io|Failed to establish a new connection|Temporary failure in name resolution|No matching distribution found'

created_user=0
created_sudoers=0
scratch=""

log() { printf 'rehearsal: %s\n' "$*"; }
# pass, fail, PASSED and FAILED
# shellcheck source=tests/lib/checks.sh
. "$ROOT/tests/lib/checks.sh"
skip_step() { printf 'skip - %s\n       | %s\n' "$1" "$2"; }

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  if ((created_sudoers)); then rm -f "$SUDOERS_FILE"; fi
  if ((created_user)); then
    userdel --remove "$RUNNER_USER" >/dev/null 2>&1 || log "could not remove the user $RUNNER_USER (userdel failed)"
  fi
  if [[ -n "$scratch" ]]; then rm -rf "$scratch"; fi
}

# as_runner COMMAND...: COMMAND as the runner user, in a clean environment (env -i keeps only
# what the caller passes).
as_runner() {
  if [[ "$(id -un)" == "$RUNNER_USER" ]]; then "$@"; else runuser -u "$RUNNER_USER" -- "$@"; fi
}

prepare_user() {
  if [[ "$(id -u)" != 0 ]]; then
    [[ "$(id -un)" == "$RUNNER_USER" ]] || {
      echo "rehearsal: run as root (it creates $RUNNER_USER) or as $RUNNER_USER itself; $(id -un) is neither" >&2
      exit 1
    }
    sudo -n true 2>/dev/null || {
      echo "rehearsal: $RUNNER_USER has no passwordless sudo, which a GitHub-hosted runner has" >&2
      exit 1
    }
    log "running as $RUNNER_USER itself (a runner, or its stand-in)"
    return 0
  fi
  local tool
  for tool in useradd userdel runuser sudo visudo git; do
    command -v "$tool" >/dev/null 2>&1 || {
      echo "rehearsal: $tool not found: install the Debian packages passwd, util-linux, sudo and git" >&2
      exit 1
    }
  done
  if id "$RUNNER_USER" >/dev/null 2>&1; then
    log "user $RUNNER_USER exists already; using it and leaving it in place"
  else
    useradd --create-home --shell /bin/bash "$RUNNER_USER"
    created_user=1
    log "created user $RUNNER_USER (removed at the end)"
  fi
  # A runner's user may use the engine without sudo (it is in the docker group).
  if getent group docker >/dev/null; then usermod -a -G docker "$RUNNER_USER"; fi
  if ! runuser -u "$RUNNER_USER" -- sudo -n true 2>/dev/null; then
    printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$RUNNER_USER" >"$SUDOERS_FILE.tmp"
    chmod 0440 "$SUDOERS_FILE.tmp"
    visudo -cqf "$SUDOERS_FILE.tmp" || {
      rm -f "$SUDOERS_FILE.tmp"
      echo "rehearsal: the sudoers drop-in does not parse" >&2
      exit 1
    }
    mv "$SUDOERS_FILE.tmp" "$SUDOERS_FILE"
    created_sudoers=1
  fi
}

# Writes one line per step of the selected jobs: JOB<TAB>INDEX<TAB>KIND<TAB>NAME<TAB>VALUE, and
# for run steps the script and its environment under $scratch/steps/.
extract_steps() {
  python3 - "$WORKFLOW" "$scratch/steps" "${REHEARSAL_JOBS:-}" <<'EOF'
import os, re, sys, yaml
path, out, only = sys.argv[1], sys.argv[2], sys.argv[3].split()
doc = yaml.safe_load(open(path, encoding="utf-8"))
os.makedirs(out, exist_ok=True)
expr = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
wf_env = {k: str(v) for k, v in (doc.get("env") or {}).items()}

def resolve(value, env):
    # env.X resolves from the workflow's env; anything else (github.token, secrets) is empty.
    def one(m):
        e = m.group(1)
        if e.startswith("env."):
            return env.get(e[4:], "")
        return ""
    return expr.sub(one, str(value))

for job_id, job in (doc.get("jobs") or {}).items():
    if only and job_id not in only:
        continue
    job_env = dict(wf_env)
    job_env.update({k: resolve(v, wf_env) for k, v in (job.get("env") or {}).items()})
    for i, step in enumerate(job.get("steps") or []):
        name = step.get("name") or f"step {i + 1}"
        if "uses" in step:
            print(f"{job_id}\t{i}\tuses\t{name}\t{str(step['uses']).split('@')[0]}")
            continue
        env = dict(job_env)
        env.update({k: resolve(v, job_env) for k, v in (step.get("env") or {}).items()})
        base = os.path.join(out, f"{job_id}-{i:02d}")
        with open(base + ".sh", "w", encoding="utf-8") as fh:
            fh.write(str(step["run"]))
        with open(base + ".env", "w", encoding="utf-8") as fh:
            for k, v in env.items():
                fh.write(f"{k}={v}\n")
        print(f"{job_id}\t{i}\trun\t{name}\t{base}")
EOF
}

# The environment of one step: a runner's variables, the step's env, and what earlier steps
# appended to $GITHUB_ENV / $GITHUB_PATH.
step_env() {
  local job="$1" base="$2" home path line
  home="$(getent passwd "$RUNNER_USER" | cut -d: -f6)"
  path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  while IFS= read -r line; do [[ -n "$line" ]] && path="$line:$path"; done <"$scratch/github/$job.path"
  printf '%s\n' "HOME=$home" "USER=$RUNNER_USER" "LOGNAME=$RUNNER_USER" "PATH=$path" "LANG=C.UTF-8" \
    "CI=true" "GITHUB_ACTIONS=true" "RUNNER_OS=Linux" "RUNNER_TEMP=$scratch/github/tmp" \
    "GITHUB_WORKSPACE=$workspace" "GITHUB_OUTPUT=$scratch/github/$job.output" \
    "GITHUB_ENV=$scratch/github/$job.env" "GITHUB_PATH=$scratch/github/$job.path" \
    "GITHUB_STEP_SUMMARY=$scratch/github/$job.summary" "DEBIAN_FRONTEND=noninteractive"
  cat "$base.env" "$scratch/github/$job.env"
}

run_step() {
  local job="$1" name="$2" base="$3" script rc=0 timeout_s
  script="$(<"$base.sh")"
  script="${script%$'\n'}"
  if [[ -n "${NEEDS_GITHUB[$script]:-}" ]]; then
    skip_step "$job: $name (\`$script\`)" "not run: ${NEEDS_GITHUB[$script]}"
    return 0
  fi
  if [[ "$script" == "make tf-mirror" || "$script" == "make ci-tools" ]]; then
    log "$job: \`$script\` fills the fresh directory $scratch/opt/tf-plugins (root-owned parent, as /opt on a runner)"
    printf 'TF_PLUGIN_MIRROR=%s\n' "$scratch/opt/tf-plugins" >>"$base.env"
  fi
  if [[ "$script" == "make test" ]]; then
    log "$job: \`make test\` runs here as \`make test TEST_TARGETS='$TEST_TARGETS_NARROW'\` with CONTAINER_TESTS='$CONTAINER_TESTS_NARROW' (the whole suite is make test; narrowed to keep the rehearsal to minutes)"
    printf "make test TEST_TARGETS='%s'\n" "$TEST_TARGETS_NARROW" >"$base.sh"
    printf 'CONTAINER_TESTS=%s\n' "$CONTAINER_TESTS_NARROW" >>"$base.env"
  fi
  timeout_s=$((60 * $(job_timeout "$job")))
  log "$job: $name: \`$(head -n1 "$base.sh")\` as $RUNNER_USER"
  mapfile -t envs < <(step_env "$job" "$base")
  (cd "$workspace" && as_runner env -i "${envs[@]}" timeout "$timeout_s" \
    bash --noprofile --norc -eo pipefail "$base.sh") >"$base.log" 2>&1 || rc=$?
  if ((rc == 0)); then
    pass "$job: $name"
  elif grep -qE "$OFFLINE_RE" "$base.log" && ! getent hosts registry.terraform.io >/dev/null 2>&1; then
    pass "$job: $name (ran; stopped at the network, as it must on this offline machine: $(grep -m1 -oE "$OFFLINE_RE" "$base.log"))"
  else
    fail "$job: $name (exit $rc)"
    tail -n 30 "$base.log" | sed 's/^/       | /'
  fi
}

job_timeout() {
  python3 -c 'import sys, yaml; print((yaml.safe_load(open(sys.argv[1]))["jobs"][sys.argv[2]] or {}).get("timeout-minutes", 360))' "$WORKFLOW" "$1"
}

check_tool_version() {
  local want="$1" have="$2" what="$3"
  if [[ "$have" == *"$want"* ]]; then
    pass "$what on PATH is the version ci.yml installs ($want)"
  else
    printf 'note - %s on PATH is %s; ci.yml installs %s (the steps ran with the local one)\n' "$what" "${have:-absent}" "$want"
  fi
}

main() {
  trap cleanup EXIT
  prepare_user
  scratch="$(mktemp -d /tmp/hello-cluster-rehearsal.XXXXXX)"
  chmod 0755 "$scratch"
  mkdir -p "$scratch/steps" "$scratch/github/tmp" "$scratch/opt"
  chmod 0777 "$scratch/github/tmp"
  local home
  home="$(getent passwd "$RUNNER_USER" | cut -d: -f6)"
  # A new directory of its own: on a real runner, $HOME/work holds the job's own checkout.
  mkdir -p "$scratch/work"
  if [[ "$(id -u)" == 0 ]]; then chown "$RUNNER_USER:" "$scratch/work"; fi
  workspace="$scratch/work/hello-cluster"
  if [[ "$(id -u)" == 0 ]]; then
    # git refuses to serve a repository owned by someone else to the runner user ("dubious
    # ownership"), so root clones and hands the clone over.
    git clone --quiet --no-hardlinks "$ROOT" "$workspace"
    chown -R "$RUNNER_USER:" "$workspace"
  else
    git clone --quiet --no-hardlinks "$ROOT" "$workspace"
  fi
  if [[ -n "${REHEARSAL_REF:-}" ]]; then as_runner git -C "$workspace" checkout --quiet --detach "$REHEARSAL_REF"; fi
  WORKFLOW="$workspace/.github/workflows/ci.yml"
  [[ -f "$WORKFLOW" ]] || {
    echo "rehearsal: the clone has no .github/workflows/ci.yml" >&2
    exit 1
  }
  log "fresh clone of $(as_runner git -C "$workspace" rev-parse --short HEAD) (committed work only) in $workspace, owned by $RUNNER_USER"
  as_runner test ! -e "$home/.terraformrc" || { fail "$RUNNER_USER has a ~/.terraformrc; a runner has none"; }

  local job kind name value current=""
  while IFS=$'\t' read -r job _ kind name value; do
    if [[ "$job" != "$current" ]]; then
      current="$job"
      echo "== job $job (ci.yml)"
      : >"$scratch/github/$job.output"
      : >"$scratch/github/$job.env"
      : >"$scratch/github/$job.path"
      : >"$scratch/github/$job.summary"
      chmod 0666 "$scratch/github/$job".*
    fi
    if [[ "$kind" == uses ]]; then
      skip_step "$job: $name ($value)" "a GitHub action: ${ACTION_REASON[$value]:-fetched from GitHub when the job starts}"
    else
      run_step "$job" "$name" "$value"
    fi
  done < <(extract_steps)

  check_tool_version "$(sed -n 's/^  TERRAFORM_VERSION: *//p' "$WORKFLOW")" "$(terraform version 2>/dev/null | head -n1)" terraform
  check_tool_version "$(sed -n 's/^  KUBECTL_VERSION: *//p' "$WORKFLOW")" "$(kubectl version --client 2>/dev/null | head -n1)" kubectl

  echo "rehearsal: $PASSED passed, $FAILED failed"
  ((FAILED == 0))
}

main "$@"
