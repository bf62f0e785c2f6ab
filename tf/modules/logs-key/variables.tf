variable "name" {
  description = "Name of the stack: the key's alias is alias/<name>-logs."
  type        = string
}

variable "log_group_names" {
  description = "Names of the log groups CloudWatch Logs may encrypt with the key (exact names: the key policy's kms:EncryptionContext:aws:logs:arn condition lists their ARNs)."
  type        = list(string)

  validation {
    # CreateLogGroup, logGroupName: 1-512 characters of [\.\-_/#A-Za-z0-9]+.
    condition     = length(var.log_group_names) > 0 && alltrue([for n in var.log_group_names : can(regex("^[.\\-_/#A-Za-z0-9]{1,512}$", n))])
    error_message = "log_group_names must be a non-empty list of log group names (letters, digits, . - _ / #; no wildcards)."
  }
}
