# KMS on the log groups. The key policy is rendered by the real AWS provider
# in plan mode (a mocked aws_iam_policy_document returns canned JSON); only the
# account ID is overridden, so no request leaves the machine. The composed
# stack is checked with the mocked provider.

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

override_data {
  target = data.aws_caller_identity.current
  values = {
    account_id = "123456789012"
    arn        = "arn:aws:sts::123456789012:assumed-role/deployer/session"
    user_id    = "AROAEXAMPLE:session"
  }
}

run "cloudwatch_logs_may_use_the_key_for_the_stacks_log_groups_only" {
  command = plan

  module {
    source = "./modules/logs-key"
  }

  variables {
    name            = "hello-cluster"
    log_group_names = ["/vpc/hello-cluster/flow-logs", "/ecs/hello-cluster"]
  }

  assert {
    condition     = aws_kms_key.this.enable_key_rotation && aws_kms_alias.this.name == "alias/hello-cluster-logs"
    error_message = "A rotating customer managed key with the alias alias/<name>-logs."
  }

  # CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS": the
  # regional service principal, these actions, and the log group ARN as encryption context.
  assert {
    condition = anytrue([
      for s in jsondecode(aws_kms_key.this.policy).Statement :
      try(s.Principal.Service, "") == "logs.eu-west-1.amazonaws.com" &&
      toset(flatten([s.Action])) == toset(["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]) &&
      try(toset(flatten([s.Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"]])), toset([])) == toset([
        "arn:aws:logs:eu-west-1:123456789012:log-group:/vpc/hello-cluster/flow-logs",
        "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/hello-cluster",
      ])
    ])
    error_message = "The key policy must let logs.<region>.amazonaws.com use the key, for exactly the stack's log group ARNs (kms:EncryptionContext:aws:logs:arn)."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_kms_key.this.policy).Statement :
      try(s.Principal.Service, null) == null || can(s.Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"])
    ])
    error_message = "No service may use the key without the log-group condition."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_kms_key.this.policy).Statement :
      try(s.Principal.AWS, "") == "arn:aws:iam::123456789012:root" && s.Action == "kms:*"
    ])
    error_message = "The account administers the key (or it could become unmanageable)."
  }
}

run "a_wildcard_log_group_name_is_refused" {
  command = plan

  module {
    source = "./modules/logs-key"
  }

  variables {
    name            = "hello-cluster"
    log_group_names = ["/ecs/*"]
  }

  expect_failures = [var.log_group_names]
}

run "every_log_group_of_the_stack_uses_the_key_by_default" {
  command = apply

  providers = {
    aws = aws.mock
  }

  variables {
    image_tag                  = "bootstrap"
    eks_admin_principal_arns   = ["arn:aws:iam::123456789012:role/platform-admin"]
    ecs_enable_execute_command = true
  }

  assert {
    condition     = var.log_kms_enabled && length(module.logs_key) == 1
    error_message = "The log groups' key must be on by default."
  }

  assert {
    condition = alltrue([
      for name, key in merge(module.network.log_group_kms_key_ids, module.ecs[0].log_group_kms_key_ids, module.eks[0].log_group_kms_key_ids) :
      key == module.logs_key[0].key_arn && contains(module.logs_key[0].log_group_names, name)
    ])
    error_message = "Every log group of the stack must be encrypted with the stack's logs key, and named in its key policy (else CloudWatch Logs refuses the key)."
  }

  assert {
    condition     = toset(keys(merge(module.network.log_group_kms_key_ids, module.ecs[0].log_group_kms_key_ids, module.eks[0].log_group_kms_key_ids))) == toset(["/vpc/hello-cluster/flow-logs", "/ecs/hello-cluster", "/ecs/hello-cluster/exec", "/aws/eks/hello-cluster/cluster"])
    error_message = "The stack's log groups: flow logs, ECS tasks, ECS Exec sessions, EKS control plane."
  }
}

run "log_kms_enabled_false_keeps_cloudwatch_encryption" {
  command = apply

  providers = {
    aws = aws.mock
  }

  variables {
    image_tag                = "bootstrap"
    eks_admin_principal_arns = ["arn:aws:iam::123456789012:role/platform-admin"]
    log_kms_enabled          = false
  }

  assert {
    condition = length(module.logs_key) == 0 && alltrue([
      for name, key in merge(module.network.log_group_kms_key_ids, module.ecs[0].log_group_kms_key_ids, module.eks[0].log_group_kms_key_ids) : key == null
    ])
    error_message = "Without log_kms_enabled no key exists and no log group names one."
  }
}
