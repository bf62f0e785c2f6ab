variable "name" {
  description = "Name of the ECS cluster, service and task definition family, and prefix of their roles."
  type        = string
}

variable "task_definition_template" {
  description = "Path of the task definition JSON template (a RegisterTaskDefinition input rendered with templatefile)."
  type        = string
}

variable "image" {
  description = "Image reference (registry/repository:tag) of a pushed image that the service starts with when it is created. Read only then: later applies may pass null, and the deploy flow registers later revisions. Null when the service does not exist yet refuses the plan."
  type        = string
  default     = null
}

variable "repository_arn" {
  description = "ARN of the ECR repository the execution role may pull from."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the service."
  type        = string
}

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC. The load balancer's nodes have addresses in it: the tasks trust X-Forwarded-For from it (TRUSTED_PROXY_CIDRS) to log the client address."
  type        = string

  validation {
    # The responder refuses (exit 2) anything but a network address with its prefix.
    condition     = can(cidrhost(var.vpc_cidr, 0)) && try(cidrhost(var.vpc_cidr, 0) == split("/", var.vpc_cidr)[0], false)
    error_message = "vpc_cidr must be an IPv4 network in CIDR notation with no host bits set, for example 10.40.0.0/16."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets the tasks run in (no public IPs)."
  type        = list(string)
}

variable "alb_security_group_id" {
  description = "Security group of the load balancer: the only source allowed to reach the app port."
  type        = string
}

variable "target_group_arn" {
  description = "ARN of the load balancer's IP target group for the tasks."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "ARN suffix of the target group, for the request-count scaling metric."
  type        = string
}

variable "alb_arn_suffix" {
  description = "ARN suffix of the load balancer, for the request-count scaling metric."
  type        = string
}

variable "listener_arn" {
  description = "ARN of the listener forwarding to the target group: the service is created only after it exists, since ECS rejects a target group with no load balancer."
  type        = string
}

variable "cpu" {
  description = "Task CPU units (Fargate sizes: 256, 512, 1024, 2048, 4096, 8192, 16384)."
  type        = number

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.cpu)
    error_message = "cpu must be a Fargate task size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "memory" {
  description = "Task memory in MiB; must be a Fargate pairing for the CPU size."
  type        = number
}

variable "cpu_architecture" {
  description = "Fargate CPU architecture: ARM64 (Graviton, cheaper) or X86_64. The image must be built for it."
  type        = string

  validation {
    condition     = contains(["ARM64", "X86_64"], var.cpu_architecture)
    error_message = "cpu_architecture must be ARM64 or X86_64."
  }
}

variable "app_port" {
  description = "Container port serving HTTP (the image's PORT)."
  type        = number
}

variable "metrics_port" {
  description = "Container port serving Prometheus metrics (the image's METRICS_PORT); not reachable from the load balancer."
  type        = number
}

variable "grace_seconds" {
  description = "GRACE_SECONDS of the application: SIGTERM to exit, draining in-flight requests."
  type        = number
}

variable "stop_timeout" {
  description = "Seconds ECS waits after SIGTERM before SIGKILL; larger than grace_seconds (Fargate allows at most 120)."
  type        = number
}

variable "log_level" {
  description = "LOG_LEVEL of the application."
  type        = string
}

variable "workers" {
  description = "WORKERS of the application (FastCGI processes per task)."
  type        = number
}

variable "log_retention_days" {
  description = "Retention of the task log group in days."
  type        = number
}

variable "fargate_weight" {
  description = "Relative weight of on-demand Fargate in the capacity provider strategy."
  type        = number
}

variable "fargate_spot_weight" {
  description = "Relative weight of Fargate Spot; 0 runs everything on demand."
  type        = number
}

variable "fargate_base" {
  description = "Tasks always placed on on-demand Fargate before the weights apply."
  type        = number
}

variable "min_capacity" {
  description = "Minimum task count the autoscaler keeps."
  type        = number
}

variable "max_capacity" {
  description = "Maximum task count the autoscaler may reach."
  type        = number
}

variable "cpu_target_percent" {
  description = "Average service CPU utilisation the autoscaler aims for."
  type        = number
}

variable "requests_per_target" {
  description = "ALB requests per target per minute the autoscaler aims for."
  type        = number
}

variable "health_check_grace_period_seconds" {
  description = "Seconds after a task starts during which failing load balancer health checks do not stop it."
  type        = number
}

variable "rollback_5xx_per_minute" {
  description = "5xx answers from the tasks per minute, two minutes running, that fail an ECS deployment and roll it back."
  type        = number
  default     = 10

  validation {
    condition     = var.rollback_5xx_per_minute >= 1
    error_message = "rollback_5xx_per_minute must be at least 1."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of the customer managed KMS key every log group of the service (task logs, ECS Exec session logs) is encrypted with (its policy must let CloudWatch Logs use it for that group), or null for CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", coalesce(var.log_kms_key_arn, "-")))
    error_message = "log_kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), not a key ID or alias: CloudWatch Logs takes the key's ARN."
  }
}

variable "enable_execute_command" {
  description = "ECS Exec (aws ecs execute-command) into the tasks, its session logs in the log group /ecs/<name>/exec. Off by default. On, the task role gets the Session Manager channel and log rights, and the container runs with a writable root filesystem and an init process (the SSM agent needs both). The image has no shell, script or cat: only its own binaries can be run, and ECS uploads no session output without script and cat. Tasks get the agent when they start: the next deploy (make deploy) registers the loosened task definition."
  type        = bool
  default     = false
}
