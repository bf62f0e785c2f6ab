output "repository_name" {
  description = "Name of the ECR repository."
  value       = aws_ecr_repository.this.name
}

output "repository_url" {
  description = "URL of the ECR repository (registry host and repository name), the image name to push to."
  value       = aws_ecr_repository.this.repository_url
}

output "repository_arn" {
  description = "ARN of the ECR repository, for pull permissions."
  value       = aws_ecr_repository.this.arn
}
