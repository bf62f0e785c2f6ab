# ------------------------------------------------- DNS name and certificate
# Optional: with domain_name and hosted_zone_id, the service gets its own
# name, an alias record to the load balancer in the given public hosted
# zone, and (unless certificate_arn names one) an ACM certificate for that
# name validated through the same zone. ACM renews such a certificate by
# itself: "ACM will either renew your certificates automatically (if you are
# using DNS validation), or it will send you email notices" (ACM User Guide,
# "Managed certificate renewal", https://docs.aws.amazon.com/acm/latest/userguide/acm-renewal.html)
# for as long as the validation record stays in the zone: leave it there.

locals {
  dns_enabled       = var.domain_name != null
  issue_certificate = local.dns_enabled && var.certificate_arn == null
  # The load balancer is IPv4 only (ip_address_type "ipv4"), so an alias of
  # type A; an AAAA alias would only return the load balancer's IPv6
  # addresses, which it does not have.
  alias_record_types = local.dns_enabled ? toset(["A"]) : toset([])

  zone_name      = local.dns_enabled ? trimsuffix(data.aws_route53_zone.this[0].name, ".") : null
  domain_in_zone = local.dns_enabled ? (var.domain_name == local.zone_name || endswith(var.domain_name, ".${local.zone_name}")) : true
}

data "aws_route53_zone" "this" {
  count = local.dns_enabled ? 1 : 0

  zone_id = var.hosted_zone_id
}

resource "aws_acm_certificate" "this" {
  count = local.issue_certificate ? 1 : 0

  domain_name       = var.domain_name
  validation_method = "DNS"

  lifecycle {
    # The listener holds the certificate: a replacement is issued first.
    create_before_destroy = true

    # Validation records outside the name's zone would never be seen: ACM would wait for hours.
    precondition {
      condition     = local.domain_in_zone
      error_message = "domain_name ${var.domain_name} is not inside the hosted zone ${local.zone_name} (hosted_zone_id ${var.hosted_zone_id})."
    }
  }
}

# One record per name on the certificate (only domain_name): keyed by a name
# known at plan time, the record's name and value come from the certificate.
resource "aws_route53_record" "certificate_validation" {
  for_each = local.issue_certificate ? toset([var.domain_name]) : toset([])

  zone_id         = var.hosted_zone_id
  name            = one([for o in aws_acm_certificate.this[0].domain_validation_options : o.resource_record_name if o.domain_name == each.key])
  type            = one([for o in aws_acm_certificate.this[0].domain_validation_options : o.resource_record_type if o.domain_name == each.key])
  records         = [one([for o in aws_acm_certificate.this[0].domain_validation_options : o.resource_record_value if o.domain_name == each.key])]
  ttl             = 300
  allow_overwrite = true
}

# Waits until ACM has issued the certificate, so the HTTPS listener is only
# given an issued one.
resource "aws_acm_certificate_validation" "this" {
  count = local.issue_certificate ? 1 : 0

  certificate_arn         = aws_acm_certificate.this[0].arn
  validation_record_fqdns = [for r in aws_route53_record.certificate_validation : r.fqdn]
}

resource "aws_route53_record" "alias" {
  for_each = local.alias_record_types

  zone_id = var.hosted_zone_id
  name    = var.domain_name
  type    = each.value

  alias {
    name                   = aws_lb.this.dns_name
    zone_id                = aws_lb.this.zone_id
    evaluate_target_health = true
  }

  lifecycle {
    precondition {
      condition     = local.domain_in_zone
      error_message = "domain_name ${var.domain_name} is not inside the hosted zone ${local.zone_name} (hosted_zone_id ${var.hosted_zone_id})."
    }
  }
}
