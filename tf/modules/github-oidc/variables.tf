variable "name" {
  description = "Name prefix of the IAM roles."
  type        = string
}

variable "repository" {
  description = "GitHub repository allowed to assume the roles, as owner/name (the OIDC subject is case-sensitive)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.repository))
    error_message = "repository must look like owner/name."
  }
}

variable "branch" {
  description = "Branch whose plans the plan role serves; the deploy role trusts it only when environment is null."
  type        = string
}

variable "environment" {
  description = "GitHub environment of the deploy job, or null. When set, the deploy role trusts only the subject repo:OWNER/NAME:environment:ENV (the environment's branch policy and reviewers guard it); null trusts the branch subject."
  type        = string
  default     = null
}

variable "existing_provider_arn" {
  description = "ARN of an existing token.actions.githubusercontent.com OIDC provider (an account holds one per URL); null creates it."
  type        = string
  default     = null
}

variable "deploy_policy_arns" {
  description = "Managed policies of the deploy role. It runs Terraform, which creates IAM roles, KMS keys, clusters and networks, hence administrator by default; the trust policy is what narrows it to one repository and environment."
  type        = list(string)
  default     = null
}

variable "plan_role_enabled" {
  description = "Also create a read-only role that pull-request runs and the plan job of the branch may assume for `terraform plan` (run it with -lock=false unless plan_role_state_locking)."
  type        = bool
  default     = true
}

variable "deploy_max_session_seconds" {
  description = "Maximum session of the deploy role in seconds. The deploy job asks for this much (role-duration-seconds) and its timeout-minutes stays below it, so credentials never expire mid-apply."
  type        = number
  default     = 7200

  validation {
    # IAM UpdateRole/CreateRole, MaxSessionDuration: "This setting can have a value from
    # 1 hour to 12 hours" (https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateRole.html).
    # And AssumeRoleWithWebIdentity, DurationSeconds: "If you specify a value higher than this
    # setting, the operation fails", so deploy.yml's role-duration-seconds stays at or below it.
    condition     = var.deploy_max_session_seconds >= 3600 && var.deploy_max_session_seconds <= 43200
    error_message = "deploy_max_session_seconds must be between 3600 and 43200 (IAM's MaxSessionDuration range)."
  }
}

variable "permissions_boundary" {
  description = "ARN of a managed policy set as the deploy role's permissions boundary, or null. IAM, PutRolePermissionsBoundary: the boundary \"defines the maximum permissions that an identity-based policy can grant\"."
  type        = string
  default     = null
}

variable "state_bucket" {
  description = "S3 bucket of the Terraform state (the backend's bucket). The plan role may list it and read the state object and its lock object, and no other object anywhere. Null gives the plan role no access to any state, so its plans cannot see what exists."
  type        = string
  default     = null

  validation {
    # S3 bucket naming rules: 3-63 characters, lowercase letters, digits, dots and hyphens,
    # beginning and ending with a letter or digit.
    condition     = var.state_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", coalesce(var.state_bucket, "-")))
    error_message = "state_bucket must be an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens) or null."
  }
}

variable "state_key" {
  description = "Key of the state object in state_bucket (the backend's key); the S3 lock file is this key plus \".tflock\"."
  type        = string
  default     = "hello-cluster/terraform.tfstate"

  validation {
    condition     = length(var.state_key) > 0 && !startswith(var.state_key, "/") && !strcontains(var.state_key, "*")
    error_message = "state_key must be an object key such as hello-cluster/terraform.tfstate (no leading slash, no wildcard)."
  }
}

variable "plan_role_state_locking" {
  description = "Let the plan role write and delete the S3 lock object, so plans can run with locking. Off by default: the pipeline plans with -lock=false, and a pull request able to delete the lock object could also release the lock of a running apply."
  type        = bool
  default     = false
}
