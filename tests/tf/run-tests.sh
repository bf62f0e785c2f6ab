#!/usr/bin/env bash
# Proves tf/ offline: formatting, init from the local provider mirror,
# validate, the mocked-provider tests (tests/tf/unit), and a real apply ->
# no-change plan -> EKS toggle -> destroy cycle against a local AWS emulator
# (tests/tf/aws_emulator.py), checked with the aws CLI. Prints the time of
# every step and ends with "N passed, M failed".
#
# The production configuration is never edited: both runs work on scratch
# copies, and the emulator's endpoints, test credentials and low retry count
# live only in an *_override.tf written into the emulator copy.
# jq filters and JMESPath queries are single-quoted on purpose:
# shellcheck disable=SC2016
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PLUGIN_MIRROR="${TF_PLUGIN_MIRROR:-/opt/tf-plugins}"
PYTHON="${PYTHON:-python3}"
REGION="us-east-1"
NAME="hello-cluster"
# The emulator run also builds the optional GitHub OIDC piece, names a
# cluster admin (the identity running Terraform gets no entry by default), and
# lets the load balancer and its access log bucket be destroyed at the end.
ADMIN_ROLE_ARN="arn:aws:iam::123456789012:role/platform-admin"
EMULATOR_VARS=(-var github_oidc_enabled=true -var github_repository=example/hello-cluster -var github_environment=production
  -var "eks_admin_principal_arns=[\"$ADMIN_ROLE_ARN\"]" -var alb_deletion_protection=false
  -var alb_access_logs_force_destroy=true)

timings=()
scratch=""
emulator_pid=""
unit_pid=""

# ------------------------------------------------------------------ helpers

# pass, fail, check_quiet (each check's output shown only when it fails), summary
# shellcheck source=tests/lib/checks.sh
. "$ROOT/tests/lib/checks.sh"
CHECK_TAIL=60

now() { date +%s.%N; }

# timed NAME COMMAND...: runs COMMAND, records and prints its duration.
timed() {
  local name="$1" start end status=0
  shift
  start="$(now)"
  "$@" || status=$?
  end="$(now)"
  local seconds
  seconds="$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')"
  timings+=("$(printf '%-34s %7s s' "$name" "$seconds")")
  printf '  ..    %s took %s s\n' "$name" "$seconds"
  return "$status"
}

die() {
  printf 'test-tf: %s\n' "$1" >&2
  exit 1
}

require_tools() {
  command -v terraform >/dev/null || die "terraform not found: install Terraform >= 1.10 (https://developer.hashicorp.com/terraform/install)"
  command -v jq >/dev/null || die "jq not found: apt-get install jq"
  terraform version -json 2>/dev/null | jq -e '.terraform_version | split(".") | map(tonumber? // 0) | .[0] > 1 or (.[0] == 1 and .[1] >= 10)' >/dev/null ||
    die "terraform $(terraform version -json 2>/dev/null | jq -r .terraform_version) is too old: Terraform >= 1.10 is needed (S3 lock files, mock providers)"
  command -v aws >/dev/null || die "aws not found: install the AWS CLI (pip install awscli, or apt-get install awscli)"
  command -v curl >/dev/null || die "curl not found: apt-get install curl"
  command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install Python 3"
  command -v git >/dev/null || die "git not found: apt-get install git"
  "$PYTHON" -c 'import moto, werkzeug' 2>/dev/null || die "python module moto not found: pip install 'moto[server]==5.2.1'"
  [[ -d "$PLUGIN_MIRROR/registry.terraform.io/hashicorp/aws" ]] ||
    die "no AWS provider in the plugin mirror $PLUGIN_MIRROR (set TF_PLUGIN_MIRROR, or run: terraform providers mirror $PLUGIN_MIRROR in tf/)"
}

cleanup() {
  if [[ -n "$unit_pid" ]] && kill -0 "$unit_pid" 2>/dev/null; then
    kill "$unit_pid" 2>/dev/null || true
    wait "$unit_pid" 2>/dev/null || true
  fi
  if [[ -n "$emulator_pid" ]] && kill -0 "$emulator_pid" 2>/dev/null; then
    kill "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
  fi
  if [[ -n "$scratch" ]]; then
    rm -rf "$scratch"
  fi
}

# stage DIR: copies the configuration (and the task definition template it
# reads) into DIR, without local state, plugins or backend settings. The
# tracked lock file stays: init must accept it as it is.
stage() {
  local dir="$1"
  mkdir -p "$dir"
  cp -r "$ROOT/tf" "$ROOT/ecs-taskdef" "$ROOT/k8s" "$dir/"
  rm -rf "$dir/tf/.terraform" "$dir/tf/backend_s3.tf"
  find "$dir/tf" \( -name '*.tfstate*' -o -name '*.tfvars' -o -name 'tfplan' \) -delete
}

tf_init() { terraform -chdir="$1" init -input=false -no-color >"$scratch/init-$(basename "$(dirname "$1")").log"; }

# ---------------------------------------------------------------- emulator

start_emulator() {
  local port_file="$scratch/emulator.port" waited=0
  "$PYTHON" "$ROOT/tests/tf/aws_emulator.py" --port-file "$port_file" >"$scratch/emulator.log" 2>&1 &
  emulator_pid=$!
  while [[ ! -s "$port_file" ]]; do
    kill -0 "$emulator_pid" 2>/dev/null || {
      cat "$scratch/emulator.log" >&2
      die "the AWS emulator exited at start"
    }
    ((waited++ < 300)) || die "the AWS emulator did not report its port within 30 s"
    sleep 0.1
  done
  EMULATOR_URL="http://127.0.0.1:$(tr -d '[:space:]' <"$port_file")"
  # Fresh state: moto keeps some state (log group tags) across deletes.
  curl -fsS -X POST "$EMULATOR_URL/moto-api/reset" >/dev/null
}

write_emulator_override() {
  local dir="$1" service endpoints=""
  for service in applicationautoscaling autoscaling cloudwatch ec2 ecr ecs eks elbv2 iam kms logs s3 sns sts; do
    endpoints+="    ${service} = \"${EMULATOR_URL}\""$'\n'
  done
  cat >"$dir/emulator_override.tf" <<EOF
# Test only: points the provider at the local emulator.
provider "aws" {
  region                      = "${REGION}"
  access_key                  = "test"
  secret_key                  = "test"
  max_retries                 = 2
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  # moto serves S3 by path on 127.0.0.1, not on bucket host names.
  s3_use_path_style = true

  endpoints {
${endpoints}  }
}
EOF
}

awsq() { aws --endpoint-url "$EMULATOR_URL" --region "$REGION" --output json "$@"; }

# jq_true JSON_FILE FILTER: succeeds when FILTER yields true.
jq_true() { jq -e "$2" "$1" >/dev/null; }

# aws_true FILTER AWS-ARGS...: runs an aws CLI call, then jq FILTER must yield true.
aws_true() {
  local filter="$1"
  shift
  awsq "$@" >"$scratch/aws.json"
  jq -e "$filter" "$scratch/aws.json" || {
    head -c 3000 "$scratch/aws.json"
    return 1
  }
}

# --------------------------------------------------------------- the checks

IMAGE_TAG="0123456789ab"

plan_refused_without_image() {
  ! terraform -chdir="$EMU_DIR" plan -no-color "${EMULATOR_VARS[@]}" >"$scratch/plan-no-image.log" 2>&1 &&
    grep -q "The ECS service does not exist yet and no pushed image was named" "$scratch/plan-no-image.log"
}

# What `make deploy_all` pushes before the ECS service exists (the emulator's ECR holds it).
push_image() {
  awsq ecr put-image --repository-name "$NAME" --image-tag "$IMAGE_TAG" \
    --image-manifest "file://$ROOT/tests/lib/minimal-image-manifest.json"
}

# The scalable target raised the new service to min_capacity at once; its tasks must run
# the pushed image (the emulator stops tasks whose image is not in the registry).
ecs_runs_the_pushed_image() {
  local i
  for i in $(seq 20); do
    awsq ecs describe-services --cluster "$NAME" --services "$NAME" >"$scratch/ecs-service.json"
    jq -e '.services[0] | .desiredCount == 2 and .runningCount == 2 and .deployments[0].rolloutState == "COMPLETED"' \
      "$scratch/ecs-service.json" >/dev/null && break
    sleep 0.5
    : "$i"
  done
  jq -e '.services[0] | .runningCount == 2 and ([.events[].message | select(test("CannotPullContainerError"))] == [])' \
    "$scratch/ecs-service.json" >/dev/null
}

# ------------------------------------------- after the first apply, area by area
# check_both_sides runs these in order. Later steps use what earlier ones looked up:
# VPC_ID (network); ALB_ARN and LISTENER_ARN (load balancer), which the port-change and
# EKS-toggle checks below read as well.

check_deploy_outputs() {
  echo "Outputs for the deploy flow"
  check_quiet "outputs: every name the deploy flow reads is present" jq_true "$OUTPUTS_JSON" \
    '. as $out | [ "aws_region","ecr_repository_url","deploy_eks","deploy_ecs","eks_cluster_name","eks_update_kubeconfig_command",
       "vpc_id","vpc_cidr","alb_security_group_id","eks_target_group_arn","eks_lb_controller_service_account","ecs_cluster_name","ecs_service_name","ecs_task_definition_family","ecs_task_definition_json",
       "ecs_container_name","alb_url","image_architecture" ] | all(. as $k | $out | has($k))'
  check_quiet "outputs: alb_url is the load balancer's http URL" jq_true "$OUTPUTS_JSON" '.alb_url.value | test("^http://hello-cluster-[^ ]+\\.elb\\.amazonaws\\.com$")'
  check_quiet "outputs: region and ECR URL come from the provider, not hard-coded" jq_true "$OUTPUTS_JSON" \
    '.aws_region.value == "us-east-1" and (.ecr_repository_url.value | test("^123456789012\\.dkr\\.ecr\\.us-east-1\\.amazonaws\\.com/hello-cluster$"))'

  local taskdef="$scratch/taskdef.json"
  jq -r '.ecs_task_definition_json.value' "$OUTPUTS_JSON" |
    jq --arg image "$(jq -r .ecr_repository_url.value "$OUTPUTS_JSON"):0123abc" '.containerDefinitions[0].image = $image' >"$taskdef"
  check_quiet "task definition output registers as-is with a new image (register-task-definition --cli-input-json)" \
    aws_true '.taskDefinition.revision == 2 and (.taskDefinition.containerDefinitions[0].image | endswith(":0123abc"))' \
    ecs register-task-definition --cli-input-json "file://$taskdef"
  check_quiet "deregistering that revision again" awsq ecs deregister-task-definition --task-definition "$NAME:2"
}

check_network() {
  echo "Network"
  check_quiet "VPC 10.40.0.0/16 tagged for the stack" aws_true \
    '[.Vpcs[] | select(.CidrBlock == "10.40.0.0/16")] | length == 1' \
    ec2 describe-vpcs --filters "Name=tag:Project,Values=$NAME"
  VPC_ID="$(awsq ec2 describe-vpcs --filters "Name=tag:Project,Values=$NAME" --query 'Vpcs[0].VpcId' --output text)"
  check_quiet "2 public + 2 private subnets with the load-balancer role tags" aws_true \
    '([.Subnets[] | select(any(.Tags[]; .Key == "kubernetes.io/role/elb"))] | length == 2) and
     ([.Subnets[] | select(any(.Tags[]; .Key == "kubernetes.io/role/internal-elb"))] | length == 2) and
     all(.Subnets[]; .MapPublicIpOnLaunch == false)' \
    ec2 describe-subnets --filters "Name=vpc-id,Values=$VPC_ID"
  check_quiet "one NAT gateway (single_nat_gateway)" aws_true '[.NatGateways[] | select(.State == "available")] | length == 1' \
    ec2 describe-nat-gateways --filter "Name=vpc-id,Values=$VPC_ID"
  check_quiet "VPC flow logs to CloudWatch" aws_true '[.FlowLogs[] | select(.ResourceId == "'"$VPC_ID"'" and .LogDestinationType == "cloud-watch-logs")] | length == 1' \
    ec2 describe-flow-logs
}

check_registry() {
  echo "Registry"
  check_quiet "ECR repository: immutable tags, scan on push, encrypted" aws_true \
    '.repositories[0] | .imageTagMutability == "IMMUTABLE" and .imageScanningConfiguration.scanOnPush == true and .encryptionConfiguration.encryptionType == "AES256"' \
    ecr describe-repositories --repository-names "$NAME"
  check_quiet "ECR lifecycle policy keeps the last 30 images" aws_true '.lifecyclePolicyText | fromjson | .rules[0].selection.countNumber == 30' \
    ecr get-lifecycle-policy --repository-name "$NAME"
}

check_ecs() {
  echo "ECS"
  check_quiet "ECS cluster with Container Insights and Fargate capacity providers" aws_true \
    '.clusters[0] | .status == "ACTIVE" and (.settings[] | select(.name == "containerInsights") | .value == "enabled") and (.capacityProviders | index("FARGATE") != null)' \
    ecs describe-clusters --clusters "$NAME" --include SETTINGS
  check_quiet "ECS service: private, no public IP, behind the ALB on 8080, circuit breaker with rollback, raised to min_capacity (2) by its scalable target" aws_true \
    '.services[0] | .desiredCount == 2 and .networkConfiguration.awsvpcConfiguration.assignPublicIp == "DISABLED"
       and .loadBalancers[0].containerPort == 8080 and .loadBalancers[0].containerName == "hello"
       and .deploymentConfiguration.deploymentCircuitBreaker.enable and .deploymentConfiguration.deploymentCircuitBreaker.rollback
       and .capacityProviderStrategy[0].capacityProvider == "FARGATE"' \
    ecs describe-services --cluster "$NAME" --services "$NAME"
  check_quiet "task definition: ARM64, read-only root, user 10001, drop ALL, /tmp volume, --healthcheck, stopTimeout 30" aws_true \
    '.taskDefinition | .runtimePlatform.cpuArchitecture == "ARM64" and .cpu == "256" and .memory == "512"
       and (.containerDefinitions[0] | .readonlyRootFilesystem and .user == "10001:10001" and .linuxParameters.capabilities.drop == ["ALL"]
            and .mountPoints[0].containerPath == "/tmp" and .healthCheck.command[2] == "--healthcheck" and .stopTimeout == 30
            and .logConfiguration.logDriver == "awslogs")' \
    ecs describe-task-definition --task-definition "$NAME:1"
  check_quiet "autoscaling: service target 2..6 with CPU and ALB-requests-per-target policies" aws_true \
    '.ScalableTargets[0] | .MinCapacity == 2 and .MaxCapacity == 6' \
    application-autoscaling describe-scalable-targets --service-namespace ecs --resource-ids "service/$NAME/$NAME"
  check_quiet "autoscaling: request policy label is <alb>/<target group>" aws_true \
    '[.ScalingPolicies[].TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification]
       | (map(.PredefinedMetricType) | sort == ["ALBRequestCountPerTarget", "ECSServiceAverageCPUUtilization"])
       and (map(select(.ResourceLabel != null) | .ResourceLabel)[0] | test("^app/hello-cluster/[^/]+/targetgroup/ecs-[^/]+/[^/]+$"))' \
    application-autoscaling describe-scaling-policies --service-namespace ecs --resource-id "service/$NAME/$NAME"
  check_quiet "task log group with 30-day retention" aws_true '.logGroups[0].retentionInDays == 30' \
    logs describe-log-groups --log-group-name-prefix "/ecs/$NAME"
}

check_eks() {
  echo "EKS"
  check_quiet "EKS cluster 1.35: API access mode, private endpoint, secrets encrypted, control-plane logs" aws_true \
    '.cluster | .version == "1.35" and .accessConfig.authenticationMode == "API" and .resourcesVpcConfig.endpointPrivateAccess
       and (.encryptionConfig[0].resources == ["secrets"]) and (.logging.clusterLogging[0].types | sort == ["api","audit","authenticator"])' \
    eks describe-cluster --name "$NAME"
  check_quiet "EKS add-ons: vpc-cni, kube-proxy, eks-pod-identity-agent, coredns, metrics-server" aws_true \
    '.addons | sort == ["coredns","eks-pod-identity-agent","kube-proxy","metrics-server","vpc-cni"]' \
    eks list-addons --cluster-name "$NAME"
  check_quiet "EKS access entry for eks_admin_principal_arns with the cluster admin policy" aws_true \
    '.associatedAccessPolicies[0].policyArn | endswith(":cluster-access-policy/AmazonEKSClusterAdminPolicy")' \
    eks list-associated-access-policies --cluster-name "$NAME" --principal-arn "$ADMIN_ROLE_ARN"
  check_quiet "no access entry but the named admin's (the identity running Terraform gets none)" aws_true \
    '.accessEntries == ["'"$ADMIN_ROLE_ARN"'"]' eks list-access-entries --cluster-name "$NAME"
  local nodegroup
  nodegroup="$(awsq eks list-nodegroups --cluster-name "$NAME" --query 'nodegroups[0]' --output text)"
  check_quiet "node group: AL2023 ARM64 on t4g.medium, 2..4 nodes, private subnets, launch template" aws_true \
    '.nodegroup | .amiType == "AL2023_ARM_64_STANDARD" and .instanceTypes == ["t4g.medium"] and .scalingConfig.minSize == 2
       and .scalingConfig.maxSize == 4 and (.subnets | length == 2) and .launchTemplate.id != null' \
    eks describe-nodegroup --cluster-name "$NAME" --nodegroup-name "$nodegroup"
  check_quiet "node launch template: IMDSv2 required, hop limit 1, encrypted root volume" aws_true \
    '.LaunchTemplateVersions[0].LaunchTemplateData | .MetadataOptions.HttpTokens == "required"
       and .MetadataOptions.HttpPutResponseHopLimit == 1 and .BlockDeviceMappings[0].Ebs.Encrypted' \
    ec2 describe-launch-template-versions --launch-template-id \
    "$(awsq eks describe-nodegroup --cluster-name "$NAME" --nodegroup-name "$nodegroup" --query 'nodegroup.launchTemplate.id' --output text)"
  # The EKS target group holds pod IPs (the AWS Load Balancer Controller registers them); an
  # instance registration would be refused by an ip target group anyway.
  check_quiet "node Auto Scaling group is not attached to any target group (pods are the targets)" aws_true \
    '.AutoScalingGroups[0].TargetGroupARNs == []' \
    autoscaling describe-auto-scaling-groups --auto-scaling-group-names \
    "$(awsq eks describe-nodegroup --cluster-name "$NAME" --nodegroup-name "$nodegroup" --query 'nodegroup.resources.autoScalingGroups[0].name' --output text)"
  check_quiet "EKS Pod Identity: kube-system/aws-load-balancer-controller has the controller's role" aws_true \
    '[.associations[] | "\(.namespace)/\(.serviceAccount)"] == ["kube-system/aws-load-balancer-controller"]' \
    eks list-pod-identity-associations --cluster-name "$NAME"
}

check_load_balancer() {
  echo "Load balancer"
  check_quiet "internet-facing ALB in the public subnets" aws_true \
    '.LoadBalancers[0] | .Scheme != "internal" and .Type == "application" and (.AvailabilityZones | length == 2)' \
    elbv2 describe-load-balancers --names "$NAME"
  ALB_ARN="$(awsq elbv2 describe-load-balancers --names "$NAME" --query 'LoadBalancers[0].LoadBalancerArn' --output text)"
  check_quiet "target groups: ECS and EKS both ip:8080 (task and pod IPs), both on /readyz" aws_true \
    '[.TargetGroups[] | "\(.TargetType):\(.Port):\(.HealthCheckPath)"] | sort == ["ip:8080:/readyz", "ip:8080:/readyz"]' \
    elbv2 describe-target-groups --load-balancer-arn "$ALB_ARN"
  LISTENER_ARN="$(awsq elbv2 describe-listeners --load-balancer-arn "$ALB_ARN" --query 'Listeners[?Port==`80`].ListenerArn | [0]' --output text)"
  check_quiet "listener rule on :80 forwards 50/50 to the ECS and EKS target groups" aws_true \
    '[.Rules[] | select(.IsDefault) | .Actions[0].ForwardConfig.TargetGroups[] | .Weight] == [50, 50]' \
    elbv2 describe-rules --listener-arn "$LISTENER_ARN"
}

check_monitoring() {
  echo "Monitoring"
  check_quiet "8 alarms (5xx, p99 and unhealthy hosts per side, ECS CPU/memory), all notBreaching, to SNS" aws_true \
    '[.MetricAlarms[] | select(.AlarmName | contains("-rollback-") | not)] | (length == 8) and all(.[]; .TreatMissingData == "notBreaching" and (.AlarmActions[0] | test(":hello-cluster-alarms$")))' \
    cloudwatch describe-alarms --alarm-name-prefix "$NAME-"
  check_quiet "2 ECS rollback alarms (5xx, unhealthy hosts), notBreaching, named in the service's deployment alarms" aws_true \
    '[.MetricAlarms[] | select(.AlarmName | contains("-ecs-rollback-")) | .TreatMissingData] == ["notBreaching", "notBreaching"]' \
    cloudwatch describe-alarms --alarm-name-prefix "$NAME-"
  local topic_key
  topic_key="$(awsq sns get-topic-attributes --topic-arn "$(jq -r .alarm_topic_arn.value "$OUTPUTS_JSON")" --query Attributes.KmsMasterKeyId --output text)"
  check_quiet "alarm topic encrypted with a key of its own (not alias/aws/sns) that CloudWatch may use for this stack's alarms" aws_true \
    '.Policy | fromjson | .Statement[] | select(.Principal.Service == "cloudwatch.amazonaws.com")
       | (.Action | sort) == ["kms:Decrypt", "kms:GenerateDataKey*"] and .Condition.StringEquals["aws:SourceAccount"] == "123456789012"
         and .Condition.ArnLike["aws:SourceArn"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:hello-cluster-*"' \
    kms get-key-policy --key-id "$topic_key" --policy-name default
  check_quiet "CloudWatch dashboard" aws_true '[.DashboardEntries[] | select(.DashboardName == "hello-cluster")] | length == 1' \
    cloudwatch list-dashboards
}

check_github_oidc() {
  echo "GitHub OIDC"
  check_quiet "GitHub Actions OIDC provider" aws_true '.OpenIDConnectProviderList | length == 1' iam list-open-id-connect-providers
  check_quiet "deploy role trusts only example/hello-cluster's production environment, audience sts" aws_true \
    '[.Roles[] | select(.RoleName | startswith("hello-cluster-gh-deploy-")) | .AssumeRolePolicyDocument.Statement[0].Condition.StringEquals]
       | length == 1 and .[0]["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
       and ([.[0]["token.actions.githubusercontent.com:sub"]] | flatten == ["repo:example/hello-cluster:environment:production"])' \
    iam list-roles
}

# The controls of the stack as AWS would see them, and the emulator refusing
# what AWS refuses (tests/tf/aws_emulator.py quotes the documentation).
logs_encrypted_with_the_stack_key() {
  local key_arn
  key_arn="$(awsq kms describe-key --key-id "alias/$NAME-logs" --query KeyMetadata.Arn --output text)"
  awsq logs describe-log-groups >"$scratch/log-groups.json"
  jq -e --arg key "$key_arn" --arg name "$NAME" '
    [.logGroups[] | select(.logGroupName | test("^/(ecs|vpc|aws/eks)/" + $name + "(/|$)"))] as $groups
    | ($groups | length) == 3 and all($groups[]; .kmsKeyId == $key)' "$scratch/log-groups.json" ||
    {
      jq -c '[.logGroups[] | {logGroupName, kmsKeyId}]' "$scratch/log-groups.json"
      return 1
    }
}

# "AccessDeniedException: The specified KMS key does not exist or is not allowed to be
# used with Arn ..." when the key policy does not let CloudWatch Logs use the key.
logs_refuse_a_key_they_may_not_use() {
  local key_arn status=0
  key_arn="$(awsq kms create-key --description "no statement for CloudWatch Logs" --query KeyMetadata.Arn --output text)"
  awsq logs create-log-group --log-group-name /probe/key-without-logs-statement --kms-key-id "$key_arn" \
    >"$scratch/probe.out" 2>&1 && status=1
  awsq kms schedule-key-deletion --key-id "$key_arn" --pending-window-in-days 7 >/dev/null
  if ((status != 0)) || ! grep -q AccessDeniedException "$scratch/probe.out"; then
    cat "$scratch/probe.out"
    return 1
  fi
}

# Each add-on runs the first (most recent) version DescribeAddonVersions lists for 1.35.
addons_run_the_most_recent_version() {
  local addon installed offered
  for addon in coredns eks-pod-identity-agent kube-proxy metrics-server vpc-cni; do
    installed="$(awsq eks describe-addon --cluster-name "$NAME" --addon-name "$addon" --query addon.addonVersion --output text)"
    offered="$(awsq eks describe-addon-versions --addon-name "$addon" --kubernetes-version 1.35 \
      --query 'addons[0].addonVersions[0].addonVersion' --output text)"
    [[ -n "$offered" && "$installed" == "$offered" ]] || {
      echo "$addon: $installed, most recent $offered"
      return 1
    }
  done
}

# CreateAddon: "The version must match one of the versions returned by DescribeAddonVersions."
addon_version_not_offered_is_refused() {
  ! awsq eks create-addon --cluster-name "$NAME" --addon-name aws-ebs-csi-driver --addon-version v0.0.1-eksbuild.1 \
    >"$scratch/addon.out" 2>&1 && grep -q InvalidParameterException "$scratch/addon.out" &&
    ! awsq eks list-addons --cluster-name "$NAME" --query addons --output text | grep -q aws-ebs-csi-driver
}

plan_role_reads_no_object() {
  local role
  role="$(awsq iam list-roles --query "Roles[?starts_with(RoleName, '$NAME-gh-plan-')].RoleName | [0]" --output text)"
  [[ -n "$role" && "$role" != None ]] || {
    echo "no plan role"
    return 1
  }
  aws_true '.AttachedPolicies == []' iam list-attached-role-policies --role-name "$role" &&
    aws_true '[.PolicyDocument.Statement[] | select(([.Action] | flatten | any(. == "s3:GetObject" or . == "s3:Get*" or . == "s3:*" or . == "*"))
       and ([.Resource] | flatten | any(. == "*")))] == []' iam get-role-policy --role-name "$role" --policy-name read-stack-and-state
}

check_controls() {
  echo "Controls"
  check_quiet "every log group of the stack is encrypted with its KMS key (alias/$NAME-logs)" logs_encrypted_with_the_stack_key
  check_quiet "CloudWatch Logs refuses a key whose policy does not let it use the key (AccessDeniedException)" logs_refuse_a_key_they_may_not_use
  check_quiet "EKS add-ons run the most recent version DescribeAddonVersions lists for 1.35" addons_run_the_most_recent_version
  check_quiet "CreateAddon with a version EKS does not offer for 1.35 is refused (InvalidParameterException)" addon_version_not_offered_is_refused
  check_quiet "GitHub plan role: no managed policy (not ReadOnlyAccess), no s3:GetObject on \"*\"" plan_role_reads_no_object
}

# The stack with both sides on, as the deploy flow and an operator see it.
check_both_sides() {
  OUTPUTS_JSON="$scratch/outputs.json"
  terraform -chdir="$EMU_DIR" output -json >"$OUTPUTS_JSON"
  check_quiet "ECS: the scalable target started 2 tasks on the pushed image, none failed to pull" ecs_runs_the_pushed_image
  check_deploy_outputs
  check_network
  check_registry
  check_ecs
  check_eks
  check_load_balancer
  check_access_logs
  check_monitoring
  check_github_oidc
  check_controls
}

# Security Hub ELB.5: access logs to the stack's bucket. The emulator, as
# ELB, turns logging on only when the bucket policy lets ELB write.
check_access_logs() {
  echo "Access logs (ELB.5)"
  local bucket
  bucket="$(jq -r '.alb_access_logs_bucket.value' "$OUTPUTS_JSON")"
  check_quiet "the load balancer logs to the stack's bucket ($bucket)" aws_true \
    '[.Attributes[] | {(.Key): .Value}] | add | .["access_logs.s3.enabled"] == "true" and .["access_logs.s3.bucket"] == "'"$bucket"'"' \
    elbv2 describe-load-balancer-attributes --load-balancer-arn "$ALB_ARN"
  check_quiet "log bucket: SSE-S3, the only encryption ELB access logs support" aws_true \
    '.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm == "AES256"' \
    s3api get-bucket-encryption --bucket "$bucket"
  check_quiet "log bucket: every public access blocked" aws_true \
    '.PublicAccessBlockConfiguration | .BlockPublicAcls and .IgnorePublicAcls and .BlockPublicPolicy and .RestrictPublicBuckets' \
    s3api get-public-access-block --bucket "$bucket"
  check_quiet "log bucket: ACLs off (BucketOwnerEnforced)" aws_true \
    '.OwnershipControls.Rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]' s3api get-bucket-ownership-controls --bucket "$bucket"
  check_quiet "log bucket: logs expire after 90 days" aws_true '.Rules[0].Status == "Enabled" and .Rules[0].Expiration.Days == 90' \
    s3api get-bucket-lifecycle-configuration --bucket "$bucket"
  check_quiet "log bucket policy: us-east-1's ELB account and the log delivery principal may write, TLS only" aws_true \
    '.Policy | fromjson | .Statement | ([.[] | select(.Effect == "Allow") | .Principal]
       == [{"AWS": "arn:aws:iam::127311923021:root"}, {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}])
     and ([.[] | select(.Effect == "Deny") | .Condition.Bool["aws:SecureTransport"]] == ["false"])' \
    s3api get-bucket-policy --bucket "$bucket"
  check_quiet "ELB refuses access logs to a bucket whose policy does not let it write (Access Denied for bucket)" \
    access_logs_refused_without_policy
}

access_logs_refused_without_policy() {
  local bucket="$NAME-unwritable-logs" status=0
  awsq s3api create-bucket --bucket "$bucket" >/dev/null
  awsq elbv2 modify-load-balancer-attributes --load-balancer-arn "$ALB_ARN" \
    --attributes Key=access_logs.s3.enabled,Value=true "Key=access_logs.s3.bucket,Value=$bucket" >"$scratch/logs-refused.out" 2>&1 || status=$?
  awsq s3api delete-bucket --bucket "$bucket"
  if ((status == 0)); then
    echo "the emulator turned access logs on for $bucket, which has no bucket policy"
    return 1
  fi
  if ! grep -q "Access Denied for bucket: $bucket. Please check S3bucket permission" "$scratch/logs-refused.out"; then
    cat "$scratch/logs-refused.out"
    return 1
  fi
}

# ELB refuses to delete a target group a listener still forwards to (moto
# does this as released; the port change below depends on it).
check_target_group_in_use_is_refused() {
  local tg
  tg="$(awsq elbv2 describe-target-groups --load-balancer-arn "$ALB_ARN" --query 'TargetGroups[0].TargetGroupArn' --output text)"
  if awsq elbv2 delete-target-group --target-group-arn "$tg" >"$scratch/delete-tg.out" 2>&1; then
    echo "the emulator deleted target group $tg although the listener forwards to it"
    return 1
  fi
  grep -q ResourceInUse "$scratch/delete-tg.out" || {
    cat "$scratch/delete-tg.out"
    return 1
  }
}

check_port_changed() {
  echo "After app_port=8081 (both target groups replaced)"
  check_quiet "the ECS target group was replaced by one on 8081; no target group is left on 8080" aws_true \
    '([.TargetGroups[] | select(.TargetGroupName | startswith("ecs-")) | .Port] == [8081]) and all(.TargetGroups[]; .Port != 8080)' \
    elbv2 describe-target-groups
  check_quiet "the new group belongs to the load balancer" aws_true \
    '[.TargetGroups[] | select(.TargetGroupName | startswith("ecs-")) | .Port] == [8081]' \
    elbv2 describe-target-groups --load-balancer-arn "$ALB_ARN"
  check_quiet "the listener forwards to both sides, only to target groups that exist" forwarded_target_groups_exist
}

forwarded_target_groups_exist() {
  local arn count=0
  for arn in $(awsq elbv2 describe-rules --listener-arn "$LISTENER_ARN" \
    --query 'Rules[?IsDefault].Actions[0].ForwardConfig.TargetGroups[].TargetGroupArn' --output text); do
    awsq elbv2 describe-target-groups --target-group-arns "$arn" >/dev/null || return 1
    count=$((count + 1))
  done
  ((count == 2))
}

check_ecs_only() {
  echo "After deploy_eks=false"
  check_quiet "EKS cluster is gone" aws_true '.clusters == []' eks list-clusters
  check_quiet "no Auto Scaling group is left" aws_true '.AutoScalingGroups == []' autoscaling describe-auto-scaling-groups
  check_quiet "both target groups stay with the load balancer (switching a side is a listener change)" aws_true \
    '[.TargetGroups[] | .TargetType] | sort == ["ip", "ip"]' \
    elbv2 describe-target-groups --load-balancer-arn "$ALB_ARN"
  check_quiet "the listener now forwards everything to ECS" aws_true \
    '[.Rules[] | select(.IsDefault) | .Actions[0].ForwardConfig.TargetGroups[] | "\(.TargetGroupArn | test(":targetgroup/ecs-")):\(.Weight)"] == ["true:100"]' \
    elbv2 describe-rules --listener-arn "$LISTENER_ARN"
  check_quiet "the ECS service is untouched" aws_true '.services[0].status == "ACTIVE"' \
    ecs describe-services --cluster "$NAME" --services "$NAME"
  check_quiet "8 alarms left (EKS ones removed; 2 of them ECS rollback alarms)" aws_true '.MetricAlarms | length == 8' \
    cloudwatch describe-alarms --alarm-name-prefix "$NAME-"
  check_quiet "the EKS secrets key alias is gone" aws_true '[.Aliases[] | select(.AliasName == "alias/'"$NAME"'-eks-secrets")] == []' \
    kms list-aliases
  check_quiet "EKS re-created its control-plane log group after Terraform deleted it (as on AWS)" aws_true \
    '[.logGroups[] | .logGroupName] == ["/aws/eks/'"$NAME"'/cluster"]' logs describe-log-groups --log-group-name-prefix "/aws/eks/$NAME/"
}

check_eks_recreated() {
  echo "After deploy_eks=true again (destroy -> create of EKS)"
  check_quiet "EKS cluster is back" aws_true '.clusters == ["'"$NAME"'"]' eks list-clusters
  check_quiet "the control-plane log group is adopted: Terraform's retention again" aws_true \
    '.logGroups[0].retentionInDays == 30' logs describe-log-groups --log-group-name-prefix "/aws/eks/$NAME/cluster"
}

check_nothing_left() {
  echo "After destroy"
  check_quiet "no VPC of the stack" aws_true '.Vpcs == []' ec2 describe-vpcs --filters "Name=tag:Project,Values=$NAME"
  check_quiet "no ECR repository" aws_true '.repositories == []' ecr describe-repositories
  check_quiet "no ECS cluster" aws_true '[.clusters[] | select(.status == "ACTIVE")] == []' ecs describe-clusters --clusters "$NAME"
  check_quiet "no active task definition" aws_true '.taskDefinitionArns == []' ecs list-task-definitions --status ACTIVE
  check_quiet "no EKS cluster" aws_true '.clusters == []' eks list-clusters
  check_quiet "no load balancer or target group" aws_true '.TargetGroups == []' elbv2 describe-target-groups
  check_quiet "no S3 bucket (the access log bucket went with alb_access_logs_force_destroy)" aws_true '.Buckets == []' s3api list-buckets
  check_quiet "no alarm" aws_true '.MetricAlarms == []' cloudwatch describe-alarms
  check_quiet "no SNS topic" aws_true '.Topics == []' sns list-topics
  check_quiet "no IAM role of the stack" aws_true '[.Roles[] | select(.RoleName | startswith("hello-cluster"))] == []' iam list-roles
  check_quiet "no log group of the stack but the one EKS re-creates after the cluster" aws_true \
    '[.logGroups[] | select(.logGroupName | test("hello-cluster")) | .logGroupName] == ["/aws/eks/hello-cluster/cluster"]' logs describe-log-groups
  check_quiet "no scalable target" aws_true '.ScalableTargets == []' application-autoscaling describe-scalable-targets --service-namespace ecs
  check_quiet "no OIDC provider" aws_true '.OpenIDConnectProviderList == []' iam list-open-id-connect-providers
}

# ---------------------------------------------------------- the lock file
# The lock is tracked. A lock holding only the h1: hash of one platform fails
# "terraform init" elsewhere, and a registry init adds the zh: hashes, which
# turns a CI checkout dirty (scripts/deploy.sh then refuses to deploy).
# terraform init itself says of the file: "Include this file in your version
# control repository so that Terraform can guarantee to make the same
# selections by default" (also the Terraform docs, "Dependency Lock File",
# https://developer.hashicorp.com/terraform/language/files/dependency-lock).
# Its zh: hashes (one per platform package of the release) are what a
# registry init adds; they are the same in every lock file for hashicorp/aws
# 5.100.0 and were taken from two unrelated public ones, whose h1: for
# linux_amd64 is also the local mirror's.

LOCK_PROVIDER='registry.terraform.io/hashicorp/aws'
# hashicorp/aws ships 15 platform packages per release.
LOCK_PLATFORMS=15

lock_is_complete() {
  local lock="$ROOT/tf/.terraform.lock.hcl" zh
  [[ -f "$lock" ]] || {
    echo "$lock is missing"
    return 1
  }
  grep -q "provider \"$LOCK_PROVIDER\"" "$lock" || {
    echo "no $LOCK_PROVIDER block"
    return 1
  }
  zh="$(grep -c '"zh:[0-9a-f]\{64\}",' "$lock" || true)"
  ((zh == LOCK_PLATFORMS)) || {
    echo "$zh zh: hashes, want one per platform ($LOCK_PLATFORMS)"
    return 1
  }
  grep -q '"h1:' "$lock" || {
    echo "no h1: hash"
    return 1
  }
}

lock_is_not_ignored() {
  if git -C "$ROOT" check-ignore -q --no-index tf/.terraform.lock.hcl; then
    git -C "$ROOT" check-ignore -v --no-index tf/.terraform.lock.hcl
    return 1
  fi
}

# What make tf_init does in a fresh clone of HEAD: init must not touch a tracked file.
init_in_fresh_clone_is_clean() {
  local clone="$scratch/clone" dirty
  git clone -q --no-hardlinks "$ROOT" "$clone"
  terraform -chdir="$clone/tf" init -input=false -no-color >"$scratch/clone-init.log" 2>&1 || {
    cat "$scratch/clone-init.log"
    return 1
  }
  dirty="$(git -C "$clone" status --porcelain --untracked-files=normal)"
  [[ -z "$dirty" ]] || {
    echo "git status after init:"
    echo "$dirty"
    git -C "$clone" diff
    return 1
  }
}

# -------------------------------------------------------------------- steps

# graph_has_path FROM TO: the plan's dependency graph (written once) has a
# path from the resource FROM to the resource TO (FROM is created after TO).
graph_has_path() {
  if [[ ! -s "$scratch/graph.dot" ]]; then
    terraform -chdir="$UNIT_DIR" graph -type=plan >"$scratch/graph.dot" 2>"$scratch/graph.err" || {
      cat "$scratch/graph.err"
      return 1
    }
  fi
  "$PYTHON" - "$scratch/graph.dot" "$1" "$2" <<'PY'
import re, sys
edges = {}
for line in open(sys.argv[1]):
    m = re.search(r'"([^"]+)"\s*->\s*"([^"]+)"', line)
    if m:
        edges.setdefault(m.group(1), set()).add(m.group(2))
def name(node):
    return re.sub(r"^\[root\] |\s*\(.*\)$", "", node)
start = [n for n in edges if name(n) == sys.argv[2]]
goal = sys.argv[3]
seen, todo = set(), list(start)
while todo:
    node = todo.pop()
    if name(node) == goal:
        sys.exit(0)
    if node not in seen:
        seen.add(node)
        todo.extend(edges.get(node, ()))
sys.exit(f"no dependency path from {sys.argv[2]} to {goal} ({len(start)} start nodes)")
PY
}

# The internet-facing load balancer must come after the internet gateway and
# the public route (ELB refuses it in a VPC without a gateway).
alb_waits_for_internet_route() { graph_has_path module.edge.aws_lb.this module.network.aws_route.public_internet; }

# ELB checks the bucket policy when access logs are turned on; the provider
# turns them on after the load balancer is active, so an apply that merely
# happened to write the policy first would pass here and fail another day.
alb_waits_for_access_log_policy() { graph_has_path module.edge.aws_lb.this module.edge.aws_s3_bucket_policy.access_logs; }

run_unit_tests() {
  terraform -chdir="$UNIT_DIR" test -no-color >"$scratch/unit.log" 2>&1
}

report_unit_tests() {
  local status=0
  wait "$unit_pid" || status=$?
  unit_pid=""
  echo "Mocked-provider tests (terraform test)"
  local run
  while IFS= read -r run; do pass "terraform test: $run"; done < <(sed -n 's/^  run "\(.*\)"\.\.\. pass$/\1/p' "$scratch/unit.log")
  while IFS= read -r run; do fail "terraform test: $run"; done < <(sed -n 's/^  run "\(.*\)"\.\.\. \(fail\|skip\)$/\1/p' "$scratch/unit.log")
  if ((status != 0)); then
    fail "terraform test exited with $status"
    sed 's/^/        /' "$scratch/unit.log" | grep -v '^ *$' | tail -n 40
  fi
}

main() {
  require_tools
  scratch="$(mktemp -d)"
  trap cleanup EXIT
  trap 'exit 130' INT TERM

  cat >"$scratch/terraformrc" <<EOF
provider_installation {
  filesystem_mirror {
    path = "${PLUGIN_MIRROR}"
  }
}
EOF
  # Only the local mirror, no credentials or config from this machine.
  export TF_CLI_CONFIG_FILE="$scratch/terraformrc" TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
  unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL TF_PLUGIN_CACHE_DIR TF_DATA_DIR
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION="$REGION" AWS_REGION="$REGION"
  export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true

  UNIT_DIR="$scratch/unit/tf"
  EMU_DIR="$scratch/emulator/tf"

  echo "Static checks"
  check_quiet "terraform fmt -check -recursive (tf/ and tests/tf/unit/)" timed fmt \
    terraform fmt -check -recursive -diff "$ROOT/tf" "$ROOT/tests/tf/unit"
  stage "$scratch/unit"
  mkdir -p "$UNIT_DIR/tests"
  cp -r "$ROOT/tests/tf/unit/." "$UNIT_DIR/tests/"
  check_quiet "terraform init from the offline mirror, with the tracked lock file" timed "init (offline mirror)" tf_init "$UNIT_DIR"
  check_quiet "init leaves the lock file as tracked" cmp "$ROOT/tf/.terraform.lock.hcl" "$UNIT_DIR/.terraform.lock.hcl"
  check_quiet "the lock file holds the zh: hash of every platform and an h1: hash" lock_is_complete
  check_quiet "the tracked lock file is not git-ignored" lock_is_not_ignored
  check_quiet "terraform init in a fresh clone of HEAD leaves git status clean" init_in_fresh_clone_is_clean
  check_quiet "terraform validate" timed validate terraform -chdir="$UNIT_DIR" validate -no-color
  check_quiet "the load balancer is created after the internet gateway's route (dependency graph)" alb_waits_for_internet_route
  check_quiet "the load balancer is created after its access log bucket's policy (dependency graph)" alb_waits_for_access_log_policy
  check_quiet "the emulator's access-log permission check (python unittest)" "$PYTHON" "$ROOT/tests/tf/test_emulator_access_logs.py"

  # The mocked tests need no emulator: they run while the emulator cycle runs.
  local unit_start
  unit_start="$(now)"
  run_unit_tests &
  unit_pid=$!

  echo "Apply against the local AWS emulator"
  timed "emulator start" start_emulator
  stage "$scratch/emulator"
  write_emulator_override "$EMU_DIR"
  check_quiet "terraform init (emulator copy)" tf_init "$EMU_DIR"
  # make deploy_all's order: no ECS service before its image is in the registry.
  check_quiet "a plan that would create the ECS service without a pushed image is refused" plan_refused_without_image
  check_quiet "registry first (apply -target=module.registry)" timed "apply (registry only)" \
    terraform -chdir="$EMU_DIR" apply -auto-approve -no-color "${EMULATOR_VARS[@]}" -target=module.registry -target=data.aws_region.current
  check_quiet "the image is pushed to the registry (ECR PutImage)" push_image
  EMULATOR_VARS+=(-var "image_tag=$IMAGE_TAG")
  check_quiet "apply with both sides on" timed "apply (both sides)" \
    terraform -chdir="$EMU_DIR" apply -auto-approve -no-color "${EMULATOR_VARS[@]}"
  check_quiet "a second plan says No changes (-detailed-exitcode 0)" timed "plan (expect no changes)" \
    terraform -chdir="$EMU_DIR" plan -detailed-exitcode -no-color "${EMULATOR_VARS[@]}"
  timed "aws CLI checks (both sides)" check_both_sides
  check_quiet "ELB refuses to delete a target group the listener forwards to (ResourceInUse)" check_target_group_in_use_is_refused
  check_quiet "a port change replaces the target groups in one apply (no ResourceInUse)" timed "apply (app_port=8081)" \
    terraform -chdir="$EMU_DIR" apply -auto-approve -no-color "${EMULATOR_VARS[@]}" -var app_port=8081
  timed "aws CLI checks (port change)" check_port_changed
  check_quiet "apply with deploy_eks=false" timed "apply (deploy_eks=false)" \
    terraform -chdir="$EMU_DIR" apply -auto-approve -no-color "${EMULATOR_VARS[@]}" -var app_port=8081 -var deploy_eks=false
  timed "aws CLI checks (ECS only)" check_ecs_only
  check_quiet "EKS created again after it was destroyed (the log group EKS left behind is adopted)" timed "apply (deploy_eks=true again)" \
    terraform -chdir="$EMU_DIR" apply -auto-approve -no-color "${EMULATOR_VARS[@]}" -var app_port=8081
  timed "aws CLI checks (EKS again)" check_eks_recreated
  # The registry refuses to be deleted while it holds images (force_delete is off): the
  # pushed image goes first, as an operator would delete it.
  check_quiet "the pushed image is deleted from the registry" \
    awsq ecr batch-delete-image --repository-name "$NAME" --image-ids "imageTag=$IMAGE_TAG"
  check_quiet "destroy" timed destroy terraform -chdir="$EMU_DIR" destroy -auto-approve -no-color "${EMULATOR_VARS[@]}" -var app_port=8081
  timed "aws CLI checks (nothing left)" check_nothing_left

  report_unit_tests
  timings+=("$(printf '%-34s %7s s' "terraform test (mocked, parallel)" \
    "$(awk -v s="$unit_start" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }')")")

  echo
  echo "Timings"
  printf '  %s\n' "${timings[@]}"
  echo
  summary
}

main "$@"
