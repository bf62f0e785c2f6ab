# The EKS side: a control plane with API access entries and encrypted
# secrets, managed add-ons, one Graviton managed node group in the private
# subnets, and the IAM side of the AWS Load Balancer Controller, which registers
# the app's pod IPs in the shared load balancer's EKS target group.

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# Provider default_tags reach the launch template, not what it launches: the
# data source exists "to apply default tags to resources not directly managed
# by a resource, such as the instances underneath an Auto Scaling group or the
# volumes created for an EC2 instance" (AWS provider docs, aws_default_tags).
data "aws_default_tags" "current" {}

# The caller may be an assumed-role session; access entries need the role.
data "aws_iam_session_context" "current" {
  arn = data.aws_caller_identity.current.arn
}

locals {
  partition = data.aws_partition.current.partition

  admin_principals = toset(concat(
    var.grant_caller_admin ? [data.aws_iam_session_context.current.issuer_arn] : [],
    var.admin_principal_arns,
  ))

  # Needed for networking before a node can become Ready.
  addons_before_nodes = toset(["vpc-cni", "kube-proxy", "eks-pod-identity-agent"])
  # Need nodes to schedule their pods, or they stay DEGRADED. metrics-server feeds the
  # HorizontalPodAutoscaler in k8s/ (EKS does not run one by default).
  addons_after_nodes = toset(["coredns", "metrics-server"])

  # Settings per add-on; the others run with EKS's defaults.
  addon_configuration = {
    # The VPC CNI's network policy agent enforces the app's NetworkPolicy; off by default.
    "vpc-cni" = jsonencode({ enableNetworkPolicy = "true" })
  }
}

# --------------------------------------------------------------- secrets key

resource "aws_kms_key" "secrets" {
  description             = "Envelope encryption of Kubernetes secrets in ${var.name}"
  enable_key_rotation     = true
  deletion_window_in_days = 7
}

resource "aws_kms_alias" "secrets" {
  name          = "alias/${var.name}-eks-secrets"
  target_key_id = aws_kms_key.secrets.key_id
}

# ------------------------------------------------------------ control plane

data "aws_iam_policy_document" "assume_by_eks" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]

    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  name_prefix        = "${substr(var.name, 0, 20)}-cluster-"
  description        = "EKS control plane of ${var.name}"
  assume_role_policy = data.aws_iam_policy_document.assume_by_eks.json
}

resource "aws_iam_role_policy_attachment" "cluster" {
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonEKSClusterPolicy"
}

# The control plane encrypts and decrypts secrets with the key.
data "aws_iam_policy_document" "cluster_encryption" {
  statement {
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"]
    resources = [aws_kms_key.secrets.arn]
  }
}

resource "aws_iam_role_policy" "cluster_encryption" {
  name   = "encrypt-secrets"
  role   = aws_iam_role.cluster.id
  policy = data.aws_iam_policy_document.cluster_encryption.json
}

# Created before the cluster so Terraform owns its retention.
resource "aws_cloudwatch_log_group" "cluster" {
  name              = "/aws/eks/${var.name}/cluster"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
}

resource "aws_eks_cluster" "this" {
  name                      = var.name
  version                   = var.kubernetes_version
  role_arn                  = aws_iam_role.cluster.arn
  enabled_cluster_log_types = var.cluster_log_types

  access_config {
    authentication_mode = "API"
    # The creator gets its entry below like every other admin, so removing it
    # later is an ordinary change instead of a cluster replacement.
    bootstrap_cluster_creator_admin_permissions = false
  }

  vpc_config {
    subnet_ids              = var.private_subnet_ids
    endpoint_private_access = true
    endpoint_public_access  = length(var.endpoint_public_access_cidrs) > 0
    public_access_cidrs     = length(var.endpoint_public_access_cidrs) > 0 ? var.endpoint_public_access_cidrs : null
  }

  encryption_config {
    resources = ["secrets"]

    provider {
      key_arn = aws_kms_key.secrets.arn
    }
  }

  upgrade_policy {
    # Extended support costs six times the standard control-plane price.
    support_type = "STANDARD"
  }

  depends_on = [
    aws_iam_role_policy_attachment.cluster,
    aws_iam_role_policy.cluster_encryption,
    aws_cloudwatch_log_group.cluster,
  ]
}

resource "aws_eks_access_entry" "admin" {
  for_each = local.admin_principals

  cluster_name  = aws_eks_cluster.this.name
  principal_arn = each.value
  type          = "STANDARD"
}

resource "aws_eks_access_policy_association" "admin" {
  for_each = local.admin_principals

  cluster_name  = aws_eks_cluster.this.name
  principal_arn = aws_eks_access_entry.admin[each.key].principal_arn
  policy_arn    = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

  access_scope {
    type = "cluster"
  }
}

# ----------------------------------------------------------------- add-ons
# Each add-on runs the most recent version EKS offers for kubernetes_version,
# unless addon_versions pins it. Without a version EKS installs its default
# once and never moves it: after a control-plane upgrade the add-ons would stay
# on builds for the old Kubernetes version. CreateAddon, addonVersion: "The
# version of the add-on. The version must match one of the versions returned by
# DescribeAddonVersions." (Amazon EKS API Reference,
# https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAddon.html).
# The data source asks DescribeAddonVersions with the add-on's name and the
# Kubernetes version and, with most_recent, takes the first version listed
# (provider 5.100, internal/service/eks/addon_version_data_source.go). A new
# add-on build therefore shows up as an in-place update in the next plan.

data "aws_eks_addon_version" "this" {
  for_each = setsubtract(setunion(local.addons_before_nodes, local.addons_after_nodes), keys(var.addon_versions))

  addon_name         = each.value
  kubernetes_version = var.kubernetes_version
  most_recent        = true
}

locals {
  addon_versions = merge(
    { for name, version in data.aws_eks_addon_version.this : name => version.version },
    var.addon_versions,
  )
}

resource "aws_eks_addon" "before_nodes" {
  for_each = local.addons_before_nodes

  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.value
  addon_version               = local.addon_versions[each.value]
  configuration_values        = lookup(local.addon_configuration, each.value, null)
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "PRESERVE"
}

resource "aws_eks_addon" "after_nodes" {
  for_each = local.addons_after_nodes

  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.value
  addon_version               = local.addon_versions[each.value]
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "PRESERVE"

  depends_on = [aws_eks_node_group.this]
}

# ------------------------------------------------------------------- nodes

data "aws_iam_policy_document" "assume_by_ec2" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "node" {
  name_prefix        = "${substr(var.name, 0, 20)}-node-"
  description        = "Worker nodes of ${var.name}"
  assume_role_policy = data.aws_iam_policy_document.assume_by_ec2.json
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each = toset([
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
  ])

  role       = aws_iam_role.node.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value}"
}

# IMDSv2 only, one hop: pods cannot borrow the node's credentials.
resource "aws_launch_template" "node" {
  name_prefix            = "${var.name}-node-"
  description            = "Nodes of ${var.name}: IMDSv2 with hop limit 1, encrypted root volume"
  update_default_version = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_size           = var.node_disk_size
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  # Nodes, their volumes and network interfaces carry the stack's tags
  # (cost allocation, ownership): the node group's instances are not
  # Terraform resources, so default_tags would not reach them.
  dynamic "tag_specifications" {
    for_each = toset(["instance", "volume", "network-interface"])

    content {
      resource_type = tag_specifications.value
      tags          = merge(data.aws_default_tags.current.tags, { Name = "${var.name}-node" })
    }
  }
}

resource "aws_eks_node_group" "this" {
  cluster_name           = aws_eks_cluster.this.name
  node_group_name_prefix = "${var.name}-"
  node_role_arn          = aws_iam_role.node.arn
  subnet_ids             = var.private_subnet_ids
  # Nodes follow the control plane when kubernetes_version is raised.
  version        = aws_eks_cluster.this.version
  ami_type       = var.node_ami_type
  instance_types = var.node_instance_types
  capacity_type  = "ON_DEMAND"

  scaling_config {
    min_size     = var.node_min_size
    max_size     = var.node_max_size
    desired_size = var.node_desired_size
  }

  update_config {
    max_unavailable = 1
  }

  launch_template {
    id      = aws_launch_template.node.id
    version = aws_launch_template.node.latest_version
  }

  lifecycle {
    create_before_destroy = true
    # A cluster autoscaler may move the node count.
    ignore_changes = [scaling_config[0].desired_size]
  }

  depends_on = [
    aws_iam_role_policy_attachment.node,
    aws_eks_addon.before_nodes,
  ]
}

# ---------------------------------------------------- shared load balancer
# The load balancer sends to pod IPs. With the VPC CNI a pod's address sits on
# a network interface of its node, which carries the cluster security group
# (no group in the launch template), so the app port is opened there, to the
# load balancer only. The TargetGroupBinding (k8s/overlays/eks) asks the
# controller for the same rule; it compares rules by protocol, ports and
# source, finds this one and adds nothing (pkg/networking, v3.5.0).

resource "aws_vpc_security_group_ingress_rule" "app_port_from_alb" {
  security_group_id            = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
  description                  = "App port of the pods from the shared load balancer"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = var.alb_security_group_id
}

# ---------------------------------------- AWS Load Balancer Controller (IAM)
# The controller itself is installed by scripts/install-lb-controller.sh (Helm
# chart 3.5.0); Terraform gives it its AWS identity through EKS Pod Identity:
# no OIDC provider, no annotation on the ServiceAccount, and the nodes' IMDS
# stays closed to pods (hop limit 1). The eks-pod-identity-agent add-on above
# serves the credentials.

locals {
  lb_controller_namespace       = "kube-system"
  lb_controller_service_account = "aws-load-balancer-controller"
}

# "Create IAM role with trust policy required by EKS Pod Identity" (Amazon EKS
# User Guide): principal pods.eks.amazonaws.com with sts:AssumeRole and
# sts:TagSession. The session tags EKS adds ("You can use these tags in the
# condition keys in the trust policy to restrict which service accounts,
# namespaces, and clusters can use this role") keep any other association in
# the account from using this role.
data "aws_iam_policy_document" "assume_by_pod_identity" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]

    principals {
      type        = "Service"
      identifiers = ["pods.eks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/eks-cluster-name"
      values   = [var.name]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/kubernetes-namespace"
      values   = [local.lb_controller_namespace]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/kubernetes-service-account"
      values   = [local.lb_controller_service_account]
    }
  }
}

resource "aws_iam_role" "lb_controller" {
  name_prefix        = "${substr(var.name, 0, 20)}-lbc-"
  description        = "AWS Load Balancer Controller of ${var.name} (EKS Pod Identity)"
  assume_role_policy = data.aws_iam_policy_document.assume_by_pod_identity.json
}

# The controller's published policy, vendored unchanged from
# kubernetes-sigs/aws-load-balancer-controller v3.5.0 docs/install/iam_policy.json
# ("curl -o iam-policy.json .../v3.5.0/docs/install/iam_policy.json", install
# guide). It names the aws partition; China and GovCloud have their own files.
# Minified: IAM counts a managed policy's size against 6,144 characters.
resource "aws_iam_policy" "lb_controller" {
  name_prefix = "${substr(var.name, 0, 20)}-lbc-"
  description = "AWS Load Balancer Controller v3.5.0 (published iam_policy.json)"
  policy      = jsonencode(jsondecode(file("${path.module}/lb-controller-iam-policy.json")))

  lifecycle {
    precondition {
      condition     = local.partition == "aws"
      error_message = "lb-controller-iam-policy.json is the controller's policy for the aws partition; vendor iam_policy_cn.json or iam_policy_us-gov.json for other partitions."
    }
  }
}

resource "aws_iam_role_policy_attachment" "lb_controller" {
  role       = aws_iam_role.lb_controller.name
  policy_arn = aws_iam_policy.lb_controller.arn
}

# CreatePodIdentityAssociation: "If a pod uses a service account that has an
# association, Amazon EKS sets environment variables in the containers of the
# pod", and associations "are eventually consistent, and may take several
# seconds to be effective" (Amazon EKS API Reference). Environment variables are
# set when a pod is created, so the controller is installed after this exists.
resource "aws_eks_pod_identity_association" "lb_controller" {
  cluster_name    = aws_eks_cluster.this.name
  namespace       = local.lb_controller_namespace
  service_account = local.lb_controller_service_account
  role_arn        = aws_iam_role.lb_controller.arn

  depends_on = [aws_iam_role_policy_attachment.lb_controller]
}
