#!/usr/bin/env bash
# What Terraform creates for the ECS side, in the emulator of the deploy test:
#
#   tests/deploy/create-ecs-side.sh SERVICE IMAGE
#
# task definition revision (the recorded rendering, on IMAGE), service SERVICE with no
# tasks, circuit breaker with rollback, and the scalable target [ECS_MIN_CAPACITY, 6],
# which moves the count to the minimum at once. The names and network come from the
# environment tests/deploy/run.sh exports (FIXTURE, ECS_CLUSTER, SUBNET, SECURITY_GROUP,
# ECS_MIN_CAPACITY) and the AWS CLI's (endpoint, region, credentials).
set -euo pipefail

: "${FIXTURE:?}" "${ECS_CLUSTER:?}" "${SUBNET:?}" "${SECURITY_GROUP:?}" "${ECS_MIN_CAPACITY:?}"
(($# == 2)) || {
  echo "usage: $0 SERVICE IMAGE" >&2
  exit 2
}
service="$1" image="$2"
definition="$(mktemp)"
trap 'rm -f "$definition"' EXIT

jq -r .ecs_task_definition_json.value "$FIXTURE" | jq --arg image "$image" '.containerDefinitions[0].image = $image' >"$definition"
arn="$(aws ecs register-task-definition --cli-input-json "file://$definition" --query taskDefinition.taskDefinitionArn --output text)"
aws ecs create-service --cluster "$ECS_CLUSTER" --service-name "$service" --task-definition "$arn" \
  --desired-count 0 --launch-type FARGATE \
  --deployment-configuration 'maximumPercent=200,minimumHealthyPercent=100,deploymentCircuitBreaker={enable=true,rollback=true}' \
  --network-configuration "awsvpcConfiguration={subnets=[$SUBNET],securityGroups=[$SECURITY_GROUP],assignPublicIp=DISABLED}" >/dev/null
aws application-autoscaling register-scalable-target --service-namespace ecs \
  --resource-id "service/$ECS_CLUSTER/$service" --scalable-dimension ecs:service:DesiredCount \
  --min-capacity "$ECS_MIN_CAPACITY" --max-capacity 6 >/dev/null
