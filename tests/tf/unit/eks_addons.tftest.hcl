# EKS add-on versions: the most recent one EKS offers for the cluster's
# Kubernetes version (data.aws_eks_addon_version, mocked per add-on here), or a
# pinned one. Before, no version was sent and EKS kept its default for good.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name                         = "hello-cluster"
  kubernetes_version           = "1.35"
  vpc_id                       = "vpc-0123456789abcdef0"
  private_subnet_ids           = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
  endpoint_public_access_cidrs = []
  admin_principal_arns         = ["arn:aws:iam::123456789012:role/platform-admin"]
  grant_caller_admin           = false
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

override_data {
  target = data.aws_eks_addon_version.this["vpc-cni"]
  values = { version = "v1.20.4-eksbuild.2" }
}

override_data {
  target = data.aws_eks_addon_version.this["coredns"]
  values = { version = "v1.12.4-eksbuild.1" }
}

run "each_add_on_runs_the_most_recent_version_for_the_cluster" {
  command = plan

  module {
    source = "./modules/eks"
  }

  assert {
    condition = alltrue([
      for name, version in data.aws_eks_addon_version.this :
      version.kubernetes_version == "1.35" && version.most_recent && version.addon_name == name
    ])
    error_message = "Every add-on's version is looked up for the cluster's Kubernetes version, most recent first."
  }

  assert {
    condition     = keys(data.aws_eks_addon_version.this) == ["coredns", "eks-pod-identity-agent", "kube-proxy", "metrics-server", "vpc-cni"]
    error_message = "All five add-ons are looked up when none is pinned."
  }

  assert {
    condition     = aws_eks_addon.before_nodes["vpc-cni"].addon_version == "v1.20.4-eksbuild.2" && aws_eks_addon.after_nodes["coredns"].addon_version == "v1.12.4-eksbuild.1"
    error_message = "The add-ons must be created with the version DescribeAddonVersions offers, not EKS's default of the day."
  }

  assert {
    condition = alltrue(concat(
      [for name, a in aws_eks_addon.before_nodes : a.addon_version == data.aws_eks_addon_version.this[name].version],
      [for name, a in aws_eks_addon.after_nodes : a.addon_version == data.aws_eks_addon_version.this[name].version],
    ))
    error_message = "Every add-on carries the version looked up for it."
  }
}

run "a_pinned_version_wins_and_is_not_looked_up" {
  command = plan

  module {
    source = "./modules/eks"
  }

  variables {
    addon_versions = { coredns = "v1.11.4-eksbuild.2" }
  }

  assert {
    condition     = aws_eks_addon.after_nodes["coredns"].addon_version == "v1.11.4-eksbuild.2" && !contains(keys(data.aws_eks_addon_version.this), "coredns")
    error_message = "A pinned add-on runs the pinned version."
  }

  assert {
    condition     = aws_eks_addon.before_nodes["vpc-cni"].addon_version == "v1.20.4-eksbuild.2"
    error_message = "The add-ons that are not pinned still follow the most recent version."
  }
}

run "a_pin_for_an_add_on_that_is_not_installed_is_refused" {
  command = plan

  module {
    source = "./modules/eks"
  }

  variables {
    addon_versions = { "aws-ebs-csi-driver" = "v1.40.0-eksbuild.1" }
  }

  expect_failures = [var.addon_versions]
}

run "a_version_that_is_not_an_add_on_version_is_refused" {
  command = plan

  module {
    source = "./modules/eks"
  }

  variables {
    addon_versions = { coredns = "latest" }
  }

  expect_failures = [var.addon_versions]
}
