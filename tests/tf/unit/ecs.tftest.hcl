# The ECS module alone: security and rollout properties of the task and
# the service.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name                              = "hello-cluster"
  task_definition_template          = "../ecs-taskdef/taskdef.json.tftpl"
  image                             = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello-cluster:bootstrap"
  repository_arn                    = "arn:aws:ecr:eu-west-1:123456789012:repository/hello-cluster"
  vpc_id                            = "vpc-0123456789abcdef0"
  vpc_cidr                          = "10.40.0.0/16"
  private_subnet_ids                = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
  alb_security_group_id             = "sg-0a1b2c3d4e5f60001"
  target_group_arn                  = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/hello-cluster-ecs/0123456789abcdef"
  target_group_arn_suffix           = "targetgroup/hello-cluster-ecs/0123456789abcdef"
  alb_arn_suffix                    = "app/hello-cluster/0123456789abcdef"
  listener_arn                      = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/hello-cluster/0123456789abcdef/0123456789abcdef"
  cpu                               = 256
  memory                            = 512
  cpu_architecture                  = "ARM64"
  app_port                          = 8080
  metrics_port                      = 9090
  grace_seconds                     = 20
  stop_timeout                      = 30
  log_level                         = "info"
  workers                           = 2
  log_retention_days                = 30
  fargate_base                      = 1
  fargate_weight                    = 1
  fargate_spot_weight               = 0
  min_capacity                      = 2
  max_capacity                      = 6
  cpu_target_percent                = 60
  requests_per_target               = 3000
  health_check_grace_period_seconds = 30
}

run "task_is_locked_down" {
  command = apply

  module {
    source = "./modules/ecs"
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].readonlyRootFilesystem == true
    error_message = "The root filesystem must be read-only."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].user == "10001:10001" && jsondecode(aws_ecs_task_definition.this.container_definitions)[0].privileged == false
    error_message = "The container must run as 10001:10001, unprivileged."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].linuxParameters.capabilities.drop == ["ALL"] && jsondecode(aws_ecs_task_definition.this.container_definitions)[0].linuxParameters.initProcessEnabled == false
    error_message = "All capabilities dropped; no init process (the binary is PID 1)."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].mountPoints[0].containerPath == "/tmp" && one(aws_ecs_task_definition.this.volume).name == jsondecode(aws_ecs_task_definition.this.container_definitions)[0].mountPoints[0].sourceVolume
    error_message = "A task volume must be mounted at /tmp, the runtime directory."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].healthCheck.command == ["CMD", "/usr/local/bin/hello", "--healthcheck"]
    error_message = "The health check must be the image's --healthcheck, without a shell."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].stopTimeout == 30 && contains(jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment, { name = "GRACE_SECONDS", value = "20" })
    error_message = "stopTimeout 30 must exceed GRACE_SECONDS 20."
  }

  assert {
    condition     = contains(jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment, { name = "WORKER_SCHED_POLICY", value = "batch" })
    error_message = "On Fargate the task has its CPUs to itself: workers run as SCHED_BATCH."
  }

  assert {
    condition     = contains(jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment, { name = "TRUSTED_PROXY_CIDRS", value = "10.40.0.0/16" })
    error_message = "The tasks must trust X-Forwarded-For from the VPC (where the ALB's nodes are) to log the client address."
  }

  assert {
    condition     = [for p in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].portMappings : "${p.name}:${p.containerPort}"] == ["http:8080", "metrics:9090"]
    error_message = "Ports 8080 (http) and 9090 (metrics) must be mapped by name."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].logConfiguration.logDriver == "awslogs" && jsondecode(aws_ecs_task_definition.this.container_definitions)[0].logConfiguration.options["awslogs-group"] == aws_cloudwatch_log_group.this.name
    error_message = "Logs must go to the module's log group through awslogs."
  }

  assert {
    condition     = one(aws_ecs_task_definition.this.runtime_platform).cpu_architecture == "ARM64" && aws_ecs_task_definition.this.network_mode == "awsvpc"
    error_message = "ARM64 awsvpc task."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 30
    error_message = "The log group must have a retention."
  }

  assert {
    condition     = !startswith(aws_iam_role.execution.name_prefix, "ecsTaskExecutionRole")
    error_message = "The execution role must not collide with the account-wide ecsTaskExecutionRole."
  }
}

run "service_is_private_and_safe_to_roll" {
  command = apply

  module {
    source = "./modules/ecs"
  }

  assert {
    condition     = one(aws_ecs_service.this.network_configuration).assign_public_ip == false
    error_message = "Tasks must not get public IPs."
  }

  assert {
    condition     = one(aws_ecs_service.this.network_configuration).subnets == toset(var.private_subnet_ids)
    error_message = "Tasks must run in the private subnets."
  }

  assert {
    condition     = one(aws_ecs_service.this.deployment_circuit_breaker).enable && one(aws_ecs_service.this.deployment_circuit_breaker).rollback
    error_message = "The deployment circuit breaker must roll back."
  }

  assert {
    condition     = aws_ecs_service.this.desired_count == 0
    error_message = "The service starts with zero tasks, so no rollout of a missing image happens."
  }

  assert {
    condition     = toset([for s in aws_ecs_service.this.capacity_provider_strategy : s.capacity_provider]) == toset(["FARGATE"])
    error_message = "With a Spot weight of 0 (ARM64) only FARGATE may be in the strategy."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.app_from_alb.referenced_security_group_id == var.alb_security_group_id && aws_vpc_security_group_ingress_rule.app_from_alb.from_port == 8080 && aws_vpc_security_group_ingress_rule.app_from_alb.cidr_ipv4 == null
    error_message = "The app port must be open to the load balancer's group only."
  }

  assert {
    condition     = one(one(aws_appautoscaling_policy.requests.target_tracking_scaling_policy_configuration).predefined_metric_specification).resource_label == "app/hello-cluster/0123456789abcdef/targetgroup/hello-cluster-ecs/0123456789abcdef"
    error_message = "The request-count resource label must be <alb arn suffix>/<target group arn suffix>."
  }

  assert {
    condition     = aws_appautoscaling_target.this.min_capacity == 2 && aws_appautoscaling_target.this.max_capacity == 6 && aws_appautoscaling_target.this.resource_id == "service/hello-cluster/hello-cluster"
    error_message = "The scalable target must be the service with the min/max variables."
  }

  assert {
    condition     = one(aws_ecs_cluster.this.setting).name == "containerInsights" && one(aws_ecs_cluster.this.setting).value == "enabled"
    error_message = "Container Insights must be on."
  }
}

run "spot_when_x86" {
  command = apply

  module {
    source = "./modules/ecs"
  }

  variables {
    cpu_architecture    = "X86_64"
    fargate_spot_weight = 3
  }

  assert {
    condition     = toset([for s in aws_ecs_service.this.capacity_provider_strategy : "${s.capacity_provider}=${s.weight}"]) == toset(["FARGATE=1", "FARGATE_SPOT=3"])
    error_message = "Fargate Spot must be weighted by its variable."
  }
}

run "capacity_provider_changes_update_in_place_and_awslogs_never_blocks" {
  command = plan

  module {
    source = "./modules/ecs"
  }

  assert {
    condition     = one(aws_ecs_service.this.alarms).enable && one(aws_ecs_service.this.alarms).rollback && length(one(aws_ecs_service.this.alarms).alarm_names) == 2
    error_message = "The service must fail and roll back a deployment on its 5xx and unhealthy-host alarms."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.rollback_5xx.treat_missing_data == "notBreaching" && aws_cloudwatch_metric_alarm.rollback_unhealthy.treat_missing_data == "notBreaching"
    error_message = "Rollback alarms must not fire on missing data (no traffic, no ALB metrics)."
  }

  assert {
    condition     = aws_ecs_service.this.force_new_deployment == true
    error_message = "force_new_deployment must be on: the provider then updates capacity_provider_strategy in place instead of replacing the service."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].logConfiguration.options["mode"] == "non-blocking" && can(regex("^[0-9]+m$", jsondecode(aws_ecs_task_definition.this.container_definitions)[0].logConfiguration.options["max-buffer-size"]))
    error_message = "awslogs must run in non-blocking mode with an explicit max-buffer-size, so a CloudWatch Logs outage cannot stall the app."
  }
}

# A state of its own: in the runs above the service already exists, and there an
# apply without an image is fine (the image of its creation is kept).
run "a_new_service_needs_an_image" {
  command   = plan
  state_key = "fresh_service"

  module {
    source = "./modules/ecs"
  }

  variables {
    image = null
  }

  expect_failures = [aws_ecs_service.this]
}

run "vpc_cidr_must_be_a_network_the_responder_accepts" {
  command = plan

  module {
    source = "./modules/ecs"
  }

  variables {
    vpc_cidr = "10.40.0.1/16"
  }

  expect_failures = [var.vpc_cidr]
}
