# hello-cluster on AWS: one network and one registry shared by an EKS side and
# an ECS Fargate side, both behind one load balancer whose listener splits
# traffic between them by weight.

data "aws_region" "current" {}

locals {
  edge_enabled = var.deploy_ecs || var.deploy_eks

  # Null: half each with both sides, otherwise everything to the side that exists.
  ecs_traffic_percent = var.ecs_traffic_percent != null ? var.ecs_traffic_percent : (
    var.deploy_ecs && var.deploy_eks ? 50 : (var.deploy_ecs ? 100 : 0)
  )

  fargate_architecture = var.image_architecture == "arm64" ? "ARM64" : "X86_64"
  node_ami_type = var.eks_node_ami_type != null ? var.eks_node_ami_type : (
    var.image_architecture == "arm64" ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD"
  )
}

module "network" {
  source = "./modules/network"

  name                     = var.name
  vpc_cidr                 = var.vpc_cidr
  az_count                 = var.az_count
  single_nat_gateway       = var.single_nat_gateway
  flow_logs_enabled        = var.flow_logs_enabled
  flow_logs_retention_days = var.log_retention_days
  eks_cluster_name         = var.deploy_eks ? var.name : null
  exclude_zone_ids         = var.exclude_zone_ids

  interface_endpoints_enabled = var.vpc_interface_endpoints_enabled
  log_kms_key_arn             = local.log_kms_key_arn
}

# One key for every log group of the stack; the names are the modules' own
# (a root test checks that each module's log groups are in this list).
module "logs_key" {
  source = "./modules/logs-key"
  count  = var.log_kms_enabled ? 1 : 0

  name = var.name
  log_group_names = [
    "/vpc/${var.name}/flow-logs",
    "/ecs/${var.name}",
    "/ecs/${var.name}/exec",
    "/aws/eks/${var.name}/cluster",
  ]
}

locals {
  log_kms_key_arn = try(module.logs_key[0].key_arn, null)
}

module "registry" {
  source = "./modules/registry"

  name         = var.name
  keep_images  = var.ecr_keep_images
  force_delete = var.ecr_force_delete
}

module "edge" {
  source = "./modules/edge"
  count  = local.edge_enabled ? 1 : 0

  name                 = var.name
  vpc_id               = module.network.vpc_id
  vpc_cidr             = module.network.vpc_cidr
  public_subnet_ids    = module.network.public_subnet_ids
  ingress_cidrs        = var.alb_ingress_cidrs
  certificate_arn      = var.certificate_arn
  ssl_policy           = var.ssl_policy
  ecs_enabled          = var.deploy_ecs
  eks_enabled          = var.deploy_eks
  ecs_traffic_percent  = local.ecs_traffic_percent
  app_port             = var.app_port
  health_check_path    = "/readyz"
  deregistration_delay = var.deregistration_delay
  deletion_protection  = var.alb_deletion_protection

  access_logs_enabled        = var.alb_access_logs_enabled
  access_logs_retention_days = var.alb_access_logs_retention_days
  access_logs_force_destroy  = var.alb_access_logs_force_destroy
  waf_enabled                = var.waf_enabled
  domain_name                = var.domain_name
  hosted_zone_id             = var.hosted_zone_id
}

module "ecs" {
  source = "./modules/ecs"
  count  = var.deploy_ecs ? 1 : 0

  name                     = var.name
  task_definition_template = "${path.module}/../ecs-taskdef/taskdef.json.tftpl"
  image                    = var.image_tag == null ? null : "${module.registry.repository_url}:${var.image_tag}"
  repository_arn           = module.registry.repository_arn

  vpc_id                  = module.network.vpc_id
  vpc_cidr                = module.network.vpc_cidr
  private_subnet_ids      = module.network.private_subnet_ids
  alb_security_group_id   = module.edge[0].security_group_id
  target_group_arn        = module.edge[0].ecs_target_group_arn
  target_group_arn_suffix = module.edge[0].ecs_target_group_arn_suffix
  alb_arn_suffix          = module.edge[0].alb_arn_suffix
  listener_arn            = coalesce(module.edge[0].https_listener_arn, module.edge[0].http_listener_arn)

  cpu              = var.ecs_cpu
  memory           = var.ecs_memory
  cpu_architecture = local.fargate_architecture
  app_port         = var.app_port
  metrics_port     = var.metrics_port
  grace_seconds    = var.app_grace_seconds
  stop_timeout     = var.ecs_stop_timeout
  log_level        = var.app_log_level
  workers          = var.app_workers

  log_retention_days                = var.log_retention_days
  fargate_base                      = var.ecs_fargate_base
  fargate_weight                    = var.ecs_fargate_weight
  fargate_spot_weight               = var.ecs_fargate_spot_weight
  min_capacity                      = var.ecs_min_capacity
  max_capacity                      = var.ecs_max_capacity
  cpu_target_percent                = var.ecs_cpu_target_percent
  requests_per_target               = var.ecs_requests_per_target
  health_check_grace_period_seconds = var.ecs_health_check_grace_period_seconds
  enable_execute_command            = var.ecs_enable_execute_command
  log_kms_key_arn                   = local.log_kms_key_arn
}

module "eks" {
  source = "./modules/eks"
  count  = var.deploy_eks ? 1 : 0

  name                         = var.name
  kubernetes_version           = var.eks_kubernetes_version
  vpc_id                       = module.network.vpc_id
  private_subnet_ids           = module.network.private_subnet_ids
  endpoint_public_access_cidrs = var.eks_endpoint_public_access_cidrs
  admin_principal_arns         = var.eks_admin_principal_arns
  grant_caller_admin           = var.eks_grant_caller_admin
  cluster_log_types            = var.eks_cluster_log_types
  log_retention_days           = var.log_retention_days
  addon_versions               = var.eks_addon_versions
  log_kms_key_arn              = local.log_kms_key_arn

  node_ami_type       = local.node_ami_type
  node_instance_types = var.eks_node_instance_types
  node_min_size       = var.eks_node_min_size
  node_max_size       = var.eks_node_max_size
  node_desired_size   = var.eks_node_desired_size
  node_disk_size      = var.eks_node_disk_size

  alb_security_group_id = module.edge[0].security_group_id
  app_port              = var.app_port
}

module "monitoring" {
  source = "./modules/monitoring"
  count  = local.edge_enabled ? 1 : 0

  name           = var.name
  alb_arn_suffix = module.edge[0].alb_arn_suffix
  target_groups = merge(
    var.deploy_ecs ? { ecs = module.edge[0].ecs_target_group_arn_suffix } : {},
    var.deploy_eks ? { eks = module.edge[0].eks_target_group_arn_suffix } : {},
  )
  ecs_service = var.deploy_ecs ? {
    cluster_name = module.ecs[0].cluster_name
    service_name = module.ecs[0].service_name
  } : null

  alarm_email                   = var.alarm_email
  error_threshold               = var.alarm_5xx_per_minute
  p99_latency_threshold_seconds = var.alarm_p99_seconds
  utilization_threshold_percent = var.alarm_utilization_percent
}

module "github_oidc" {
  source = "./modules/github-oidc"
  count  = var.github_oidc_enabled ? 1 : 0

  name                  = var.name
  repository            = var.github_repository
  branch                = var.github_branch
  environment           = var.github_environment
  existing_provider_arn = var.github_existing_provider_arn
  deploy_policy_arns    = var.github_deploy_policy_arns
  permissions_boundary  = var.github_deploy_permissions_boundary_arn

  state_bucket            = var.github_state_bucket
  state_key               = var.github_state_key
  plan_role_state_locking = var.github_plan_role_state_locking
}

# ------------------------------------------------- EKS control-plane logs
# EKS re-creates /aws/eks/<name>/cluster when it still has logs to deliver
# after Terraform deleted the group (terraform-aws-eks #2486, #2763: the
# service-linked role writes it), so a later create of the same cluster would
# fail with ResourceAlreadyExistsException. A group that exists while the
# cluster is to be created is adopted instead (import blocks live in the
# root module only).
# "logs are sent as log streams to a group for each Amazon EKS cluster in
# CloudWatch" (EKS User Guide, control-plane logging,
# https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html)

locals {
  eks_log_group_name = "/aws/eks/${var.name}/cluster"
}

data "aws_cloudwatch_log_groups" "eks_cluster" {
  count = var.deploy_eks ? 1 : 0

  log_group_name_prefix = local.eks_log_group_name
}

import {
  for_each = toset([for n in try(data.aws_cloudwatch_log_groups.eks_cluster[0].log_group_names, []) : n if n == local.eks_log_group_name])

  to = module.eks[0].aws_cloudwatch_log_group.cluster
  id = each.value
}

# ------------------------------------------------------ EKS version support
# "A minor version is under standard support in Amazon EKS for the first 14
# months after it's released. Once a version is past the end of standard
# support date, it enters extended support for the next 12 months." With
# upgrade_policy STANDARD, EKS upgrades such a cluster itself and the next plan
# would try to go back. (EKS User Guide, "Understand the Kubernetes version
# lifecycle on EKS", https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html)

locals {
  # End of standard support from the EKS Kubernetes release calendar
  # (kubernetes-release-calendar on the page above).
  eks_standard_support_ends = {
    "1.31" = "2025-11-26T00:00:00Z"
    "1.32" = "2026-03-23T00:00:00Z"
    "1.33" = "2026-07-29T00:00:00Z"
    "1.34" = "2026-12-02T00:00:00Z"
    "1.35" = "2027-03-27T00:00:00Z"
  }
}

check "eks_version_in_standard_support" {
  assert {
    condition = !var.deploy_eks || (
      contains(keys(local.eks_standard_support_ends), var.eks_kubernetes_version) &&
      timecmp(plantimestamp(), lookup(local.eks_standard_support_ends, var.eks_kubernetes_version, "1970-01-01T00:00:00Z")) < 0
    )
    error_message = "eks_kubernetes_version ${var.eks_kubernetes_version} is past EKS standard support (${lookup(local.eks_standard_support_ends, var.eks_kubernetes_version, "not in the calendar in tf/main.tf")}): EKS upgrades the control plane itself and the next plan tries to downgrade it. Raise eks_kubernetes_version (or add the version's date from the EKS release calendar)."
  }
}

# Access entries name explicit principals; the caller is an opt-in.
check "eks_has_an_admin" {
  assert {
    condition     = !var.deploy_eks || var.eks_grant_caller_admin || length(var.eks_admin_principal_arns) > 0
    error_message = "Nobody gets cluster-admin access to EKS: set eks_admin_principal_arns (IAM role ARNs), or eks_grant_caller_admin = true to grant the identity running Terraform."
  }
}

check "github_oidc_has_repository" {
  assert {
    condition     = !var.github_oidc_enabled || var.github_repository != null
    error_message = "github_oidc_enabled needs github_repository (owner/name)."
  }
}
