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

# ------------------------------------------------------- the plan role's rights
# Not ReadOnlyAccess: it includes s3:GetObject on every bucket (the state of
# every stack in the account, with whatever secrets state holds), log events,
# parameter values and more, for any pull request of the repository. The plan
# reads the configuration of the services this stack manages (Describe/List and
# the configuration Gets, never object, secret, parameter or log contents) and
# its own state object.

locals {
  state_bucket_arn = var.state_bucket == null ? null : "arn:${local.partition}:s3:::${var.state_bucket}"
  state_object_arn = var.state_bucket == null ? null : "arn:${local.partition}:s3:::${var.state_bucket}/${var.state_key}"
  # "the lock file ... path/to/my/key.tflock" (Terraform S3 backend docs).
  state_lock_arn = var.state_bucket == null ? null : "${local.state_object_arn}.tflock"
}

data "aws_iam_policy_document" "plan" {
  statement {
    sid = "ReadStackConfiguration"
    actions = [
      "acm:DescribeCertificate",
      "acm:ListCertificates",
      "acm:ListTagsForCertificate",
      "application-autoscaling:Describe*",
      "application-autoscaling:ListTagsForResource",
      "cloudwatch:DescribeAlarms",
      "cloudwatch:GetDashboard",
      "cloudwatch:ListDashboards",
      "cloudwatch:ListTagsForResource",
      "ec2:Describe*",
      "ecr:DescribeImages",
      "ecr:DescribeRepositories",
      "ecr:GetLifecyclePolicy",
      "ecr:GetRepositoryPolicy",
      "ecr:ListTagsForResource",
      "ecs:Describe*",
      "ecs:List*",
      "eks:Describe*",
      "eks:List*",
      "elasticloadbalancing:Describe*",
      "iam:GetOpenIDConnectProvider",
      "iam:GetPolicy",
      "iam:GetPolicyVersion",
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
      "iam:ListOpenIDConnectProviderTags",
      "iam:ListOpenIDConnectProviders",
      "iam:ListPolicyTags",
      "iam:ListPolicyVersions",
      "iam:ListRolePolicies",
      "iam:ListRoleTags",
      "kms:DescribeKey",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListAliases",
      "kms:ListResourceTags",
      "logs:DescribeLogGroups",
      "logs:ListTagsForResource",
      "logs:ListTagsLogGroup",
      "route53:GetChange",
      "route53:GetHostedZone",
      "route53:ListHostedZones",
      "route53:ListResourceRecordSets",
      "route53:ListTagsForResource",
      "s3:GetAccelerateConfiguration",
      "s3:GetBucket*",
      "s3:GetEncryptionConfiguration",
      "s3:GetLifecycleConfiguration",
      "s3:GetReplicationConfiguration",
      "sns:GetSubscriptionAttributes",
      "sns:GetTopicAttributes",
      "sns:ListSubscriptionsByTopic",
      "sns:ListTagsForResource",
      "wafv2:GetWebACL",
      "wafv2:GetWebACLForResource",
      "wafv2:GetLoggingConfiguration",
      "wafv2:ListTagsForResource",
    ]
    resources = ["*"]
  }

  # Terraform S3 backend docs, "Permissions Required": "s3:ListBucket on
  # arn:aws:s3:::mybucket. At a minimum, this must be able to list the path where
  # the state is stored." and "s3:GetObject on arn:aws:s3:::mybucket/path/to/my/key"
  # (https://developer.hashicorp.com/terraform/language/backend/s3).
  dynamic "statement" {
    for_each = var.state_bucket == null ? [] : [1]

    content {
      sid       = "ListStateBucket"
      actions   = ["s3:ListBucket"]
      resources = [local.state_bucket_arn]
    }
  }

  dynamic "statement" {
    for_each = var.state_bucket == null ? [] : [1]

    content {
      sid       = "ReadStateAndLock"
      actions   = ["s3:GetObject"]
      resources = [local.state_object_arn, local.state_lock_arn]
    }
  }

  # Same page: "If use_lockfile is set, s3:GetObject, s3:PutObject, and
  # s3:DeleteObject are required on the lock file, e.g.,
  # arn:aws:s3:::mybucket/path/to/my/key.tflock". Off by default: the pipeline
  # plans with -lock=false, and a pull request that may write the lock object
  # may also delete the lock of a running apply.
  dynamic "statement" {
    for_each = var.state_bucket != null && var.plan_role_state_locking ? [1] : []

    content {
      sid       = "TakeAndReleaseTheStateLock"
      actions   = ["s3:PutObject", "s3:DeleteObject"]
      resources = [local.state_lock_arn]
    }
  }
}

resource "aws_iam_role_policy" "plan" {
  count = var.plan_role_enabled ? 1 : 0

  name   = "read-stack-and-state"
  role   = aws_iam_role.plan[0].id
  policy = data.aws_iam_policy_document.plan.json
}
