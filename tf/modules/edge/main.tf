# The single front door for both orchestrators: one internet-facing ALB whose
# listener forwards with weights to an ECS target group and an EKS target
# group, so moving users between the two is a change of two numbers.
#
# Both target groups exist whenever the ALB does, whichever sides are
# deployed: switching a side off then only edits the listener. Deleting the
# target group in the same apply would race the listener update and fail with
# ResourceInUse, since Terraform does not order an orphan's destroy after the
# update of the resource that stopped referencing it.

locals {
  # HTTPS with a certificate given, or one issued for domain_name (dns.tf).
  https                    = var.certificate_arn != null || local.dns_enabled
  listener_certificate_arn = var.certificate_arn != null ? var.certificate_arn : try(aws_acm_certificate_validation.this[0].certificate_arn, null)

  weighted_target_groups = concat(
    var.ecs_enabled ? [{ arn = aws_lb_target_group.ecs.arn, weight = var.ecs_traffic_percent }] : [],
    var.eks_enabled ? [{ arn = aws_lb_target_group.eks.arn, weight = 100 - var.ecs_traffic_percent }] : [],
  )

  listener_ports = local.https ? [80, 443] : [80]
  ingress_rules  = { for pair in setproduct(local.listener_ports, var.ingress_cidrs) : "${pair[0]}-${pair[1]}" => { port = pair[0], cidr = pair[1] } }
  # Both sides' targets are task or pod IPs on the app port.
  target_ports = toset([for p in concat(var.ecs_enabled ? [var.app_port] : [], var.eks_enabled ? [var.app_port] : []) : tostring(p)])
}

resource "aws_security_group" "alb" {
  name_prefix = "${var.name}-alb-"
  description = "Internet-facing load balancer of ${var.name}"
  vpc_id      = var.vpc_id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "listener" {
  for_each = local.ingress_rules

  security_group_id = aws_security_group.alb.id
  description       = "Listener ${each.value.port} from ${each.value.cidr}"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr
}

resource "aws_vpc_security_group_egress_rule" "targets" {
  for_each = local.target_ports

  security_group_id = aws_security_group.alb.id
  description       = "Targets on port ${each.value} inside the VPC"
  ip_protocol       = "tcp"
  from_port         = each.value
  to_port           = each.value
  cidr_ipv4         = var.vpc_cidr
}

resource "aws_lb" "this" {
  name               = var.name
  load_balancer_type = "application"
  internal           = false
  security_groups    = [aws_security_group.alb.id]
  subnets            = var.public_subnet_ids

  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  idle_timeout               = 60

  dynamic "access_logs" {
    for_each = local.access_logs_enabled ? [aws_s3_bucket.access_logs[0].id] : []

    content {
      bucket  = access_logs.value
      enabled = true
    }
  }

  # ELB checks the bucket policy when logging is turned on (access_logs.tf).
  depends_on = [aws_s3_bucket_policy.access_logs]
}

resource "aws_lb_target_group" "ecs" {
  # A generated name (see the lifecycle below); the Name tag says whose it is.
  name_prefix          = "ecs-"
  vpc_id               = var.vpc_id
  target_type          = "ip"
  protocol             = "HTTP"
  port                 = var.app_port
  deregistration_delay = var.deregistration_delay

  health_check {
    path                = var.health_check_path
    port                = "traffic-port"
    protocol            = "HTTP"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = { Name = "${var.name}-ecs" }

  # A change that replaces the target group (port, protocol, target type)
  # must create the new one and move the listener to it before the old one
  # goes: ELB refuses to delete a target group an action still forwards to.
  # DeleteTargetGroup: "You can delete a target group if it is not referenced
  # by any actions." Errors: "ResourceInUse - A specified resource is in use."
  # https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteTargetGroup.html
  # Two target groups cannot share a name, hence name_prefix (as terraform-aws-alb does).
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_lb_target_group" "eks" {
  # A generated name (see the lifecycle below); the Name tag says whose it is.
  name_prefix = "eks-"
  vpc_id      = var.vpc_id
  # Pod IPs, registered by the AWS Load Balancer Controller through the
  # TargetGroupBinding in k8s/overlays/eks. With instance targets on a NodePort
  # the load balancer never sees a pod terminate; the EKS Best Practices Guide
  # ("Load Balancing") recommends IP targets: "Register Pods as targets using IP
  # Target-Type", and the controller's pod readiness gate "only works with
  # target-type: ip" (AWS Load Balancer Controller docs, "Pod readiness gate").
  # "port" is the default only: each target is registered with the pod's port.
  target_type = "ip"
  protocol    = "HTTP"
  port        = var.app_port
  # The pods' preStop sleep must outlast this (k8s/base/deployment.yaml; tests/k8s reads it here).
  deregistration_delay = var.deregistration_delay

  health_check {
    path                = var.health_check_path
    port                = "traffic-port"
    protocol            = "HTTP"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = { Name = "${var.name}-eks" }

  # A change that replaces the target group (port, protocol, target type)
  # must create the new one and move the listener to it before the old one
  # goes: ELB refuses to delete a target group an action still forwards to.
  # DeleteTargetGroup: "You can delete a target group if it is not referenced
  # by any actions." Errors: "ResourceInUse - A specified resource is in use."
  # https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteTargetGroup.html
  # Two target groups cannot share a name, hence name_prefix (as terraform-aws-alb does).
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  dynamic "default_action" {
    for_each = local.https ? [1] : []

    content {
      type = "redirect"

      redirect {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }

  dynamic "default_action" {
    for_each = local.https ? [] : [1]

    content {
      type = "forward"

      forward {
        dynamic "target_group" {
          for_each = local.weighted_target_groups

          content {
            arn    = target_group.value.arn
            weight = target_group.value.weight
          }
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = length(local.weighted_target_groups) > 0 && sum([for tg in local.weighted_target_groups : tg.weight]) > 0
      error_message = "The listener needs at least one deployed side with a traffic weight above zero: check deploy_ecs, deploy_eks and ecs_traffic_percent."
    }
  }
}

resource "aws_lb_listener" "https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = local.listener_certificate_arn

  default_action {
    type = "forward"

    forward {
      dynamic "target_group" {
        for_each = local.weighted_target_groups

        content {
          arn    = target_group.value.arn
          weight = target_group.value.weight
        }
      }
    }
  }
}
