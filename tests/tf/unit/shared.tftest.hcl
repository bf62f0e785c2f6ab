# Network, registry, load balancer and monitoring modules alone.

mock_provider "aws" {
  source = "./tests/mocks"
}

run "network_single_nat" {
  command = apply

  module {
    source = "./modules/network"
  }

  variables {
    name               = "hello-cluster"
    vpc_cidr           = "10.40.0.0/16"
    az_count           = 3
    single_nat_gateway = true
    flow_logs_enabled  = true
    eks_cluster_name   = "hello-cluster"
    exclude_zone_ids   = ["euw1-az3"]

    flow_logs_retention_days = 30
  }

  assert {
    condition     = length(aws_subnet.public) == 3 && length(aws_subnet.private) == 3 && length(aws_nat_gateway.this) == 1
    error_message = "Three AZs with one shared NAT gateway."
  }

  # Zone names map to different physical zones per account; zone IDs do not.
  assert {
    condition = (
      data.aws_availability_zones.available.exclude_zone_ids == toset(["euw1-az3"]) &&
      join(",", aws_subnet.public[*].availability_zone_id) == "euw1-az1,euw1-az2,euw1-az3" &&
      join(",", aws_subnet.private[*].availability_zone_id) == "euw1-az1,euw1-az2,euw1-az3" &&
      join(",", output.availability_zone_ids) == "euw1-az1,euw1-az2,euw1-az3"
    )
    error_message = "Subnets must be placed by zone ID, from the zones left after exclude_zone_ids."
  }

  assert {
    condition     = toset([for r in aws_route.private_nat : r.nat_gateway_id]) == toset([aws_nat_gateway.this[0].id])
    error_message = "Every private route table must use the single NAT gateway."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.public : s.tags["kubernetes.io/role/elb"] == "1" && s.tags["kubernetes.io/cluster/hello-cluster"] == "shared"]) && alltrue([for s in aws_subnet.private : s.tags["kubernetes.io/role/internal-elb"] == "1"])
    error_message = "Subnets must carry the tags Kubernetes load-balancer controllers look for."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.public : !s.map_public_ip_on_launch])
    error_message = "No subnet hands out public IPs automatically."
  }

  assert {
    condition     = length(aws_flow_log.this) == 1 && aws_flow_log.this[0].traffic_type == "ALL"
    error_message = "Flow logs must be on."
  }

  assert {
    condition     = length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    error_message = "The default security group must be closed."
  }

  assert {
    condition = (
      aws_vpc_endpoint.s3.vpc_endpoint_type == "Gateway" && aws_vpc_endpoint.s3.service_name == "com.amazonaws.eu-west-1.s3" &&
      length(aws_vpc_endpoint.s3.route_table_ids) == 3 && length(aws_vpc_endpoint.interface) == 0 && length(aws_security_group.endpoints) == 0
    )
    error_message = "The free S3 gateway endpoint serves every private route table; no paid interface endpoint by default."
  }
}

run "network_nat_per_az" {
  command = apply

  module {
    source = "./modules/network"
  }

  variables {
    name               = "hello-cluster"
    vpc_cidr           = "10.40.0.0/16"
    az_count           = 2
    single_nat_gateway = false
    flow_logs_enabled  = false

    flow_logs_retention_days = 30

    interface_endpoints_enabled = true
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 2 && length(aws_flow_log.this) == 0
    error_message = "One NAT gateway per AZ when single_nat_gateway is false; no flow logs when off."
  }

  assert {
    condition = (
      toset(keys(aws_vpc_endpoint.interface)) == toset(["ecr.api", "ecr.dkr", "logs", "sts"]) &&
      alltrue([for e in aws_vpc_endpoint.interface : e.vpc_endpoint_type == "Interface" && e.private_dns_enabled && length(e.subnet_ids) == 2]) &&
      aws_vpc_security_group_ingress_rule.endpoints_https[0].from_port == 443 && aws_vpc_security_group_ingress_rule.endpoints_https[0].cidr_ipv4 == "10.40.0.0/16"
    )
    error_message = "interface_endpoints_enabled: ECR api/dkr, Logs and STS endpoints with private DNS in the private subnets, HTTPS from the VPC."
  }
}

run "registry" {
  command = apply

  module {
    source = "./modules/registry"
  }

  variables {
    name        = "hello-cluster"
    keep_images = 30
  }

  assert {
    condition     = aws_ecr_repository.this.image_tag_mutability == "IMMUTABLE" && one(aws_ecr_repository.this.image_scanning_configuration).scan_on_push
    error_message = "Immutable tags, scan on push."
  }

  assert {
    condition     = one(aws_ecr_repository.this.encryption_configuration).encryption_type == "AES256" && aws_ecr_repository.this.force_delete == false
    error_message = "Encrypted at rest; not force-deleted by default."
  }

  assert {
    condition     = jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[0].selection.countNumber == 30
    error_message = "The lifecycle policy must keep the last N images."
  }
}

run "edge_weighted_plain_http" {
  command = apply

  module {
    source = "./modules/edge"
  }

  variables {
    name                 = "hello-cluster"
    vpc_id               = "vpc-0123456789abcdef0"
    vpc_cidr             = "10.40.0.0/16"
    public_subnet_ids    = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
    ingress_cidrs        = ["0.0.0.0/0"]
    ssl_policy           = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    ecs_enabled          = true
    eks_enabled          = true
    ecs_traffic_percent  = 30
    app_port             = 8080
    health_check_path    = "/readyz"
    deregistration_delay = 15
  }

  assert {
    condition     = [for tg in one(one(aws_lb_listener.http.default_action).forward).target_group : tg.weight] == [30, 70] || [for tg in one(one(aws_lb_listener.http.default_action).forward).target_group : tg.weight] == [70, 30]
    error_message = "The listener must split 30/70 between the two target groups."
  }

  assert {
    condition     = aws_lb_target_group.ecs.target_type == "ip" && aws_lb_target_group.eks.target_type == "ip" && aws_lb_target_group.eks.port == 8080
    error_message = "ECS targets are task IPs; EKS targets are pod IPs on the app port."
  }

  # A replaced target group is created before the old one goes (the listener
  # still forwards to the old one), so two must be able to exist side by side.
  assert {
    condition = (
      aws_lb_target_group.ecs.name_prefix == "ecs-" && aws_lb_target_group.eks.name_prefix == "eks-" &&
      aws_lb_target_group.ecs.tags["Name"] == "hello-cluster-ecs" && aws_lb_target_group.eks.tags["Name"] == "hello-cluster-eks"
    )
    error_message = "Target groups need generated names (name_prefix) and a Name tag naming the stack."
  }

  assert {
    condition     = one(aws_lb_target_group.ecs.health_check).path == "/readyz" && aws_lb_target_group.ecs.deregistration_delay == "15"
    error_message = "Health check on /readyz, short deregistration delay."
  }

  assert {
    condition     = aws_lb.this.drop_invalid_header_fields && !aws_lb.this.internal && length(aws_lb_listener.https) == 0
    error_message = "Internet-facing ALB dropping invalid headers; no HTTPS listener without a certificate."
  }

  assert {
    condition     = toset([for r in aws_vpc_security_group_egress_rule.targets : r.cidr_ipv4]) == toset(["10.40.0.0/16"])
    error_message = "The load balancer may only send into the VPC."
  }
}

run "edge_https_redirects" {
  command = apply

  module {
    source = "./modules/edge"
  }

  variables {
    name                 = "hello-cluster"
    vpc_id               = "vpc-0123456789abcdef0"
    vpc_cidr             = "10.40.0.0/16"
    public_subnet_ids    = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
    ingress_cidrs        = ["0.0.0.0/0"]
    certificate_arn      = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
    ssl_policy           = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    ecs_enabled          = true
    eks_enabled          = false
    ecs_traffic_percent  = 100
    app_port             = 8080
    health_check_path    = "/readyz"
    deregistration_delay = 15
  }

  assert {
    condition     = one(aws_lb_listener.http.default_action).type == "redirect" && one(one(aws_lb_listener.http.default_action).redirect).protocol == "HTTPS"
    error_message = "Port 80 must redirect to HTTPS when a certificate is given."
  }

  assert {
    condition     = aws_lb_listener.https[0].port == 443 && aws_lb_listener.https[0].certificate_arn == var.certificate_arn && [for tg in one(one(aws_lb_listener.https[0].default_action).forward).target_group : tg.weight] == [100]
    error_message = "HTTPS on 443 with the certificate, forwarding everything to the one deployed side."
  }
}

run "monitoring" {
  command = apply

  module {
    source = "./modules/monitoring"
  }

  variables {
    name           = "hello-cluster"
    alb_arn_suffix = "app/hello-cluster/0123456789abcdef"
    target_groups = {
      ecs = "targetgroup/hello-cluster-ecs/0123456789abcdef"
      eks = "targetgroup/hello-cluster-eks/0123456789abcdef"
    }
    ecs_service = {
      cluster_name = "hello-cluster"
      service_name = "hello-cluster"
    }
    alarm_email                   = "ops@example.com"
    error_threshold               = 10
    p99_latency_threshold_seconds = 0.5
    utilization_threshold_percent = 85
  }

  assert {
    condition = alltrue(concat(
      [aws_cloudwatch_metric_alarm.alb_5xx.treat_missing_data == "notBreaching", aws_cloudwatch_metric_alarm.target_5xx.treat_missing_data == "notBreaching"],
      [for a in aws_cloudwatch_metric_alarm.p99_latency : a.treat_missing_data == "notBreaching"],
      [for a in aws_cloudwatch_metric_alarm.unhealthy_hosts : a.treat_missing_data == "notBreaching"],
      [for a in aws_cloudwatch_metric_alarm.ecs_utilization : a.treat_missing_data == "notBreaching"],
    ))
    error_message = "Every alarm must treat missing data as not breaching (no traffic, no datapoints)."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.p99_latency["ecs"].extended_statistic == "p99" && length(aws_cloudwatch_metric_alarm.unhealthy_hosts) == 2 && length(aws_cloudwatch_metric_alarm.ecs_utilization) == 2
    error_message = "p99 latency and unhealthy-host alarms per target group, CPU and memory alarms for ECS."
  }

  assert {
    condition     = aws_sns_topic_subscription.email[0].endpoint == "ops@example.com"
    error_message = "The e-mail address must be subscribed to the topic."
  }

  # CloudWatch cannot publish to a topic under the AWS managed key alias/aws/sns.
  assert {
    condition     = aws_sns_topic.alarms.kms_master_key_id == aws_kms_key.alarms.arn && aws_kms_key.alarms.enable_key_rotation && aws_kms_key.alarms.policy == data.aws_iam_policy_document.alarm_key.json
    error_message = "The topic must be encrypted with the module's own rotating key, under the policy below."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.alarm_key.statement :
      s.effect == "Allow" && toset(s.actions) == toset(["kms:Decrypt", "kms:GenerateDataKey*"])
      && one(s.principals).type == "Service" && one(s.principals).identifiers == toset(["cloudwatch.amazonaws.com"])
      && toset([for c in s.condition : "${c.test} ${c.variable} ${join(",", c.values)}"]) == toset([
        "StringEquals aws:SourceAccount 123456789012",
        "ArnLike aws:SourceArn arn:aws:cloudwatch:eu-west-1:123456789012:alarm:hello-cluster-*",
      ])
    ])
    error_message = "The key policy must let cloudwatch.amazonaws.com Decrypt and GenerateDataKey*, only for this account's hello-cluster-* alarms."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.alarm_key.statement :
      s.actions == toset(["kms:*"]) && one(s.principals).identifiers == toset(["arn:aws:iam::123456789012:root"])
    ])
    error_message = "The account must keep administering the key (else nobody can change its policy)."
  }
}

run "github_oidc_trust" {
  command = apply

  module {
    source = "./modules/github-oidc"
  }

  variables {
    name        = "hello-cluster"
    repository  = "Example/hello-cluster"
    branch      = "main"
    environment = "production"
  }

  assert {
    condition     = output.deploy_subjects == ["repo:Example/hello-cluster:environment:production"]
    error_message = "The deploy role must trust exactly this repository's environment, not its branch (case kept)."
  }

  assert {
    condition     = aws_iam_openid_connect_provider.github[0].url == "https://token.actions.githubusercontent.com" && aws_iam_openid_connect_provider.github[0].client_id_list == toset(["sts.amazonaws.com"])
    error_message = "The OIDC provider must be GitHub's, for the STS audience."
  }
}
