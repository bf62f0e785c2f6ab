# ------------------------------------------------------------------ general

variable "aws_region" {
  description = "AWS region to deploy into; null uses the region of the environment (AWS_REGION or the profile)."
  type        = string
  default     = null
}

variable "name" {
  description = "Name of the stack: prefix of every resource, name of the clusters, the ECS service and the ECR repository."
  type        = string
  default     = "hello-cluster"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.name))
    error_message = "name must be 3 to 24 characters of lowercase letters, digits and hyphens, starting with a letter (target group names add a suffix within AWS's 32-character limit)."
  }

  # CreateLoadBalancer: the name "must not begin with \"internal-\"" (ELB API Reference,
  # https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html).
  validation {
    condition     = !startswith(var.name, "internal-")
    error_message = "name must not start with \"internal-\": the load balancer is named after the stack and ELB refuses such names."
  }
}

variable "tags" {
  description = "Extra tags put on every resource (besides Project and ManagedBy)."
  type        = map(string)
  default     = {}
}

variable "deploy_eks" {
  description = "Create the EKS side (cluster, add-ons, node group, its target group)."
  type        = bool
  default     = true
}

variable "deploy_ecs" {
  description = "Create the ECS Fargate side (cluster, task definition, service, autoscaling, its target group)."
  type        = bool
  default     = true
}

variable "image_architecture" {
  description = "CPU architecture of the image and of the compute running it: arm64 (Graviton nodes, ARM64 Fargate) or amd64."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "amd64"], var.image_architecture)
    error_message = "image_architecture must be arm64 or amd64."
  }
}

variable "image_tag" {
  description = "Tag of an image already pushed to the stack's registry that a newly created ECS service starts with. make deploy_all pushes the commit's image first and passes its tag here. Only read when the ECS service is created: later applies may leave it null (the deploy flow owns the running revision). Null while no ECS service exists yet refuses the plan, since the service's scalable target would at once start tasks on an image that does not exist."
  type        = string
  default     = null

  validation {
    condition     = var.image_tag == null || (can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest")
    error_message = "image_tag must be a valid image tag (letters, digits, _ . -, at most 128) and not \"latest\"."
  }
}

# ------------------------------------------------------------------ network

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC (/20 or larger)."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr)) && can(regex("^[0-9.]+/([0-9]|1[0-9]|20)$", var.vpc_cidr))
    error_message = "vpc_cidr must be an IPv4 CIDR block of size /20 or larger, for example 10.40.0.0/16."
  }
}

variable "exclude_zone_ids" {
  description = "Availability zone IDs the network never uses. The default holds the zones where EKS cannot place a control plane (use1-az3 in us-east-1, usw1-az2 in us-west-1, cac1-az3 in ca-central-1); zone IDs, unlike zone names, are the same physical zone in every account."
  type        = list(string)
  default     = ["use1-az3", "usw1-az2", "cac1-az3"]

  validation {
    condition     = alltrue([for id in var.exclude_zone_ids : can(regex("^[a-z]+[0-9]+-az[0-9]+$", id))])
    error_message = "exclude_zone_ids must hold zone IDs such as use1-az3 (not zone names such as us-east-1a)."
  }
}

variable "vpc_interface_endpoints_enabled" {
  description = "Interface VPC endpoints for ECR (api, dkr), CloudWatch Logs and STS, so image pulls, logs and credentials skip the NAT gateway (about $58 a month for 4 endpoints in 2 AZs, plus $0.01 per GB). The S3 gateway endpoint for image layers is free and always there."
  type        = bool
  default     = false
}

variable "az_count" {
  description = "Availability zones to spread subnets, nodes and tasks over (2 or 3)."
  type        = number
  default     = 2

  validation {
    condition     = contains([2, 3], var.az_count)
    error_message = "az_count must be 2 or 3."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all private subnets (cheaper; egress depends on one AZ). False creates one per AZ."
  type        = bool
  default     = true
}

variable "flow_logs_enabled" {
  description = "Record VPC flow logs in CloudWatch Logs."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention in days of every log group of the stack (tasks, control plane, flow logs)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

variable "log_kms_enabled" {
  description = "Encrypt every log group of the stack (ECS task and ECS Exec logs, EKS control plane, VPC flow logs) with one customer managed KMS key whose policy lets CloudWatch Logs use it for these groups only. On by default: the key costs 1 USD a month plus requests, and the logs can be audited and cut off by key. Turning it off later leaves the already written events encrypted with the key, which is deleted 7 days after."
  type        = bool
  default     = true
}

# ----------------------------------------------------------------- registry

variable "ecr_keep_images" {
  description = "Images the ECR lifecycle policy keeps (older ones expire)."
  type        = number
  default     = 30

  validation {
    condition     = var.ecr_keep_images >= 1 && var.ecr_keep_images <= 1000 && floor(var.ecr_keep_images) == var.ecr_keep_images
    error_message = "ecr_keep_images must be a whole number from 1 to 1000."
  }
}

variable "ecr_force_delete" {
  description = "Let `terraform destroy` delete the ECR repository while it still holds images."
  type        = bool
  default     = false
}

# --------------------------------------------------------- load balancer

variable "alb_ingress_cidrs" {
  description = "IPv4 CIDR blocks allowed to reach the public load balancer."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.alb_ingress_cidrs) > 0 && alltrue([for c in var.alb_ingress_cidrs : can(cidrnetmask(c))])
    error_message = "alb_ingress_cidrs must be a non-empty list of IPv4 CIDR blocks."
  }
}

variable "certificate_arn" {
  description = "ACM certificate ARN for HTTPS on 443 (port 80 then redirects); null serves HTTP on 80 only."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID) or null."
  }
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "ecs_traffic_percent" {
  description = "Share of requests (0-100) the load balancer sends to ECS; the rest goes to EKS. Null: 50 with both sides, otherwise all to the deployed side. Changing it moves users between the sides without downtime."
  type        = number
  default     = null

  validation {
    condition     = var.ecs_traffic_percent == null || (try(var.ecs_traffic_percent >= 0 && var.ecs_traffic_percent <= 100 && floor(var.ecs_traffic_percent) == var.ecs_traffic_percent, false))
    error_message = "ecs_traffic_percent must be a whole number from 0 to 100, or null."
  }

  validation {
    condition = var.ecs_traffic_percent == null || !(
      (var.deploy_ecs && !var.deploy_eks && coalesce(var.ecs_traffic_percent, 100) == 0) ||
      (var.deploy_eks && !var.deploy_ecs && coalesce(var.ecs_traffic_percent, 0) == 100)
    )
    error_message = "ecs_traffic_percent sends all traffic to a side that is not deployed: set it to null or give the deployed side a share."
  }
}

variable "deregistration_delay" {
  description = "Seconds the load balancer lets a deregistering target finish in-flight requests (the app drains within GRACE_SECONDS; the 300 s default only slows deploys)."
  type        = number
  default     = 15

  validation {
    condition     = var.deregistration_delay >= 0 && var.deregistration_delay <= 3600
    error_message = "deregistration_delay must be between 0 and 3600 seconds."
  }

  # An EKS pod keeps serving through its preStop sleep while the load balancer drains its
  # target; SIGTERM comes after the sleep, so the drain must end first (k8s/README.md).
  validation {
    condition     = !var.deploy_eks || var.deregistration_delay < yamldecode(file("${path.module}/../k8s/base/deployment.yaml")).spec.template.spec.containers[0].lifecycle.preStop.sleep.seconds
    error_message = "deregistration_delay must be shorter than the EKS pods' preStop sleep in k8s/base/deployment.yaml: a pod stops serving when the sleep ends, while the load balancer may still send to it until the delay is over."
  }
}

variable "alb_deletion_protection" {
  description = "Refuse to delete the load balancer (AWS Foundational Security Best Practices ELB.6). On by default; turn it off (-var alb_deletion_protection=false, then apply) before destroying the stack."
  type        = bool
  default     = true
}

variable "alb_access_logs_enabled" {
  description = "Access logs of the load balancer to an S3 bucket of the stack (Security Hub ELB.5): SSE-S3, no public access, TLS only, expiring after alb_access_logs_retention_days. On by default: it costs only the storage of the logs."
  type        = bool
  default     = true
}

variable "alb_access_logs_retention_days" {
  description = "Days the load balancer's access logs are kept in their bucket."
  type        = number
  default     = 90

  validation {
    condition     = var.alb_access_logs_retention_days >= 1 && floor(var.alb_access_logs_retention_days) == var.alb_access_logs_retention_days
    error_message = "alb_access_logs_retention_days must be a whole number of days, at least 1."
  }
}

variable "alb_access_logs_force_destroy" {
  description = "Let `terraform destroy` delete the access log bucket while it still holds logs (as ecr_force_delete does for images). Off: the destroy stops at a bucket with logs in it."
  type        = bool
  default     = false
}

variable "waf_enabled" {
  description = "AWS WAF web ACL with the AWS managed core rule set and known-bad-inputs rule set on the load balancer. Off by default: about $7 a month plus $0.60 per million requests."
  type        = bool
  default     = false
}

variable "domain_name" {
  description = "DNS name of the service (app.example.com), in the public hosted zone hosted_zone_id: an alias record to the load balancer, HTTPS on 443, port 80 redirecting. Without certificate_arn an ACM certificate for the name is issued and validated by DNS; with it, that certificate is used and must cover the name. Null (with hosted_zone_id null): no DNS record."
  type        = string
  default     = null

  validation {
    condition     = var.domain_name == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", coalesce(var.domain_name, "-")))
    error_message = "domain_name must be a lowercase DNS name such as app.example.com (no trailing dot, no wildcard)."
  }
}

variable "hosted_zone_id" {
  description = "ID of the public Route 53 hosted zone holding domain_name. Set both or neither."
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

# ---------------------------------------------------------------- the app

variable "app_port" {
  description = "Port the container serves HTTP on (the image's PORT)."
  type        = number
  default     = 8080
}

variable "metrics_port" {
  description = "Port of the Prometheus metrics endpoint (the image's METRICS_PORT)."
  type        = number
  default     = 9090
}

variable "app_grace_seconds" {
  description = "GRACE_SECONDS: how long the app drains after SIGTERM before it exits."
  type        = number
  default     = 20
}

variable "app_log_level" {
  description = "LOG_LEVEL of the app."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.app_log_level)
    error_message = "app_log_level must be one of debug, info, warn, error."
  }
}

variable "app_workers" {
  description = "WORKERS: FastCGI worker processes per ECS task."
  type        = number
  default     = 2

  validation {
    condition     = var.app_workers >= 1 && var.app_workers <= 64
    error_message = "app_workers must be between 1 and 64."
  }
}

# --------------------------------------------------------------------- ECS

variable "ecs_cpu" {
  description = "Fargate task CPU units."
  type        = number
  default     = 256

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.ecs_cpu)
    error_message = "ecs_cpu must be a Fargate size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "ecs_memory" {
  description = "Fargate task memory in MiB; must pair with ecs_cpu."
  type        = number
  default     = 512

  validation {
    condition = contains(lookup({
      "256"   = [512, 1024, 2048]
      "512"   = [for g in range(1, 5) : g * 1024]
      "1024"  = [for g in range(2, 9) : g * 1024]
      "2048"  = [for g in range(4, 17) : g * 1024]
      "4096"  = [for g in range(8, 31) : g * 1024]
      "8192"  = [for g in range(4, 16) : g * 4096]
      "16384" = [for g in range(4, 16) : g * 8192]
    }, tostring(var.ecs_cpu), []), var.ecs_memory)
    error_message = "ecs_memory is not a Fargate pairing for ecs_cpu (256 CPU takes 512, 1024 or 2048 MiB; 512 takes 1024-4096; 1024 takes 2048-8192; ...)."
  }
}

variable "ecs_stop_timeout" {
  description = "Seconds ECS waits after SIGTERM before SIGKILL; must exceed app_grace_seconds (Fargate maximum 120)."
  type        = number
  default     = 30

  validation {
    condition     = var.ecs_stop_timeout > var.app_grace_seconds && var.ecs_stop_timeout <= 120
    error_message = "ecs_stop_timeout must be larger than app_grace_seconds and at most 120."
  }
}

variable "ecs_min_capacity" {
  description = "Minimum number of ECS tasks."
  type        = number
  default     = 2

  validation {
    condition     = var.ecs_min_capacity >= 1
    error_message = "ecs_min_capacity must be at least 1."
  }
}

variable "ecs_max_capacity" {
  description = "Maximum number of ECS tasks."
  type        = number
  default     = 6

  validation {
    condition     = var.ecs_max_capacity >= var.ecs_min_capacity
    error_message = "ecs_max_capacity must be at least ecs_min_capacity."
  }
}

variable "ecs_cpu_target_percent" {
  description = "Average CPU utilisation the ECS autoscaler aims for."
  type        = number
  default     = 60

  validation {
    condition     = var.ecs_cpu_target_percent >= 10 && var.ecs_cpu_target_percent <= 90
    error_message = "ecs_cpu_target_percent must be between 10 and 90."
  }
}

variable "ecs_requests_per_target" {
  description = "ALB requests per task per minute the ECS autoscaler aims for."
  type        = number
  default     = 3000

  validation {
    condition     = var.ecs_requests_per_target > 0
    error_message = "ecs_requests_per_target must be positive."
  }
}

variable "ecs_fargate_base" {
  description = "Tasks always placed on on-demand Fargate."
  type        = number
  default     = 1
}

variable "ecs_fargate_weight" {
  description = "Weight of on-demand Fargate in the capacity provider strategy."
  type        = number
  default     = 1

  validation {
    condition     = var.ecs_fargate_weight >= 0 && var.ecs_fargate_weight <= 1000
    error_message = "ecs_fargate_weight must be between 0 and 1000."
  }
}

variable "ecs_fargate_spot_weight" {
  description = "Weight of Fargate Spot. Fargate Spot runs X86_64 tasks only, so it must stay 0 with image_architecture arm64."
  type        = number
  default     = 0

  validation {
    condition     = var.ecs_fargate_spot_weight >= 0 && var.ecs_fargate_spot_weight <= 1000 && (var.image_architecture == "amd64" || var.ecs_fargate_spot_weight == 0)
    error_message = "ecs_fargate_spot_weight must be between 0 and 1000, and 0 when image_architecture is arm64 (Fargate Spot has no ARM64 capacity)."
  }

  # "When multiple capacity providers are specified within a capacity provider
  # strategy, at least one of the capacity providers must have a weight value
  # greater than zero" (ECS API Reference, CapacityProviderStrategyItem,
  # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html).
  validation {
    condition     = var.ecs_fargate_weight + var.ecs_fargate_spot_weight > 0
    error_message = "ecs_fargate_weight and ecs_fargate_spot_weight cannot both be 0: ECS needs one capacity provider with a positive weight."
  }
}

variable "ecs_enable_execute_command" {
  description = "ECS Exec (aws ecs execute-command) into the ECS tasks, with session logs in /ecs/<name>/exec (encrypted when log_kms_enabled). Off by default. On, the task role gets the Session Manager channel and log rights and the container a writable root filesystem and an init process, which the SSM agent needs; the image has no shell, script or cat, so only its own binaries run and ECS uploads no session output. Effective for tasks started after the next deploy. ECS Exec itself costs nothing."
  type        = bool
  default     = false
}

variable "ecs_health_check_grace_period_seconds" {
  description = "Seconds after a task starts during which load balancer health check failures are ignored."
  type        = number
  default     = 30
}

# --------------------------------------------------------------------- EKS

variable "eks_kubernetes_version" {
  description = "Kubernetes minor version of the EKS cluster, one in EKS standard support (1.35 until 2027-03-27). The cluster runs with upgrade_policy STANDARD, so EKS upgrades a version past standard support by itself; the check eks_version_in_standard_support warns before that happens."
  type        = string
  default     = "1.35"

  validation {
    condition     = can(regex("^1\\.(3[1-9]|[4-9][0-9])$", var.eks_kubernetes_version))
    error_message = "eks_kubernetes_version must be a minor version such as 1.33 (1.31 or newer: older ones are in extended support or retired)."
  }
}

variable "eks_endpoint_public_access_cidrs" {
  description = "CIDR blocks that may reach the public Kubernetes API endpoint; [] makes the endpoint private only. Open by default because GitHub-hosted deploy runners have no fixed addresses; every request still needs an IAM identity with an access entry. Narrow it to your office or runner ranges."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = alltrue([for c in var.eks_endpoint_public_access_cidrs : can(cidrnetmask(c))])
    error_message = "eks_endpoint_public_access_cidrs must hold IPv4 CIDR blocks."
  }
}

variable "eks_admin_principal_arns" {
  description = "IAM role or user ARNs given cluster-admin access entries. The same list whoever applies: cluster access does not depend on who ran Terraform last."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.eks_admin_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", a))])
    error_message = "eks_admin_principal_arns must hold IAM role or user ARNs (arn:aws:iam::ACCOUNT:role/NAME); an assumed-role session ARN does not work for access entries."
  }
}

variable "eks_grant_caller_admin" {
  description = "Also give the identity running Terraform (its IAM role) a cluster-admin access entry. Off by default: with it on, the entry follows whoever applied last and the previous applier loses access."
  type        = bool
  default     = false
}

variable "eks_cluster_log_types" {
  description = "EKS control-plane logs sent to CloudWatch."
  type        = list(string)
  default     = ["api", "audit", "authenticator"]

  validation {
    condition     = alltrue([for t in var.eks_cluster_log_types : contains(["api", "audit", "authenticator", "controllerManager", "scheduler"], t)])
    error_message = "eks_cluster_log_types may only contain api, audit, authenticator, controllerManager, scheduler."
  }
}

variable "eks_addon_versions" {
  description = "EKS add-on versions to pin, by add-on name (vpc-cni, kube-proxy, eks-pod-identity-agent, coredns, metrics-server), for example { coredns = \"v1.12.1-eksbuild.2\" }. Add-ons not named run the most recent version EKS offers for eks_kubernetes_version, so a new add-on build shows up as an update in the next plan; pin to hold one back."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.eks_addon_versions) : contains(["vpc-cni", "kube-proxy", "eks-pod-identity-agent", "coredns", "metrics-server"], name)])
    error_message = "eks_addon_versions may only name the installed add-ons: vpc-cni, kube-proxy, eks-pod-identity-agent, coredns, metrics-server."
  }

  validation {
    condition     = alltrue([for version in values(var.eks_addon_versions) : can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+(-eksbuild\\.[0-9]+)?$", version))])
    error_message = "eks_addon_versions values must be EKS add-on versions such as v1.19.2-eksbuild.1."
  }
}

variable "eks_node_ami_type" {
  description = "AMI type of the node group; null picks AL2023 for image_architecture (AL2023_ARM_64_STANDARD or AL2023_x86_64_STANDARD)."
  type        = string
  default     = null

  validation {
    condition     = var.eks_node_ami_type == null || contains(["AL2023_ARM_64_STANDARD", "AL2023_x86_64_STANDARD", "BOTTLEROCKET_ARM_64", "BOTTLEROCKET_x86_64"], coalesce(var.eks_node_ami_type, "-"))
    error_message = "eks_node_ami_type must be AL2023_ARM_64_STANDARD, AL2023_x86_64_STANDARD, BOTTLEROCKET_ARM_64 or BOTTLEROCKET_x86_64 (AL2 is end-of-life and not offered for 1.33+)."
  }
}

variable "eks_node_instance_types" {
  description = "Instance types of the node group; Graviton (t4g, m7g, ...) for arm64, others for amd64."
  type        = list(string)
  default     = ["t4g.medium"]

  validation {
    # A Graviton family has a "g" after its generation digit (t4g, m7g, c7gn).
    condition = length(var.eks_node_instance_types) > 0 && alltrue([
      for t in var.eks_node_instance_types :
      can(regex("^[a-z]+[0-9]+g[a-z]*\\.", t)) == (var.image_architecture == "arm64")
    ])
    error_message = "eks_node_instance_types must match image_architecture: Graviton types (t4g.medium, m7g.large, ...) for arm64, x86 types for amd64. A mismatch fails only at apply."
  }
}

variable "eks_node_min_size" {
  description = "Minimum number of EKS nodes."
  type        = number
  default     = 2

  validation {
    condition     = var.eks_node_min_size >= 1
    error_message = "eks_node_min_size must be at least 1."
  }
}

variable "eks_node_max_size" {
  description = "Maximum number of EKS nodes."
  type        = number
  default     = 4

  validation {
    condition     = var.eks_node_max_size >= var.eks_node_min_size
    error_message = "eks_node_max_size must be at least eks_node_min_size."
  }
}

variable "eks_node_desired_size" {
  description = "Number of EKS nodes at creation."
  type        = number
  default     = 2

  validation {
    condition     = var.eks_node_desired_size >= var.eks_node_min_size && var.eks_node_desired_size <= var.eks_node_max_size
    error_message = "eks_node_desired_size must be between eks_node_min_size and eks_node_max_size."
  }
}

variable "eks_node_disk_size" {
  description = "Root volume of each node in GiB."
  type        = number
  default     = 20

  validation {
    condition     = var.eks_node_disk_size >= 20
    error_message = "eks_node_disk_size must be at least 20 GiB."
  }
}

# -------------------------------------------------------------- monitoring

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", coalesce(var.alarm_email, "-")))
    error_message = "alarm_email must be an e-mail address or null."
  }
}

variable "alarm_5xx_per_minute" {
  description = "5xx responses per minute that raise the 5xx alarms."
  type        = number
  default     = 10
}

variable "alarm_p99_seconds" {
  description = "Target p99 response time in seconds that raises the latency alarm."
  type        = number
  default     = 0.5
}

variable "alarm_utilization_percent" {
  description = "ECS CPU or memory utilisation that raises its alarm."
  type        = number
  default     = 85
}

# ------------------------------------------------------------- github oidc

variable "github_oidc_enabled" {
  description = "Create the GitHub Actions OIDC provider and deploy role (keyless CI deploys)."
  type        = bool
  default     = false
}

variable "github_repository" {
  description = "GitHub repository (owner/name) trusted by the deploy role; required when github_oidc_enabled."
  type        = string
  default     = null

  validation {
    condition     = var.github_repository == null || can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", coalesce(var.github_repository, "-")))
    error_message = "github_repository must look like owner/name."
  }
}

variable "github_branch" {
  description = "Branch whose workflows may assume the deploy role."
  type        = string
  default     = "main"
}

variable "github_environment" {
  description = "GitHub environment of the deploy job (its OIDC subject names the environment instead of the branch); .github/workflows/deploy.yml uses \"production\". Null if the job has none."
  type        = string
  default     = "production"
}

variable "github_existing_provider_arn" {
  description = "ARN of an existing GitHub OIDC provider in the account; null creates one."
  type        = string
  default     = null
}

variable "github_deploy_policy_arns" {
  description = "Managed policies of the GitHub deploy role; null keeps AdministratorAccess (it runs Terraform, which creates IAM roles, KMS keys and clusters). Narrow it together with github_deploy_permissions_boundary_arn."
  type        = list(string)
  default     = null

  validation {
    condition     = var.github_deploy_policy_arns == null || alltrue([for arn in coalesce(var.github_deploy_policy_arns, []) : can(regex("^arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/.+$", arn))])
    error_message = "github_deploy_policy_arns must be IAM policy ARNs (arn:aws:iam::aws:policy/... or arn:aws:iam::<account>:policy/...)."
  }
}

variable "github_deploy_permissions_boundary_arn" {
  description = "Permissions boundary of the GitHub deploy role (an IAM policy ARN), or null for none. A boundary caps what the role can do whatever policies are attached."
  type        = string
  default     = null

  validation {
    condition     = var.github_deploy_permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/.+$", coalesce(var.github_deploy_permissions_boundary_arn, "x")))
    error_message = "github_deploy_permissions_boundary_arn must be an IAM policy ARN."
  }
}

variable "github_state_bucket" {
  description = "S3 bucket of the Terraform state (TF_STATE_BUCKET, the backend's bucket). The GitHub plan role may read the state object and its lock object there and no other S3 object; null leaves it without access to the state (its plans then see nothing deployed)."
  type        = string
  default     = null

  validation {
    condition     = var.github_state_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", coalesce(var.github_state_bucket, "-")))
    error_message = "github_state_bucket must be an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens) or null."
  }
}

variable "github_state_key" {
  description = "Key of the Terraform state object in github_state_bucket (TF_STATE_KEY, the backend's key); the S3 lock object is this key plus \".tflock\"."
  type        = string
  default     = "hello-cluster/terraform.tfstate"

  validation {
    condition     = length(var.github_state_key) > 0 && !startswith(var.github_state_key, "/") && !strcontains(var.github_state_key, "*")
    error_message = "github_state_key must be an object key such as hello-cluster/terraform.tfstate (no leading slash, no wildcard)."
  }
}

variable "github_plan_role_state_locking" {
  description = "Let the GitHub plan role write and delete the state's S3 lock object, so pull-request plans can lock. Off by default: the pipeline plans with -lock=false, and code in a pull request able to delete the lock object could release the lock of a running apply."
  type        = bool
  default     = false
}
