variable "name" {
  description = "Name of the ECR repository."
  type        = string
}

variable "keep_images" {
  description = "How many images the lifecycle policy keeps; older ones are expired."
  type        = number

  validation {
    condition     = var.keep_images >= 1 && var.keep_images <= 1000 && floor(var.keep_images) == var.keep_images
    error_message = "keep_images must be a whole number from 1 to 1000."
  }
}

variable "kms_key_arn" {
  description = "KMS key for image encryption; null uses ECR's AES-256 encryption at rest."
  type        = string
  default     = null
}

variable "force_delete" {
  description = "Let destroy delete the repository while it still holds images. Off by default so images are never lost by accident."
  type        = bool
  default     = false
}
