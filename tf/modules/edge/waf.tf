# --------------------------------------------------------------------- WAF
# Optional (it costs money): an AWS WAF web ACL with the AWS managed core
# rule set and the known-bad-inputs rule set in front of the load balancer.
# A load balancer takes a REGIONAL web ACL: "The web ACL and any AWS WAF
# resources that it uses must be located in the Region where the associated
# resource is located." (AWS WAF Developer Guide, "Resources that you can
# protect with AWS WAF", https://docs.aws.amazon.com/waf/latest/developerguide/how-aws-waf-works-resources.html)

locals {
  # Managed rule groups in priority order (both from vendor AWS, no subscription).
  waf_managed_rule_groups = ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"]
}

resource "aws_wafv2_web_acl" "this" {
  count = var.waf_enabled ? 1 : 0

  name        = "${var.name}-alb"
  description = "In front of the load balancer of ${var.name}"
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  dynamic "rule" {
    for_each = local.waf_managed_rule_groups

    content {
      name     = rule.value
      priority = (rule.key + 1) * 10

      # The group's own actions (block) apply; "count {}" here would only measure.
      override_action {
        none {}
      }

      statement {
        managed_rule_group_statement {
          vendor_name = "AWS"
          name        = rule.value
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "${var.name}-${rule.value}"
        sampled_requests_enabled   = true
      }
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name}-alb"
    sampled_requests_enabled   = true
  }
}

resource "aws_wafv2_web_acl_association" "this" {
  count = var.waf_enabled ? 1 : 0

  resource_arn = aws_lb.this.arn
  web_acl_arn  = aws_wafv2_web_acl.this[0].arn
}
