# Keyless deploys from GitHub Actions: the workflow exchanges its OIDC token
# for a role session. The trust policy pins the audience and the exact
# subject (repository and branch or environment), so no other repository,
# fork or branch can assume the role.

data "aws_partition" "current" {}

locals {
  partition    = data.aws_partition.current.partition
  provider_arn = var.existing_provider_arn != null ? var.existing_provider_arn : aws_iam_openid_connect_provider.github[0].arn

  deploy_subjects = concat(
    ["repo:${var.repository}:ref:refs/heads/${var.branch}"],
    var.environment == null ? [] : ["repo:${var.repository}:environment:${var.environment}"],
  )

  deploy_policy_arns = var.deploy_policy_arns != null ? var.deploy_policy_arns : ["arn:${local.partition}:iam::aws:policy/AdministratorAccess"]
}

# AWS validates GitHub's certificate through its own trust store, so no
# thumbprint is pinned (thumbprint_list is optional in provider 5.x).
resource "aws_iam_openid_connect_provider" "github" {
  count = var.existing_provider_arn == null ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_policy_document" "deploy_trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = local.deploy_subjects
    }
  }
}

resource "aws_iam_role" "deploy" {
  name_prefix          = "${substr(var.name, 0, 24)}-gh-deploy-"
  description          = "GitHub Actions deploys of ${var.repository} (${var.branch})"
  assume_role_policy   = data.aws_iam_policy_document.deploy_trust.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy_attachment" "deploy" {
  for_each = toset(local.deploy_policy_arns)

  role       = aws_iam_role.deploy.name
  policy_arn = each.value
}

data "aws_iam_policy_document" "plan_trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.repository}:pull_request"]
    }
  }
}

resource "aws_iam_role" "plan" {
  count = var.plan_role_enabled ? 1 : 0

  name_prefix          = "${substr(var.name, 0, 26)}-gh-plan-"
  description          = "Read-only Terraform plans for pull requests of ${var.repository}"
  assume_role_policy   = data.aws_iam_policy_document.plan_trust.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy_attachment" "plan" {
  count = var.plan_role_enabled ? 1 : 0

  role       = aws_iam_role.plan[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}
