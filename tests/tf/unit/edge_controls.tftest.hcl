# The edge module's controls and options: access logs (Security Hub ELB.5)
# to a bucket of the stack, AWS WAF, and a DNS name with an ACM certificate.

# The log bucket's name and the ELB account of eu-west-1 (the mocked
# region) come from tests/mocks/edge.tfmock.hcl.
mock_provider "aws" {
  source = "./tests/mocks"
}

override_data {
  target = data.aws_route53_zone.this
  values = {
    name = "example.com"
  }
}

override_resource {
  target = aws_acm_certificate.this
  values = {
    arn = "arn:aws:acm:eu-west-1:123456789012:certificate/99999999-8888-7777-6666-555555555555"
    domain_validation_options = [{
      domain_name           = "app.example.com"
      resource_record_name  = "_0123456789abcdef.app.example.com."
      resource_record_type  = "CNAME"
      resource_record_value = "_fedcba9876543210.abcdefghij.acm-validations.aws."
    }]
  }
}

override_resource {
  target = aws_acm_certificate_validation.this
  values = {
    certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/99999999-8888-7777-6666-555555555555"
  }
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
  ecs_traffic_percent  = 50
  app_port             = 8080
  health_check_path    = "/readyz"
  deregistration_delay = 15
}

run "access_logs_by_default" {
  command = apply

  module {
    source = "./modules/edge"
  }

  assert {
    condition = (
      length(aws_lb.this.access_logs) == 1 && aws_lb.this.access_logs[0].enabled &&
      aws_lb.this.access_logs[0].bucket == aws_s3_bucket.access_logs[0].id &&
      output.access_logs_bucket == aws_s3_bucket.access_logs[0].id
    )
    error_message = "By default the load balancer must write access logs (Security Hub ELB.5) to the stack's bucket."
  }

  assert {
    condition     = aws_s3_bucket.access_logs[0].bucket_prefix == "hello-cluster-alb-logs-" && !aws_s3_bucket.access_logs[0].force_destroy
    error_message = "The log bucket is named after the stack and keeps its logs on destroy unless asked otherwise."
  }

  assert {
    condition = (
      aws_s3_bucket_public_access_block.access_logs[0].block_public_acls && aws_s3_bucket_public_access_block.access_logs[0].block_public_policy &&
      aws_s3_bucket_public_access_block.access_logs[0].ignore_public_acls && aws_s3_bucket_public_access_block.access_logs[0].restrict_public_buckets
    )
    error_message = "The log bucket must block every kind of public access."
  }

  assert {
    condition     = one(aws_s3_bucket_ownership_controls.access_logs[0].rule).object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs off: the bucket owner owns every log object."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.access_logs[0].rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "ELB access logs support SSE-S3 (AES256) only."
  }

  assert {
    condition = (
      one(aws_s3_bucket_lifecycle_configuration.access_logs[0].rule).status == "Enabled" &&
      one(one(aws_s3_bucket_lifecycle_configuration.access_logs[0].rule).expiration).days == 90
    )
    error_message = "Access logs must expire after access_logs_retention_days (90 by default)."
  }

  # The regional ELB account (regions before August 2022) and the log delivery
  # principal may put objects under AWSLogs/<this account>/ only.
  assert {
    condition = alltrue([
      for s in jsondecode(aws_s3_bucket_policy.access_logs[0].policy).Statement :
      s.Resource == "arn:aws:s3:::hello-cluster-alb-logs-20260101000000000000000001/AWSLogs/123456789012/*" && s.Action == "s3:PutObject"
      if s.Effect == "Allow"
    ])
    error_message = "The bucket policy may only let ELB put objects under AWSLogs/ACCOUNT/."
  }

  assert {
    condition = (
      [for s in jsondecode(aws_s3_bucket_policy.access_logs[0].policy).Statement : s.Principal if s.Effect == "Allow"] ==
      [{ AWS = "arn:aws:iam::156460612806:root" }, { Service = "logdelivery.elasticloadbalancing.amazonaws.com" }]
    )
    error_message = "In a region before August 2022 the regional ELB account and the log delivery principal may write."
  }

  assert {
    condition = [
      for s in jsondecode(aws_s3_bucket_policy.access_logs[0].policy).Statement : {
        principal = s.Principal, action = s.Action, condition = s.Condition, resource = toset(s.Resource)
      } if s.Effect == "Deny"
      ] == [{
        principal = "*", action = "s3:*", condition = { Bool = { "aws:SecureTransport" = "false" } },
        resource  = toset([aws_s3_bucket.access_logs[0].arn, "${aws_s3_bucket.access_logs[0].arn}/*"])
    }]
    error_message = "The bucket must refuse requests without TLS."
  }

  assert {
    condition     = length(aws_wafv2_web_acl.this) == 0 && length(aws_wafv2_web_acl_association.this) == 0 && output.waf_web_acl_arn == null
    error_message = "WAF costs money: off by default."
  }

  assert {
    condition     = output.url == "http://hello-cluster-123.eu-west-1.elb.amazonaws.com" && length(aws_route53_record.alias) == 0 && length(aws_acm_certificate.this) == 0
    error_message = "Without domain_name: no DNS record, no certificate, the load balancer's own name."
  }
}

run "access_logs_in_a_region_from_august_2022" {
  command = apply

  module {
    source = "./modules/edge"
  }

  # aws_elb_service_account fails in such a region: it must not be read.
  override_data {
    target = data.aws_region.current
    values = {
      name = "ap-south-2"
    }
  }

  assert {
    condition = (
      length(data.aws_elb_service_account.this) == 0 &&
      [for s in jsondecode(aws_s3_bucket_policy.access_logs[0].policy).Statement : s.Principal if s.Effect == "Allow"] ==
      [{ Service = "logdelivery.elasticloadbalancing.amazonaws.com" }]
    )
    error_message = "In a region opened in August 2022 or later only the log delivery service principal may write the logs."
  }
}

run "access_logs_off" {
  command = apply

  module {
    source = "./modules/edge"
  }

  variables {
    access_logs_enabled = false
  }

  assert {
    condition     = length(aws_lb.this.access_logs) == 0 || !try(aws_lb.this.access_logs[0].enabled, false)
    error_message = "access_logs_enabled = false must leave logging off."
  }

  assert {
    condition     = length(aws_s3_bucket.access_logs) == 0 && length(aws_s3_bucket_policy.access_logs) == 0 && length(data.aws_elb_service_account.this) == 0 && output.access_logs_bucket == null
    error_message = "No log bucket without access logs."
  }
}

run "access_logs_retention_and_force_destroy" {
  command = plan

  module {
    source = "./modules/edge"
  }

  variables {
    access_logs_retention_days = 7
    access_logs_force_destroy  = true
  }

  assert {
    condition     = one(one(aws_s3_bucket_lifecycle_configuration.access_logs[0].rule).expiration).days == 7 && aws_s3_bucket.access_logs[0].force_destroy
    error_message = "access_logs_retention_days and access_logs_force_destroy must reach the bucket."
  }
}

run "access_logs_retention_must_be_whole_days" {
  command = plan

  module {
    source = "./modules/edge"
  }

  variables {
    access_logs_retention_days = 0
  }

  expect_failures = [var.access_logs_retention_days]
}

run "waf_on" {
  command = apply

  module {
    source = "./modules/edge"
  }

  variables {
    waf_enabled = true
  }

  assert {
    condition     = aws_wafv2_web_acl.this[0].scope == "REGIONAL" && length(one(aws_wafv2_web_acl.this[0].default_action).allow) == 1
    error_message = "A load balancer takes a REGIONAL web ACL; requests no rule blocks are allowed."
  }

  assert {
    condition = (
      [for r in aws_wafv2_web_acl.this[0].rule : one(one(r.statement).managed_rule_group_statement).name] ==
      ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"] &&
      alltrue([for r in aws_wafv2_web_acl.this[0].rule : one(one(r.statement).managed_rule_group_statement).vendor_name == "AWS" && length(one(r.override_action).none) == 1])
    )
    error_message = "The AWS managed core and known-bad-inputs rule sets, with their own (blocking) actions."
  }

  assert {
    condition = alltrue(concat(
      [for r in aws_wafv2_web_acl.this[0].rule : one(r.visibility_config).cloudwatch_metrics_enabled && one(r.visibility_config).sampled_requests_enabled],
      [one(aws_wafv2_web_acl.this[0].visibility_config).cloudwatch_metrics_enabled],
    ))
    error_message = "Every rule and the web ACL must publish CloudWatch metrics and sample requests."
  }

  assert {
    condition     = aws_wafv2_web_acl_association.this[0].resource_arn == aws_lb.this.arn && aws_wafv2_web_acl_association.this[0].web_acl_arn == aws_wafv2_web_acl.this[0].arn
    error_message = "The web ACL must be associated with the load balancer."
  }

  assert {
    condition     = output.waf_web_acl_arn == aws_wafv2_web_acl.this[0].arn
    error_message = "waf_web_acl_arn must name the web ACL."
  }
}

run "domain_issues_a_dns_validated_certificate" {
  command = apply

  module {
    source = "./modules/edge"
  }

  variables {
    domain_name    = "app.example.com"
    hosted_zone_id = "Z0123456789ABCDEFGHIJ"
  }

  assert {
    condition     = aws_acm_certificate.this[0].domain_name == "app.example.com" && aws_acm_certificate.this[0].validation_method == "DNS"
    error_message = "A certificate for domain_name, validated by DNS."
  }

  assert {
    condition = (
      aws_route53_record.certificate_validation["app.example.com"].zone_id == "Z0123456789ABCDEFGHIJ" &&
      aws_route53_record.certificate_validation["app.example.com"].name == "_0123456789abcdef.app.example.com." &&
      aws_route53_record.certificate_validation["app.example.com"].type == "CNAME" &&
      aws_route53_record.certificate_validation["app.example.com"].records == toset(["_fedcba9876543210.abcdefghij.acm-validations.aws."])
    )
    error_message = "The validation record ACM asks for must be written to the hosted zone."
  }

  assert {
    condition     = aws_acm_certificate_validation.this[0].certificate_arn == aws_acm_certificate.this[0].arn
    error_message = "The stack must wait for the certificate to be issued."
  }

  assert {
    condition = (
      aws_lb_listener.https[0].port == 443 && aws_lb_listener.https[0].certificate_arn == aws_acm_certificate_validation.this[0].certificate_arn &&
      one(aws_lb_listener.http.default_action).type == "redirect" && one(one(aws_lb_listener.http.default_action).redirect).protocol == "HTTPS"
    )
    error_message = "HTTPS on 443 with the issued certificate; port 80 redirects, as with certificate_arn."
  }

  assert {
    condition     = contains([for r in aws_vpc_security_group_ingress_rule.listener : r.from_port], 443)
    error_message = "The security group must admit 443."
  }

  assert {
    condition = (
      keys(aws_route53_record.alias) == ["A"] &&
      aws_route53_record.alias["A"].name == "app.example.com" && aws_route53_record.alias["A"].zone_id == "Z0123456789ABCDEFGHIJ" &&
      one(aws_route53_record.alias["A"].alias).name == aws_lb.this.dns_name &&
      one(aws_route53_record.alias["A"].alias).zone_id == aws_lb.this.zone_id &&
      one(aws_route53_record.alias["A"].alias).evaluate_target_health
    )
    error_message = "domain_name must be an alias (A) of the load balancer in the hosted zone."
  }

  assert {
    condition     = output.url == "https://app.example.com" && output.certificate_arn == aws_acm_certificate.this[0].arn
    error_message = "The URL is https://domain_name."
  }
}

run "domain_with_a_certificate_of_its_own" {
  command = apply

  module {
    source = "./modules/edge"
  }

  variables {
    domain_name     = "app.example.com"
    hosted_zone_id  = "Z0123456789ABCDEFGHIJ"
    certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = length(aws_acm_certificate.this) == 0 && length(aws_route53_record.certificate_validation) == 0 && length(aws_acm_certificate_validation.this) == 0
    error_message = "With certificate_arn no certificate is issued."
  }

  assert {
    condition     = aws_lb_listener.https[0].certificate_arn == var.certificate_arn && length(aws_route53_record.alias) == 1 && output.url == "https://app.example.com"
    error_message = "The given certificate serves domain_name, which still gets its alias record."
  }
}

run "domain_outside_the_zone_is_refused" {
  command = plan

  module {
    source = "./modules/edge"
  }

  variables {
    domain_name    = "app.example.org"
    hosted_zone_id = "Z0123456789ABCDEFGHIJ"
  }

  expect_failures = [aws_acm_certificate.this, aws_route53_record.alias]
}

run "domain_without_zone_is_refused" {
  command = plan

  module {
    source = "./modules/edge"
  }

  variables {
    domain_name = "app.example.com"
  }

  expect_failures = [var.hosted_zone_id]
}

run "zone_without_domain_is_refused" {
  command = plan

  module {
    source = "./modules/edge"
  }

  variables {
    hosted_zone_id = "Z0123456789ABCDEFGHIJ"
  }

  expect_failures = [var.hosted_zone_id]
}

run "bad_domain_name_is_refused" {
  command = plan

  module {
    source = "./modules/edge"
  }

  variables {
    domain_name    = "https://App.example.com/"
    hosted_zone_id = "Z0123456789ABCDEFGHIJ"
  }

  expect_failures = [var.domain_name]
}
