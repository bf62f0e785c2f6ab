# The composed stack with a mocked AWS provider: which parts each toggle
# creates, and the outputs the deploy flow reads.

mock_provider "aws" {
  source = "./tests/mocks"
}

# A pushed image for the ECS service to be created on (make deploy_all passes the tag).
# Cluster admins are named explicitly (the caller gets no entry unless asked).
variables {
  image_tag                = "bootstrap"
  eks_admin_principal_arns = ["arn:aws:iam::123456789012:role/platform-admin"]
}

run "both_sides_by_default" {
  command = apply

  # Access does not depend on who applied: only the named principals.
  assert {
    condition     = output.eks_admin_principal_arns == tolist(["arn:aws:iam::123456789012:role/platform-admin"]) && !var.eks_grant_caller_admin
    error_message = "Only eks_admin_principal_arns may get cluster-admin entries by default, not the identity running Terraform."
  }

  # Fails once the default version leaves standard support: time to raise it.
  assert {
    condition     = timecmp(timestamp(), output.eks_standard_support_ends) < 0
    error_message = "The default eks_kubernetes_version must be in EKS standard support."
  }

  assert {
    condition     = var.exclude_zone_ids == tolist(["use1-az3", "usw1-az2", "cac1-az3"])
    error_message = "The zones EKS refuses must be excluded by default."
  }

  assert {
    condition     = output.deploy_eks && output.deploy_ecs
    error_message = "Both sides must be on by default."
  }

  assert {
    condition     = output.eks_cluster_name == "hello-cluster" && output.ecs_cluster_name == "hello-cluster" && output.ecs_service_name == "hello-cluster"
    error_message = "Cluster and service names must come from var.name."
  }

  assert {
    condition     = output.ecs_traffic_percent == 50
    error_message = "With both sides deployed the default split must be 50/50."
  }

  assert {
    condition     = output.alb_url == "http://hello-cluster-123.eu-west-1.elb.amazonaws.com"
    error_message = "alb_url must be the load balancer's DNS name over http without a certificate."
  }

  assert {
    condition     = output.image_architecture == "arm64" && output.aws_region == "eu-west-1"
    error_message = "Defaults: arm64 image, region from the provider."
  }

  assert {
    condition     = output.eks_update_kubeconfig_command == "aws eks update-kubeconfig --region eu-west-1 --name hello-cluster"
    error_message = "The kubeconfig command must name the region and cluster."
  }

  assert {
    condition     = output.ecs_container_name == "hello" && output.ecs_task_definition_family == "hello-cluster"
    error_message = "Container name and family outputs are wrong."
  }

  assert {
    condition     = output.ecr_repository_url == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello-cluster"
    error_message = "ecr_repository_url must be the repository URL."
  }

  assert {
    condition     = output.github_deploy_role_arn == null
    error_message = "The GitHub OIDC piece must be off by default."
  }

  assert {
    condition = alltrue([
      for key in keys(jsondecode(output.ecs_task_definition_json)) :
      contains(["family", "networkMode", "requiresCompatibilities", "cpu", "memory", "runtimePlatform", "executionRoleArn", "taskRoleArn", "containerDefinitions", "volumes"], key)
    ])
    error_message = "The task definition JSON may only hold RegisterTaskDefinition fields."
  }

  assert {
    condition     = jsondecode(output.ecs_task_definition_json).networkMode == "awsvpc" && jsondecode(output.ecs_task_definition_json).requiresCompatibilities == ["FARGATE"]
    error_message = "The task definition must be awsvpc on Fargate."
  }

  assert {
    condition     = jsondecode(output.ecs_task_definition_json).runtimePlatform.cpuArchitecture == "ARM64" && jsondecode(output.ecs_task_definition_json).cpu == "256" && jsondecode(output.ecs_task_definition_json).memory == "512"
    error_message = "Default task: ARM64, 256 CPU units, 512 MiB (as strings)."
  }

  assert {
    condition     = jsondecode(output.ecs_task_definition_json).containerDefinitions[0].image == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello-cluster:bootstrap"
    error_message = "The image must be the ECR repository with image_tag."
  }

  assert {
    condition     = jsondecode(output.ecs_task_definition_json).containerDefinitions[0].logConfiguration.options["awslogs-region"] == "eu-west-1"
    error_message = "awslogs must log to the stack's region."
  }
}

run "ecs_only" {
  command = plan

  variables {
    deploy_eks = false
  }

  assert {
    condition     = output.eks_cluster_name == null && output.eks_update_kubeconfig_command == null
    error_message = "No EKS outputs without the EKS side."
  }

  assert {
    condition     = output.ecs_cluster_name == "hello-cluster" && output.ecs_traffic_percent == 100
    error_message = "ECS alone must take all traffic."
  }

  assert {
    condition     = output.alarm_topic_arn != "" && output.ecs_task_definition_family == "hello-cluster"
    error_message = "Monitoring and the ECS task definition stay with one side."
  }
}

run "eks_only" {
  command = plan

  variables {
    deploy_ecs = false
  }

  assert {
    condition     = output.ecs_cluster_name == null && output.ecs_service_name == null && output.ecs_task_definition_json == null && output.ecs_task_definition_family == null
    error_message = "No ECS outputs without the ECS side."
  }

  assert {
    condition     = output.eks_cluster_name == "hello-cluster" && output.ecs_traffic_percent == 0
    error_message = "EKS alone must take all traffic."
  }
}

run "neither_side_keeps_network_and_registry" {
  command = plan

  variables {
    deploy_ecs = false
    deploy_eks = false
  }

  assert {
    condition     = output.alb_url == null && output.alarm_topic_arn == null && output.ecs_traffic_percent == null
    error_message = "Without either side there is no load balancer and no monitoring."
  }

  assert {
    condition     = output.ecr_repository_url != null
    error_message = "The registry stays."
  }
}

run "explicit_split_amd64_and_github_oidc" {
  command = apply

  variables {
    ecs_traffic_percent     = 10
    image_architecture      = "amd64"
    eks_node_instance_types = ["m7i.large"]
    ecs_fargate_spot_weight = 2
    github_oidc_enabled     = true
    github_repository       = "example/hello-cluster"
    github_environment      = "production"
  }

  assert {
    condition     = output.ecs_traffic_percent == 10
    error_message = "An explicit ecs_traffic_percent must win over the default."
  }

  assert {
    condition     = jsondecode(output.ecs_task_definition_json).runtimePlatform.cpuArchitecture == "X86_64" && output.image_architecture == "amd64"
    error_message = "amd64 must give X86_64 Fargate tasks."
  }

  assert {
    condition     = output.github_deploy_role_arn == "arn:aws:iam::123456789012:role/mock-role" && output.github_plan_role_arn != null
    error_message = "The GitHub deploy and plan roles must exist when enabled."
  }
}
