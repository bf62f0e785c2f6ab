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
  description = "Branch whose workflow runs may assume the deploy role."
  type        = string
}

variable "environment" {
  description = "GitHub environment of the deploy job, or null. A job bound to an environment gets the subject repo:OWNER/NAME:environment:ENV instead of the branch one."
  type        = string
  default     = null
}

variable "existing_provider_arn" {
  description = "ARN of an existing token.actions.githubusercontent.com OIDC provider (an account holds one per URL); null creates it."
  type        = string
  default     = null
}

variable "deploy_policy_arns" {
  description = "Managed policies of the deploy role. It runs Terraform, which creates IAM roles, KMS keys, clusters and networks, hence administrator by default; the trust policy is what narrows it to one repository and branch."
  type        = list(string)
  default     = null
}

variable "plan_role_enabled" {
  description = "Also create a read-only role that pull-request runs of the repository may assume for `terraform plan` (run it with -lock=false)."
  type        = bool
  default     = true
}
