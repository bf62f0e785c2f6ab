# The ECS Fargate side: a cluster, the task definition rendered from the
# shared template, least-privilege roles, and a service in private subnets
# behind the shared load balancer, scaled on CPU and on requests per target.

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# The image the service is created with, kept for the life of the service: later applies
# pass no image (the deploy flow owns the running revision) and must not change it.
# An ECS service gets tasks as soon as its scalable target exists: RegisterScalableTarget
# on an active resource "changes the resource's current capacity to a value that is
# inside of this range" (Application Auto Scaling API reference, RegisterScalableTarget).
# So the service may only be created on an image that is already in the registry, and
# the service below refuses a plan without one.
resource "terraform_data" "first_image" {
  input = var.image

  lifecycle {
    ignore_changes = [input]
  }
}

locals {
  first_image    = terraform_data.first_image.output
  log_group_name = "/ecs/${var.name}"
  # ECS Exec session logs (only with enable_execute_command).
  exec_log_group_name = "/ecs/${var.name}/exec"
  container_name      = "hello"

  rendered_task_definition_json = templatefile(var.task_definition_template, {
    family                 = var.name
    image                  = local.first_image != null ? local.first_image : "${var.name}:no-image-pushed"
    container_name         = local.container_name
    cpu                    = var.cpu
    memory                 = var.memory
    cpu_architecture       = var.cpu_architecture
    execution_role_arn     = aws_iam_role.execution.arn
    task_role_arn          = aws_iam_role.task.arn
    log_group_name         = local.log_group_name
    aws_region             = data.aws_region.current.name
    app_port               = var.app_port
    metrics_port           = var.metrics_port
    grace_seconds          = var.grace_seconds
    shutdown_delay_seconds = 0
    stop_timeout           = var.stop_timeout
    log_level              = var.log_level
    workers                = var.workers
    # The ALB's nodes sit in the VPC's public subnets and connect to the tasks from there.
    # "HTTP headers and Application Load Balancers" (docs.aws.amazon.com/elasticloadbalancing/
    # latest/application/x-forwarded-headers.html), routing.http.xff_header_processing.mode:
    # "The possible values for this attribute are append, preserve, and remove. The default
    # value for this attribute is append." (the edge module keeps the default). nginx takes the
    # client address from that header only when the peer is inside this CIDR.
    trusted_proxy_cidrs = var.vpc_cidr
  })
  rendered_task_definition = jsondecode(local.rendered_task_definition_json)

  # ECS Exec bind-mounts the SSM agent into the container, and "The SSM agent
  # requires that the container file system is able to be written to in order to
  # create the required directories and files. Therefore, making the root file
  # system read-only using the readonlyRootFilesystem task definition parameter,
  # or any other method, isn't supported." Also: "To cleanup zombie processes, we
  # recommend adding the initProcessEnabled flag to your task definition." (ECS
  # Developer Guide, "Using Amazon ECS Exec for debugging", considerations,
  # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html).
  # So turning ECS Exec on loosens exactly these two fields; with it off the task
  # definition is the template's, byte for byte.
  task_definition = var.enable_execute_command ? merge(local.rendered_task_definition, {
    containerDefinitions = [
      for c in local.rendered_task_definition.containerDefinitions : merge(c, {
        readonlyRootFilesystem = false
        linuxParameters        = merge(c.linuxParameters, { initProcessEnabled = true })
      })
    ]
  }) : local.rendered_task_definition
  task_definition_json = var.enable_execute_command ? jsonencode(local.task_definition) : local.rendered_task_definition_json
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  # ECS Exec sessions are logged to their own log group, encrypted with the
  # stack's logs key when there is one: "You must use an AWS KMS customer managed
  # key to encrypt the log group when you set the CloudWatchEncryptionEnabled
  # option to true." (ECS Developer Guide, "Logging and Auditing using ECS Exec").
  dynamic "configuration" {
    for_each = var.enable_execute_command ? [1] : []

    content {
      execute_command_configuration {
        logging = "OVERRIDE"

        log_configuration {
          cloud_watch_log_group_name     = aws_cloudwatch_log_group.exec[0].name
          cloud_watch_encryption_enabled = var.log_kms_key_arn != null
        }
      }
    }
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = var.fargate_weight
    base              = var.fargate_base
  }
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
}

# ------------------------------------------------------------------ roles
# Both roles trust ECS tasks of this account only (confused-deputy guard).
# The names carry the stack's prefix: the account-wide "ecsTaskExecutionRole"
# is left alone.

data "aws_iam_policy_document" "assume_by_ecs_tasks" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${data.aws_partition.current.partition}:ecs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:*"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name_prefix        = "${substr(var.name, 0, 20)}-exec-"
  description        = "ECS agent of ${var.name}: pulls the image and writes the task logs"
  assume_role_policy = data.aws_iam_policy_document.assume_by_ecs_tasks.json
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "RegistryLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PullThisRepository"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = [var.repository_arn]
  }

  statement {
    sid       = "WriteTaskLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "pull-image-write-logs"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# The application calls no AWS API, so its task role has no permissions of
# its own; with ECS Exec on it gets the agent's channel and logging rights.
resource "aws_iam_role" "task" {
  name_prefix        = "${substr(var.name, 0, 20)}-task-"
  description        = var.enable_execute_command ? "Application of ${var.name}; ECS Exec channels and session logs only" : "Application of ${var.name}; deliberately without permissions"
  assume_role_policy = data.aws_iam_policy_document.assume_by_ecs_tasks.json
}

# ---------------------------------------------------------------- ECS Exec

resource "aws_cloudwatch_log_group" "exec" {
  count = var.enable_execute_command ? 1 : 0

  name              = local.exec_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
}

# ECS Developer Guide, "IAM permissions required for ECS Exec": "The ECS Exec
# feature requires a task IAM role to grant containers the permissions needed
# for communication between the managed SSM agent (execute-command agent) and
# the SSM service", with ssmmessages:CreateControlChannel, CreateDataChannel,
# OpenControlChannel and OpenDataChannel on "*"; and for logging to CloudWatch
# Logs, logs:DescribeLogGroups on "*" plus logs:CreateLogStream,
# logs:DescribeLogStreams and logs:PutLogEvents on the log group.
data "aws_iam_policy_document" "exec" {
  count = var.enable_execute_command ? 1 : 0

  statement {
    sid = "SessionManagerChannels"
    actions = [
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "FindTheSessionLogGroup"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["*"]
  }

  statement {
    sid       = "WriteSessionLogs"
    actions   = ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    resources = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:${local.exec_log_group_name}:*"]
  }
}

resource "aws_iam_role_policy" "exec" {
  count = var.enable_execute_command ? 1 : 0

  name   = "ecs-exec"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.exec[0].json
}

# ---------------------------------------------------------- task definition
# Every field comes from the shared template, the same JSON the deploy flow
# registers with a new image.

resource "aws_ecs_task_definition" "this" {
  family                   = local.task_definition.family
  network_mode             = local.task_definition.networkMode
  requires_compatibilities = local.task_definition.requiresCompatibilities
  cpu                      = local.task_definition.cpu
  memory                   = local.task_definition.memory
  execution_role_arn       = local.task_definition.executionRoleArn
  task_role_arn            = local.task_definition.taskRoleArn
  container_definitions    = jsonencode(local.task_definition.containerDefinitions)

  runtime_platform {
    cpu_architecture        = local.task_definition.runtimePlatform.cpuArchitecture
    operating_system_family = local.task_definition.runtimePlatform.operatingSystemFamily
  }

  dynamic "volume" {
    for_each = local.task_definition.volumes

    content {
      name = volume.value.name
    }
  }

  lifecycle {
    precondition {
      condition     = var.stop_timeout > var.grace_seconds && var.stop_timeout <= 120
      error_message = "stop_timeout must exceed grace_seconds (the drain must finish before SIGKILL) and be at most 120 (the Fargate limit)."
    }
  }
}

# --------------------------------------------------------------- service

resource "aws_security_group" "tasks" {
  name_prefix = "${var.name}-tasks-"
  description = "Tasks of ${var.name}: app port from the load balancer only"
  vpc_id      = var.vpc_id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "app_from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "App port from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = var.alb_security_group_id
}

# Image pulls (ECR, S3 layers) and log delivery go over HTTPS through NAT.
resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to AWS APIs (ECR, CloudWatch Logs)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# Carries the listener ARN so the service waits for the listener: ECS refuses
# a target group that no load balancer forwards to yet.
resource "terraform_data" "listener_ready" {
  input = var.listener_arn
}

resource "aws_ecs_service" "this" {
  name            = var.name
  cluster         = aws_ecs_cluster.this.id
  task_definition = aws_ecs_task_definition.this.arn

  # Created with no tasks on an image that is already pushed (make deploy_all pushes
  # before it applies); the scalable target below then raises the count to
  # min_capacity at once, and from then on the autoscaler owns the count.
  desired_count = 0

  # A change of the capacity-provider strategy is then an in-place update that
  # starts a new deployment, not a replacement of the service (which would restart
  # at zero tasks while still getting its share of traffic). Provider docs,
  # aws_ecs_service: "capacity_provider_strategy ... Updates to this configuration
  # will take effect next task deployment unless force_new_deployment is enabled."
  force_new_deployment = true

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = var.health_check_grace_period_seconds
  enable_ecs_managed_tags            = true
  propagate_tags                     = "SERVICE"
  enable_execute_command             = var.enable_execute_command
  wait_for_steady_state              = false

  capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = var.fargate_weight
    base              = var.fargate_base
  }

  # Listed only when used: Fargate Spot has no ARM64 capacity.
  dynamic "capacity_provider_strategy" {
    for_each = var.fargate_spot_weight > 0 ? [1] : []

    content {
      capacity_provider = "FARGATE_SPOT"
      weight            = var.fargate_spot_weight
      base              = 0
    }
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = local.container_name
    container_port   = var.app_port
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # Tasks that start but answer errors pass the circuit breaker; these alarms fail
  # such a deployment too: "You can configure Amazon ECS to set the deployment to
  # failed when it detects that a specified CloudWatch alarm has gone into the
  # ALARM state ... roll back a failed deployment to the last completed
  # deployment" (ECS Developer Guide, "How CloudWatch alarms detect Amazon ECS
  # deployment failures"), as Copilot's rollback alarms do.
  alarms {
    alarm_names = [aws_cloudwatch_metric_alarm.rollback_5xx.alarm_name, aws_cloudwatch_metric_alarm.rollback_unhealthy.alarm_name]
    enable      = true
    rollback    = true
  }

  depends_on = [aws_ecs_cluster_capacity_providers.this, terraform_data.listener_ready]

  lifecycle {
    # The deploy flow registers new revisions and the autoscaler sets the
    # count; Terraform must not roll either back.
    ignore_changes = [task_definition, desired_count]

    precondition {
      condition     = local.first_image != null
      error_message = "The ECS service does not exist yet and no pushed image was named: its scalable target would start min_capacity tasks at once on an image that is not in the registry (CannotPullContainerError). Run make deploy_all, which pushes the commit's image first and then applies with image_tag set; or push an image yourself and pass -var image_tag=<its tag>."
    }
  }
}

# ------------------------------------------------------- rollback alarms
# ALB metrics are only emitted with traffic: no data is not a failure.

resource "aws_cloudwatch_metric_alarm" "rollback_5xx" {
  alarm_name          = "${var.name}-ecs-rollback-5xx"
  alarm_description   = "5xx answers of the ECS tasks; ECS fails and rolls back a deployment while this alarms."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.rollback_5xx_per_minute
  treat_missing_data  = "notBreaching"

  dimensions = {
    LoadBalancer = var.alb_arn_suffix
    TargetGroup  = var.target_group_arn_suffix
  }
}

resource "aws_cloudwatch_metric_alarm" "rollback_unhealthy" {
  alarm_name          = "${var.name}-ecs-rollback-unhealthy"
  alarm_description   = "ECS tasks failing the load balancer's health check; ECS fails and rolls back a deployment while this alarms."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"

  dimensions = {
    LoadBalancer = var.alb_arn_suffix
    TargetGroup  = var.target_group_arn_suffix
  }
}

# ------------------------------------------------------------ autoscaling

resource "aws_appautoscaling_target" "this" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.this.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_capacity
  max_capacity       = var.max_capacity
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  resource_id        = aws_appautoscaling_target.this.resource_id
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.cpu_target_percent
    scale_in_cooldown  = 120
    scale_out_cooldown = 30

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "requests" {
  name               = "${var.name}-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  resource_id        = aws_appautoscaling_target.this.resource_id
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.requests_per_target
    scale_in_cooldown  = 120
    scale_out_cooldown = 30

    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      # app/<alb-name>/<id>/targetgroup/<tg-name>/<id>
      resource_label = "${var.alb_arn_suffix}/${var.target_group_arn_suffix}"
    }
  }
}
