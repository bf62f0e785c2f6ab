output "alb_arn" {
  description = "ARN of the load balancer."
  value       = aws_lb.this.arn
}

output "alb_arn_suffix" {
  description = "ARN suffix of the load balancer, the LoadBalancer dimension of its CloudWatch metrics."
  value       = aws_lb.this.arn_suffix
}

output "alb_dns_name" {
  description = "DNS name of the load balancer."
  value       = aws_lb.this.dns_name
}

output "url" {
  description = "Public URL of the service: https://domain_name with a DNS name, else the load balancer's DNS name (https when a certificate is configured)."
  value       = local.dns_enabled ? "https://${var.domain_name}" : "${local.https ? "https" : "http"}://${aws_lb.this.dns_name}"
}

output "certificate_arn" {
  description = "Certificate of the HTTPS listener (certificate_arn, or the one issued for domain_name), or null without HTTPS."
  value       = local.https ? local.listener_certificate_arn : null
}

output "access_logs_bucket" {
  description = "S3 bucket holding the access logs (under AWSLogs/ACCOUNT/elasticloadbalancing/REGION/), or null when access logs are off."
  value       = try(aws_s3_bucket.access_logs[0].id, null)
}

output "waf_web_acl_arn" {
  description = "ARN of the WAF web ACL in front of the load balancer, or null when waf_enabled is false."
  value       = try(aws_wafv2_web_acl.this[0].arn, null)
}

output "security_group_id" {
  description = "Security group of the load balancer; targets allow their ports from it only."
  value       = aws_security_group.alb.id
}

output "http_listener_arn" {
  description = "ARN of the port 80 listener."
  value       = aws_lb_listener.http.arn
}

output "https_listener_arn" {
  description = "ARN of the port 443 listener, or null without a certificate."
  value       = try(aws_lb_listener.https[0].arn, null)
}

output "ecs_target_group_arn" {
  description = "ARN of the ECS target group (it exists even when the ECS side is off, with no share of the traffic)."
  value       = aws_lb_target_group.ecs.arn
}

output "ecs_target_group_arn_suffix" {
  description = "ARN suffix of the ECS target group (CloudWatch dimension)."
  value       = aws_lb_target_group.ecs.arn_suffix
}

output "eks_target_group_arn" {
  description = "ARN of the EKS target group (it exists even when the EKS side is off, with no share of the traffic)."
  value       = aws_lb_target_group.eks.arn
}

output "eks_target_group_arn_suffix" {
  description = "ARN suffix of the EKS target group (CloudWatch dimension)."
  value       = aws_lb_target_group.eks.arn_suffix
}
