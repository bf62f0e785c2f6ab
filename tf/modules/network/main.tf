# One VPC shared by the EKS and the ECS side: public subnets hold the ALB and
# the NAT gateways, private subnets hold the nodes and the Fargate tasks.

# Zones are chosen by zone ID: a zone name such as us-east-1a maps to a
# different physical zone in every account, the ID does not. Some zone IDs
# cannot hold an EKS control plane ("At least one of your specified cluster
# subnets is in an Availability Zone that does not support Amazon EKS.",
# UnsupportedAvailabilityZoneException, EKS API Reference:
# https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html),
# so exclude_zone_ids keeps them out of the list.
data "aws_availability_zones" "available" {
  state            = "available"
  exclude_zone_ids = var.exclude_zone_ids

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

locals {
  azs    = slice(data.aws_availability_zones.available.names, 0, var.az_count)
  az_ids = slice(data.aws_availability_zones.available.zone_ids, 0, var.az_count)

  # /20 (or the VPC size + 4 bits) per subnet: public ones first, private ones after.
  public_cidrs  = [for i in range(var.az_count) : cidrsubnet(var.vpc_cidr, 4, i)]
  private_cidrs = [for i in range(var.az_count) : cidrsubnet(var.vpc_cidr, 4, i + 8)]

  nat_count = var.single_nat_gateway ? 1 : var.az_count

  # Tags the AWS Load Balancer Controller and the in-tree cloud provider use to
  # find subnets for Kubernetes-created load balancers.
  cluster_tag = var.eks_cluster_name == null ? {} : { "kubernetes.io/cluster/${var.eks_cluster_name}" = "shared" }
}

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = var.name }
}

# The default security group of a VPC allows all traffic between its members;
# adopting it with no rules closes it.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name}-default-closed" }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = var.name }
}

resource "aws_subnet" "public" {
  count = var.az_count

  vpc_id               = aws_vpc.this.id
  cidr_block           = local.public_cidrs[count.index]
  availability_zone_id = local.az_ids[count.index]

  # Only the load balancer and NAT gateways live here, with their own addresses.
  map_public_ip_on_launch = false

  tags = merge(local.cluster_tag, {
    Name                     = "${var.name}-public-${local.azs[count.index]}"
    "kubernetes.io/role/elb" = "1"
  })
}

resource "aws_subnet" "private" {
  count = var.az_count

  vpc_id               = aws_vpc.this.id
  cidr_block           = local.private_cidrs[count.index]
  availability_zone_id = local.az_ids[count.index]

  tags = merge(local.cluster_tag, {
    Name                              = "${var.name}-private-${local.azs[count.index]}"
    "kubernetes.io/role/internal-elb" = "1"
  })
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name}-public" }
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  count = var.az_count

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_eip" "nat" {
  count = local.nat_count

  domain = "vpc"

  tags = { Name = "${var.name}-nat-${local.azs[count.index]}" }

  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  count = local.nat_count

  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id

  tags = { Name = "${var.name}-${local.azs[count.index]}" }

  depends_on = [aws_internet_gateway.this]
}

# One private route table per AZ, so switching single_nat_gateway only
# changes routes, never subnet associations.
resource "aws_route_table" "private" {
  count = var.az_count

  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name}-private-${local.azs[count.index]}" }
}

resource "aws_route" "private_nat" {
  count = var.az_count

  route_table_id         = aws_route_table.private[count.index].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[var.single_nat_gateway ? 0 : count.index].id
}

resource "aws_route_table_association" "private" {
  count = var.az_count

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

# ---------------------------------------------------------------- flow logs

resource "aws_cloudwatch_log_group" "flow_logs" {
  count = var.flow_logs_enabled ? 1 : 0

  name              = "/vpc/${var.name}/flow-logs"
  retention_in_days = var.flow_logs_retention_days
  kms_key_id        = var.log_kms_key_arn
}

data "aws_iam_policy_document" "flow_logs_assume" {
  count = var.flow_logs_enabled ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "flow_logs" {
  count = var.flow_logs_enabled ? 1 : 0

  name_prefix        = "${var.name}-flow-logs-"
  assume_role_policy = data.aws_iam_policy_document.flow_logs_assume[0].json
}

data "aws_iam_policy_document" "flow_logs_write" {
  count = var.flow_logs_enabled ? 1 : 0

  statement {
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogGroups",
      "logs:DescribeLogStreams",
    ]
    resources = ["${aws_cloudwatch_log_group.flow_logs[0].arn}:*"]
  }
}

resource "aws_iam_role_policy" "flow_logs" {
  count = var.flow_logs_enabled ? 1 : 0

  name   = "write-flow-logs"
  role   = aws_iam_role.flow_logs[0].id
  policy = data.aws_iam_policy_document.flow_logs_write[0].json
}

resource "aws_flow_log" "this" {
  count = var.flow_logs_enabled ? 1 : 0

  vpc_id               = aws_vpc.this.id
  traffic_type         = "ALL"
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.flow_logs[0].arn
  iam_role_arn         = aws_iam_role.flow_logs[0].arn
}

# ------------------------------------------------------------ VPC endpoints
# Image layers come from S3 and the ECR, CloudWatch Logs and STS APIs are
# called by every node and task: without endpoints all of it crosses the NAT
# gateway and is billed per GB there. "AWS PrivateLink restricts all network
# traffic between your VPC and Amazon ECR to the Amazon network. You don't
# need an internet gateway, a NAT device, or a virtual private gateway."
# (Amazon ECR User Guide, "Amazon ECR interface VPC endpoints",
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html)

data "aws_region" "current" {}

locals {
  endpoint_prefix     = "com.amazonaws.${data.aws_region.current.name}"
  interface_endpoints = var.interface_endpoints_enabled ? toset(["ecr.api", "ecr.dkr", "logs", "sts"]) : toset([])
}

# A gateway endpoint costs nothing, so it is always there.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "${local.endpoint_prefix}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = aws_route_table.private[*].id

  tags = { Name = "${var.name}-s3" }
}

# "The security group attached to the VPC endpoint must allow incoming
# connections on port 443 from the private subnet of the VPC." (same page)
resource "aws_security_group" "endpoints" {
  count = var.interface_endpoints_enabled ? 1 : 0

  name_prefix = "${var.name}-endpoints-"
  description = "Interface VPC endpoints of ${var.name}: HTTPS from inside the VPC"
  vpc_id      = aws_vpc.this.id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_https" {
  count = var.interface_endpoints_enabled ? 1 : 0

  security_group_id = aws_security_group.endpoints[0].id
  description       = "HTTPS from the VPC"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = aws_vpc.this.cidr_block
}

resource "aws_vpc_endpoint" "interface" {
  for_each = local.interface_endpoints

  vpc_id              = aws_vpc.this.id
  service_name        = "${local.endpoint_prefix}.${each.key}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints[0].id]

  tags = { Name = "${var.name}-${each.key}" }
}
