# Keyless deploys from GitHub Actions: the workflow exchanges its OIDC token
# for a role session. The trust policy pins the audience and the exact
# subject (repository and environment, or branch), so no other repository,
# fork, branch or job can assume the role.
#
# GitHub, "About security hardening with OpenID Connect"
# (https://docs.github.com/en/actions/deployment/security-hardening-your-deployments/about-security-hardening-with-openid-connect):
# "The subject claim includes the environment name when the job references an
# environment" (repo:<orgName/repoName>:environment:<environmentName>), and the
# branch form repo:<orgName/repoName>:ref:refs/heads/branchName applies "only if
# the job doesn't reference an environment". So a deploy role that also trusted
# the branch subject would admit any job on that branch that simply leaves out
# `environment:`, and with it the environment's required reviewers.

data "aws_partition" "current" {}

locals {
  partition    = data.aws_partition.current.partition
  provider_arn = var.existing_provider_arn != null ? var.existing_provider_arn : aws_iam_openid_connect_provider.github[0].arn

  # The environment subject alone when the deploy job has an environment; the
  # branch subject only for a job that has none.
  deploy_subjects = var.environment != null ? ["repo:${var.repository}:environment:${var.environment}"] : ["repo:${var.repository}:ref:refs/heads/${var.branch}"]

  # Read-only plans: pull requests of the repository, and the plan of the
  # branch that the deploy job then applies after approval.
  plan_subjects = ["repo:${var.repository}:pull_request", "repo:${var.repository}:ref:refs/heads/${var.branch}"]

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
  description          = "GitHub Actions deploys of ${var.repository} (${coalesce(var.environment, var.branch)})"
  assume_role_policy   = data.aws_iam_policy_document.deploy_trust.json
  max_session_duration = var.deploy_max_session_seconds
  permissions_boundary = var.permissions_boundary
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
      values   = local.plan_subjects
    }
  }
}

resource "aws_iam_role" "plan" {
  count = var.plan_role_enabled ? 1 : 0

  name_prefix          = "${substr(var.name, 0, 26)}-gh-plan-"
  description          = "Read-only Terraform plans of ${var.repository} (pull requests, ${var.branch})"
  assume_role_policy   = data.aws_iam_policy_document.plan_trust.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy_attachment" "plan" {
  count = var.plan_role_enabled ? 1 : 0

  role       = aws_iam_role.plan[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}
