# The GitHub deploy role's policies and boundary are set from the root, and bad ARNs
# are refused at plan time.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  image_tag                = "bootstrap"
  eks_admin_principal_arns = ["arn:aws:iam::123456789012:role/platform-admin"]
  github_oidc_enabled      = true
  github_repository        = "example-org/hello-cluster"
}

run "policy_and_boundary_arns_are_checked" {
  command = plan

  variables {
    github_deploy_policy_arns              = ["AdministratorAccess"]
    github_deploy_permissions_boundary_arn = "platform-boundary"
  }

  expect_failures = [var.github_deploy_policy_arns, var.github_deploy_permissions_boundary_arn]
}
