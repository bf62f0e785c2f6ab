# Everything the deploy flow (`make deploy`) reads: no names, regions or
# account IDs are hard-coded anywhere else.

output "aws_region" {
  description = "Region the stack lives in."
  value       = data.aws_region.current.name
}

output "ecr_repository_url" {
  description = "ECR repository to push the image to (registry host/name, no tag)."
  value       = module.registry.repository_url
}

output "image_architecture" {
  description = "Architecture the image must be built for: arm64 or amd64."
  value       = var.image_architecture
}

output "deploy_eks" {
  description = "Whether the EKS side exists."
  value       = var.deploy_eks
}

output "deploy_ecs" {
  description = "Whether the ECS side exists."
  value       = var.deploy_ecs
}

output "alb_url" {
  description = "Public URL of the service: https://domain_name when set, else the shared load balancer's DNS name; null when neither side is deployed."
  value       = try(module.edge[0].url, null)
}

output "alb_access_logs_bucket" {
  description = "S3 bucket of the load balancer's access logs (AWSLogs/ACCOUNT/elasticloadbalancing/REGION/...), or null when they are off or neither side is deployed."
  value       = try(module.edge[0].access_logs_bucket, null)
}

output "waf_web_acl_arn" {
  description = "WAF web ACL on the load balancer, or null when waf_enabled is false or neither side is deployed."
  value       = try(module.edge[0].waf_web_acl_arn, null)
}

output "ecs_traffic_percent" {
  description = "Share of requests the load balancer sends to ECS (the rest goes to EKS)."
  value       = local.edge_enabled ? local.ecs_traffic_percent : null
}

output "eks_cluster_name" {
  description = "Name of the EKS cluster, or null when EKS is off."
  value       = try(module.eks[0].cluster_name, null)
}

output "eks_update_kubeconfig_command" {
  description = "Command that writes a kubeconfig entry for the cluster, or null when EKS is off."
  value       = try(module.eks[0].update_kubeconfig_command, null)
}

output "eks_admin_principal_arns" {
  description = "Principals holding cluster-admin access entries on the EKS cluster, or null when EKS is off."
  value       = try(module.eks[0].admin_principal_arns, null)
}

output "eks_standard_support_ends" {
  description = "When the EKS cluster's Kubernetes version leaves EKS standard support (RFC 3339), or null when EKS is off or the version is not in the calendar in main.tf."
  value       = var.deploy_eks ? lookup(local.eks_standard_support_ends, var.eks_kubernetes_version, null) : null
}

output "vpc_id" {
  description = "VPC of the stack (the AWS Load Balancer Controller is told it: pods cannot reach the instance metadata service)."
  value       = module.network.vpc_id
}

output "vpc_cidr" {
  description = "CIDR block of the VPC: the load balancer's nodes connect from it, so the pods trust X-Forwarded-For from it (TRUSTED_PROXY_CIDRS)."
  value       = module.network.vpc_cidr
}

output "alb_security_group_id" {
  description = "Security group of the shared load balancer; the TargetGroupBinding admits it to the pods' port. Null when neither side is deployed."
  value       = try(module.edge[0].security_group_id, null)
}

output "eks_target_group_arn" {
  description = "IP target group the TargetGroupBinding in k8s/overlays/eks fills with the pods' IPs, or null when EKS is off."
  value       = var.deploy_eks ? module.edge[0].eks_target_group_arn : null
}

output "eks_lb_controller_service_account" {
  description = "namespace/name of the AWS Load Balancer Controller's ServiceAccount that EKS Pod Identity gives the controller's IAM role, or null when EKS is off."
  value       = try(module.eks[0].lb_controller_service_account, null)
}

output "ecs_cluster_name" {
  description = "Name of the ECS cluster, or null when ECS is off."
  value       = try(module.ecs[0].cluster_name, null)
}

output "ecs_service_name" {
  description = "Name of the ECS service, or null when ECS is off."
  value       = try(module.ecs[0].service_name, null)
}

output "ecs_task_definition_family" {
  description = "Task definition family the deploy flow registers new revisions in, or null when ECS is off."
  value       = try(module.ecs[0].task_definition_family, null)
}

output "ecs_task_definition_json" {
  description = "The rendered task definition (RegisterTaskDefinition input for --cli-input-json); the deploy flow replaces the container image and registers it. Null when ECS is off."
  value       = try(module.ecs[0].task_definition_json, null)
}

output "ecs_container_name" {
  description = "Name of the app container in the task definition, or null when ECS is off."
  value       = try(module.ecs[0].container_name, null)
}

output "ecs_min_capacity" {
  description = "Minimum ECS task count: the service is created with zero tasks and the first deploy raises it to at least this. Null when ECS is off."
  value       = try(module.ecs[0].min_capacity, null)
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms, or null when neither side is deployed."
  value       = try(module.monitoring[0].alarm_topic_arn, null)
}

output "github_deploy_role_arn" {
  description = "Role for GitHub Actions deploys (OIDC), or null when github_oidc_enabled is false."
  value       = try(module.github_oidc[0].deploy_role_arn, null)
}

output "github_plan_role_arn" {
  description = "Read-only role for pull-request plans, or null."
  value       = try(module.github_oidc[0].plan_role_arn, null)
}
