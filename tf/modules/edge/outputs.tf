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
  description = "Public URL of the service (https when a certificate is configured)."
  value       = "${local.https ? "https" : "http"}://${aws_lb.this.dns_name}"
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
