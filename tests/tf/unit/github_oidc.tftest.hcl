# The GitHub OIDC module with the real AWS provider in plan mode: the trust
# policies are rendered by aws_iam_policy_document itself (a mocked provider
# would return a canned JSON), so these runs read the subjects IAM will match.
# No request leaves the machine: plan reads only aws_partition, which the
# provider answers locally, and skips every credential and account lookup.

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}

variables {
  name        = "hello-cluster"
  repository  = "example-org/hello-cluster"
  branch      = "main"
  environment = "production"
  # A known provider ARN makes the trust policies known at plan time.
  existing_provider_arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
}

run "deploy_role_trusts_only_the_environment" {
  command = plan

  module {
    source = "./modules/github-oidc"
  }

  assert {
    condition     = jsondecode(aws_iam_role.deploy.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == "repo:example-org/hello-cluster:environment:production"
    error_message = "With an environment, the deploy role must trust exactly its subject: a job on main without `environment:` would otherwise skip the required reviewers."
  }

  assert {
    condition     = !strcontains(aws_iam_role.deploy.assume_role_policy, "ref:refs/heads/")
    error_message = "The deploy role must not trust a branch subject when an environment is set."
  }

  assert {
    condition     = jsondecode(aws_iam_role.deploy.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    error_message = "The deploy role must require the sts.amazonaws.com audience."
  }

  assert {
    condition     = output.deploy_subjects == ["repo:example-org/hello-cluster:environment:production"]
    error_message = "deploy_subjects must list the environment subject alone."
  }

  assert {
    condition     = aws_iam_role.deploy.max_session_duration == 7200
    error_message = "The deploy role's maximum session must be two hours by default (the deploy job's timeout stays below it)."
  }
}

run "plan_role_trusts_pull_requests_and_the_branch" {
  command = plan

  module {
    source = "./modules/github-oidc"
  }

  assert {
    condition = toset(flatten([jsondecode(aws_iam_role.plan[0].assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"]])) == toset([
      "repo:example-org/hello-cluster:pull_request",
      "repo:example-org/hello-cluster:ref:refs/heads/main",
    ])
    error_message = "The read-only plan role must trust pull requests and the plan job of main, nothing else."
  }

  assert {
    condition     = aws_iam_role.plan[0].max_session_duration == 3600
    error_message = "Plans are short: the plan role keeps a one-hour session."
  }
}

run "without_an_environment_the_branch_is_trusted" {
  command = plan

  module {
    source = "./modules/github-oidc"
  }

  variables {
    environment = null
  }

  assert {
    condition     = output.deploy_subjects == ["repo:example-org/hello-cluster:ref:refs/heads/main"]
    error_message = "Without an environment the deploy role must trust the branch subject."
  }
}

run "provider_is_created_when_none_exists" {
  command = plan

  module {
    source = "./modules/github-oidc"
  }

  variables {
    existing_provider_arn = null
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 1 && aws_iam_openid_connect_provider.github[0].url == "https://token.actions.githubusercontent.com"
    error_message = "Without an existing provider the module must create GitHub's."
  }

  assert {
    condition     = aws_iam_openid_connect_provider.github[0].client_id_list == toset(["sts.amazonaws.com"])
    error_message = "The provider's audience must be sts.amazonaws.com (what configure-aws-credentials requests)."
  }
}

run "session_outside_the_iam_range_is_rejected" {
  command = plan

  module {
    source = "./modules/github-oidc"
  }

  variables {
    deploy_max_session_seconds = 600
  }

  expect_failures = [var.deploy_max_session_seconds]
}

run "deploy_role_takes_its_policies_and_a_permissions_boundary" {
  command = plan

  module {
    source = "./modules/github-oidc"
  }

  variables {
    deploy_policy_arns   = ["arn:aws:iam::123456789012:policy/hello-cluster-deploy"]
    permissions_boundary = "arn:aws:iam::123456789012:policy/platform-boundary"
  }

  assert {
    condition     = aws_iam_role.deploy.permissions_boundary == "arn:aws:iam::123456789012:policy/platform-boundary"
    error_message = "The deploy role must carry the permissions boundary it is given."
  }

  assert {
    condition     = keys(aws_iam_role_policy_attachment.deploy) == ["arn:aws:iam::123456789012:policy/hello-cluster-deploy"]
    error_message = "The deploy role must get exactly the policies it is given, not AdministratorAccess."
  }
}
