# Bad input is rejected at plan time with a message, before anything is built.
# Each run sets several independent bad values; every listed validation must
# fail on its own, or the run fails.

mock_provider "aws" {
  source = "./tests/mocks"
}

# Named cluster admins and a pushed image, so that only the values under test fail.
variables {
  eks_admin_principal_arns = ["arn:aws:iam::123456789012:role/platform-admin"]
  image_tag                = "bootstrap"
}

run "sizing_and_network_values" {
  command = plan

  variables {
    ecs_traffic_percent     = 150
    ecs_memory              = 4096         # not a Fargate pairing for 256 CPU
    eks_node_instance_types = ["m5.large"] # x86 nodes for an arm64 image
    ecs_fargate_spot_weight = 1            # no Fargate Spot on ARM64
    ecs_stop_timeout        = 20           # not above GRACE_SECONDS
    az_count                = 4
    vpc_cidr                = "10.0.0.0/24"
    name                    = "Hello_Cluster"
  }

  expect_failures = [
    var.ecs_traffic_percent,
    var.ecs_memory,
    var.eks_node_instance_types,
    var.ecs_fargate_spot_weight,
    var.ecs_stop_timeout,
    var.az_count,
    var.vpc_cidr,
    var.name,
  ]
}

run "platform_and_identity_values" {
  command = plan

  variables {
    eks_node_ami_type        = "AL2_ARM_64"
    eks_kubernetes_version   = "1.27"
    image_tag                = "latest"
    certificate_arn          = "arn:aws:iam::123456789012:server-certificate/x"
    eks_admin_principal_arns = ["arn:aws:sts::123456789012:assumed-role/admin/me"]
    log_retention_days       = 10
    alarm_email              = "not-an-address"
  }

  expect_failures = [
    var.eks_node_ami_type,
    var.eks_kubernetes_version,
    var.image_tag,
    var.certificate_arn,
    var.eks_admin_principal_arns,
    var.log_retention_days,
    var.alarm_email,
  ]
}

run "all_traffic_to_a_side_that_is_off" {
  command = plan

  variables {
    deploy_eks          = false
    ecs_traffic_percent = 0
  }

  expect_failures = [var.ecs_traffic_percent]
}

# Values AWS itself refuses, caught at plan.
run "names_zones_and_weights_aws_refuses" {
  command = plan

  variables {
    name               = "internal-demo" # CreateLoadBalancer refuses names starting internal-
    ecs_fargate_weight = 0               # with the Spot weight 0 too: no capacity provider may run a task
    exclude_zone_ids   = ["us-east-1c"]  # a zone name, not a zone ID
  }

  expect_failures = [
    var.name,
    var.ecs_fargate_spot_weight,
    var.exclude_zone_ids,
  ]
}

# A version past EKS standard support only warns (a failing check), at plan.
run "version_past_standard_support_warns" {
  command = plan

  variables {
    eks_kubernetes_version = "1.33"
  }

  expect_failures = [check.eks_version_in_standard_support]
}

run "version_missing_from_the_calendar_warns" {
  command = plan

  variables {
    eks_kubernetes_version = "1.99"
  }

  expect_failures = [check.eks_version_in_standard_support]
}

run "no_cluster_admin_warns" {
  command = plan

  variables {
    eks_admin_principal_arns = []
  }

  expect_failures = [check.eks_has_an_admin]
}

run "good_values_pass" {
  command = plan

  variables {
    ecs_traffic_percent     = 100
    ecs_cpu                 = 512
    ecs_memory              = 2048
    az_count                = 3
    eks_kubernetes_version  = "1.35"
    image_architecture      = "amd64"
    eks_node_instance_types = ["m7i.large", "c7i.large"]
    ecs_fargate_spot_weight = 1
    certificate_arn         = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
  }
}
