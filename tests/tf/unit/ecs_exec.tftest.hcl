# ECS Exec (ecs_enable_execute_command): off by default; on, the service and
# its tasks get the agent, the task role the Session Manager channels and the
# session log group, and the container what the SSM agent needs. The IAM
# policy is rendered by the real AWS provider in plan mode (the mocked
# aws_iam_policy_document returns canned JSON); the rest uses the mocks.

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}

mock_provider "aws" {
  alias  = "mock"
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

run "off_by_default_and_the_task_definition_is_the_templates" {
  command = apply

  providers = {
    aws = aws.mock
  }

  module {
    source = "./modules/ecs"
  }

  assert {
    condition     = !var.enable_execute_command && !aws_ecs_service.this.enable_execute_command
    error_message = "ECS Exec must be off by default."
  }

  assert {
    condition     = length(aws_cloudwatch_log_group.exec) == 0 && length(aws_iam_role_policy.exec) == 0 && length(aws_ecs_cluster.this.configuration) == 0
    error_message = "Without ECS Exec: no session log group, no task role policy, no cluster exec configuration."
  }

  assert {
    condition     = jsondecode(output.task_definition_json).containerDefinitions[0].readonlyRootFilesystem && !jsondecode(output.task_definition_json).containerDefinitions[0].linuxParameters.initProcessEnabled
    error_message = "Without ECS Exec the root filesystem stays read-only."
  }

  assert {
    condition = output.task_definition_json == templatefile("../ecs-taskdef/taskdef.json.tftpl", merge(jsondecode(jsonencode({
      family         = "hello-cluster", container_name = "hello", cpu = 256, memory = 512, cpu_architecture = "ARM64", app_port = 8080, metrics_port = 9090,
      grace_seconds  = 20, shutdown_delay_seconds = 0, stop_timeout = 30, log_level = "info", workers = 2, trusted_proxy_cidrs = "10.40.0.0/16",
      log_group_name = "/ecs/hello-cluster", aws_region = "eu-west-1",
      image          = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello-cluster:bootstrap",
      })), {
      execution_role_arn = aws_iam_role.execution.arn, task_role_arn = aws_iam_role.task.arn,
    }))
    error_message = "Without ECS Exec the task definition output is the template's rendering, unchanged."
  }
}

run "on_the_service_cluster_and_container_are_ready_for_sessions" {
  command = apply

  providers = {
    aws = aws.mock
  }

  module {
    source = "./modules/ecs"
  }

  variables {
    enable_execute_command = true
    log_kms_key_arn        = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = aws_ecs_service.this.enable_execute_command
    error_message = "The service must start its tasks with the execute-command agent."
  }

  assert {
    condition     = aws_cloudwatch_log_group.exec[0].name == "/ecs/hello-cluster/exec" && aws_cloudwatch_log_group.exec[0].kms_key_id == var.log_kms_key_arn && aws_cloudwatch_log_group.exec[0].retention_in_days == 30
    error_message = "Session logs go to /ecs/<name>/exec, encrypted with the logs key, with the stack's retention."
  }

  assert {
    condition = (
      one(one(one(aws_ecs_cluster.this.configuration).execute_command_configuration).log_configuration).cloud_watch_log_group_name == "/ecs/hello-cluster/exec" &&
      one(one(aws_ecs_cluster.this.configuration).execute_command_configuration).logging == "OVERRIDE" &&
      one(one(one(aws_ecs_cluster.this.configuration).execute_command_configuration).log_configuration).cloud_watch_encryption_enabled
    )
    error_message = "The cluster must log every session to the encrypted session log group (logging OVERRIDE, CloudWatch encryption on)."
  }

  # "The SSM agent requires that the container file system is able to be written to" (ECS Exec considerations).
  assert {
    condition     = !jsondecode(output.task_definition_json).containerDefinitions[0].readonlyRootFilesystem && jsondecode(output.task_definition_json).containerDefinitions[0].linuxParameters.initProcessEnabled
    error_message = "With ECS Exec the task definition the deploy flow registers must give the SSM agent a writable root filesystem and an init process."
  }

  assert {
    condition = (
      jsondecode(output.task_definition_json).containerDefinitions[0].user == "10001:10001" &&
      jsondecode(output.task_definition_json).containerDefinitions[0].linuxParameters.capabilities.drop == ["ALL"] &&
      jsondecode(aws_ecs_task_definition.this.container_definitions)[0].readonlyRootFilesystem == false
    )
    error_message = "Only those two fields are loosened: the user and the dropped capabilities stay; Terraform registers the same definition."
  }
}

run "without_a_logs_key_the_sessions_are_not_marked_encrypted" {
  command = apply

  providers = {
    aws = aws.mock
  }

  module {
    source = "./modules/ecs"
  }

  variables {
    enable_execute_command = true
  }

  # "You must use an AWS KMS customer managed key to encrypt the log group when you set
  # the CloudWatchEncryptionEnabled option to true." (ECS Exec, logging and auditing)
  assert {
    condition     = !one(one(one(aws_ecs_cluster.this.configuration).execute_command_configuration).log_configuration).cloud_watch_encryption_enabled
    error_message = "Without a customer managed key on the log group, CloudWatch encryption of sessions must stay off."
  }
}

run "the_task_role_gets_the_documented_exec_permissions" {
  command = plan
  # Its own (empty) state: the mocked runs' resources must not be refreshed against AWS.
  state_key = "real_provider"

  module {
    source = "./modules/ecs"
  }

  variables {
    enable_execute_command = true
  }

  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "123456789012", arn = "arn:aws:sts::123456789012:assumed-role/deployer/s", user_id = "AROAEXAMPLE:s" }
  }

  assert {
    condition = anytrue([
      for s in jsondecode(data.aws_iam_policy_document.exec[0].json).Statement :
      toset(flatten([s.Action])) == toset(["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]) && s.Resource == "*"
    ])
    error_message = "The task role needs the four ssmmessages actions the ECS guide lists."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(data.aws_iam_policy_document.exec[0].json).Statement :
      toset(flatten([s.Action])) == toset(["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]) && s.Resource == "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/hello-cluster/exec:*"
    ])
    error_message = "Session logs may be written to the session log group only."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.exec[0].json).Statement :
      s.Resource != "*" || alltrue([for a in flatten([s.Action]) : startswith(a, "ssmmessages:") || a == "logs:DescribeLogGroups"])
    ])
    error_message = "Nothing else on \"*\" but the channels and DescribeLogGroups."
  }
}
