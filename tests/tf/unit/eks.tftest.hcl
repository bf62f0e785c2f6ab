# The EKS module alone: access, encryption, add-on order and node hardening.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name                         = "hello-cluster"
  kubernetes_version           = "1.33"
  vpc_id                       = "vpc-0123456789abcdef0"
  private_subnet_ids           = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
  endpoint_public_access_cidrs = ["203.0.113.0/24"]
  admin_principal_arns         = ["arn:aws:iam::123456789012:role/platform-admin"]
  grant_caller_admin           = true
  cluster_log_types            = ["api", "audit", "authenticator"]
  log_retention_days           = 30
  node_ami_type                = "AL2023_ARM_64_STANDARD"
  node_instance_types          = ["t4g.medium"]
  node_min_size                = 2
  node_max_size                = 4
  node_desired_size            = 2
  node_disk_size               = 20
  alb_security_group_id        = "sg-0a1b2c3d4e5f60001"
  app_port                     = 8080
}

run "control_plane" {
  command = apply

  module {
    source = "./modules/eks"
  }

  assert {
    condition     = one(aws_eks_cluster.this.access_config).authentication_mode == "API" && one(aws_eks_cluster.this.access_config).bootstrap_cluster_creator_admin_permissions == false
    error_message = "API authentication with explicit access entries."
  }

  assert {
    condition     = keys(aws_eks_access_entry.admin) == ["arn:aws:iam::123456789012:role/deployer", "arn:aws:iam::123456789012:role/platform-admin"]
    error_message = "Access entries: the caller's role (not its session) and the admin list."
  }

  assert {
    condition     = alltrue([for a in aws_eks_access_policy_association.admin : endswith(a.policy_arn, ":cluster-access-policy/AmazonEKSClusterAdminPolicy") && one(a.access_scope).type == "cluster"])
    error_message = "Every admin entry gets the cluster admin policy at cluster scope."
  }

  assert {
    condition     = one(aws_eks_cluster.this.vpc_config).endpoint_private_access && one(aws_eks_cluster.this.vpc_config).public_access_cidrs == toset(["203.0.113.0/24"])
    error_message = "Private endpoint on; public endpoint restricted to the CIDR list."
  }

  assert {
    condition     = one(aws_eks_cluster.this.encryption_config).resources == toset(["secrets"]) && one(one(aws_eks_cluster.this.encryption_config).provider).key_arn == aws_kms_key.secrets.arn && aws_kms_key.secrets.enable_key_rotation
    error_message = "Secrets must be encrypted with the rotating KMS key."
  }

  assert {
    condition     = aws_eks_cluster.this.enabled_cluster_log_types == toset(["api", "audit", "authenticator"]) && aws_cloudwatch_log_group.cluster.name == "/aws/eks/hello-cluster/cluster"
    error_message = "Control-plane logs on, into a log group Terraform owns."
  }

  assert {
    condition     = aws_eks_cluster.this.version == "1.33" && one(aws_eks_cluster.this.upgrade_policy).support_type == "STANDARD"
    error_message = "Version 1.33 on standard support."
  }
}

run "add_ons_and_nodes" {
  command = apply

  module {
    source = "./modules/eks"
  }

  assert {
    condition = (
      toset([for t in aws_launch_template.node.tag_specifications : t.resource_type]) == toset(["instance", "volume", "network-interface"]) &&
      alltrue([for t in aws_launch_template.node.tag_specifications : t.tags["Name"] == "hello-cluster-node"])
    )
    error_message = "Nodes, their volumes and network interfaces must be tagged through the launch template (default_tags do not reach them)."
  }

  assert {
    condition     = keys(aws_eks_addon.before_nodes) == ["eks-pod-identity-agent", "kube-proxy", "vpc-cni"] && keys(aws_eks_addon.after_nodes) == ["coredns", "metrics-server"]
    error_message = "vpc-cni, kube-proxy and the pod identity agent before the nodes; coredns and metrics-server after."
  }

  assert {
    condition     = aws_eks_node_group.this.ami_type == "AL2023_ARM_64_STANDARD" && aws_eks_node_group.this.instance_types == tolist(["t4g.medium"])
    error_message = "Graviton nodes on AL2023."
  }

  assert {
    condition     = one(aws_launch_template.node.metadata_options).http_tokens == "required" && one(aws_launch_template.node.metadata_options).http_put_response_hop_limit == 1
    error_message = "Nodes must require IMDSv2 with hop limit 1."
  }

  assert {
    condition     = one(one(aws_launch_template.node.block_device_mappings).ebs).encrypted == "true"
    error_message = "Node root volumes must be encrypted."
  }

  assert {
    condition     = aws_eks_node_group.this.subnet_ids == toset(var.private_subnet_ids) && one(aws_eks_node_group.this.update_config).max_unavailable == 1
    error_message = "Nodes in the private subnets, replaced one at a time."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.app_port_from_alb.from_port == 8080 && aws_vpc_security_group_ingress_rule.app_port_from_alb.referenced_security_group_id == var.alb_security_group_id
    error_message = "The pods' app port must be open to the load balancer only."
  }
}

run "network_policy_enforced_by_the_vpc_cni" {
  command = plan

  module {
    source = "./modules/eks"
  }

  assert {
    condition     = jsondecode(aws_eks_addon.before_nodes["vpc-cni"].configuration_values).enableNetworkPolicy == "true"
    error_message = "The VPC CNI must run its network policy agent, or the app's NetworkPolicy is not enforced."
  }
}
