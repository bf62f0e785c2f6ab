variable "name" {
  description = "Name prefix of the load balancer, its security group and target groups (at most 24 characters: target group names are limited to 32)."
  type        = string

  validation {
    condition     = length(var.name) <= 24
    error_message = "name must be at most 24 characters long."
  }
}

variable "vpc_id" {
  description = "VPC the load balancer and target groups live in."
  type        = string
}

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC: the load balancer may only send traffic into it."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets (at least two AZs) for the internet-facing load balancer."
  type        = list(string)
}

variable "ingress_cidrs" {
  description = "IPv4 CIDR blocks allowed to reach the load balancer's listeners."
  type        = list(string)
}

variable "certificate_arn" {
  description = "ACM certificate for an HTTPS listener on 443; when set, port 80 redirects to HTTPS. With domain_name it must cover that name, and no certificate is issued. Null serves plain HTTP on 80 only, unless domain_name is set."
  type        = string
  default     = null
}

variable "domain_name" {
  description = "DNS name of the service (app.example.com): an alias record to the load balancer in hosted_zone_id, HTTPS on 443 and port 80 redirecting to it. Without certificate_arn an ACM certificate for the name is issued and validated through the zone. Null: no DNS record."
  type        = string
  default     = null

  validation {
    condition     = var.domain_name == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", coalesce(var.domain_name, "-")))
    error_message = "domain_name must be a lowercase DNS name such as app.example.com (no trailing dot, no wildcard)."
  }
}

variable "hosted_zone_id" {
  description = "Public Route 53 hosted zone holding domain_name (its alias record and certificate validation record). Required with domain_name, null without."
  type        = string
  default     = null

  validation {
    condition     = var.hosted_zone_id == null || can(regex("^Z[0-9A-Z]{1,31}$", coalesce(var.hosted_zone_id, "-")))
    error_message = "hosted_zone_id must be a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ."
  }

  validation {
    condition     = (var.hosted_zone_id == null) == (var.domain_name == null)
    error_message = "domain_name and hosted_zone_id go together: set both (a DNS name for the service) or neither."
  }
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener."
  type        = string
}

variable "ecs_enabled" {
  description = "Send the ECS target group (IP targets on the app port) its share of the traffic."
  type        = bool
}

variable "eks_enabled" {
  description = "Send the EKS target group (pod IPs on the app port, registered by the AWS Load Balancer Controller) its share of the traffic."
  type        = bool
}

variable "ecs_traffic_percent" {
  description = "Percentage of requests forwarded to ECS; the rest goes to EKS. Only the deployed sides are listed in the listener."
  type        = number

  validation {
    condition     = var.ecs_traffic_percent >= 0 && var.ecs_traffic_percent <= 100 && floor(var.ecs_traffic_percent) == var.ecs_traffic_percent
    error_message = "ecs_traffic_percent must be a whole number from 0 to 100."
  }
}

variable "app_port" {
  description = "Container port of the application: the port of the ECS tasks' and the EKS pods' IP targets."
  type        = number
}

variable "health_check_path" {
  description = "Readiness path the target groups probe; it answers 503 while a target drains."
  type        = string
}

variable "deregistration_delay" {
  description = "Seconds a deregistering target keeps its in-flight requests; matched to the application's drain time instead of the 300 s default."
  type        = number
}

variable "deletion_protection" {
  description = "Protect the load balancer from deletion. Off by default so the demo stack can be destroyed in one command."
  type        = bool
  default     = false
}

variable "access_logs_enabled" {
  description = "Write the load balancer's access logs to an S3 bucket of the stack (Security Hub ELB.5). Costs only the bucket's storage."
  type        = bool
  default     = true
}

variable "access_logs_retention_days" {
  description = "Days an access log object is kept before the bucket's lifecycle rule deletes it."
  type        = number
  default     = 90

  validation {
    condition     = var.access_logs_retention_days >= 1 && floor(var.access_logs_retention_days) == var.access_logs_retention_days
    error_message = "access_logs_retention_days must be a whole number of days, at least 1."
  }
}

variable "access_logs_force_destroy" {
  description = "Let terraform destroy delete the access log bucket with the logs still in it. Off: a destroy stops at a bucket that holds logs."
  type        = bool
  default     = false
}

variable "waf_enabled" {
  description = "Put an AWS WAF web ACL (AWS managed core rule set and known bad inputs) in front of the load balancer. Off by default: it costs a monthly fee per web ACL and rule plus a fee per request."
  type        = bool
  default     = false
}
