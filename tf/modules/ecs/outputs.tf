output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the ECS cluster."
  value       = aws_ecs_cluster.this.arn
}

output "service_name" {
  description = "Name of the ECS service."
  value       = aws_ecs_service.this.name
}

output "task_definition_family" {
  description = "Family of the task definition; the deploy flow registers new revisions in it."
  value       = aws_ecs_task_definition.this.family
}

output "task_definition_arn" {
  description = "ARN of the revision Terraform registered (the service runs whatever the deploy flow registered last)."
  value       = aws_ecs_task_definition.this.arn
}

output "task_definition_json" {
  description = "The rendered task definition, a RegisterTaskDefinition input (aws ecs register-task-definition --cli-input-json)."
  value       = local.task_definition_json
}

output "container_name" {
  description = "Name of the application container in the task definition."
  value       = local.container_name
}

output "log_group_kms_key_ids" {
  description = "KMS key ARN of each log group of the service, by name (null: CloudWatch Logs' own encryption): the task logs, and the ECS Exec session logs when enable_execute_command."
  value       = { for g in concat([aws_cloudwatch_log_group.this], aws_cloudwatch_log_group.exec) : g.name => g.kms_key_id }
}

output "exec_log_group_name" {
  description = "Log group of the ECS Exec session logs, or null when enable_execute_command is false."
  value       = try(aws_cloudwatch_log_group.exec[0].name, null)
}

output "log_group_name" {
  description = "CloudWatch log group of the tasks."
  value       = aws_cloudwatch_log_group.this.name
}

output "tasks_security_group_id" {
  description = "Security group of the tasks."
  value       = aws_security_group.tasks.id
}

output "min_capacity" {
  description = "Minimum task count of the autoscaler; the first deploy raises the service from zero to this."
  value       = aws_appautoscaling_target.this.min_capacity
}
