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
  description = "ACM certificate for an HTTPS listener on 443; when set, port 80 redirects to HTTPS. Null serves plain HTTP on 80 only."
  type        = string
  default     = null
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
