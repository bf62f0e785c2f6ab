# One customer managed key for the stack's CloudWatch log groups (ECS task
# and ECS Exec logs, the EKS control plane, VPC flow logs), so their data is
# encrypted with a key the account controls, rotates and can audit in
# CloudTrail, instead of CloudWatch Logs' own key.
#
# CloudWatch Logs encrypts with the key itself, as its service principal, and
# only if the key policy lets it: "Encrypt log data in CloudWatch Logs using
# AWS Key Management Service" (Amazon CloudWatch Logs User Guide,
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html)
# gives the statement for "Principal": { "Service": "logs.region.amazonaws.com" }
# with kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey* and
# kms:Describe*, and says "CloudWatch Logs now supports encryption context,
# using kms:EncryptionContext:aws:logs:arn as the key and the ARN of the log
# group as the value for that key": the condition below names this stack's log
# groups, so no other log group (of this account or another) can use the key.
# Without the statement CreateLogGroup and AssociateKmsKey fail with
# "AccessDeniedException: The specified KMS key does not exist or is not
# allowed to be used with Arn 'arn:aws:logs:...:log-group:NAME'"
# (hashicorp/terraform-provider-aws#29282).

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  log_group_arns = [for n in var.log_group_names : "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${n}"]
}

data "aws_iam_policy_document" "this" {
  # Without a statement for the account the key could become unmanageable.
  statement {
    sid       = "AccountAdministersTheKey"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsEncryptsTheStacksLogGroups"
    effect    = "Allow"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = local.log_group_arns
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "Encrypts the CloudWatch log groups of ${var.name}"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = data.aws_iam_policy_document.this.json
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}-logs"
  target_key_id = aws_kms_key.this.key_id
}
