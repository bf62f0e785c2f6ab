# The root variables of the edge controls: defaults, wiring into the edge
# module, the domain_name / hosted_zone_id pairing, and the outputs.

mock_provider "aws" {
  source = "./tests/mocks"
}

override_data {
  target = module.edge[0].data.aws_route53_zone.this
  values = {
    name = "example.com"
  }
}

override_resource {
  target = module.edge[0].aws_acm_certificate.this
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
  target = module.edge[0].aws_acm_certificate_validation.this
  values = {
    certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/99999999-8888-7777-6666-555555555555"
  }
}

variables {
  image_tag                = "bootstrap"
  eks_admin_principal_arns = ["arn:aws:iam::123456789012:role/platform-admin"]
}

run "defaults_log_access_and_skip_waf_and_dns" {
  command = apply

  assert {
    condition     = var.alb_access_logs_enabled && !var.alb_access_logs_force_destroy && var.alb_access_logs_retention_days == 90 && !var.waf_enabled
    error_message = "Defaults: access logs on (ELB.5, storage only), kept 90 days and on destroy; WAF off (it costs money)."
  }

  assert {
    condition     = output.alb_access_logs_bucket == "hello-cluster-alb-logs-20260101000000000000000001"
    error_message = "alb_access_logs_bucket must name the log bucket."
  }

  assert {
    condition     = output.waf_web_acl_arn == null && output.alb_url == "http://hello-cluster-123.eu-west-1.elb.amazonaws.com"
    error_message = "No WAF and the load balancer's own name by default."
  }
}

run "options_reach_the_edge_module" {
  command = apply

  variables {
    alb_access_logs_retention_days = 30
    alb_access_logs_force_destroy  = true
    waf_enabled                    = true
    domain_name                    = "app.example.com"
    hosted_zone_id                 = "Z0123456789ABCDEFGHIJ"
  }

  assert {
    condition     = output.waf_web_acl_arn == "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/hello-cluster-alb/11111111-2222-3333-4444-555555555555"
    error_message = "waf_enabled must create the web ACL (edge_controls.tftest.hcl checks its rules and association)."
  }

  assert {
    condition     = output.alb_url == "https://app.example.com" && module.edge[0].https_listener_arn != null
    error_message = "With domain_name the service's URL is https://domain_name."
  }

  assert {
    condition     = module.edge[0].certificate_arn == "arn:aws:acm:eu-west-1:123456789012:certificate/99999999-8888-7777-6666-555555555555"
    error_message = "The HTTPS listener must use the certificate issued for domain_name."
  }
}

run "access_logs_can_be_turned_off" {
  command = plan

  variables {
    alb_access_logs_enabled = false
  }

  assert {
    condition     = output.alb_access_logs_bucket == null
    error_message = "alb_access_logs_enabled = false must leave no log bucket."
  }
}

run "domain_name_needs_hosted_zone_id" {
  command = plan

  variables {
    domain_name = "app.example.com"
  }

  expect_failures = [var.hosted_zone_id]
}

run "hosted_zone_id_needs_domain_name" {
  command = plan

  variables {
    hosted_zone_id = "Z0123456789ABCDEFGHIJ"
  }

  expect_failures = [var.hosted_zone_id]
}

run "retention_must_be_at_least_a_day" {
  command = plan

  variables {
    alb_access_logs_retention_days = 0.5
  }

  expect_failures = [var.alb_access_logs_retention_days]
}
