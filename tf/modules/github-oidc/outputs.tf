output "provider_arn" {
  description = "ARN of the GitHub OIDC identity provider."
  value       = local.provider_arn
}

output "deploy_role_arn" {
  description = "Role the deploy workflow assumes (set it as the repository variable read by configure-aws-credentials)."
  value       = aws_iam_role.deploy.arn
}

output "plan_role_arn" {
  description = "Read-only role for pull-request plans, or null when disabled."
  value       = try(aws_iam_role.plan[0].arn, null)
}

output "deploy_subjects" {
  description = "OIDC subjects the deploy role trusts."
  value       = local.deploy_subjects
}

output "plan_subjects" {
  description = "OIDC subjects the plan role trusts (the role exists only when plan_role_enabled)."
  value       = local.plan_subjects
}
