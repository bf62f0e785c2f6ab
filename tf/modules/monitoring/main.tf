# Alarms on what users feel (5xx, p99 latency, unhealthy targets) and on ECS
# saturation, to one SNS topic, plus a dashboard. A load balancer emits no
# datapoints without traffic, so missing data never counts as breaching.

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# --------------------------------------------------------- the topic's key
# CloudWatch cannot publish to a topic encrypted with the AWS managed key
# alias/aws/sns, whose policy nobody can change. The SNS Developer Guide,
# "Enable compatibility between event sources from AWS services and encrypted
# topics": "use a customer managed key" and add a statement to its key policy
# allowing the service principal (cloudwatch.amazonaws.com) "kms:Decrypt" and
# "kms:GenerateDataKey*".
# https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
# The grant is scoped with aws:SourceAccount / aws:SourceArn to this stack's
# alarms (no confused deputy).

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  alarm_arns = "arn:${local.partition}:cloudwatch:${data.aws_region.current.name}:${local.account_id}:alarm:${var.name}-*"
}

data "aws_iam_policy_document" "alarm_key" {
  # Without a statement for the account the key could become unmanageable.
  statement {
    sid       = "AccountAdministersTheKey"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublishToTheTopic"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.alarm_arns]
    }
  }
}

resource "aws_kms_key" "alarms" {
  description             = "Encrypts the alarm topic of ${var.name}; CloudWatch alarms may use it"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = data.aws_iam_policy_document.alarm_key.json
}

resource "aws_kms_alias" "alarms" {
  name          = "alias/${var.name}-alarms"
  target_key_id = aws_kms_key.alarms.key_id
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.alarms.arn
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

locals {
  alarm_actions = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "alb_5xx" {
  alarm_name          = "${var.name}-alb-5xx"
  alarm_description   = "The load balancer itself answered 5xx (no healthy target, target unreachable)"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_ELB_5XX_Count"
  dimensions          = { LoadBalancer = var.alb_arn_suffix }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = var.error_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "target_5xx" {
  alarm_name          = "${var.name}-target-5xx"
  alarm_description   = "The application answered 5xx"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  dimensions          = { LoadBalancer = var.alb_arn_suffix }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = var.error_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "p99_latency" {
  for_each = var.target_groups

  alarm_name          = "${var.name}-${each.key}-p99-latency"
  alarm_description   = "p99 response time of the ${each.key} targets is high"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  dimensions          = { LoadBalancer = var.alb_arn_suffix, TargetGroup = each.value }
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.p99_latency_threshold_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  for_each = var.target_groups

  alarm_name          = "${var.name}-${each.key}-unhealthy-hosts"
  alarm_description   = "Some ${each.key} targets fail the /readyz health check"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = { LoadBalancer = var.alb_arn_suffix, TargetGroup = each.value }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "ecs_utilization" {
  for_each = var.ecs_service == null ? {} : { cpu = "CPUUtilization", memory = "MemoryUtilization" }

  alarm_name          = "${var.name}-ecs-${each.key}"
  alarm_description   = "ECS service ${each.key} utilisation is high"
  namespace           = "AWS/ECS"
  metric_name         = each.value
  dimensions          = { ClusterName = var.ecs_service.cluster_name, ServiceName = var.ecs_service.service_name }
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.utilization_threshold_percent
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

locals {
  region = data.aws_region.current.name

  lb_widgets = [
    {
      type = "metric", x = 0, y = 0, width = 12, height = 6
      properties = {
        title  = "Requests and 5xx"
        region = local.region
        stat   = "Sum"
        period = 60
        metrics = [
          ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", var.alb_arn_suffix],
          [".", "HTTPCode_ELB_5XX_Count", ".", "."],
          [".", "HTTPCode_Target_5XX_Count", ".", "."],
        ]
      }
    },
    {
      type = "metric", x = 12, y = 0, width = 12, height = 6
      properties = {
        title   = "Target p99 response time (s)"
        region  = local.region
        stat    = "p99"
        period  = 60
        metrics = [for side, tg in var.target_groups : ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", tg, { label = side }]]
      }
    },
    {
      type = "metric", x = 0, y = 6, width = 12, height = 6
      properties = {
        title   = "Healthy targets"
        region  = local.region
        stat    = "Minimum"
        period  = 60
        metrics = [for side, tg in var.target_groups : ["AWS/ApplicationELB", "HealthyHostCount", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", tg, { label = side }]]
      }
    },
  ]

  ecs_widgets = var.ecs_service == null ? [] : [
    {
      type = "metric", x = 12, y = 6, width = 12, height = 6
      properties = {
        title  = "ECS service utilisation (%)"
        region = local.region
        stat   = "Average"
        period = 60
        metrics = [
          ["AWS/ECS", "CPUUtilization", "ClusterName", var.ecs_service.cluster_name, "ServiceName", var.ecs_service.service_name],
          [".", "MemoryUtilization", ".", ".", ".", "."],
        ]
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = concat(local.lb_widgets, local.ecs_widgets) })
}
