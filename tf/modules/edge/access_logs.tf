# ------------------------------------------------------------ access logs
# Security Hub ELB.5: the load balancer writes access logs to a bucket of
# its own. "The bucket must have a bucket policy that grants Elastic Load
# Balancing permission to write to the bucket", and "The only server-side
# encryption option that's supported is Amazon S3-managed keys (SSE-S3)."
# (Elastic Load Balancing, "Enable access logs for your Application Load
# Balancer", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html)
# ELB checks that permission when logging is switched on and refuses
# otherwise: "InvalidConfigurationRequest: Access Denied for bucket: NAME.
# Please check S3bucket permission" (terraform-aws-modules/terraform-aws-s3-bucket#185,
# aws/aws-cdk#5758), hence the load balancer's depends_on on the policy.

locals {
  access_logs_enabled = var.access_logs_enabled

  # The regions whose ELB log delivery runs as a regional ELB account: the
  # "Regions available before August 2022" of the page above, exactly the
  # regions data.aws_elb_service_account knows (it fails in any other:
  # "unsupported AWS Region"). "For regions launched in August 2022 or later,
  # you should instead provide a policy that grants permissions to the
  # logdelivery.elasticloadbalancing.amazonaws.com principal." (amazonka-elb
  # reference, getAccountId, after that page's "Attach a policy to your S3
  # bucket"; terraform-aws-modules/s3-bucket grants both the same way)
  elb_account_regions = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-south-1",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
    "ca-central-1", "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-north-1",
    "me-south-1", "sa-east-1", "us-gov-east-1", "us-gov-west-1", "cn-north-1", "cn-northwest-1",
  ]
  elb_account_region = contains(local.elb_account_regions, data.aws_region.current.name)

  # Log objects land under bucket/AWSLogs/ACCOUNT/elasticloadbalancing/REGION/...
  access_log_objects = local.access_logs_enabled ? "${aws_s3_bucket.access_logs[0].arn}/AWSLogs/${data.aws_caller_identity.current.account_id}/*" : null
}

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_elb_service_account" "this" {
  count = local.access_logs_enabled && local.elb_account_region ? 1 : 0
}

resource "aws_s3_bucket" "access_logs" {
  count = local.access_logs_enabled ? 1 : 0

  # Bucket names are global: a generated suffix (at most 37 characters of prefix).
  bucket_prefix = "${var.name}-alb-logs-"
  force_destroy = var.access_logs_force_destroy
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  count = local.access_logs_enabled ? 1 : 0

  bucket                  = aws_s3_bucket.access_logs[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# ACLs off: every log object belongs to the bucket owner.
resource "aws_s3_bucket_ownership_controls" "access_logs" {
  count = local.access_logs_enabled ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# SSE-S3 (AES256), the only encryption ELB access logs support (see above).
resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  count = local.access_logs_enabled ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  count = local.access_logs_enabled ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.access_logs_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_policy" "access_logs" {
  count = local.access_logs_enabled ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      # Regions before August 2022: the regional ELB account writes the logs.
      [for account in data.aws_elb_service_account.this : {
        Sid       = "ElbAccountWritesAccessLogs"
        Effect    = "Allow"
        Principal = { AWS = account.arn }
        Action    = "s3:PutObject"
        Resource  = local.access_log_objects
      }],
      [
        # Newer regions: the log delivery service principal.
        {
          Sid       = "ElbLogDeliveryWritesAccessLogs"
          Effect    = "Allow"
          Principal = { Service = "logdelivery.elasticloadbalancing.amazonaws.com" }
          Action    = "s3:PutObject"
          Resource  = local.access_log_objects
        },
        # Security Hub S3.5: "S3 general purpose buckets should require requests to use SSL".
        {
          Sid       = "DenyInsecureTransport"
          Effect    = "Deny"
          Principal = "*"
          Action    = "s3:*"
          Resource  = [aws_s3_bucket.access_logs[0].arn, "${aws_s3_bucket.access_logs[0].arn}/*"]
          Condition = { Bool = { "aws:SecureTransport" = "false" } }
        },
      ],
    )
  })

  # The whole bucket is set up before the load balancer (which depends on
  # this policy) turns logging on. One bucket setting at a time: S3 answers
  # concurrent ones with "OperationAborted: A conflicting conditional
  # operation is currently in progress against this resource"
  # (hashicorp/terraform-provider-aws#7628, #33552).
  depends_on = [
    aws_s3_bucket_public_access_block.access_logs,
    aws_s3_bucket_ownership_controls.access_logs,
    aws_s3_bucket_server_side_encryption_configuration.access_logs,
  ]
}
