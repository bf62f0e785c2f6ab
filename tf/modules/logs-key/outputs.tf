output "key_arn" {
  description = "ARN of the key; the kms_key_id of every log group of the stack."
  value       = aws_kms_key.this.arn
}

output "alias_name" {
  description = "Alias of the key (alias/<name>-logs)."
  value       = aws_kms_alias.this.name
}

output "log_group_names" {
  description = "Log groups the key policy lets CloudWatch Logs use the key for."
  value       = var.log_group_names
}
