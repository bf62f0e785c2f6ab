# Computed values of the edge module's optional resources (access log
# bucket, WAF, ACM); the provider validates these ARNs.

mock_resource "aws_s3_bucket" {
  defaults = {
    id     = "hello-cluster-alb-logs-20260101000000000000000001"
    bucket = "hello-cluster-alb-logs-20260101000000000000000001"
    arn    = "arn:aws:s3:::hello-cluster-alb-logs-20260101000000000000000001"
  }
}

mock_resource "aws_wafv2_web_acl" {
  defaults = {
    id  = "11111111-2222-3333-4444-555555555555"
    arn = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/hello-cluster-alb/11111111-2222-3333-4444-555555555555"
  }
}

mock_resource "aws_acm_certificate" {
  defaults = {
    arn = "arn:aws:acm:eu-west-1:123456789012:certificate/99999999-8888-7777-6666-555555555555"
  }
}

mock_data "aws_elb_service_account" {
  defaults = {
    arn = "arn:aws:iam::156460612806:root"
  }
}
