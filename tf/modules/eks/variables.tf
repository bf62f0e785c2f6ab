variable "name" {
  description = "Name of the EKS cluster and prefix of its roles, key and node group."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane and nodes (one in EKS standard support)."
  type        = string

  validation {
    condition     = can(regex("^1\\.(3[1-9]|[4-9][0-9])$", var.kubernetes_version))
    error_message = "kubernetes_version must be a minor version such as 1.33 (1.31 or newer: older ones are in extended support or retired, and AL2023 nodes need 1.30+)."
  }
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets for the control-plane network interfaces and the nodes (at least two AZs)."
  type        = list(string)
}

variable "endpoint_public_access_cidrs" {
  description = "IPv4 CIDR blocks allowed to reach the public API endpoint; an empty list turns the public endpoint off (private access is always on)."
  type        = list(string)
}

variable "admin_principal_arns" {
  description = "IAM role or user ARNs given cluster-admin access entries, besides the identity running Terraform."
  type        = list(string)
}

variable "grant_caller_admin" {
  description = "Give the IAM identity running Terraform a cluster-admin access entry (so kubectl works right after apply)."
  type        = bool
}

variable "cluster_log_types" {
  description = "Control-plane log types sent to CloudWatch."
  type        = list(string)
}

variable "log_retention_days" {
  description = "Retention of the control-plane log group in days."
  type        = number
}

variable "node_ami_type" {
  description = "AMI type of the managed node group (AL2 is end-of-life and not offered for 1.33+)."
  type        = string
}

variable "node_instance_types" {
  description = "Instance types of the managed node group; their architecture must match node_ami_type."
  type        = list(string)
}

variable "node_min_size" {
  description = "Minimum number of nodes."
  type        = number
}

variable "node_max_size" {
  description = "Maximum number of nodes."
  type        = number
}

variable "node_desired_size" {
  description = "Number of nodes at creation (later changes by a cluster autoscaler are kept)."
  type        = number
}

variable "node_disk_size" {
  description = "Root volume size of each node in GiB (encrypted gp3)."
  type        = number
}

variable "alb_security_group_id" {
  description = "Security group of the shared load balancer; it may reach the pods' app port."
  type        = string
}

variable "app_port" {
  description = "Container port of the application: the load balancer sends to the pod IPs on it."
  type        = number

  validation {
    condition     = var.app_port >= 1 && var.app_port <= 65535 && floor(var.app_port) == var.app_port
    error_message = "app_port must be a TCP port number (1-65535)."
  }
}

variable "addon_versions" {
  description = "Add-on versions to pin, by add-on name (vpc-cni, kube-proxy, eks-pod-identity-agent, coredns, metrics-server), for example { coredns = \"v1.12.1-eksbuild.2\" }. An add-on not named here runs the most recent version EKS offers for kubernetes_version (DescribeAddonVersions), so new builds appear as updates in later plans."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.addon_versions) : contains(["vpc-cni", "kube-proxy", "eks-pod-identity-agent", "coredns", "metrics-server"], name)])
    error_message = "addon_versions may only name the add-ons this module installs: vpc-cni, kube-proxy, eks-pod-identity-agent, coredns, metrics-server."
  }

  validation {
    # EKS add-on versions look like v1.19.2-eksbuild.1 (DescribeAddonVersions, addonVersion).
    condition     = alltrue([for version in values(var.addon_versions) : can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+(-eksbuild\\.[0-9]+)?$", version))])
    error_message = "addon_versions values must be EKS add-on versions such as v1.19.2-eksbuild.1."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of the customer managed KMS key the control-plane log group is encrypted with (its policy must let CloudWatch Logs use it for that group), or null for CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", coalesce(var.log_kms_key_arn, "-")))
    error_message = "log_kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), not a key ID or alias: CloudWatch Logs takes the key's ARN."
  }
}
