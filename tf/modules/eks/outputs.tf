output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = aws_eks_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the EKS cluster."
  value       = aws_eks_cluster.this.arn
}

output "cluster_endpoint" {
  description = "URL of the Kubernetes API server."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_certificate_authority" {
  description = "Base64 CA certificate of the API server."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "cluster_security_group_id" {
  description = "Security group EKS created for the control plane and the nodes."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "oidc_issuer_url" {
  description = "OIDC issuer of the cluster, for IAM roles for service accounts."
  value       = aws_eks_cluster.this.identity[0].oidc[0].issuer
}

output "node_group_name" {
  description = "Name of the managed node group."
  value       = aws_eks_node_group.this.node_group_name
}

output "node_autoscaling_group_name" {
  description = "Auto Scaling group behind the node group (the load balancer targets pod IPs, not these instances)."
  value       = aws_eks_node_group.this.resources[0].autoscaling_groups[0].name
}

output "admin_principal_arns" {
  description = "Principals holding cluster-admin access entries."
  value       = sort(tolist(local.admin_principals))
}

output "update_kubeconfig_command" {
  description = "Command writing a kubeconfig entry for this cluster."
  value       = "aws eks update-kubeconfig --region ${data.aws_region.current.name} --name ${aws_eks_cluster.this.name}"
}

output "lb_controller_role_arn" {
  description = "IAM role of the AWS Load Balancer Controller, given to its ServiceAccount through EKS Pod Identity."
  value       = aws_iam_role.lb_controller.arn
}

output "lb_controller_service_account" {
  description = "namespace/name of the ServiceAccount the controller must run as for its Pod Identity association to apply."
  value       = "${aws_eks_pod_identity_association.lb_controller.namespace}/${aws_eks_pod_identity_association.lb_controller.service_account}"
}

output "log_group_kms_key_ids" {
  description = "KMS key ARN of each log group of the module, by name (null: CloudWatch Logs' own encryption)."
  value       = { (aws_cloudwatch_log_group.cluster.name) = aws_cloudwatch_log_group.cluster.kms_key_id }
}
