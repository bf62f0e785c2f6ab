variable "name" {
  description = "Name prefix of the alarms, the topic and the dashboard."
  type        = string
}

variable "alb_arn_suffix" {
  description = "ARN suffix of the load balancer (the LoadBalancer metric dimension)."
  type        = string
}

variable "target_groups" {
  description = "ARN suffixes of the target groups to watch, keyed by side (\"ecs\", \"eks\")."
  type        = map(string)
}

variable "ecs_service" {
  description = "ECS cluster and service to watch for CPU and memory, or null when ECS is off."
  type = object({
    cluster_name = string
    service_name = string
  })
  default = null
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic (the address must confirm); null for no subscription."
  type        = string
  default     = null
}

variable "error_threshold" {
  description = "5xx responses per minute that raise the 5xx alarms."
  type        = number
}

variable "p99_latency_threshold_seconds" {
  description = "Target p99 response time in seconds that raises the latency alarm."
  type        = number
}

variable "utilization_threshold_percent" {
  description = "ECS service CPU or memory utilisation that raises its alarm."
  type        = number
}
