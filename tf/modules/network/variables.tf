variable "name" {
  description = "Name prefix for every resource of the network."
  type        = string
}

variable "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC; public and private subnets are carved out of it."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be an IPv4 CIDR block of size /20 or larger, for example 10.40.0.0/16."
  }
}

variable "az_count" {
  description = "Number of availability zones to spread the subnets over (2 or 3)."
  type        = number

  validation {
    condition     = contains([2, 3], var.az_count)
    error_message = "az_count must be 2 or 3."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway shared by all private subnets (cheap, one AZ is a single point of failure for egress); false gives one per AZ."
  type        = bool
}

variable "flow_logs_enabled" {
  description = "Send VPC flow logs (rejected and accepted traffic) to a CloudWatch log group."
  type        = bool
}

variable "flow_logs_retention_days" {
  description = "Retention of the VPC flow log group in days."
  type        = number
}

variable "eks_cluster_name" {
  description = "Name of the EKS cluster that will use these subnets, for the kubernetes.io/cluster tag; null when there is none."
  type        = string
  default     = null
}

variable "exclude_zone_ids" {
  description = "Availability zone IDs never used (for example those where EKS cannot place a control plane)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.exclude_zone_ids : can(regex("^[a-z]+[0-9]+-az[0-9]+$", id))])
    error_message = "exclude_zone_ids must hold zone IDs such as use1-az3 (not zone names such as us-east-1a)."
  }
}

variable "interface_endpoints_enabled" {
  description = "Interface VPC endpoints for ECR (api, dkr), CloudWatch Logs and STS in the private subnets, so image pulls and logs skip the NAT gateway. Each costs per AZ-hour; the S3 gateway endpoint is free and always there."
  type        = bool
  default     = false
}

variable "log_kms_key_arn" {
  description = "ARN of the customer managed KMS key the flow log group is encrypted with (its policy must let CloudWatch Logs use it for that group), or null for CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", coalesce(var.log_kms_key_arn, "-")))
    error_message = "log_kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), not a key ID or alias: CloudWatch Logs takes the key's ARN."
  }
}
