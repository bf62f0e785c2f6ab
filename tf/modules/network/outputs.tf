output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "availability_zones" {
  description = "Availability zones the subnets are spread over."
  value       = local.azs
}

output "public_subnet_ids" {
  description = "IDs of the public subnets (ALB, NAT gateways), one per AZ; known only once they route to the internet gateway."
  value       = aws_subnet.public[*].id

  # An internet-facing load balancer in a VPC without an internet gateway is
  # refused with InvalidSubnet, which the Elastic Load Balancing API Reference
  # documents as "The specified VPC has no associated Internet gateway."
  # (AttachLoadBalancerToSubnets, https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_AttachLoadBalancerToSubnets.html).
  # Whatever takes these subnets therefore waits for the gateway and the route.
  depends_on = [aws_route.public_internet, aws_route_table_association.public]
}

output "availability_zone_ids" {
  description = "Zone IDs of the availability zones the subnets are spread over."
  value       = local.az_ids
}

output "private_subnet_ids" {
  description = "IDs of the private subnets (EKS nodes, Fargate tasks), one per AZ."
  value       = aws_subnet.private[*].id
}

output "nat_gateway_ids" {
  description = "IDs of the NAT gateways."
  value       = aws_nat_gateway.this[*].id
}

output "flow_log_group_name" {
  description = "CloudWatch log group of the VPC flow logs, or null when flow logs are off."
  value       = try(aws_cloudwatch_log_group.flow_logs[0].name, null)
}

output "s3_endpoint_id" {
  description = "ID of the S3 gateway endpoint on the private route tables."
  value       = aws_vpc_endpoint.s3.id
}

output "interface_endpoint_ids" {
  description = "IDs of the interface VPC endpoints by service (ecr.api, ecr.dkr, logs, sts); empty when they are off."
  value       = { for k, e in aws_vpc_endpoint.interface : k => e.id }
}

output "log_group_kms_key_ids" {
  description = "KMS key ARN of each log group of the module, by name (null: CloudWatch Logs' own encryption); empty without flow logs."
  value       = { for g in aws_cloudwatch_log_group.flow_logs : g.name => g.kms_key_id }
}
