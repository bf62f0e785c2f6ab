# The load balancer's EKS side targets pod IPs: an IP target group on the app
# port whose deregistration delay the pods' preStop sleep outlasts, the app port
# (not a NodePort) open from the load balancer, no Auto Scaling group attached,
# and the AWS Load Balancer Controller's identity through EKS Pod Identity.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name                         = "hello-cluster"
  kubernetes_version           = "1.33"
  vpc_id                       = "vpc-0123456789abcdef0"
  private_subnet_ids           = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
  endpoint_public_access_cidrs = ["203.0.113.0/24"]
  admin_principal_arns         = []
  grant_caller_admin           = true
  cluster_log_types            = ["api"]
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

run "eks_target_group_has_pod_ip_targets" {
  command = plan

  module {
    source = "./modules/edge"
  }

  variables {
    vpc_cidr             = "10.40.0.0/16"
    public_subnet_ids    = ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"]
    ingress_cidrs        = ["0.0.0.0/0"]
    ssl_policy           = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    ecs_enabled          = false
    eks_enabled          = true
    ecs_traffic_percent  = 0
    health_check_path    = "/readyz"
    deregistration_delay = 15
  }

  # Pod readiness gates "only work with target-type: ip" (AWS Load Balancer
  # Controller docs); the controller registers each pod IP with the pod's port.
  assert {
    condition     = aws_lb_target_group.eks.target_type == "ip" && aws_lb_target_group.eks.port == 8080 && aws_lb_target_group.eks.protocol == "HTTP"
    error_message = "The EKS target group must hold pod IPs on the app port."
  }

  assert {
    condition     = aws_lb_target_group.eks.deregistration_delay == "15" && one(aws_lb_target_group.eks.health_check).path == "/readyz" && one(aws_lb_target_group.eks.health_check).port == "traffic-port"
    error_message = "The EKS target group drains for deregistration_delay and probes /readyz on the pod's port."
  }

  # The load balancer's only way out is the app port: no NodePort range.
  assert {
    condition     = keys(aws_vpc_security_group_egress_rule.targets) == ["8080"]
    error_message = "With only EKS on, the load balancer may send to the app port and nothing else."
  }
}

run "app_port_open_to_the_load_balancer_only" {
  command = apply

  module {
    source = "./modules/eks"
  }

  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.app_port_from_alb.from_port == 8080 &&
      aws_vpc_security_group_ingress_rule.app_port_from_alb.to_port == 8080 &&
      aws_vpc_security_group_ingress_rule.app_port_from_alb.ip_protocol == "tcp" &&
      aws_vpc_security_group_ingress_rule.app_port_from_alb.referenced_security_group_id == "sg-0a1b2c3d4e5f60001" &&
      aws_vpc_security_group_ingress_rule.app_port_from_alb.security_group_id == aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
    )
    error_message = "The cluster security group (on the pods' network interfaces) must admit the load balancer's group on the app port only."
  }
}

run "lb_controller_identity_through_pod_identity" {
  command = apply

  module {
    source = "./modules/eks"
  }

  assert {
    condition = (
      aws_eks_pod_identity_association.lb_controller.cluster_name == aws_eks_cluster.this.name &&
      aws_eks_pod_identity_association.lb_controller.namespace == "kube-system" &&
      aws_eks_pod_identity_association.lb_controller.service_account == "aws-load-balancer-controller" &&
      aws_eks_pod_identity_association.lb_controller.role_arn == aws_iam_role.lb_controller.arn
    )
    error_message = "The controller's ServiceAccount in kube-system must be associated with its role."
  }

  assert {
    condition     = output.lb_controller_service_account == "kube-system/aws-load-balancer-controller"
    error_message = "The ServiceAccount the install script must use is an output."
  }

  # "Create IAM role with trust policy required by EKS Pod Identity" (Amazon EKS
  # User Guide): pods.eks.amazonaws.com, sts:AssumeRole and sts:TagSession, here
  # narrowed by the session tags to this cluster's controller ServiceAccount.
  assert {
    condition = (
      one(data.aws_iam_policy_document.assume_by_pod_identity.statement).actions == toset(["sts:AssumeRole", "sts:TagSession"]) &&
      one(one(data.aws_iam_policy_document.assume_by_pod_identity.statement).principals).identifiers == toset(["pods.eks.amazonaws.com"]) &&
      tomap({ for c in one(data.aws_iam_policy_document.assume_by_pod_identity.statement).condition : c.variable => "${c.test} ${join(",", c.values)}" }) == tomap({
        "aws:RequestTag/eks-cluster-name"           = "StringEquals hello-cluster"
        "aws:RequestTag/kubernetes-namespace"       = "StringEquals kube-system"
        "aws:RequestTag/kubernetes-service-account" = "StringEquals aws-load-balancer-controller"
      })
    )
    error_message = "Only EKS Pod Identity, for this cluster's controller ServiceAccount, may assume the role."
  }

  # The policy is the controller's published one (vendored), minified to stay
  # under IAM's 6,144-character limit for managed policies.
  assert {
    condition = (
      aws_iam_policy.lb_controller.policy == jsonencode(jsondecode(file("./modules/eks/lb-controller-iam-policy.json"))) &&
      length(aws_iam_policy.lb_controller.policy) <= 6144 &&
      aws_iam_role_policy_attachment.lb_controller.role == aws_iam_role.lb_controller.name &&
      aws_iam_role_policy_attachment.lb_controller.policy_arn == aws_iam_policy.lb_controller.arn
    )
    error_message = "The controller's role carries its published policy."
  }

  # What a TargetGroupBinding with ip targets and networking rules needs.
  assert {
    condition = alltrue([for action in [
      "elasticloadbalancing:RegisterTargets",
      "elasticloadbalancing:DeregisterTargets",
      "elasticloadbalancing:DescribeTargetHealth",
      "elasticloadbalancing:DescribeTargetGroups",
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:DescribeSecurityGroups",
    ] : strcontains(aws_iam_policy.lb_controller.policy, "\"${action}\"")])
    error_message = "The policy must allow registering pod IPs and managing the binding's security group rule."
  }

  # The Pod Identity agent add-on serves the credentials on every node.
  assert {
    condition     = contains(keys(aws_eks_addon.before_nodes), "eks-pod-identity-agent")
    error_message = "EKS Pod Identity needs the eks-pod-identity-agent add-on."
  }
}

# What scripts/deploy-k8s-overlay.sh and scripts/install-lb-controller.sh read.
run "root_outputs_for_the_binding_and_the_controller" {
  command = apply

  variables {
    image_tag                = "bootstrap"
    eks_admin_principal_arns = ["arn:aws:iam::123456789012:role/platform-admin"]
  }

  assert {
    condition = (
      output.eks_target_group_arn == module.edge[0].eks_target_group_arn &&
      output.alb_security_group_id == module.edge[0].security_group_id &&
      output.vpc_id == module.network.vpc_id &&
      output.eks_lb_controller_service_account == "kube-system/aws-load-balancer-controller"
    )
    error_message = "The root must output the EKS target group, the load balancer's security group, the VPC and the controller's ServiceAccount."
  }
}

run "no_binding_outputs_without_eks" {
  command = plan

  variables {
    image_tag                = "bootstrap"
    eks_admin_principal_arns = ["arn:aws:iam::123456789012:role/platform-admin"]
    deploy_eks               = false
    deploy_ecs               = true
  }

  assert {
    condition     = output.eks_target_group_arn == null && output.eks_lb_controller_service_account == null
    error_message = "With EKS off there is nothing to bind and no controller."
  }
}

# The pods' preStop sleep (k8s/base/deployment.yaml, 20 s) must outlast the drain.
run "deregistration_delay_not_shorter_than_the_prestop_sleep_is_refused" {
  command = plan

  variables {
    image_tag                = "bootstrap"
    eks_admin_principal_arns = ["arn:aws:iam::123456789012:role/platform-admin"]
    deregistration_delay     = 20
  }

  expect_failures = [var.deregistration_delay]
}

# ECS alone has no preStop sleep to outlast.
run "a_longer_delay_is_fine_without_eks" {
  command = plan

  variables {
    image_tag                = "bootstrap"
    eks_admin_principal_arns = ["arn:aws:iam::123456789012:role/platform-admin"]
    deploy_eks               = false
    deregistration_delay     = 60
  }
  # No assertion: the run fails if the plan does, i.e. if the rule applied without EKS.
}
