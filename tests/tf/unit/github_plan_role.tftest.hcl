# What the GitHub plan role may read, with the real AWS provider in plan mode
# (aws_iam_policy_document renders the JSON IAM will evaluate; see
# github_oidc.tftest.hcl for why nothing leaves the machine). Any pull request
# of the repository runs code with this role, so it must not read S3 objects
# other than the state, nor secrets, parameters, log events or key material.

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
  name                  = "hello-cluster"
  repository            = "example-org/hello-cluster"
  branch                = "main"
  environment           = "production"
  existing_provider_arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
  state_bucket          = "example-tf-state"
  state_key             = "hello-cluster/terraform.tfstate"
}

run "plan_role_reads_the_state_object_and_no_other" {
  command = plan

  module {
    source = "./modules/github-oidc"
  }

  assert {
    condition     = length(aws_iam_role_policy.plan) == 1 && aws_iam_role_policy.plan[0].name == "read-stack-and-state"
    error_message = "The plan role gets its read rights from its own inline policy."
  }

  # Object reads (s3:GetObject, or any wildcard that covers it) only on the state and its lock.
  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.plan[0].policy).Statement :
      !anytrue([for a in flatten([s.Action]) : contains(["*", "s3:*", "s3:Get*", "s3:GetObject*", "s3:GetObject"], a)]) ||
      toset(flatten([s.Resource])) == toset(["arn:aws:s3:::example-tf-state/hello-cluster/terraform.tfstate", "arn:aws:s3:::example-tf-state/hello-cluster/terraform.tfstate.tflock"])
    ])
    error_message = "s3:GetObject must be granted on the state object and its lock only, never on \"*\" (ReadOnlyAccess reads every object in the account)."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.plan[0].policy).Statement :
      contains(flatten([s.Action]), "s3:GetObject") && contains(flatten([s.Resource]), "arn:aws:s3:::example-tf-state/hello-cluster/terraform.tfstate")
    ])
    error_message = "The plan role must read the state object, or its plans see nothing deployed."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.plan[0].policy).Statement :
      flatten([s.Action]) == ["s3:ListBucket"] && flatten([s.Resource]) == ["arn:aws:s3:::example-tf-state"]
    ])
    error_message = "The plan role must list the state bucket (the S3 backend needs s3:ListBucket on it)."
  }

  # No content reads: secret values, parameter values, log events, decryption, object writes.
  assert {
    condition = !anytrue(flatten([
      for s in jsondecode(aws_iam_role_policy.plan[0].policy).Statement : [
        for a in flatten([s.Action]) :
        a == "*" || endswith(a, ":*") || startswith(a, "secretsmanager:") || startswith(a, "ssm:") ||
        contains(["kms:Decrypt", "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "s3:PutObject", "s3:DeleteObject", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage", "ecr:GetAuthorizationToken", "ec2:GetPasswordData"], a)
      ]
    ]))
    error_message = "The plan role must not read secrets, parameters, log events or images, decrypt, or write objects."
  }

  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.plan[0].policy).Statement : s.Effect == "Allow"])
    error_message = "Allow statements only."
  }
}

run "lock_writes_are_an_opt_in" {
  command = plan

  module {
    source = "./modules/github-oidc"
  }

  variables {
    plan_role_state_locking = true
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.plan[0].policy).Statement :
      toset(flatten([s.Action])) == toset(["s3:PutObject", "s3:DeleteObject"]) && flatten([s.Resource]) == ["arn:aws:s3:::example-tf-state/hello-cluster/terraform.tfstate.tflock"]
    ])
    error_message = "With plan_role_state_locking the plan role may write and delete the lock object (S3 backend, use_lockfile), and nothing else."
  }
}

run "without_a_state_bucket_no_object_is_readable" {
  command = plan

  module {
    source = "./modules/github-oidc"
  }

  variables {
    state_bucket = null
  }

  assert {
    condition = !anytrue(flatten([
      for s in jsondecode(aws_iam_role_policy.plan[0].policy).Statement : [for a in flatten([s.Action]) : contains(["s3:GetObject", "s3:ListBucket"], a)]
    ]))
    error_message = "Without a state bucket the plan role reads no S3 object and lists no bucket."
  }
}

run "a_key_with_a_wildcard_is_refused" {
  command = plan

  module {
    source = "./modules/github-oidc"
  }

  variables {
    state_key = "hello-cluster/*"
  }

  expect_failures = [var.state_key]
}
